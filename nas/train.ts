/**
 * The training stage of CP-NAS: the Parent (full precision) of a genotype is trained first, then the
 * Child (1-bit cells) with
 *
 *   L = L_CE(Child) + (lambda/2) * sum_l sum_c MSE(H_c^l, H^_c^l) + (theta/2) * sum_s ||f_s - f_bar_{y_s}||^2
 *
 * the kernel-level CP loss pairing each Child conv with the Parent conv at the same position (the two
 * networks have the same layers under the same names), and the center loss on the pooled features of
 * the last cell. Both use SGD (or Adam) with weight decay and a cosine learning rate per step, and
 * optional drop-path. The Child starts from the Parent's weights by default (settings.childInit).
 *
 * The last steps of the Child (settings.freezeBnFraction) run with BatchNorm statistics frozen: a BN
 * in front of sign() decides which side of 0 whole regions fall (MNIST's uniform background, say), so
 * the small gap between batch statistics (training) and running statistics (inference) flips many
 * signs at once; fine-tuning with the running statistics fixed trains the very function that inference
 * runs, which closes that gap.
 *
 * Both models are saved in the run folder (`parent/model.*`, `child/model.*`, the Child with its packed
 * 1-bit weights); a checkpoint after every epoch (through the run context, nas/run-context.ts) lets
 * `resume` continue where a run stopped. A step whose loss, gradients, weights or BN statistics become
 * non-finite stops the run naming the phase, epoch and flags to lower (nas/health.ts): nothing
 * non-finite is ever saved.
 */
import { CenterLoss } from '../binary/center-loss.js';
import { BinaryConv2d } from '../binary/binary-conv.js';
import { countOps } from '../binary/count.js';
import { cpLoss } from '../binary/cp-loss.js';
import { CpnasError, Random, Tensor, defaultRandom, getBackend, manualSeed, shapeStr } from '../core/index.js';
import { getStorage, joinPath as join } from '../core/storage.js';
import { add, mul } from '../ops/arithmetic.js';
import { BatchNorm2d, Conv2d } from '../ops/layers.js';
import { clipGradNorm } from '../ops/optim/clip.js';
import type { Optimizer } from '../ops/optim/optimizer.js';
import { CosineAnnealingLR } from '../ops/optim/schedule.js';
import { saveSafetensors } from '../ops/state.js';
import { validateGenotype } from './genotype.js';
import { checkGradients, checkLoss, checkModule, type HealthWhere } from './health.js';
import { HistoryLog } from './history.js';
import { readJsonl, writeJsonAtomic } from './io.js';
import { accuracyOf, batchesFor, makeOptimizer, shuffledBatches } from './loop.js';
import { GenotypeNetwork } from './network.js';
import { operationInfo } from './operations.js';
import type { UnaryModule } from './primitives.js';
import { dataFingerprint, withRunContext, type RunContext } from './run-context.js';
import { checkImages } from './search.js';
import { resolveTrainSettings } from './settings.js';
import { ShardRunner, shardDataLoss } from './shards.js';
import {
  SlotPart, int, jsonPart, modulePart, num, obj, optimizerPart, optionalPart, rngPart, schedulePart, type Parts,
} from './state-parts.js';
import type { NetworkConfig } from './supernet.js';
import {
  RUN_FILES, type EpochRecord, type HistoryRecord, type ModelReport, type NasDataset, type RunResult,
  type RunTrainingOptions,
} from './types.js';

/** What a saved model's JSON carries besides the weights (read back by evaluate.ts). */
export interface ModelMeta {
  kind: 'child' | 'parent';
  genotype: RunResult['genotype'];
  config: Omit<NetworkConfig, 'rng'>;
  classNames: string[];
  inputShape: number[];
  testAccuracy: number;
}

/** The convolutions inside the cells, in module order: the Child's binary ones or the Parent's float ones. */
export function cellConvs(net: GenotypeNetwork): Conv2d[] {
  const out: Conv2d[] = [];
  for (const cell of net.cells) for (const m of cell.modules()) if (m instanceof Conv2d) out.push(m);
  return out;
}

