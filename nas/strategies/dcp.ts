/**
 * DCP-NAS, Discrepant Child-Parent NAS (Li et al., IJCV 2023; the CP-NAS journal follow-up; the book
 * "Binary Neural Networks" (CRC 2023), section 4.4, whose equation numbers are cited here). The public
 * code (YanjingLi0202/DCP-NAS) holds the training recipes, not the search loop; its distribution loss
 * (KD_Loss.py) is the cross-entropy of the Child's log-softmax to the Parent's softmax, which is the
 * KL term below up to the Parent's entropy (a constant for the Child).
 *
 * Algorithm 10 of the book, per epoch:
 * 1. Parent phase: the full-precision Parent supernet searches a temporary architecture alpha, DARTS
 *    style (alpha on the validation split, weights on the training split, alternating), with the
 *    decoupled optimization of eqs. 4.42-4.53 (nas/decoupled.ts).
 * 2. Architecture inheriting alpha-hat <- alpha (line 7): here alpha and alpha-hat are one pair of
 *    tensors, updated in turn by the two phases (lines 7 and 13 are then identities).
 * 3. Child phase: the 1-bit Child supernet's objective is
 *      L = G + lambda D(alpha-hat) + mu L_R(w-hat)                                       (eq. 4.32)
 *      G = CE(Child) + dcpKl * KL(p_Parent || p_Child)                               (eqs. 4.26-4.27)
 *      D = ||dG/d alpha-hat - dF_P/d alpha||_F^2                                         (eq. 4.31)
 *      L_R = sum ||w-hat - beta sign(w-hat)||^2 over the Child's binary convolutions      (eq. 4.23)
 *    its weights take gradient steps on G + mu L_R through the straight-through estimator (eqs.
 *    4.34-4.35); alpha-hat takes the tangent-propagation step of eq. 4.33 with the Fisher Hessian
 *    (nas/tangent.ts), then the decoupled backtracking with the Child's weight norms.
 * The genotype comes from softmax(alpha-hat) as in DARTS: every edge keeps its strongest operation
 * other than `none`, every node its 2 strongest edges.
 *
 * Choices where the text leaves one: the Parent is trained alongside on the same supernet space (the
 * Parent of the paper is a real-valued supernet too), one Parent step per Child step; the KL uses
 * temperature 1; the tangent direction is recomputed on each Child step's validation batch at the
 * current alpha-hat (the Parent forward it needs is the one the KL needs anyway); epochs, steps per
 * epoch, alpha's learning rate and weight decay are the darts settings (dartsEpochs, sampleFraction,
 * archLr, archWeightDecay), so dcp and darts run on one budget.
 *
 * A checkpoint is written after every epoch; a resumed search reaches the same genotype.
 */
import { CpnasError, Random, Tensor, defaultRandom, noGrad } from '../../core/index.js';
import { BinaryConv2d } from '../../binary/binary-conv.js';
import { add, mul, sub } from '../../ops/arithmetic.js';
import { Identity } from '../../ops/layers.js';
import { crossEntropy } from '../../ops/loss.js';
import type { Module } from '../../ops/module.js';
import { Adam } from '../../ops/optim/adam.js';
import { sum } from '../../ops/reduce.js';
import { softmax } from '../../ops/softmax.js';
import { slice } from '../../ops/shape.js';
import { DecoupledBacktrack, type DecoupledState } from '../decoupled.js';
import { distillationLoss } from '../distill.js';
import { cellEdges } from '../genotype.js';
import { accuracyOf, batchesFor, firstSamples, makeOptimizer, optimizeStep, shuffledBatches } from '../loop.js';
import { WithBatchNorm } from '../mixed-op.js';
import { PartialMixedOp } from '../partial-channel.js';
import { Pool, Zero } from '../primitives.js';
import { Supernet, mixedChoice } from '../supernet.js';
import { arrayPart, int, jsonPart, modulePart, nums, obj, optimizerPart, rngPart, type Parts } from '../state-parts.js';
import { tangentStep } from '../tangent.js';
import type { CellType, EdgeOpValues } from '../types.js';
import { finishSearch, strongestOps, type Strategy } from './context.js';
import { alphaTable } from './darts.js';

