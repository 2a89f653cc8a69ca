/**
 * PC-DARTS (Xu et al., ICLR 2020; public code yuhuixu1993/PC-DARTS, model_search.py and
 * train_search.py) on the 1-bit Child search space that `cp` searches:
 * - partial channel connections (eq. 2): every mixed operation sees 1/K of its edge's channels
 *   (settings.partialChannels), the rest bypass it, then a channel shuffle (nas/partial-channel.ts);
 * - edge normalization (eq. 3): every node sums its incoming edges weighted by softmax(beta) over them;
 *   beta is learnt with alpha (Adam, the architecture step of DARTS, first or second order);
 * - warm-up: the first settings.warmupEpochs epochs train the weights only (train_search.py starts the
 *   architecture steps at epoch 15 of 50);
 * - genotype (eq. 4, `_parse` of model_search.py): on every edge the strongest operation other than
 *   `none` by softmax(alpha), its strength multiplied by the edge's softmax(beta); every node keeps its 2
 *   strongest incoming edges.
 * An epoch is a pass over settings.sampleFraction of the search-train split, as for darts; the whole
 * search is settings.dartsEpochs epochs (warm-up included). The checkpoint after every epoch holds the
 * weights, alpha, beta, both optimizers and the random generators, so a resumed search reaches the same
 * genotype.
 */
import { Random, Tensor, defaultRandom, noGrad } from '../../core/index.js';
import { add } from '../../ops/arithmetic.js';
import { crossEntropy } from '../../ops/loss.js';
import { Adam } from '../../ops/optim/adam.js';
import { softmax } from '../../ops/softmax.js';
import { architectStep } from '../architect.js';
import { arrayPart, int, jsonPart, loadParts, modulePart, optimizerPart, rngPart, type Part, type Parts } from '../state-parts.js';
import { CELL_TYPES, cellEdges, edgeKey } from '../genotype.js';
import { accuracyOf, batchesFor, countCorrect, firstSamples, makeOptimizer, optimizeStep, searchLr, shuffledBatches } from '../loop.js';
import { edgeNormalization } from '../partial-channel.js';
import { Supernet, mixedChoice, type SupernetChoice } from '../supernet.js';
import type { CellType, EdgeKey, EdgeOpValues, SearchSettings } from '../types.js';
import { finishSearch, type SearchContext, type Strategy, type StrategyResult } from './context.js';
import { alphaTable } from './darts.js';

/** alpha [E, K] and beta [E] of both cell types: the architecture of a partial-channel supernet. */
export interface PcArchitecture {
  alpha: { normal: Tensor; reduce: Tensor };
  beta: { normal: Tensor; reduce: Tensor };
}

/** The 1-bit Child supernet with partial channels, and its alpha and beta (1e-3 * N(0, 1), as in the code). */
export function pcSupernet(ctx: SearchContext, initRng: Random): { net: Supernet; arch: PcArchitecture } {
  const s = ctx.settings;
  const net = new Supernet({
    inputChannels: ctx.inputShape[0], numClasses: ctx.numClasses, cells: s.cells, channels: s.channels, nodes: s.nodes,
    binarizers: s.binarizers, childBlock: s.childBlock, binary: true, partialChannels: s.partialChannels, rng: initRng,
  }, s.primitives);
  const E = cellEdges(s.nodes).length, K = s.primitives.length;
  const arch: PcArchitecture = {
    alpha: { normal: Tensor.randn([E, K], 1e-3, initRng, true), reduce: Tensor.randn([E, K], 1e-3, initRng, true) },
    beta: { normal: Tensor.randn([E], 1e-3, initRng, true), reduce: Tensor.randn([E], 1e-3, initRng, true) },
  };
  return { net, arch };
}

export function archTensors(a: PcArchitecture): Tensor[] {
  return [a.alpha.normal, a.alpha.reduce, a.beta.normal, a.beta.reduce];
}

