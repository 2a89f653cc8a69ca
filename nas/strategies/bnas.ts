/**
 * BNAS, binarized neural architecture search (Chen, Zhuo, Zhang, Zheng, Liu, Doermann, Ji, "Binarized
 * Neural Architecture Search", AAAI 2020; journal version "Binarized Neural Architecture Search for
 * Efficient Object Recognition", IJCV 2021, arXiv 2009.04247), the authors' method before CP-NAS and one
 * of its baselines. It has two parts, both on the 1-bit Child search space:
 *
 * 1. Channel sampling on a differentiable search: the supernet of PC-DARTS (partial channel
 *    connections, PC-DARTS eq. 2; edge normalization, eq. 3; nas/partial-channel.ts), its weights and
 *    architecture (alpha, beta) trained as in DARTS / PC-DARTS, after settings.warmupEpochs weight-only
 *    epochs.
 * 2. Operation space reduction by a performance-based strategy (BNAS Algorithm 1): every round, T
 *    times, each edge draws a random order of its K remaining operations and the K architectures so
 *    formed are measured on the search-validation split (sampling without replacement: each operation is
 *    measured T times a round); the accuracy a of an architecture is credited to every operation it
 *    used; then every edge abandons its operation with the lowest score and K decreases by one. The
 *    journal version scores an operation by its upper confidence bound (UCB1 form)
 *        s(o_k) = m_k + c * sqrt(2 ln N / n_k)
 *    with m_k the mean accuracy credited to o_k, n_k its number of measurements and N the number of
 *    measurements of the edge; settings.bnasUcb is c (1 = the UCB1 form; 0 = the mean accuracy alone,
 *    the performance-based likelihood of the AAAI version, whose softmax keeps the same order).
 *
 * Choices where the texts leave one open (stated so a reader can change them):
 * - The credits accumulate over the whole search (m_k and n_k are not reset between rounds), so an
 *   operation's record from earlier rounds counts; with sampling without replacement every operation of
 *   an edge has the same n_k, and the exploration term then shifts the scores of one edge equally (it
 *   matters where the numbers of measurements differ, e.g. a run resumed with other T).
 * - A round trains the supernet for one differentiable epoch (sampleFraction of the search-train
 *   split, mixing the remaining operations only: abandoned ones get weight 0 in softmax(alpha)), then
 *   measures the sampled architectures with the shared weights, without training each one separately:
 *   the differentiable epoch is what trains every remaining operation. This is what keeps BNAS cheaper
 *   per round than the cp engine, in line with the published search-cost comparison.
 * - Sampled architectures run through the partial-channel supernet: one operation on 1/K of the
 *   channels, the rest bypassing, edges weighted by softmax(beta).
 * - `none` follows settings.noneRule as in cp: 'abandon' (an edge never keeps it as its last operation,
 *   since a genotype cannot hold it) or 'rank'.
 * - Genotype: the operation left on every edge; the strength of an edge is its kept operation's mean
 *   accuracy times softmax(beta) of the edge (PC-DARTS eq. 4 with the measured performance in place of
 *   softmax(alpha)); every node keeps its 2 strongest incoming edges.
 *
 * Checkpoints after every epoch (warm-up and rounds) and after every round hold the weights, alpha,
 * beta, both optimizers, the credits and the random generators: a resumed search repeats the
 * measurements of an interrupted round from the same state and reaches the same genotype.
 */
import { CpnasError, Random, defaultRandom, type Tensor } from '../../core/index.js';
import { crossEntropy } from '../../ops/loss.js';
import { architectStep } from '../architect.js';
import { int, jsonPart, modulePart, nums, obj, optimizerPart, record, rngPart, strs, type Parts } from '../state-parts.js';
import { CELL_TYPES, allEdgeKeys, cellEdges, edgeKey } from '../genotype.js';
import { accuracyOf, batchesFor, countCorrect, firstSamples, makeOptimizer, optimizeStep, searchLr, shuffledBatches } from '../loop.js';
import { architectureAt, drawOrders } from '../sampling.js';
import type { SupernetChoice } from '../supernet.js';
import type { CellType, EdgeKey, EdgeOpValues, SearchSettings } from '../types.js';
import { finishSearch, type Strategy, type StrategyResult } from './context.js';
import { alphaTable } from './darts.js';
import {
  archOptimizer, archPart, archTensors, edgeWeightTable, pcChoice, pcSupernet, type PcArchitecture,
} from './pc-darts.js';

