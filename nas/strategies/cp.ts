/**
 * CP-NAS search (the paper's Algorithm 1): a Child supernet (1-bit) and a Parent supernet (full
 * precision) share nothing but the data. Every round, each edge's remaining K operations are sampled
 * without replacement into K architectures, T times over; each architecture trains Child and Parent for
 * a fraction of an epoch (weights shared with their supernets), and its validation accuracies give the
 * credit z = beta * (A_P - A_C) + A_C to every (edge, operation) it used. At the end of the round every
 * edge abandons its operation with the lowest indicator e = softmax(mean z). The same engine with
 * beta = 0 and no Parent is the Child-only strategy `cp-child` (cp-child.ts).
 *
 * A checkpoint is written after every sampled architecture and after every round, holding the weights,
 * the optimizer state, the random generators, the indicator (credits and remaining operations) and the
 * position in the round, so a resumed search reaches the same genotype as an uninterrupted one.
 */
import { CpnasError, Random, Tensor, defaultRandom } from '../../core/index.js';
import { crossEntropy } from '../../ops/loss.js';
import type { Optimizer } from '../../ops/optim/optimizer.js';
import { allEdgeKeys } from '../genotype.js';
import { CpIndicator, cpCredit, type IndicatorState } from '../indicator.js';
import { accuracyOf, batchesFor, firstSamples, makeOptimizer, optimizeStep, searchLr, shuffledBatches } from '../loop.js';
import { ParentRunner, plainBatches } from '../parent-runner.js';
import { architectureAt, drawOrders } from '../sampling.js';
import { absentPart, int, jsonPart, modulePart, num, nums, obj, optimizerPart, record, rngPart, strs, type Parts } from '../state-parts.js';
import { Supernet, type SupernetChoice } from '../supernet.js';
import type { EdgeKey, StrategyName } from '../types.js';
import { finishSearch, type SearchContext, type Strategy, type StrategyResult } from './context.js';

interface Position {
  /** 0-based repetition and architecture index within the current round. */
  t: number;
  e: number;
  /** The orders drawn for repetition t (null before they are drawn). */
  orders: { [edge: EdgeKey]: string[] } | null;
  /** Seconds spent in the current round so far. */
  roundSeconds: number;
}

/** Samples in a whole search: T * (P + (P-1) + ... + (keepOps+1)). */
export function totalSamples(primitives: number, keepOps: number, T: number): number {
  let n = 0;
  for (let K = primitives; K > keepOps; K--) n += K;
  return n * T;
}

function samplesDone(primitives: number, K: number, T: number, t: number, e: number): number {
  let n = 0;
  for (let k = primitives; k > K; k--) n += k * T;
  return n + t * K + e;
}