/**
 * The mixing of eq. 2 and 3: softmax(alpha) per edge (entries of `mask` that are false get weight 0:
 * the operations bnas has abandoned) and the per-node softmax(beta).
 */
export function pcChoice(a: PcArchitecture, nodes: number, detach: boolean, mask?: { normal: Float32Array; reduce: Float32Array }): SupernetChoice {
  const f = () => {
    const w = (cell: CellType) => {
      const alpha = a.alpha[cell];
      if (!mask) return softmax(alpha, -1);
      // -1e30 before the softmax: an abandoned operation gets weight exp(-1e30) = 0 and no gradient
      const masked = Tensor.from(mask[cell].map((m) => (m ? 0 : -1e30)), alpha.shape);
      return softmax(add(alpha, masked), -1);
    };
    return mixedChoice(w('normal'), w('reduce'), {
      normal: edgeNormalization(a.beta.normal, nodes), reduce: edgeNormalization(a.beta.reduce, nodes),
    });
  };
  return detach ? noGrad(f) : f();
}

/** softmax(beta) of every edge, by edge key. */
export function edgeWeightTable(a: PcArchitecture, nodes: number): { [edge: EdgeKey]: number } {
  const out: { [edge: EdgeKey]: number } = {};
  for (const cell of CELL_TYPES) {
    const w = noGrad(() => edgeNormalization(a.beta[cell], nodes));
    cellEdges(nodes).forEach(({ from, to }, e) => (out[edgeKey(cell, from, to)] = w.data[e]));
  }
  return out;
}

/** Eq. 4: the best non-`none` operation of every edge by softmax(alpha), its strength times softmax(beta). */
export function pcKept(alphas: EdgeOpValues, edgeWeights: { [edge: EdgeKey]: number }, primitives: readonly string[]): { [edge: EdgeKey]: { op: string; strength: number } } {
  const kept: { [edge: EdgeKey]: { op: string; strength: number } } = {};
  for (const [edge, row] of Object.entries(alphas)) {
    let best: string | null = null;
    for (const op of primitives) if (op !== 'none' && op in row && (best === null || row[op] > row[best])) best = op;
    if (best) kept[edge] = { op: best, strength: row[best] * (edgeWeights[edge] ?? 1) };
  }
  return kept;
}

/** The architecture's alphas and betas as one checkpoint part (tensors marked changed after loading). */
export function archPart(a: PcArchitecture): Part {
  const arrays = (): Parts => ({
    alphaNormal: arrayPart(a.alpha.normal.data), alphaReduce: arrayPart(a.alpha.reduce.data),
    betaNormal: arrayPart(a.beta.normal.data), betaReduce: arrayPart(a.beta.reduce.data),
  });
  return {
    save: () => ({
      alphaNormal: a.alpha.normal.data.slice(), alphaReduce: a.alpha.reduce.data.slice(),
      betaNormal: a.beta.normal.data.slice(), betaReduce: a.beta.reduce.data.slice(),
    }),
    load(t, where) {
      loadParts(arrays(), t, where);
      for (const x of archTensors(a)) x.markChanged();
    },
  };
}

/** The architecture optimizer of DARTS / PC-DARTS: Adam with betas (0.5, 0.999) on alpha and beta. */
export function archOptimizer(a: PcArchitecture, s: SearchSettings): Adam {
  return new Adam(archTensors(a), { lr: s.archLr, betas: [0.5, 0.999], weightDecay: s.archWeightDecay });
}

