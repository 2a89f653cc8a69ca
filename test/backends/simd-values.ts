/** Value helpers of the SIMD tests (simd.test.ts, simd-batchnorm.test.ts). */
import { Random } from '../../core/index.js';

/**
 * Values, -0 told apart from 0; NaN is any NaN (x86 and JavaScript engines set a NaN's sign and payload
 * as they like: the two paths agree on which outputs are NaN, not on those bits).
 */
export const values = (a: Float32Array): string[] => Array.from(a, (v) => (Object.is(v, -0) ? '-0' : String(v)));

/** Normal values scaled by 2^-40 .. 2^40: float64 sums of their products depend on the order of the terms. */
export function spread(rng: Random, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * 2 ** Math.floor(rng.uniform() * 81 - 40));
}

/** Normal values, a third of them ±2^60 instead: float64 sums keep the small ones only where the large ones cancel first. */
export function cancelling(rng: Random, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.uniform() < 1 / 3 ? (rng.uniform() < 0.5 ? -1 : 1) * 2 ** 60 : rng.normal()));
}

/** n normal values, about 5 % of them special: NaN, ±0, ±Infinity or subnormal. */
export function awkward(rng: Random, n: number): Float32Array {
  const special = [NaN, 0, -0, Infinity, -Infinity, 1e-40, -1e-40];
  return Float32Array.from({ length: n }, () => (rng.uniform() < 0.05 ? special[Math.floor(rng.uniform() * special.length)] : rng.normal()));
}