/** Pairs the Child's binary convs with the Parent's convs by position, checking kinds and shapes. */
export function pairConvs(child: GenotypeNetwork, parent: GenotypeNetwork): { child: BinaryConv2d[]; parent: Conv2d[] } {
  const c = cellConvs(child), p = cellConvs(parent);
  if (c.length !== p.length) throw new CpnasError('cpLoss', `the Child has ${c.length} convs in its cells but the Parent has ${p.length}`);
  c.forEach((m, i) => {
    if (!(m instanceof BinaryConv2d)) throw new CpnasError('cpLoss', `conv ${i} of the Child's cells is not binary`);
    if (p[i] instanceof BinaryConv2d) throw new CpnasError('cpLoss', `conv ${i} of the Parent's cells is binary`);
    if (shapeStr(m.weight.shape) !== shapeStr(p[i].weight.shape)) {
      throw new CpnasError('cpLoss', `conv ${i}: Child weight ${shapeStr(m.weight.shape)} and Parent weight ${shapeStr(p[i].weight.shape)} differ`);
    }
  });
  return { child: c as BinaryConv2d[], parent: p };
}

/** Accuracy in eval mode (the Child's convs then take the bit-packed path). */
export function evalAccuracy(net: UnaryModule, ds: NasDataset, batchSize: number): number {
  const was = net.training;
  net.eval();
  try {
    return accuracyOf((x) => net.forward(x), ds, batchSize);
  } finally {
    net.train(was);
  }
}

function costOf(net: GenotypeNetwork, inputShape: readonly number[]): Omit<ModelReport, 'testAccuracy' | 'trainLoss' | 'trainAccuracy' | 'modelDir'> {
  const c = countOps(net, [1, ...inputShape]);
  return { fpParams: c.floatParams, binaryParams: c.binaryParams, bops: c.bops, flops: c.flops, ops: c.ops, sizeBytes: c.sizeBytes };
}

type Phase = 'parent' | 'child';

interface PhaseOutcome {
  trainLoss: number;
  trainAccuracy: number;
}

/** Where the two phases stand (saved in every checkpoint). */
interface TrainState {
  phase: Phase | 'done';
  /** Epochs of `phase` finished. */
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  parentReport: ModelReport | null;
}

function checkTrainState(v: unknown, where: string): TrainState {
  const o = obj(v, where);
  if (o.phase !== 'parent' && o.phase !== 'child' && o.phase !== 'done') throw new CpnasError('checkpoint', `${where}.phase is ${JSON.stringify(o.phase)}`);
  let parentReport: ModelReport | null = null;
  if (o.parentReport !== null) {
    const r = obj(o.parentReport, `${where}.parentReport`);
    const n = (k: string) => num(r[k], `${where}.parentReport.${k}`);
    if (typeof r.modelDir !== 'string') throw new CpnasError('checkpoint', `${where}.parentReport.modelDir is not a string`);
    parentReport = {
      testAccuracy: n('testAccuracy'), trainLoss: n('trainLoss'), trainAccuracy: n('trainAccuracy'), fpParams: n('fpParams'),
      binaryParams: n('binaryParams'), bops: n('bops'), flops: n('flops'), ops: n('ops'), sizeBytes: n('sizeBytes'), modelDir: r.modelDir,
    };
  }
  return {
    phase: o.phase, epoch: int(o.epoch, `${where}.epoch`), trainLoss: num(o.trainLoss, `${where}.trainLoss`),
    trainAccuracy: num(o.trainAccuracy, `${where}.trainAccuracy`), parentReport,
  };
}

/** The flags that set a phase's step sizes, named when its numbers blow up. */
function flagsOf(phase: Phase): string[] {
  return phase === 'parent' ? ['--lr'] : ['--lr', '--lambda', '--theta'];
}