/** Per edge, per operation: the accuracies credited so far (sum and count). */
export interface BnasCredits {
  remaining: { [edge: EdgeKey]: string[] };
  sum: { [edge: EdgeKey]: { [op: string]: number } };
  count: { [edge: EdgeKey]: { [op: string]: number } };
}

export function newCredits(edges: EdgeKey[], primitives: readonly string[]): BnasCredits {
  const c: BnasCredits = { remaining: {}, sum: {}, count: {} };
  for (const e of edges) {
    c.remaining[e] = [...primitives];
    c.sum[e] = Object.fromEntries(primitives.map((p) => [p, 0]));
    c.count[e] = Object.fromEntries(primitives.map((p) => [p, 0]));
  }
  return c;
}

/** The journal's UCB score of every remaining operation of an edge; m and n as in the header. */
export function ucbScores(c: BnasCredits, edge: EdgeKey, ucb: number): { score: { [op: string]: number }; mean: { [op: string]: number } } {
  const ops = c.remaining[edge];
  let N = 0;
  for (const op of ops) N += c.count[edge][op];
  const score: { [op: string]: number } = {}, mean: { [op: string]: number } = {};
  for (const op of ops) {
    const n = c.count[edge][op];
    if (n === 0) throw new CpnasError('bnas', `operation "${op}" of edge ${edge} was never measured`);
    mean[op] = c.sum[edge][op] / n;
    score[op] = mean[op] + ucb * Math.sqrt((2 * Math.log(N)) / n);
  }
  return { score, mean };
}

/**
 * Abandons the lowest-scored operation of every edge (ties: the one listed first). With noneRule
 * 'abandon' an edge never keeps `none` as its last operation (as cp); with 'rank' `none` is ranked like
 * any operation, and an edge left with `none` is never chosen for the genotype.
 */
export function abandonWorst(c: BnasCredits, ucb: number, noneRule: 'abandon' | 'rank' = 'abandon'): { abandoned: { [edge: EdgeKey]: string }; indicator: EdgeOpValues; meanCredit: EdgeOpValues } {
  const abandoned: { [edge: EdgeKey]: string } = {}, indicator: EdgeOpValues = {}, meanCredit: EdgeOpValues = {};
  for (const edge of Object.keys(c.remaining)) {
    const ops = c.remaining[edge];
    const { score, mean } = ucbScores(c, edge, ucb);
    const order = [...ops].sort((a, b) => score[a] - score[b] || ops.indexOf(a) - ops.indexOf(b));
    let victim = order[0];
    if (noneRule === 'abandon' && victim !== 'none' && ops.length === 2 && ops.includes('none')) victim = 'none';
    abandoned[edge] = victim;
    indicator[edge] = score;
    meanCredit[edge] = mean;
    c.remaining[edge] = ops.filter((o) => o !== victim);
  }
  return { abandoned, indicator, meanCredit };
}

/** 1 where an operation is still on the edge, 0 where it was abandoned: [E, K] per cell type. */
function maskOf(c: BnasCredits, s: SearchSettings): { normal: Float32Array; reduce: Float32Array } {
  const E = cellEdges(s.nodes).length, K = s.primitives.length;
  const m = { normal: new Float32Array(E * K), reduce: new Float32Array(E * K) };
  for (const cell of CELL_TYPES) {
    cellEdges(s.nodes).forEach(({ from, to }, e) => {
      const rem = c.remaining[edgeKey(cell, from, to)];
      s.primitives.forEach((op, k) => (m[cell][e * K + k] = rem.includes(op) ? 1 : 0));
    });
  }
  return m;
}

interface Position {
  /** Epochs trained so far (warm-up and rounds). */
  epoch: number;
  /** The current round's differentiable epoch is done; its measurements are next. */
  trained: boolean;
}

function checkCredits(v: unknown, where: string): BnasCredits {
  const o = obj(v, where);
  const table = (x: unknown, w: string) => record(x, w, (y, w2) => record(y, w2, (z, w3) => nums([z], w3)[0]));
  return { remaining: record(o.remaining, `${where}.remaining`, strs), sum: table(o.sum, `${where}.sum`), count: table(o.count, `${where}.count`) };
}

function checkPosition(v: unknown, where: string): Position {
  const o = obj(v, where);
  if (typeof o.trained !== 'boolean') throw new CpnasError('checkpoint', `${where}.trained is not a boolean`);
  return { epoch: int(o.epoch, `${where}.epoch`), trained: o.trained };
}