export function indicatorSearch(ctx: SearchContext, strategy: StrategyName, withParent: boolean): StrategyResult {
  const s = ctx.settings;
  const beta = withParent ? s.beta : 0;
  const seedRng = new Random(s.seed);
  const sampleRng = seedRng.fork();
  const dataRng = seedRng.fork();
  const initRng = seedRng.fork();
  const netConfig = {
    inputChannels: ctx.inputShape[0], numClasses: ctx.numClasses, cells: s.cells, channels: s.channels,
    nodes: s.nodes, binarizers: s.binarizers, childBlock: s.childBlock, rng: initRng,
  };
  const child = new Supernet({ ...netConfig, binary: true }, s.primitives);
  const parent = withParent ? new Supernet({ ...netConfig, binary: false }, s.primitives) : null;
  const optimizerOf = (net: Supernet): Optimizer => makeOptimizer(net.parameters(), s.optimizer, s);
  const childOpt = optimizerOf(child);
  const parentOpt = parent ? optimizerOf(parent) : null;
  const edges = allEdgeKeys(s.nodes);
  let indicator = new CpIndicator(edges, s.primitives);
  let pos: Position = { t: 0, e: 0, orders: null, roundSeconds: 0 };

  // the search's state, saved after every sampled architecture and every round
  const parts: Parts = {
    child: modulePart(child),
    childOptimizer: optimizerPart(childOpt),
    parent: parent ? modulePart(parent) : absentPart(),
    parentOptimizer: parentOpt ? optimizerPart(parentOpt) : absentPart(),
    sampleRng: rngPart(sampleRng),
    dataRng: rngPart(dataRng),
    globalRng: rngPart(defaultRandom()),
    indicator: jsonPart(() => indicator.state(), (v) => { indicator = CpIndicator.fromState(v); }, checkIndicatorState),
    position: jsonPart(() => pos, (v) => { pos = v; }, checkPosition),
  };
  if (ctx.restore(parts)) {
    ctx.log(`resuming ${strategy} search at round ${indicator.rounds + 1}, repetition ${pos.t + 1}, sample ${pos.e + 1}`);
  }
  const save = (): void => ctx.save(parts);

  const val = firstSamples(ctx.data.searchVal, Math.max(1, Math.round(s.valFraction * ctx.data.searchVal.length)));
  const trainBatches = batchesFor(ctx.data.searchTrain, s.batchSize, s.sampleFraction);
  const P = s.primitives.length;
  const total = totalSamples(P, s.keepOps, s.T);

  /** Trains one network of one architecture on a batch; returns the loss. */
  const step = (net: Supernet, opt: Optimizer, choice: SupernetChoice, x: Tensor, y: Int32Array): number =>
    optimizeStep(opt, crossEntropy(net.forward(x, choice), y), s.gradClip, `${strategy} search`);

  // the Parent's part of every sample runs on a second thread beside the Child's (parent-runner.ts)
  const { rng: _rng, ...parentConfig } = { ...netConfig, binary: false };
  const parentRunner = parent && parentOpt
    ? new ParentRunner(parent, parentOpt, {
      config: parentConfig, primitives: [...s.primitives], optimizer: s.optimizer,
      hyper: { lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay }, gradClip: s.gradClip,
      where: `${strategy} search`, val: plainBatches(val.batches(s.batchSize, { shuffle: false })),
    })
    : null;
  if (parentRunner?.parallel) ctx.log('the Parent trains on a second thread beside the Child (the same numbers as on one)');
  try {
    while (indicator.K > s.keepOps) {
      const K = indicator.K;
      const round = indicator.rounds + 1;
      const roundStart = Date.now() - pos.roundSeconds * 1000;
      for (; pos.t < s.T; pos.t++, pos.e = 0, pos.orders = null) {
        pos.orders ??= drawOrders(Object.fromEntries(edges.map((e) => [e, indicator.remaining(e)])), sampleRng);
        for (; pos.e < K;) {
          ctx.checkAbort();
          const t0 = Date.now();
          const arch = architectureAt(pos.orders, pos.e);
          const choice = child.choiceOf(arch);
          // cosine annealing over the whole search, one value per sampled architecture
          const lr = searchLr(s, samplesDone(P, K, s.T, pos.t, pos.e), total);
          childOpt.lr = lr;
          if (parentOpt) parentOpt.lr = lr;
          child.train();
          const batches = plainBatches(shuffledBatches(ctx.data.searchTrain, s.batchSize, dataRng, trainBatches));
          parentRunner?.begin(arch, lr, batches);
          let childLoss = 0, n = 0;
          for (const b of batches) {
            childLoss += step(child, childOpt, choice, new Tensor(b.x, b.shape), b.y);
            n++;
          }
          // BN keeps batch statistics while measuring: running statistics of a weight-sharing supernet
          // mix every architecture it ran and would misjudge this one
          const A_C = accuracyOf((x) => child.forward(x, choice), val, s.batchSize);
          const parentOut = parentRunner ? parentRunner.finish() : null;
          const A_P = parentOut ? parentOut.A_P : null;
          const parentLoss = parentOut ? parentOut.loss : 0;
          const z = cpCredit(A_C, A_P, beta);
          indicator.credit(arch, z);
          pos.e++;
          const seconds = (Date.now() - t0) / 1000;
          ctx.record({
            type: 'sample', strategy, round, t: pos.t + 1, e: pos.e, ops: arch, A_C, A_P, z,
            childLoss: childLoss / Math.max(1, n), parentLoss: parent ? parentLoss / Math.max(1, n) : null, seconds,
          });
          pos.roundSeconds = (Date.now() - roundStart) / 1000;
          save();
          const done = samplesDone(P, K, s.T, pos.t, pos.e);
          ctx.progress({
            phase: 'search', done, total, round, checkpoint: true, unit: 'sample',
            label: `round ${round}/${P - s.keepOps} (K=${K}) · repetition ${pos.t + 1}/${s.T} · architecture ${pos.e}/${K}`,
            metrics: { A_C, ...(A_P !== null ? { A_P } : {}), z, childLoss: childLoss / Math.max(1, n), lr },
          });
        }
      }
      const out = indicator.endRound(s.noneRule);
      const seconds = (Date.now() - roundStart) / 1000;
      ctx.record({ type: 'round', strategy, round, ...out, seconds });
      pos = { t: 0, e: 0, orders: null, roundSeconds: 0 };
      save();
      ctx.log(`round ${round}: abandoned ${summarizeAbandoned(out.abandoned)}; ${indicator.K} operation(s) left per edge`);
      ctx.progress({
        phase: 'search', done: samplesDone(P, indicator.K, s.T, 0, 0), total, round, checkpoint: true, unit: 'round',
        label: `round ${round} done: ${indicator.K} operation(s) left per edge`,
      });
    }

  } finally {
    parentRunner?.close();
  }

  // edge strengths: the mean credit of each kept operation over the whole search; equal strengths
  // competing for a node's place are reported and drawn from a generator of their own (seeded)
  return finishSearch(ctx, indicator.kept());
}

/** The saved position, checked as it is read back. */
function checkPosition(v: unknown, where: string): Position {
  const o = obj(v, where);
  return {
    t: int(o.t, `${where}.t`), e: int(o.e, `${where}.e`),
    orders: o.orders === null ? null : record(o.orders, `${where}.orders`, strs),
    roundSeconds: num(o.roundSeconds, `${where}.roundSeconds`),
  };
}

/** The saved indicator, checked as it is read back. */
function checkIndicatorState(v: unknown, where: string): IndicatorState {
  const o = obj(v, where);
  return {
    remaining: record(o.remaining, `${where}.remaining`, strs),
    credits: record(o.credits, `${where}.credits`, (x, w) => record(x, w, nums)),
    totals: record(o.totals, `${where}.totals`, (x, w) => record(x, w, (y, wy) => {
      const a = nums(y, wy);
      if (a.length !== 2) throw new CpnasError('checkpoint', `${wy} must be [sum, count], got ${a.length} numbers`);
      return [a[0], a[1]] as [number, number];
    })),
    last: record(o.last, `${where}.last`, (x, w) => record(x, w, num)),
    rounds: int(o.rounds, `${where}.rounds`),
  };
}

function summarizeAbandoned(abandoned: { [edge: string]: string }): string {
  const counts = new Map<string, number>();
  for (const op of Object.values(abandoned)) counts.set(op, (counts.get(op) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} x${n}`).join(', ');
}

export const cpStrategy: Strategy = (ctx) => indicatorSearch(ctx, 'cp', true);
