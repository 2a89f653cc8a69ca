/** Losses: cross-entropy from logits, and mean squared error. */
import { Tensor, attach, check, checkTensor, getBackend, shapeStr, shapesEqual } from '../core/index.js';

export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Cross-entropy of integer labels under softmax(logits), from the logits directly:
 * loss_n = log Σ_k exp(x_nk) - x_n,y_n, computed with the row max subtracted (stable for any logits).
 * Backward: (softmax(x) - onehot(y)) · g (divided by N for the mean).
 * `reduction`: 'mean' (default, a scalar), 'sum' (a scalar) or 'none' ([N]).
 */
export function crossEntropy(
  logits: Tensor, labels: Int32Array | readonly number[], reduction: Reduction = 'mean',
): Tensor {
  const op = 'crossEntropy';
  checkTensor(op, 'logits', logits);
  check(labels instanceof Int32Array || (Array.isArray(labels) && labels.every((y) => typeof y === 'number')), op,
    () => `labels must be an Int32Array or an array of class numbers, got ${Array.isArray(labels) ? 'an array of other values' : labels === null ? 'null' : typeof labels}`);
  check(logits.rank === 2, op, () => `expects logits of shape [N,K], got ${shapeStr(logits.shape)}`);
  const [N, K] = logits.shape;
  check(labels.length === N, op, () => `got ${labels.length} labels for logits ${shapeStr(logits.shape)} (${N} rows)`);
  check(K > 0, op, () => `logits ${shapeStr(logits.shape)} have no classes`);
  check(reduction === 'mean' || reduction === 'sum' || reduction === 'none', op,
    () => `reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
  check(reduction !== 'mean' || N > 0, op, () => `the mean over an empty batch is undefined (logits ${shapeStr(logits.shape)})`);
  for (let n = 0; n < N; n++) {
    const y = labels[n];
    check(Number.isInteger(y) && y >= 0 && y < K, op,
      () => `label ${y} at row ${n} is out of range for ${K} classes (logits ${shapeStr(logits.shape)})`);
  }
  const x = logits.data;
  const lse = new Float64Array(N);
  const losses = new Float32Array(N);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const row = n * K;
    let m = -Infinity;
    for (let k = 0; k < K; k++) if (x[row + k] > m) m = x[row + k];
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(x[row + k] - m);
    lse[n] = m + Math.log(s);
    const l = lse[n] - x[row + labels[n]];
    losses[n] = l;
    total += l;
  }
  const out = reduction === 'none' ? new Tensor(losses, [N]) : Tensor.scalar(reduction === 'mean' ? total / N : total);
  return attach(out, op, [logits], (g) => {
    const r = new Float32Array(N * K);
    for (let n = 0; n < N; n++) {
      const gn = reduction === 'none' ? g[n] : reduction === 'mean' ? g[0] / N : g[0];
      const row = n * K;
      for (let k = 0; k < K; k++) r[row + k] = Math.exp(x[row + k] - lse[n]) * gn;
      r[row + labels[n]] -= gn;
    }
    return [r];
  });
}

/** Mean squared error mean((a - b)²) over all elements; a and b must have the same shape. */
export function mse(a: Tensor, b: Tensor): Tensor {
  check(shapesEqual(a.shape, b.shape), 'mse', () => `a ${shapeStr(a.shape)} and b ${shapeStr(b.shape)} have different shapes`);
  check(a.size > 0, 'mse', () => `the mean over an empty tensor ${shapeStr(a.shape)} is undefined`);
  const n = a.size;
  const diff = new Float32Array(n);
  getBackend().binary('sub', a.data, a.shape, b.data, b.shape, diff, a.shape);
  let s = 0;
  for (let i = 0; i < n; i++) s += diff[i] * diff[i];
  const out = Tensor.scalar(s / n);
  return attach(out, 'mse', [a, b], (g) => {
    const k = (2 * g[0]) / n;
    const ga = a.requiresGrad ? new Float32Array(n) : null;
    const gb = b.requiresGrad ? new Float32Array(n) : null;
    for (let i = 0; i < n; i++) {
      const v = k * diff[i];
      if (ga) ga[i] = v;
      if (gb) gb[i] = -v;
    }
    return [ga, gb];
  });
}