export const pcDartsStrategy: Strategy = (ctx): StrategyResult => {
  const s = ctx.settings;
  const seedRng = new Random(s.seed);
  const dataRng = seedRng.fork();
  const valRng = seedRng.fork();
  const initRng = seedRng.fork();
  const { net, arch } = pcSupernet(ctx, initRng);
  const weights = net.parameters();
  const wOpt = makeOptimizer(weights, s.optimizer, s);
  const aOpt = archOptimizer(arch, s);
  let epoch = 0;

  // the search's state, saved after every epoch
  const parts: Parts = {
    net: modulePart(net), weightOptimizer: optimizerPart(wOpt), archOptimizer: optimizerPart(aOpt), arch: archPart(arch),
    dataRng: rngPart(dataRng), valRng: rngPart(valRng), globalRng: rngPart(defaultRandom()),
    epoch: jsonPart(() => epoch, (v) => { epoch = v; }, (v, where) => int(v, where)),
  };
  if (ctx.restore(parts)) ctx.log(`resuming pc-darts search at epoch ${epoch + 1}`);

  const epochs = Math.max(1, Math.round(s.dartsEpochs));
  const steps = batchesFor(ctx.data.searchTrain, s.batchSize, s.sampleFraction);
  const val = firstSamples(ctx.data.searchVal, Math.max(1, Math.round(s.valFraction * ctx.data.searchVal.length)));
  const lossOf = (x: Tensor, y: Int32Array) => crossEntropy(net.forward(x, pcChoice(arch, s.nodes, false)), y);
  net.train();

  for (; epoch < epochs;) {
    ctx.checkAbort();
    const t0 = Date.now();
    const warm = epoch < s.warmupEpochs;
    wOpt.lr = searchLr(s, epoch, epochs); // cosine annealing per epoch, as train_search.py
    const valStream = (function* () {
      for (;;) yield* shuffledBatches(ctx.data.searchVal, s.batchSize, valRng);
    })();
    let loss = 0, correct = 0, seen = 0, n = 0;
    for (const b of shuffledBatches(ctx.data.searchTrain, s.batchSize, dataRng, steps)) {
      if (!warm) {
        const v = valStream.next().value!;
        const valBatch = { x: v.x.clone(), y: v.y.slice() };
        architectStep({ loss: lossOf, weights, alphas: archTensors(arch), optimizer: aOpt, secondOrder: s.secondOrder, weightDecay: s.weightDecay },
          b, valBatch, wOpt.lr);
      }
      const logits = net.forward(b.x, pcChoice(arch, s.nodes, true));
      loss += optimizeStep(wOpt, crossEntropy(logits, b.y), s.gradClip, 'pc-darts search');
      correct += countCorrect(logits, b.y);
      seen += b.y.length;
      n++;
      ctx.progress({
        phase: 'search', done: epoch * steps + n, total: epochs * steps, round: epoch + 1,
        label: `pc-darts epoch ${epoch + 1}/${epochs}${warm ? ' (warm-up)' : ''} · step ${n}/${steps}`, metrics: { loss: loss / n },
      });
    }
    const choice = pcChoice(arch, s.nodes, true);
    const valAccuracy = accuracyOf((x) => net.forward(x, choice), val, s.batchSize);
    epoch++;
    ctx.record({
      type: 'epoch', phase: 'search', epoch, loss: loss / Math.max(1, n), trainAccuracy: seen ? correct / seen : 0,
      valAccuracy, lr: wOpt.lr, seconds: (Date.now() - t0) / 1000,
    });
    ctx.record({
      type: 'alpha', strategy: 'pc-darts', epoch,
      weights: alphaTable(arch.alpha, s.primitives, s.nodes), edgeWeights: edgeWeightTable(arch, s.nodes),
    });
    ctx.save(parts);
    ctx.progress({
      phase: 'search', done: epoch * steps, total: epochs * steps, round: epoch, checkpoint: true, unit: 'epoch',
      label: `pc-darts epoch ${epoch}/${epochs} done`, metrics: { loss: loss / Math.max(1, n), valAccuracy },
    });
  }

  const kept = pcKept(alphaTable(arch.alpha, s.primitives, s.nodes), edgeWeightTable(arch, s.nodes), s.primitives);
  return finishSearch(ctx, kept);
};
