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
 * 1-bit weights); a checkpoint after every epoch lets `resume` continue where a run stopped.
 */
import { CenterLoss } from '../binary/center-loss.js';
import { BinaryConv2d } from '../binary/binary-conv.js';
import { countOps } from '../binary/count.js';
import { cpLoss } from '../binary/cp-loss.js';
import { CpnasError, Random, Tensor, defaultRandom, manualSeed, shapeStr } from '../core/index.js';
import { joinPath as join } from '../core/storage.js';
import { add, mul } from '../ops/arithmetic.js';
import { BatchNorm2d, Conv2d } from '../ops/layers.js';
import { clipGradNorm } from '../ops/optim/clip.js';
import type { Optimizer } from '../ops/optim/optimizer.js';
import { CosineAnnealingLR, type ScheduleState } from '../ops/optim/schedule.js';
import { saveModule, type Tree } from '../ops/state.js';
import {
  CheckpointStore, loadModuleFromTree, loadOptimizerFromTree, loadRngFromTree, moduleToTree, optimizerToTree, rngToTree,
} from './checkpoint.js';
import { validateGenotype } from './genotype.js';
import { appendJsonl, readJsonl, writeFileAtomic, writeJsonAtomic } from './io.js';
import { accuracyOf, batchesFor, makeOptimizer, shuffledBatches } from './loop.js';
import { GenotypeNetwork } from './network.js';
import { operationInfo } from './operations.js';
import type { UnaryModule } from './primitives.js';
import { checkImages } from './search.js';
import { resolveTrainSettings } from './settings.js';
import { ShardRunner, shardDataLoss } from './shards.js';
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

interface TrainState {
  phase: Phase | 'done';
  /** Epochs of `phase` finished. */
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  parentReport: ModelReport | null;
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
  const outDir = opts.outDir;
  const historyPath = join(outDir, RUN_FILES.history);
  const store = new CheckpointStore(join(outDir, RUN_FILES.trainCheckpoint));
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

  let history: HistoryRecord[] = [];
  let restored: Record<string, Tree> | null = null;
  let elapsedBefore = 0;
  if (opts.resume) {
    const ck = store.load() as { historyLength: number; elapsed: number; state: Record<string, Tree> } | null;
    if (ck) {
      restored = ck.state;
      elapsedBefore = ck.elapsed;
      const all = readJsonl<HistoryRecord>(historyPath);
      history = all.slice(0, ck.historyLength);
      writeFileAtomic(historyPath, history.map((r) => JSON.stringify(r) + '\n').join(''));
    }
  }
  if (!restored) {
    store.clear();
    // keep what the search wrote, drop the records of an earlier training in this folder
    history = readJsonl<HistoryRecord>(historyPath).filter((r) => !(r.type === 'epoch' && r.phase !== 'search'));
    writeFileAtomic(historyPath, history.map((r) => JSON.stringify(r) + '\n').join(''));
    manualSeed(settings.seed);
    writeJsonAtomic(join(outDir, RUN_FILES.trainSettings), settings);
  }
  const record = (rec: HistoryRecord): void => {
    history.push(rec);
    appendJsonl(historyPath, rec);
  };
  const start = Date.now();
  const elapsed = (): number => elapsedBefore + (Date.now() - start) / 1000;

  let state: TrainState = { phase: 'parent', epoch: 0, trainLoss: 0, trainAccuracy: 0, parentReport: null };
  if (restored) {
    state = restored.state as unknown as TrainState;
    loadModuleFromTree(parent, restored.parent, 'parent');
    if (restored.child) loadModuleFromTree(child, restored.child, 'child');
    if (restored.centers) loadModuleFromTree(centerLoss, restored.centers, 'center loss');
    loadRngFromTree(dataRng, restored.dataRng);
    loadRngFromTree(dropRng, restored.dropRng);
    loadRngFromTree(defaultRandom(), restored.globalRng);
    log(`resuming training: ${state.phase} epoch ${state.epoch + 1}`);
  }

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
   * size, plus the CP loss once; gradients clipped, then the step.
   */
  const step = (phase: Phase, net: GenotypeNetwork, optimizer: Optimizer, x: Tensor, y: Int32Array, frozen: boolean) => {
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
    if (!Number.isFinite(loss.item())) throw new CpnasError(`${phase} training`, `the loss became ${loss.item()} (lower the learning rate)`);
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
    if (settings.gradClip > 0) clipGradNorm(optimizer.params, settings.gradClip);
    optimizer.step();
    return { loss: stats.data + cp, correct: stats.correct, terms: { ce: stats.ce, cp, center: stats.center, kd: stats.kd } };
  };

