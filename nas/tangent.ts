/**
 * The architecture step of DCP-NAS (Li et al., "DCP-NAS: Discrepant Child-Parent Neural Architecture
 * Search for 1-bit CNNs", IJCV 2023; section 4.4 of Li, Xu, Zhang et al., "Binary Neural Networks",
 * CRC 2023): tangent propagation with a Gauss-Newton / Fisher Hessian.
 *
 * - The tangent direction is the Parent's architecture gradient t = dF_P/d alpha (eq. 4.29), taken here
 *   as the gradient of the Parent's cross-entropy at the Child's alpha-hat on the same batch (choice:
 *   the text's F-tilde is the log-likelihood the Parent maximizes; its negative, a loss, has the same
 *   sign convention as the Child's G, so the two gradients can be compared).
 * - The discrepancy D(alpha-hat) = || dG/d alpha-hat - t ||_F^2 (eq. 4.31, the F-norm of its Table 4.4)
 *   joins the Child's objective L = G + lambda D (+ mu L_R, eq. 4.32), whose alpha-gradient is
 *     dL/d alpha-hat = g + 2 lambda (g - t)^T H_G(alpha-hat),   g = dG/d alpha-hat      (eq. 4.33)
 * - H_G is replaced by the empirical Fisher information, the expected outer product of first-order
 *   gradients (eqs. 4.36-4.41): H ~ F = (1/S) sum_s g_s g_s^T, where g_s is the gradient of G on group s
 *   of the batch (choice: S groups of equal size stand for the per-sample expectation; S = batch size
 *   is the per-sample Fisher). F is never formed: (g - t)^T F = (1/S) sum_s ((g - t) . g_s) g_s, so the
 *   step costs S first-order gradients, no second derivative.
 * - g itself is the mean of the g_s (G is a mean over samples).
 */
import { CpnasError, Tensor } from '../core/index.js';

export interface TangentStepOptions {
  /** G of the Child on rows [start, end) of the batch (builds the graph): the Child's search objective. */
  loss: (x: Tensor, y: Int32Array, start: number, end: number) => Tensor;
  /** The architecture parameters alpha-hat (their .grad is used; other gradients are cleared). */
  alphas: Tensor[];
  /** Every other parameter the loss touches (their gradients are cleared). */
  weights: Tensor[];
  /** The tangent direction t, one array per alpha tensor (eq. 4.29). */
  tangent: Float32Array[];
  /** lambda of eq. 4.32. */
  lambda: number;
  /** S: groups the batch is cut into for the Fisher (1 = rank-one Gauss-Newton). */
  groups: number;
}

export interface TangentStep {
  /** dL/d alpha-hat of eq. 4.33, one array per alpha tensor. */
  grad: Float32Array[];
  /** g = dG/d alpha-hat. */
  g: Float32Array[];
  /** G on the batch (mean over the groups). */
  G: number;
  /** D = ||g - t||^2 (eq. 4.31). */
  D: number;
}

/** Rows [start, end) of a batch (a copy, no gradient). */
export function batchRows(x: Tensor, y: Int32Array, start: number, end: number): { x: Tensor; y: Int32Array } {
  const per = x.size / x.shape[0];
  return { x: new Tensor(x.data.slice(start * per, end * per), [end - start, ...x.shape.slice(1)]), y: y.slice(start, end) };
}

/** The alpha-gradient of eq. 4.33 with the Fisher Hessian of eqs. 4.36-4.41 (see the file header). */
export function tangentStep(o: TangentStepOptions, batch: { x: Tensor; y: Int32Array }): TangentStep {
  const N = batch.x.shape[0];
  const S = Math.max(1, Math.min(o.groups, N));
  if (o.tangent.length !== o.alphas.length || o.tangent.some((t, i) => t.length !== o.alphas[i].size)) {
    throw new CpnasError('tangentStep', `the tangent direction has ${o.tangent.map((t) => t.length).join('+')} values but alpha has ${o.alphas.map((a) => a.size).join('+')}`);
  }
  const all = [...o.weights, ...o.alphas];
  const perGroup: Float32Array[][] = [];
  let G = 0;
  for (let s = 0; s < S; s++) {
    const start = Math.floor((s * N) / S), end = Math.floor(((s + 1) * N) / S);
    const part = batchRows(batch.x, batch.y, start, end);
    for (const p of all) p.grad = null;
    const loss = o.loss(part.x, part.y, start, end);
    G += loss.item() / S;
    loss.backward();
    perGroup.push(o.alphas.map((a) => (a.grad ? a.grad.data.slice() : new Float32Array(a.size))));
  }
  for (const p of all) p.grad = null;
  return combineTangent(perGroup, o.tangent, o.lambda, G);
}

/**
 * Eq. 4.33 from the group gradients g_s: g = mean_s g_s, D = ||g - t||^2 and
 * g + 2 lambda (1/S) sum_s ((g - t) . g_s) g_s, accumulated in float64.
 */
export function combineTangent(perGroup: Float32Array[][], tangent: Float32Array[], lambda: number, G = 0): TangentStep {
  const S = perGroup.length;
  const g = tangent.map((t) => new Float64Array(t.length));
  for (const gs of perGroup) gs.forEach((a, i) => { for (let j = 0; j < a.length; j++) g[i][j] += a[j] / S; });
  let D = 0;
  g.forEach((a, i) => { for (let j = 0; j < a.length; j++) D += (a[j] - tangent[i][j]) ** 2; });
  const out = g.map((a) => Float64Array.from(a));
  for (const gs of perGroup) {
    let dot = 0; // (g - t) . g_s
    gs.forEach((a, i) => { for (let j = 0; j < a.length; j++) dot += (g[i][j] - tangent[i][j]) * a[j]; });
    const k = (2 * lambda * dot) / S;
    gs.forEach((a, i) => { for (let j = 0; j < a.length; j++) out[i][j] += k * a[j]; });
  }
  return { grad: out.map((a) => Float32Array.from(a)), g: g.map((a) => Float32Array.from(a)), G, D };
}
