/**
 * Dropout (one keep/drop per element) and drop-path (one per sample, DARTS's `drop_path`). Kept values
 * are scaled by 1 / (1 - p), so the expectation is unchanged; outside training both are the identity
 * (the same tensor is returned). Masks come from a seeded `Random` (the process-wide one by default).
 */
import { Tensor, attach, check, defaultRandom, getBackend, shapeStr, type Random } from '../core/index.js';

function checkP(op: string, x: Tensor, p: number): void {
  check(typeof p === 'number' && p >= 0 && p <= 1, op, () => `p must be in [0, 1], got ${p} (x ${shapeStr(x.shape)})`);
}

/** out = x ⊙ mask where mask = (keep ? 1/(1-p) : 0); the gradient is g ⊙ mask. */
function masked(op: string, x: Tensor, mask: Float32Array, maskShape: readonly number[]): Tensor {
  const be = getBackend();
  const out = Tensor.zeros(x.shape);
  be.binary('mul', x.data, x.shape, mask, maskShape, out.data, x.shape);
  return attach(out, op, [x], (g) => {
    const r = new Float32Array(g.length);
    be.binary('mul', g, x.shape, mask, maskShape, r, x.shape);
    return [r];
  });
}

/** Zeroes each element with probability p during training; the rest are scaled by 1/(1-p). */
export function dropout(x: Tensor, p: number, training: boolean, rng: Random = defaultRandom()): Tensor {
  checkP('dropout', x, p);
  if (!training || p === 0) return x;
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() >= p ? scale : 0;
  return masked('dropout', x, mask, x.shape);
}

/**
 * Zeroes whole samples (slices along the first axis) with probability p during training; kept samples
 * are scaled by 1/(1-p). Regularizes a cell's paths in DARTS-style networks.
 */
export function dropPath(x: Tensor, p: number, training: boolean, rng: Random = defaultRandom()): Tensor {
  checkP('dropPath', x, p);
  check(x.rank >= 1, 'dropPath', () => `expects x with a batch axis, got ${shapeStr(x.shape)}`);
  if (!training || p === 0) return x;
  const N = x.shape[0];
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const mask = new Float32Array(N);
  for (let n = 0; n < N; n++) mask[n] = rng.next() >= p ? scale : 0;
  const maskShape = [N, ...x.shape.slice(1).map(() => 1)];
  return masked('dropPath', x, mask, maskShape);
}
