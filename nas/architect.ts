/**
 * The architecture step of DARTS (cnn/architect.py): the architecture parameters alpha are trained on
 * the validation split while the weights w are trained on the training split (bilevel optimization).
 *
 * First order: grad_alpha L_val(w, alpha).
 * Second order: the gradient through one virtual weight step w' = w - xi * grad_w L_train(w, alpha),
 *   grad_alpha L_val(w', alpha) - xi * (grad_alpha L_train(w+, alpha) - grad_alpha L_train(w-, alpha)) / (2 eps)
 * with w+- = w +- eps * grad_w' L_val(w', alpha) and eps = 0.01 / ||grad_w' L_val||: the finite-difference
 * Hessian-vector product of the DARTS paper (eq. 7-8).
 */
import { Tensor } from '../core/index.js';
import type { Optimizer } from '../ops/optim/optimizer.js';

export interface ArchitectOptions {
  /** Loss of the network on a batch with the given alpha (the forward pass builds the graph). */
  loss: (x: Tensor, y: Int32Array) => Tensor;
  /** The network's weights (not alpha). */
  weights: Tensor[];
  /** alpha, one tensor per cell type. */
  alphas: Tensor[];
  /** Adam on alpha. */
  optimizer: Optimizer;
  secondOrder: boolean;
  /** Weight decay the weight optimizer applies (part of the virtual step's gradient). */
  weightDecay: number;
}

function clearGrads(ts: Tensor[]): void {
  for (const t of ts) t.grad = null;
}

function gradCopy(ts: Tensor[]): Float32Array[] {
  return ts.map((t) => (t.grad ? t.grad.data.slice() : new Float32Array(t.size)));
}

function addScaled(ts: Tensor[], dirs: Float32Array[], scale: number): void {
  ts.forEach((t, i) => {
    const d = dirs[i], w = t.data;
    for (let j = 0; j < w.length; j++) w[j] += scale * d[j];
    t.markChanged();
  });
}

/** One architecture step on a validation batch; `xi` is the weights' current learning rate. */
export function architectStep(
  o: ArchitectOptions, train: { x: Tensor; y: Int32Array }, val: { x: Tensor; y: Int32Array }, xi: number,
): number {
  const all = [...o.weights, ...o.alphas];
  if (!o.secondOrder) {
    clearGrads(all);
    const loss = o.loss(val.x, val.y);
    const v = loss.item();
    loss.backward();
    clearGrads(o.weights);
    o.optimizer.step();
    return v;
  }
  const saved = o.weights.map((w) => w.data.slice());
  // the virtual step w' = w - xi * (grad_w L_train + wd * w)
  clearGrads(all);
  o.loss(train.x, train.y).backward();
  const gTrain = gradCopy(o.weights);
  o.weights.forEach((w, i) => {
    const g = gTrain[i], d = w.data;
    for (let j = 0; j < d.length; j++) g[j] += o.weightDecay * d[j];
  });
  addScaled(o.weights, gTrain, -xi);
  // grad of L_val at w': direct alpha gradient, and dw' for the Hessian-vector product
  clearGrads(all);
  const valLoss = o.loss(val.x, val.y);
  const v = valLoss.item();
  valLoss.backward();
  const dAlpha = gradCopy(o.alphas);
  const dW = gradCopy(o.weights);
  let norm = 0;
  for (const d of dW) for (let j = 0; j < d.length; j++) norm += d[j] * d[j];
  const eps = 0.01 / Math.max(Math.sqrt(norm), 1e-12);
  // back to w, then w+ and w-
  o.weights.forEach((w, i) => {
    w.data.set(saved[i]);
    w.markChanged();
  });
  const alphaGradAt = (scale: number): Float32Array[] => {
    addScaled(o.weights, dW, scale);
    clearGrads(all);
    o.loss(train.x, train.y).backward();
    const g = gradCopy(o.alphas);
    addScaled(o.weights, dW, -scale);
    return g;
  };
  const gPlus = alphaGradAt(eps);
  const gMinus = alphaGradAt(-eps);
  o.weights.forEach((w, i) => {
    w.data.set(saved[i]);
    w.markChanged();
  });
  clearGrads(all);
  o.alphas.forEach((a, i) => {
    const g = dAlpha[i];
    for (let j = 0; j < g.length; j++) g[j] -= (xi * (gPlus[i][j] - gMinus[i][j])) / (2 * eps);
    a.grad = new Tensor(g, a.shape);
  });
  o.optimizer.step();
  clearGrads(all);
  return v;
}