/** L_R of eq. 4.23: sum over binary convolutions of ||w - beta sign(w)||^2, beta sign(w) held constant. */
export function reconstructionLoss(net: Module): Tensor {
  let total: Tensor | null = null;
  for (const [, m] of net.namedModules()) {
    if (!(m instanceof BinaryConv2d)) continue;
    const target = noGrad(() => m.reconstructedWeight()).detach();
    const d = sub(m.weight, target);
    const t = sum(mul(d, d));
    total = total ? add(total, t) : t;
  }
  return total ?? Tensor.scalar(0);
}

/** R(w_m) of eq. 4.53 for one candidate module (parameter-free pooling counts 1/(k*k), identity 1). */
function normOf(m: Module): number {
  const inner = m instanceof WithBatchNorm ? m.op : m;
  if (inner instanceof Pool) return 1 / 9;
  if (inner instanceof Identity) return 1;
  if (inner instanceof Zero) return 0;
  let r = 0;
  for (const p of inner.parameters()) for (let i = 0; i < p.size; i++) r += p.data[i] * p.data[i];
  return r;
}

/** R(w_m) of every operation, summed over the edges of every cell of each type: [normal, reduce]. */
export function operationNorms(net: Supernet): number[][] {
  const K = net.primitives.length;
  const out: { [c in CellType]: number[] } = { normal: new Array(K).fill(0), reduce: new Array(K).fill(0) };
  for (const cell of net.cells) {
    const row = out[cell.reduction ? 'reduce' : 'normal'];
    for (const edge of cell.edges) {
      const mixed = edge instanceof PartialMixedOp ? edge.mixed : edge;
      mixed.ops.forEach((op, k) => (row[k] += normOf(op)));
    }
  }
  return [out.normal, out.reduce];
}

/** A saved DecoupledState, checked field by field. */
function checkDecoupled(v: unknown, where: string): DecoupledState {
  const o = obj(v, where);
  const lists = (x: unknown, w: string): number[][] => {
    if (!Array.isArray(x)) throw new CpnasError('checkpoint', `${w} is not a list`);
    return x.map((e, i) => nums(e, `${w}[${i}]`));
  };
  return {
    psi: lists(o.psi, `${where}.psi`),
    prevAlpha: o.prevAlpha === null ? null : lists(o.prevAlpha, `${where}.prevAlpha`),
    mask: o.mask === null ? null : lists(o.mask, `${where}.mask`),
  };
}