  /** Trains one network for its epochs, checkpointing after each; returns the last epoch's numbers. */
  const trainPhase = (phase: Phase, net: GenotypeNetwork, epochs: number, lr: number, freezeBnFraction: number): PhaseOutcome => {
    const perEpoch = batchesFor(train, settings.batchSize, 1);
    const totalSteps = Math.max(1, Math.round(epochs * perEpoch));
    const nEpochs = Math.ceil(totalSteps / perEpoch);
    const optimizer = makeOptimizer(net.parameters(), settings.optimizer, { lr, momentum: settings.momentum, weightDecay: settings.weightDecay });
    const schedule = new CosineAnnealingLR(optimizer, { tMax: totalSteps, etaMin: Math.min(settings.lrMin, lr) });
    let outcome: PhaseOutcome = { trainLoss: state.trainLoss, trainAccuracy: state.trainAccuracy };
    if (restored && state.phase === phase && state.epoch > 0) {
      loadOptimizerFromTree(optimizer, restored.optimizer);
      schedule.loadState(restored.schedule as unknown as ScheduleState);
    }
    // the last steps may run with BN statistics frozen (see the file comment)
    const freezeFrom = freezeBnFraction > 0 ? Math.floor(totalSteps * (1 - freezeBnFraction)) : Infinity;
    const bns = net.modules().filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
    net.train();
    centerLoss.train();
    for (let epoch = state.phase === phase ? state.epoch : 0; epoch < nEpochs; epoch++) {
      if (opts.signal?.aborted) throw new CpnasError('training', 'aborted (the last checkpoint is kept: run again with resume to continue)');
      const t0 = Date.now();
      const steps = Math.min(perEpoch, totalSteps - epoch * perEpoch);
      net.dropPathProb = (settings.dropPath * epoch) / nEpochs;
      let lossSum = 0, correct = 0, seen = 0, n = 0;
      const terms = { ce: 0, cp: 0, center: 0, kd: 0 };
      for (const b of shuffledBatches(train, settings.batchSize, dataRng, steps, settings.augment)) {
        const frozen = epoch * perEpoch + n >= freezeFrom;
        for (const bn of bns) bn.training = !frozen;
        const lrNow = optimizer.lr;
        const out = step(phase, net, optimizer, b.x, b.y, frozen);
        schedule.step();
        lossSum += out.loss;
        correct += out.correct;
        seen += b.y.length;
        n++;
        terms.ce += out.terms.ce;
        terms.cp += out.terms.cp;
        terms.center += out.terms.center;
        terms.kd += out.terms.kd;
        opts.onProgress?.({
          phase, done: epoch * perEpoch + n, total: totalSteps, round: epoch + 1,
          label: `${phase} epoch ${epoch + 1}/${nEpochs} · batch ${n}/${steps}`,
          metrics: { loss: lossSum / n, trainAccuracy: correct / seen, lr: lrNow },
        });
      }
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
      record(rec);
      log(`${phase} epoch ${epoch + 1}/${nEpochs}: loss ${rec.loss.toFixed(4)}, train ${(100 * rec.trainAccuracy).toFixed(2)} %, val ${(100 * valAccuracy).toFixed(2)} % (${rec.seconds.toFixed(1)} s)`);
      state = { ...state, phase, epoch: epoch + 1, ...outcome };
      save({ optimizer: optimizerToTree(optimizer), schedule: schedule.state() as unknown as Tree });
      opts.onProgress?.({
        phase, done: (epoch + 1) * perEpoch, total: totalSteps, round: epoch + 1, checkpoint: true, unit: 'epoch',
        label: `${phase} epoch ${epoch + 1}/${nEpochs} done`, metrics: { loss: rec.loss, trainAccuracy: rec.trainAccuracy, valAccuracy },
      });
    }
    return outcome;
  };

  const save = (extra: { optimizer: Tree; schedule: Tree } | null): void => {
    const s: Record<string, Tree> = {
      state: state as unknown as Tree,
      parent: moduleToTree(parent),
      child: state.phase === 'parent' ? null : moduleToTree(child),
      centers: state.phase === 'parent' ? null : moduleToTree(centerLoss),
      dataRng: rngToTree(dataRng), dropRng: rngToTree(dropRng), globalRng: rngToTree(defaultRandom()),
      optimizer: extra?.optimizer ?? null, schedule: extra?.schedule ?? null,
    };
    store.save({ historyLength: history.length, elapsed: elapsed(), state: s });
  };

  const saveModel = (kind: Phase, net: GenotypeNetwork, testAccuracy: number): string => {
    const { rng: _rng, ...plain } = config;
    const meta: ModelMeta = {
      kind, genotype, config: { ...plain, binary: kind === 'child' }, classNames: [...train.classNames], inputShape, testAccuracy,
    };
    saveModule(net, join(outDir, kind, 'model'), meta as unknown as Record<string, unknown>);
    return kind;
  };

  try {
    // ---- the Parent ------------------------------------------------------------------------------
    if (state.phase === 'parent') {
      const out = trainPhase('parent', parent, settings.parentEpochs, settings.parentLr, 0);
      const testAccuracy = evalAccuracy(parent, test, settings.batchSize);
      state = {
        phase: 'child', epoch: 0, trainLoss: 0, trainAccuracy: 0,
        parentReport: { testAccuracy, ...out, ...costOf(parent, inputShape), modelDir: saveModel('parent', parent, testAccuracy) },
      };
      log(`parent: test accuracy ${(100 * testAccuracy).toFixed(2)} %`);
      if (settings.childInit === 'parent') child.loadStateDict(parent.stateDict(), { strict: false });
      save(null);
    }

    // ---- the Child ---------------------------------------------------------------------------------
    if (state.phase === 'child') {
      parent.eval(); // a fixed teacher from here on: running statistics, no updates
      runner?.loadParent(parent);
      const out = trainPhase('child', child, settings.childEpochs, settings.childLr, settings.freezeBnFraction);
      state = { ...state, phase: 'done', epoch: 0, ...out };
      save(null);
    }
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
    searchSeconds: opts.searchSeconds ?? 0, trainSeconds: elapsed(),
    settings: { ...(opts.searchSettings ? { search: opts.searchSettings } : {}), train: settings },
    seed: settings.seed, genotype, ...(opts.dataset ? { dataset: opts.dataset } : {}),
    inputShape, numClasses, childBlock: settings.childBlock,
  };
  writeJsonAtomic(join(outDir, RUN_FILES.result), result);
  return result;
}

