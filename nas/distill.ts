/**
 * Distillation of the Parent's output distribution into the Child (Hinton et al.; the Child-Parent
 * KL term of DCP-NAS, the journal follow-up of CP-NAS):
 *
 *   L_KD = T^2 * KL( softmax(z_P / T) || softmax(z_C / T) ),  mean over the batch
 *
 * The Parent's logits are constants (no gradient reaches the Parent). The gradient with respect to the
 * Child's logits is T * (softmax(z_C / T) - softmax(z_P / T)) / N.
 */
import { Tensor, attach, check, shapeStr, shapesEqual } from '../core/index.js';

function softmaxRows(z: Float32Array, N: number, K: number, T: number, out: Float64Array): void {
  for (let n = 0; n < N; n++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, z[n * K + k] / T);
    let s = 0;
    for (let k = 0; k < K; k++) s += (out[n * K + k] = Math.exp(z[n * K + k] / T - m));
    for (let k = 0; k < K; k++) out[n * K + k] /= s;
  }
}

export function distillationLoss(child: Tensor, parent: Tensor, temperature = 1): Tensor {
  check(child.rank === 2 && shapesEqual(child.shape, parent.shape), 'distillationLoss',
    () => `Child logits ${shapeStr(child.shape)} and Parent logits ${shapeStr(parent.shape)} must both be [N, K]`);
  check(temperature > 0, 'distillationLoss', () => `temperature must be > 0, got ${temperature}`);
  const [N, K] = child.shape;
  const T = temperature;
  const q = new Float64Array(N * K), p = new Float64Array(N * K);
  softmaxRows(child.data, N, K, T, q);
  softmaxRows(parent.data, N, K, T, p);
  let kl = 0;
  for (let i = 0; i < N * K; i++) if (p[i] > 0) kl += p[i] * (Math.log(p[i]) - Math.log(Math.max(q[i], 1e-30)));
  const out = Tensor.scalar((T * T * kl) / N);
  return attach(out, 'distillationLoss', [child], (g) => {
    const r = new Float32Array(N * K), k = (g[0] * T) / N;
    for (let i = 0; i < r.length; i++) r[i] = k * (q[i] - p[i]);
    return [r];
  });
}
