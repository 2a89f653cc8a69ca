/**
 * DARTS, the plain differentiable search: every edge of the supernet mixes all its candidates with
 * softmax(alpha) weights; alpha is trained on the search-validation split (Adam) and the weights on the
 * search-train split (SGD), alternating one step each (architect.ts). The genotype keeps, on every edge,
 * its strongest operation other than `none`, and for every node its 2 strongest edges.
 * By default the 1-bit Child supernet is searched (settings.dartsNetwork).
 */
import { Random, Tensor, defaultRandom, noGrad } from '../../core/index.js';
import { crossEntropy } from '../../ops/loss.js';
import { Adam } from '../../ops/optim/adam.js';
import { softmax } from '../../ops/softmax.js';
import { architectStep } from '../architect.js';
import { arrayPart, int, jsonPart, modulePart, optimizerPart, rngPart, type Parts } from '../state-parts.js';
import { cellEdges, edgeKey } from '../genotype.js';
import { accuracyOf, batchesFor, searchLr, countCorrect, firstSamples, makeOptimizer, optimizeStep, shuffledBatches } from '../loop.js';
import { Supernet, mixedChoice } from '../supernet.js';
import type { CellType, EdgeOpValues } from '../types.js';
import { finishSearch, strongestOps, type Strategy } from './context.js';

/** softmax(alpha) of both cell types as per-edge tables. */
export function alphaTable(alphas: { normal: Tensor; reduce: Tensor }, primitives: readonly string[], nodes: number): EdgeOpValues {
  const table: EdgeOpValues = {};
  for (const cell of ['normal', 'reduce'] as CellType[]) {
    const w = noGrad(() => softmax(alphas[cell], -1));
    const K = primitives.length;
    cellEdges(nodes).forEach(({ from, to }, e) => {
      const row: { [op: string]: number } = {};
      primitives.forEach((op, k) => (row[op] = w.data[e * K + k]));
      table[edgeKey(cell, from, to)] = row;
    });
  }
  return table;
}

export const dartsStrategy: Strategy = (ctx) => {
  const s = ctx.settings;
  const seedRng = new Random(s.seed);
  const dataRng = seedRng.fork();
  const valRng = seedRng.fork();
  const initRng = seedRng.fork();
  const net = new Supernet({
    inputChannels: ctx.inputShape[0], numClasses: ctx.numClasses, cells: s.cells, channels: s.channels, nodes: s.nodes,
    binarizers: s.binarizers, childBlock: s.childBlock, binary: s.dartsNetwork === 'child', rng: initRng,
  }, s.primitives);
  const E = cellEdges(s.nodes).length, K = s.primitives.length;
  // DARTS initializes alpha to 1e-3 * N(0, 1)
  const alphas = {
    normal: Tensor.randn([E, K], 1e-3, initRng, true),
    reduce: Tensor.randn([E, K], 1e-3, initRng, true),
  };
  const weights = net.parameters();
  const wOpt = makeOptimizer(weights, s.optimizer, s);
  const aOpt = new Adam([alphas.normal, alphas.reduce], { lr: s.archLr, betas: [0.5, 0.999], weightDecay: s.archWeightDecay });
  let epoch = 0;

  // the search's state, saved after every epoch
  const parts: Parts = {
    net: modulePart(net),
    weightOptimizer: optimizerPart(wOpt),
    archOptimizer: optimizerPart(aOpt),
    alphaNormal: arrayPart(alphas.normal.data),
    alphaReduce: arrayPart(alphas.reduce.data),
    dataRng: rngPart(dataRng),
    valRng: rngPart(valRng),
    globalRng: rngPart(defaultRandom()),
    epoch: jsonPart(() => epoch, (v) => { epoch = v; }, (v, where) => int(v, where)),
  };
  if (ctx.restore(parts)) ctx.log(`resuming darts search at epoch ${epoch + 1}`);

  const mix = (detach: boolean) => {
    const w = (a: Tensor) => (detach ? noGrad(() => softmax(a, -1)) : softmax(a, -1));
    return mixedChoice(w(alphas.normal), w(alphas.reduce));
  };
  const lossOf = (x: Tensor, y: Int32Array) => crossEntropy(net.forward(x, mix(false)), y);
  const epochs = Math.max(1, Math.round(s.dartsEpochs));
  const steps = batchesFor(ctx.data.searchTrain, s.batchSize, s.sampleFraction);
  const val = firstSamples(ctx.data.searchVal, Math.max(1, Math.round(s.valFraction * ctx.data.searchVal.length)));
  net.train();

  for (; epoch < epochs;) {
    ctx.checkAbort();
    const t0 = Date.now();
    wOpt.lr = searchLr(s, epoch, epochs); // DARTS: cosine annealing per epoch
    // a val batch for every train batch, from an endless shuffled stream of the search-val split
    const valStream = (function* () {
      for (;;) yield* shuffledBatches(ctx.data.searchVal, s.batchSize, valRng);
    })();
    let loss = 0, correct = 0, seen = 0, n = 0;
    for (const b of shuffledBatches(ctx.data.searchTrain, s.batchSize, dataRng, steps)) {
      const v = valStream.next().value!;
      // the val batch buffer may be reused by the stream: copy what the architect keeps
      const valBatch = { x: v.x.clone(), y: v.y.slice() };
      architectStep({ loss: lossOf, weights, alphas: [alphas.normal, alphas.reduce], optimizer: aOpt, secondOrder: s.secondOrder, weightDecay: s.weightDecay },
        b, valBatch, wOpt.lr);
      const logits = net.forward(b.x, mix(true));
      loss += optimizeStep(wOpt, crossEntropy(logits, b.y), s.gradClip, 'darts search');
      correct += countCorrect(logits, b.y);
      seen += b.y.length;
      n++;
      ctx.progress({
        phase: 'search', done: epoch * steps + n, total: epochs * steps, round: epoch + 1,
        label: `darts epoch ${epoch + 1}/${epochs} · step ${n}/${steps}`, metrics: { loss: loss / n },
      });
    }
    const choice = mix(true);
    const valAccuracy = accuracyOf((x) => net.forward(x, choice), val, s.batchSize);
    epoch++;
    ctx.record({
      type: 'epoch', phase: 'search', epoch, loss: loss / Math.max(1, n), trainAccuracy: seen ? correct / seen : 0,
      valAccuracy, lr: wOpt.lr, seconds: (Date.now() - t0) / 1000,
    });
    ctx.record({ type: 'alpha', strategy: 'darts', epoch, weights: alphaTable(alphas, s.primitives, s.nodes) });
    ctx.save(parts);
    ctx.progress({
      phase: 'search', done: epoch * steps, total: epochs * steps, round: epoch, checkpoint: true, unit: 'epoch',
      label: `darts epoch ${epoch}/${epochs} done`, metrics: { loss: loss / Math.max(1, n), valAccuracy },
    });
  }

  return finishSearch(ctx, strongestOps(alphaTable(alphas, s.primitives, s.nodes), s.primitives));
};