export const bnasStrategy: Strategy = (ctx): StrategyResult => {
  const s = ctx.settings;
  const seedRng = new Random(s.seed);
  const dataRng = seedRng.fork();
  const valRng = seedRng.fork();
  const initRng = seedRng.fork();
  const sampleRng = seedRng.fork();
  const { net, arch } = pcSupernet(ctx, initRng);
  const weights = net.parameters();
  const wOpt = makeOptimizer(weights, s.optimizer, s);
  const aOpt = archOptimizer(arch, s);
  const edges = allEdgeKeys(s.nodes);
  let credits = newCredits(edges, s.primitives);
  let rounds = 0;
  let pos: Position = { epoch: 0, trained: false };

  // the search's state, saved after every epoch and every measured architecture
  const parts: Parts = {
    net: modulePart(net), weightOptimizer: optimizerPart(wOpt), archOptimizer: optimizerPart(aOpt), arch: archPart(arch),
    dataRng: rngPart(dataRng), valRng: rngPart(valRng), sampleRng: rngPart(sampleRng), globalRng: rngPart(defaultRandom()),
    credits: jsonPart(() => credits, (v) => { credits = v; }, checkCredits),
    rounds: jsonPart(() => rounds, (v) => { rounds = v; }, (v, where) => int(v, where)),
    position: jsonPart(() => pos, (v) => { pos = v; }, checkPosition),
  };
  if (ctx.restore(parts)) ctx.log(`resuming bnas search after epoch ${pos.epoch}, round ${rounds + 1}`);
  const save = (): void => ctx.save(parts);

  const steps = batchesFor(ctx.data.searchTrain, s.batchSize, s.sampleFraction);
  const val = firstSamples(ctx.data.searchVal, Math.max(1, Math.round(s.valFraction * ctx.data.searchVal.length)));
  const P = s.primitives.length;
  const totalRounds = P - s.keepOps;
  const totalEpochs = s.warmupEpochs + totalRounds;
  // progress counts epochs and measured architectures alike
  const measurementsBefore = (round: number) => {
    let n = 0;
    for (let K = P; K > P - round; K--) n += K * s.T;
    return n;
  };
  const total = totalEpochs * steps + measurementsBefore(totalRounds);

  /** One epoch: weight steps on search-train; architecture steps on search-val unless warming up. */
  const epoch = (warm: boolean, mask: ReturnType<typeof maskOf> | undefined): void => {
    const t0 = Date.now();
    wOpt.lr = searchLr(s, pos.epoch, totalEpochs); // cosine annealing per epoch, as DARTS / PC-DARTS
    const lossOf = (x: Tensor, y: Int32Array) => crossEntropy(net.forward(x, pcChoice(arch, s.nodes, false, mask)), y);
    const valStream = (function* () {
      for (;;) yield* shuffledBatches(ctx.data.searchVal, s.batchSize, valRng);
    })();
    net.train();
    let loss = 0, correct = 0, seen = 0, n = 0;
    const done0 = pos.epoch * steps + measurementsBefore(rounds);
    for (const b of shuffledBatches(ctx.data.searchTrain, s.batchSize, dataRng, steps)) {
      ctx.checkAbort();
      if (!warm) {
        const v = valStream.next().value!;
        architectStep({ loss: lossOf, weights, alphas: archTensors(arch), optimizer: aOpt, secondOrder: s.secondOrder, weightDecay: s.weightDecay },
          b, { x: v.x.clone(), y: v.y.slice() }, wOpt.lr);
      }
      const logits = net.forward(b.x, pcChoice(arch, s.nodes, true, mask));
      loss += optimizeStep(wOpt, crossEntropy(logits, b.y), s.gradClip, 'bnas search');
      correct += countCorrect(logits, b.y);
      seen += b.y.length;
      n++;
      ctx.progress({
        phase: 'search', done: done0 + n, total, round: rounds + 1,
        label: `bnas ${warm ? `warm-up epoch ${pos.epoch + 1}/${s.warmupEpochs}` : `round ${rounds + 1}/${totalRounds} epoch`} · step ${n}/${steps}`,
        metrics: { loss: loss / n },
      });
    }
    const choice = pcChoice(arch, s.nodes, true, mask);
    const valAccuracy = accuracyOf((x) => net.forward(x, choice), val, s.batchSize);
    pos.epoch++;
    ctx.record({
      type: 'epoch', phase: 'search', epoch: pos.epoch, loss: loss / Math.max(1, n), trainAccuracy: seen ? correct / seen : 0,
      valAccuracy, lr: wOpt.lr, seconds: (Date.now() - t0) / 1000,
    });
    ctx.record({
      type: 'alpha', strategy: 'bnas', epoch: pos.epoch,
      weights: alphaTable(arch.alpha, s.primitives, s.nodes), edgeWeights: edgeWeightTable(arch, s.nodes),
    });
  };

  const afterEpoch = (label: string): void => {
    save();
    ctx.progress({
      phase: 'search', done: pos.epoch * steps + measurementsBefore(rounds), total, round: rounds + 1, checkpoint: true, unit: 'epoch', label,
    });
  };

  while (pos.epoch < s.warmupEpochs) {
    epoch(true, undefined);
    afterEpoch(`bnas warm-up epoch ${pos.epoch}/${s.warmupEpochs} done`);
  }

  while (credits.remaining[edges[0]].length > s.keepOps) {
    const K = credits.remaining[edges[0]].length;
    const roundStart = Date.now();
    if (!pos.trained) {
      epoch(false, maskOf(credits, s));
      pos.trained = true;
      afterEpoch(`bnas round ${rounds + 1} epoch done`);
    }
    // performance-based strategy: T x K architectures sampled without replacement, measured with the shared weights
    let e = 0;
    for (let t = 0; t < s.T; t++) {
      const orders = drawOrders(credits.remaining, sampleRng);
      for (let i = 0; i < K; i++, e++) {
        ctx.checkAbort();
        const t0 = Date.now();
        const architecture = architectureAt(orders, i);
        const choice = sampledChoice(net.choiceOf(architecture), arch, s.nodes);
        const a = accuracyOf((x) => net.forward(x, choice), val, s.batchSize);
        for (const [edge, op] of Object.entries(architecture)) {
          credits.sum[edge][op] += a;
          credits.count[edge][op] += 1;
        }
        ctx.record({
          type: 'sample', strategy: 'bnas', round: rounds + 1, t: t + 1, e: i + 1, ops: architecture, A_C: a, A_P: null, z: a,
          childLoss: 0, parentLoss: null, seconds: (Date.now() - t0) / 1000,
        });
        ctx.progress({
          phase: 'search', done: pos.epoch * steps + measurementsBefore(rounds) + e + 1, total, round: rounds + 1,
          label: `bnas round ${rounds + 1}/${totalRounds} (K=${K}) · repetition ${t + 1}/${s.T} · architecture ${i + 1}/${K}`,
          metrics: { A_C: a },
        });
      }
    }
    const out = abandonWorst(credits, s.bnasUcb, s.noneRule);
    rounds++;
    pos.trained = false;
    ctx.record({
      type: 'round', strategy: 'bnas', round: rounds, K, indicator: out.indicator, meanCredit: out.meanCredit,
      abandoned: out.abandoned, remaining: structuredClone(credits.remaining), seconds: (Date.now() - roundStart) / 1000,
    });
    save();
    ctx.log(`bnas round ${rounds}: ${K - 1} operation(s) left per edge`);
    ctx.progress({
      phase: 'search', done: pos.epoch * steps + measurementsBefore(rounds), total, round: rounds, checkpoint: true, unit: 'round',
      label: `bnas round ${rounds} done: ${K - 1} operation(s) left per edge`,
    });
  }

  const edgeWeights = edgeWeightTable(arch, s.nodes);
  const kept: { [edge: EdgeKey]: { op: string; strength: number } } = {};
  for (const edge of edges) {
    const { score, mean } = ucbScores(credits, edge, s.bnasUcb);
    let best: string | null = null;
    for (const op of credits.remaining[edge]) if (op !== 'none' && (best === null || score[op] > score[best])) best = op;
    if (best) kept[edge] = { op: best, strength: mean[best] * edgeWeights[edge] };
  }
  return finishSearch(ctx, kept);
};

/** One operation per edge (a sampled architecture) with the edge-normalization weights softmax(beta). */
function sampledChoice(ops: SupernetChoice, arch: PcArchitecture, nodes: number): SupernetChoice {
  const mixed = pcChoice(arch, nodes, true);
  const cell = (c: CellType) => ({ ...ops[c], edgeWeights: mixed[c].edgeWeights });
  return { normal: cell('normal'), reduce: cell('reduce') };
}