export const dcpStrategy: Strategy = (ctx) => {
  const s = ctx.settings;
  const seedRng = new Random(s.seed);
  const dataRng = seedRng.fork();
  const valRng = seedRng.fork();
  const initRng = seedRng.fork();
  const config = {
    inputChannels: ctx.inputShape[0], numClasses: ctx.numClasses, cells: s.cells, channels: s.channels, nodes: s.nodes,
    binarizers: s.binarizers, childBlock: s.childBlock,
  };
  const parent = new Supernet({ ...config, binary: false, rng: initRng }, s.primitives);
  const child = new Supernet({ ...config, binary: true, rng: initRng }, s.primitives);
  const E = cellEdges(s.nodes).length, K = s.primitives.length;
  const alphas = { normal: Tensor.randn([E, K], 1e-3, initRng, true), reduce: Tensor.randn([E, K], 1e-3, initRng, true) };
  const alphaList = [alphas.normal, alphas.reduce];
  const parentOpt = makeOptimizer(parent.parameters(), s.optimizer, s);
  const childOpt = makeOptimizer(child.parameters(), s.optimizer, s);
  const archOpt = () => new Adam(alphaList, { lr: s.archLr, betas: [0.5, 0.999], weightDecay: s.archWeightDecay });
  const parentArchOpt = archOpt(), childArchOpt = archOpt();
  const decoupled = () => new DecoupledBacktrack([[E, K], [E, K]], { eta: s.archLr * s.lr, psiLr: s.dcpPsiLr, tau: Math.min(s.dcpTau, K) });
  const parentDecoupled = decoupled(), childDecoupled = decoupled();
  let epoch = 0;

  // the search's state, saved after every epoch
  const decoupledPart = (d: DecoupledBacktrack) => jsonPart(() => d.state(), (v) => d.load(v), (v, where) => checkDecoupled(v, where));
  const parts: Parts = {
    parent: modulePart(parent), child: modulePart(child),
    parentOptimizer: optimizerPart(parentOpt), childOptimizer: optimizerPart(childOpt),
    parentArchOptimizer: optimizerPart(parentArchOpt), childArchOptimizer: optimizerPart(childArchOpt),
    alphaNormal: arrayPart(alphas.normal.data), alphaReduce: arrayPart(alphas.reduce.data),
    parentDecoupled: decoupledPart(parentDecoupled), childDecoupled: decoupledPart(childDecoupled),
    dataRng: rngPart(dataRng), valRng: rngPart(valRng), globalRng: rngPart(defaultRandom()),
    epoch: jsonPart(() => epoch, (v) => { epoch = v; }, (v, where) => int(v, where)),
  };
  if (ctx.restore(parts)) {
    alphaList.forEach((a) => a.markChanged());
    ctx.log(`resuming dcp search at epoch ${epoch + 1}`);
  }

  const mix = (detach: boolean) => {
    const w = (a: Tensor) => (detach ? noGrad(() => softmax(a, -1)) : softmax(a, -1));
    return mixedChoice(w(alphas.normal), w(alphas.reduce));
  };
  const grads = () => alphaList.map((a) => (a.grad ? a.grad.data.slice() : new Float32Array(a.size)));
  const clear = (ms: Module[]) => {
    for (const m of ms) for (const p of m.parameters()) p.grad = null;
    for (const a of alphaList) a.grad = null;
  };
  /** One architecture step from the gradient in alpha.grad: psi update, optimizer, backtracking. */
  const archUpdate = (opt: Adam, dec: DecoupledBacktrack, g: Float32Array[], net: Supernet) => {
    dec.updatePsi(g);
    alphaList.forEach((a, i) => (a.grad = new Tensor(g[i], a.shape)));
    const before = alphaList.map((a) => a.data.slice());
    opt.step();
    for (const a of alphaList) a.grad = null;
    if (s.dcpPsiLr > 0) dec.backtrack(alphaList, before, operationNorms(net));
  };
  const meanPsi = (dec: DecoupledBacktrack) => {
    const v = dec.values.flat();
    return v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  };

  const epochs = Math.max(1, Math.round(s.dartsEpochs));
  const steps = batchesFor(ctx.data.searchTrain, s.batchSize, s.sampleFraction);
  const val = firstSamples(ctx.data.searchVal, Math.max(1, Math.round(s.valFraction * ctx.data.searchVal.length)));
  parent.train();
  child.train();

  for (; epoch < epochs;) {
    ctx.checkAbort();
    const t0 = Date.now();
    const valStream = (function* () {
      for (;;) yield* shuffledBatches(ctx.data.searchVal, s.batchSize, valRng);
    })();
    const nextVal = () => {
      const v = valStream.next().value!;
      return { x: v.x.clone(), y: v.y.slice() };
    };

    // 1. Parent phase: a temporary real-valued architecture, with the decoupled optimization
    let n = 0;
    for (const b of shuffledBatches(ctx.data.searchTrain, s.batchSize, dataRng, steps)) {
      const v = nextVal();
      clear([parent]);
      const ce = crossEntropy(parent.forward(v.x, mix(false)), v.y);
      const ceValue = ce.item();
      ce.backward();
      const g = grads();
      clear([parent]);
      archUpdate(parentArchOpt, parentDecoupled, g, parent);
      optimizeStep(parentOpt, crossEntropy(parent.forward(b.x, mix(true)), b.y), s.gradClip, 'dcp search (parent)');
      n++;
      ctx.record({ type: 'dcp', phase: 'parent', epoch: epoch + 1, step: n, ce: ceValue, kl: 0, discrepancy: 0, psi: meanPsi(parentDecoupled) });
      ctx.progress({
        phase: 'search', done: epoch * 2 * steps + n, total: epochs * 2 * steps, round: epoch + 1,
        label: `dcp epoch ${epoch + 1}/${epochs} · parent step ${n}/${steps}`, metrics: { parentCE: ceValue },
      });
    }

    // 2. alpha-hat <- alpha (one pair of tensors), 3. Child phase: KL to the Parent, tangent propagation
    let klSum = 0, ceSum = 0, lossSum = 0;
    n = 0;
    for (const b of shuffledBatches(ctx.data.searchTrain, s.batchSize, dataRng, steps)) {
      const v = nextVal();
      // the tangent direction dF_P/d alpha at alpha-hat (eq. 4.29), and the Parent's distribution for the KL
      clear([parent, child]);
      const parentLogits = parent.forward(v.x, mix(false));
      crossEntropy(parentLogits, v.y).backward();
      const tangent = grads();
      const target = parentLogits.detach();
      clear([parent, child]);
      let ceV = 0, klV = 0;
      const step = tangentStep({
        loss: (x, y, start, end) => {
          const logits = child.forward(x, mix(false));
          const ce = crossEntropy(logits, y);
          const kl = distillationLoss(logits, noGrad(() => slice(target, 0, start, end)).detach());
          const part = (end - start) / v.y.length;
          ceV += ce.item() * part;
          klV += kl.item() * part;
          return s.dcpKl > 0 ? add(ce, mul(kl, s.dcpKl)) : ce;
        },
        alphas: alphaList, weights: [...child.parameters(), ...parent.parameters()],
        tangent, lambda: s.dcpLambda, groups: s.dcpFisherGroups,
      }, v);
      archUpdate(childArchOpt, childDecoupled, step.grad, child);
      // the Child's weights on G + mu L_R (eq. 4.34: straight through the binarizer)
      const parentTrain = noGrad(() => parent.forward(b.x, mix(true))).detach();
      const logits = child.forward(b.x, mix(true));
      let loss = crossEntropy(logits, b.y);
      if (s.dcpKl > 0) loss = add(loss, mul(distillationLoss(logits, parentTrain), s.dcpKl));
      if (s.dcpMu > 0) loss = add(loss, mul(reconstructionLoss(child), s.dcpMu));
      lossSum += optimizeStep(childOpt, loss, s.gradClip, 'dcp search (child)');
      clear([parent]);
      ceSum += ceV;
      klSum += klV;
      n++;
      ctx.record({ type: 'dcp', phase: 'child', epoch: epoch + 1, step: n, ce: ceV, kl: klV, discrepancy: step.D, psi: meanPsi(childDecoupled) });
      ctx.progress({
        phase: 'search', done: epoch * 2 * steps + steps + n, total: epochs * 2 * steps, round: epoch + 1,
        label: `dcp epoch ${epoch + 1}/${epochs} · child step ${n}/${steps}`, metrics: { childCE: ceV, kl: klV, D: step.D },
      });
    }
    const choice = mix(true);
    const valAccuracy = accuracyOf((x) => child.forward(x, choice), val, s.batchSize);
    epoch++;
    ctx.record({
      type: 'epoch', phase: 'search', epoch, loss: lossSum / Math.max(1, n), trainAccuracy: 0, valAccuracy, lr: childOpt.lr,
      seconds: (Date.now() - t0) / 1000, terms: { ce: ceSum / Math.max(1, n), cp: 0, center: 0, kd: klSum / Math.max(1, n) },
    });
    ctx.record({ type: 'alpha', strategy: 'dcp', epoch, weights: alphaTable(alphas, s.primitives, s.nodes) });
    ctx.save(parts);
    ctx.progress({
      phase: 'search', done: epoch * 2 * steps, total: epochs * 2 * steps, round: epoch, checkpoint: true, unit: 'epoch',
      label: `dcp epoch ${epoch}/${epochs} done`, metrics: { kl: klSum / Math.max(1, n), valAccuracy },
    });
  }

  const table: EdgeOpValues = alphaTable(alphas, s.primitives, s.nodes);
  return finishSearch(ctx, strongestOps(table, s.primitives), { scores: table });
};
