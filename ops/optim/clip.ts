/** Gradient clipping by the global L2 norm (torch.nn.utils.clip_grad_norm_). */
import { CpnasError, check, type Tensor } from '../../core/index.js';

/**
 * Scales the gradients of `params` in place so that their joint L2 norm is at most `maxNorm`
 * (factor maxNorm / (norm + 1e-6), only when it is below 1) and returns the norm before clipping.
 * Parameters without a gradient are skipped. A non-finite norm throws when `errorIfNonfinite` is set;
 * otherwise the gradients are left as they are and the norm is returned for the caller to see.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, opts: { errorIfNonfinite?: boolean } = {}): number {
  check(Number.isFinite(maxNorm) && maxNorm > 0, 'clipGradNorm', () => `maxNorm must be a positive number, got ${maxNorm}`);
  const grads: Float32Array[] = [];
  let sq = 0;
  for (const p of params) {
    if (!p.grad) continue;
    const g = p.grad.data;
    grads.push(g);
    for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  }
  const norm = Math.sqrt(sq);
  if (!Number.isFinite(norm)) {
    if (opts.errorIfNonfinite) throw new CpnasError('clipGradNorm', `the gradient norm is ${norm} (a NaN or infinite gradient)`);
    return norm;
  }
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  }
  return norm;
}