export function runTraining(opts: RunTrainingOptions): RunResult {
  const settings = resolveTrainSettings(opts.settings);
  const genotype = validateGenotype(opts.genotype);
  const { train, test } = opts.data;
  const val = opts.data.val ?? test;
  checkImages('runTraining', train.shape, settings.imageSize, 'train');
  checkImages('runTraining', test.shape, settings.imageSize, 'test');
  if (train.length === 0 || test.length === 0) throw new CpnasError('runTraining', `empty split (train ${train.length}, test ${test.length} images)`);
  const log = opts.log ?? (() => {});
  const identity = {
    genotype, settings,
    data: { train: dataFingerprint(train), val: dataFingerprint(val), test: dataFingerprint(test) },
  };
  return withRunContext({
    outDir: opts.outDir, stage: 'train', checkpointDir: RUN_FILES.trainCheckpoint, identity, log, onProgress: opts.onProgress, signal: opts.signal,
  }, (run) => trainIn(run, opts, settings, genotype, val));
}

function trainIn(run: RunContext, opts: RunTrainingOptions, settings: ReturnType<typeof resolveTrainSettings>, genotype: RunResult['genotype'], val: NasDataset): RunResult {
  const { train, test } = opts.data;
  const log = run.log;
  const outDir = opts.outDir;
  const inputShape = [...train.shape];
  const numClasses = train.classNames.length;

  const seedRng = new Random(settings.seed);
  const initRng = seedRng.fork(), dataRng = seedRng.fork(), dropRng = seedRng.fork();
  const config: NetworkConfig = {
    inputChannels: inputShape[0], numClasses, cells: settings.cells, channels: settings.channels,
    nodes: genotype.normal.length / 2, binarizers: settings.binarizers, childBlock: settings.childBlock, binary: false, rng: initRng,
  };
  const parent = new GenotypeNetwork(genotype, { ...config, binary: false });
  const child = new GenotypeNetwork(genotype, { ...config, binary: true });
  parent.dropRng = dropRng;
  child.dropRng = dropRng;
  const pairs = pairConvs(child, parent);
  const centerLoss = new CenterLoss(numClasses, child.classifier.inFeatures, { theta: settings.theta });

  // ---- the run's state, as checkpointed after every epoch ---------------------------------------
  let state: TrainState = { phase: 'parent', epoch: 0, trainLoss: 0, trainAccuracy: 0, parentReport: null };
  const childStarted = () => state.phase !== 'parent';
  /** The optimizer and schedule of the phase in progress (bound when the phase starts). */
  const optimizerSlot = new SlotPart(), scheduleSlot = new SlotPart();
  const parts: Parts = {
    state: jsonPart(() => state, (v) => { state = v; }, checkTrainState),
    parent: modulePart(parent),
    child: optionalPart(modulePart(child), childStarted),
    centers: optionalPart(modulePart(centerLoss), childStarted),
    dataRng: rngPart(dataRng), dropRng: rngPart(dropRng), globalRng: rngPart(defaultRandom()),
    optimizer: optimizerSlot, schedule: scheduleSlot,
  };
  if (opts.resume && run.hasCheckpoint() && run.restore(parts)) {
    log(`resuming training: ${state.phase} epoch ${state.epoch + 1}`);
  } else {
    run.checkpoints.clear();
    // keep what the search wrote, drop the records of an earlier training in this folder
    run.history = new HistoryLog(run.path(RUN_FILES.history), readJsonl<HistoryRecord>(run.path(RUN_FILES.history)).filter((r) => !(r.type === 'epoch' && r.phase !== 'search')));
    run.history.rewrite();
    manualSeed(settings.seed);
    writeJsonAtomic(join(outDir, RUN_FILES.trainSettings), settings);
  }
  const save = (): void => run.save(parts);

  // data-parallel steps: the second shard of every batch runs on a replica (a worker thread when one
  // can run the genotype's operations: user-registered ones exist in this thread only)
  const builtinOnly = [...genotype.normal, ...genotype.reduce].every(([op]) => operationInfo(op).builtin);
  const { rng: _initRng, binary: _binary, ...replicaConfig } = config;
  const lossSettings = { theta: settings.theta, kd: settings.kd, kdTemperature: settings.kdTemperature };
  const runner = settings.shards === 2
    ? new ShardRunner({ genotype, config: replicaConfig, loss: lossSettings }, inputShape, Math.ceil(settings.batchSize / 2), builtinOnly && opts.threads !== 1)
    : null;
  const perImage = inputShape[0] * inputShape[1] * inputShape[2];

  /**
   * One optimizer step on a batch: the data loss of each shard (mean over its images) weighted by its
   * size, plus the CP loss once; loss and gradients checked, gradients clipped, then the step.
   */
  const step = (phase: Phase, net: GenotypeNetwork, optimizer: Optimizer, x: Tensor, y: Int32Array, frozen: boolean, health: HealthWhere) => {
    const N = y.length;
    const nA = runner && N >= 2 ? Math.ceil(N / 2) : N, nB = N - nA;
    if (runner && nB > 0) {
      const dropSeed = settings.dropPath > 0 ? dropRng.nextUint32() : 0;
      runner.begin(phase, net, centerLoss, x.data.subarray(nA * perImage, N * perImage), y.subarray(nA), nB, frozen, dropSeed);
    }
    const xA = nB > 0 ? new Tensor(x.data.subarray(0, nA * perImage), [nA, ...inputShape]) : x;
    const main = shardDataLoss(phase, net, parent, centerLoss, xA, nB > 0 ? y.subarray(0, nA) : y, lossSettings);
    let loss = main.loss;
    let cp = 0;
    if (phase === 'child' && settings.lambda > 0) {
      const l = cpLoss(pairs.child, pairs.parent, { lambda: settings.lambda });
      cp = l.item();
      // counted once for the whole batch: this shard's gradient is weighted by nA / N below
      loss = add(loss, nB > 0 ? mul(l, N / nA) : l);
    }
    const lossValue = loss.item();
    if (!Number.isFinite(lossValue)) {
      runner?.finish(); // the replica's half of the step is dropped with it
      checkLoss(lossValue, health);
    }
    optimizer.zeroGrad();
    loss.backward();
    const stats = { ...main.stats };
    if (runner && nB > 0) {
      const other = runner.finish();
      const wA = nA / N, wB = nB / N;
      let o = 0;
      for (const p of optimizer.params) {
        const g = other.gradients;
        if (!p.grad) p.grad = Tensor.zeros(p.shape);
        const d = p.grad.data;
        for (let j = 0; j < d.length; j++) d[j] = wA * d[j] + wB * g[o + j];
        o += p.size;
      }
      for (const k of ['data', 'ce', 'center', 'kd'] as const) stats[k] = wA * stats[k] + wB * other.stats[k];
      stats.correct += other.stats.correct;
    }
    checkLoss(stats.data + cp, health);
    checkGradients(optimizer.params, health);
    if (settings.gradClip > 0) clipGradNorm(optimizer.params, settings.gradClip);
    optimizer.step();
    return { loss: stats.data + cp, correct: stats.correct, terms: { ce: stats.ce, cp, center: stats.center, kd: stats.kd } };
  };

  /** Trains one network for its epochs, checkpointing after each; returns the last epoch's numbers. */
  const trainPhase = (phase: Phase, net: GenotypeNetwork, epochs: number, lr: number, freezeBnFraction: number): PhaseOutcome => {
    if (epochs === 0) {
      // 0 epochs means no training of this network, said once (not one batch recorded as 0 epochs)
      const from = phase === 'child' && settings.childInit === 'parent' ? "the Parent's weights" : 'its initial weights';
      log(`${phase}: 0 epochs: not trained (it keeps ${from})`);
      return { trainLoss: state.trainLoss, trainAccuracy: state.trainAccuracy };
    }
    const perEpoch = batchesFor(train, settings.batchSize, 1);
    const totalSteps = Math.max(1, Math.round(epochs * perEpoch));
    const nEpochs = Math.ceil(totalSteps / perEpoch);
    const optimizer = makeOptimizer(net.parameters(), settings.optimizer, { lr, momentum: settings.momentum, weightDecay: settings.weightDecay });
    const schedule = new CosineAnnealingLR(optimizer, { tMax: totalSteps, etaMin: Math.min(settings.lrMin, lr) });
    // a resumed phase continues with the optimizer and schedule of its checkpoint
    optimizerSlot.bind(optimizerPart(optimizer));
    scheduleSlot.bind(schedulePart(schedule));
    let outcome: PhaseOutcome = { trainLoss: state.trainLoss, trainAccuracy: state.trainAccuracy };
    // the last steps may run with BN statistics frozen (see the file comment)
    const freezeFrom = freezeBnFraction > 0 ? Math.floor(totalSteps * (1 - freezeBnFraction)) : Infinity;
    const bns = net.modules().filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
    net.train();
    centerLoss.train();
    for (let epoch = state.phase === phase ? state.epoch : 0; epoch < nEpochs; epoch++) {
      run.checkAbort();
      const t0 = Date.now();
      const health: HealthWhere = { phase: `${phase} training`, epoch: epoch + 1, flags: flagsOf(phase) };
      const steps = Math.min(perEpoch, totalSteps - epoch * perEpoch);
      net.dropPathProb = (settings.dropPath * epoch) / nEpochs;
      let lossSum = 0, correct = 0, seen = 0, n = 0;
      const terms = { ce: 0, cp: 0, center: 0, kd: 0 };
      for (const b of shuffledBatches(train, settings.batchSize, dataRng, steps, settings.augment)) {
        const frozen = epoch * perEpoch + n >= freezeFrom;
        for (const bn of bns) bn.training = !frozen;
        const lrNow = optimizer.lr;
        const out = step(phase, net, optimizer, b.x, b.y, frozen, health);
        schedule.step();
        lossSum += out.loss;
        correct += out.correct;
        seen += b.y.length;
        n++;
        terms.ce += out.terms.ce;
        terms.cp += out.terms.cp;
        terms.center += out.terms.center;
        terms.kd += out.terms.kd;
        run.progress({
          phase, done: epoch * perEpoch + n, total: totalSteps, round: epoch + 1,
          label: `${phase} epoch ${epoch + 1}/${nEpochs} · batch ${n}/${steps}`,
          metrics: { loss: lossSum / n, trainAccuracy: correct / seen, lr: lrNow },
        });
      }
      // weights and BN statistics, before anything is measured or saved
      checkModule(net, phase === 'parent' ? 'Parent' : 'Child', health);
      if (phase === 'child') checkModule(centerLoss, 'center loss', health);
      outcome = { trainLoss: lossSum / Math.max(1, n), trainAccuracy: seen ? correct / seen : 0 };
      const valAccuracy = evalAccuracy(net, val, settings.batchSize);
      const rec: EpochRecord = {
        type: 'epoch', phase, epoch: epoch + 1, loss: outcome.trainLoss, trainAccuracy: outcome.trainAccuracy,
        valAccuracy, lr: optimizer.lr, seconds: (Date.now() - t0) / 1000,
      };
      if (phase === 'child') {
        const per = 1 / Math.max(1, n);
        rec.terms = { ce: terms.ce * per, cp: terms.cp * per, center: terms.center * per, kd: terms.kd * per };
      }
      run.record(rec);
      log(`${phase} epoch ${epoch + 1}/${nEpochs}: loss ${rec.loss.toFixed(4)}, train ${(100 * rec.trainAccuracy).toFixed(2)} %, val ${(100 * valAccuracy).toFixed(2)} % (${rec.seconds.toFixed(1)} s)`);
      state = { ...state, phase, epoch: epoch + 1, ...outcome };
      save();
      run.progress({
        phase, done: (epoch + 1) * perEpoch, total: totalSteps, round: epoch + 1, checkpoint: true, unit: 'epoch',
        label: `${phase} epoch ${epoch + 1}/${nEpochs} done`, metrics: { loss: rec.loss, trainAccuracy: rec.trainAccuracy, valAccuracy },
      });
    }
    optimizerSlot.bind(null);
    scheduleSlot.bind(null);
    return outcome;
  };

  /** Saves a trained network's model files (never one holding NaN/Inf: checked at every epoch's end). */
  const saveModel = (kind: Phase, net: GenotypeNetwork, testAccuracy: number): string => {
    const { rng: _rng, ...plain } = config;
    const meta: ModelMeta = {
      kind, genotype, config: { ...plain, binary: kind === 'child' }, classNames: [...train.classNames], inputShape, testAccuracy,
    };
    checkModule(net, kind === 'parent' ? 'Parent' : 'Child', { phase: `${kind} training`, epoch: state.epoch, flags: flagsOf(kind) });
    // one safetensors file per model: the weights for any tool, the description in its __metadata__
    saveSafetensors(net, join(outDir, kind, 'model.safetensors'), { ...meta });
    return kind;
  };

  /** Phase 1: the Parent, trained alone, saved, and (by default) the Child's starting point. */
  const trainParent = (): void => {
    const out = trainPhase('parent', parent, settings.parentEpochs, settings.parentLr, 0);
    const testAccuracy = evalAccuracy(parent, test, settings.batchSize);
    state = {
      phase: 'child', epoch: 0, trainLoss: 0, trainAccuracy: 0,
      parentReport: { testAccuracy, ...out, ...costOf(parent, inputShape), modelDir: saveModel('parent', parent, testAccuracy) },
    };
    log(`parent: test accuracy ${(100 * testAccuracy).toFixed(2)} %`);
    if (settings.childInit === 'parent') child.loadStateDict(parent.stateDict(), { strict: false });
    save();
  };

  /** Phase 2: the Child, with the CP loss to the fixed Parent and the center loss. */
  const trainChild = (): void => {
    parent.eval(); // a fixed teacher from here on: running statistics, no updates
    runner?.loadParent(parent);
    const out = trainPhase('child', child, settings.childEpochs, settings.childLr, settings.freezeBnFraction);
    state = { ...state, phase: 'done', epoch: 0, ...out };
    save();
  };

  try {
    if (state.phase === 'parent') trainParent();
    if (state.phase === 'child') trainChild();
  } finally {
    runner?.close();
  }

  const parentReport = state.parentReport!;
  const testAccuracy = evalAccuracy(child, test, settings.batchSize);
  const childReport: ModelReport = {
    testAccuracy, trainLoss: state.trainLoss, trainAccuracy: state.trainAccuracy, ...costOf(child, inputShape),
    modelDir: saveModel('child', child, testAccuracy),
  };
  log(`child: test accuracy ${(100 * testAccuracy).toFixed(2)} % (bit-packed inference)`);
  const result: RunResult = {
    child: childReport, parent: parentReport,
    ops: childReport.ops, bops: childReport.bops, flops: childReport.flops, sizeBytes: childReport.sizeBytes,
    searchSeconds: opts.searchSeconds ?? 0, trainSeconds: run.elapsed(),
    settings: { ...(opts.searchSettings ? { search: opts.searchSettings } : {}), train: settings },
    seed: settings.seed, genotype, ...(opts.dataset ? { dataset: opts.dataset } : {}),
    inputShape, numClasses, childBlock: settings.childBlock,
  };
  const sums = getBackend().gemmSums?.();
  if (sums) result.gemmSums = sums;
  const s = opts.searchSettings;
  if (s && (s.maxOps > 0 || s.maxBytes > 0)) {
    // the budget of the search, against the Child actually trained (countOps of the final network)
    const maxOps = s.maxOps > 0 ? s.maxOps : null, maxBytes = s.maxBytes > 0 ? s.maxBytes : null;
    const fits = (maxOps === null || childReport.ops <= maxOps) && (maxBytes === null || childReport.sizeBytes <= maxBytes);
    result.budget = { maxOps, maxBytes, ops: childReport.ops, bytes: childReport.sizeBytes, fits };
    if (!fits) log(`warning: the trained Child (${childReport.ops} OPs, ${childReport.sizeBytes} bytes) is over the search's budget: it was trained with other cells / channels / image size than the budget was measured on`);
  }
  writeJsonAtomic(join(outDir, RUN_FILES.result), result);
  return result;
}
