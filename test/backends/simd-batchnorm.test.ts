/**
 * Batch norm's WebAssembly SIMD kernels (backends/cpu/batchnorm-simd.ts, simd/batchnorm.wat and the
 * affine map of stream.ts) give the same values as their TypeScript twins in batchnorm.ts (bit for bit,
 * but for the sign and payload of a NaN), chunk by chunk, on awkward shapes and values; and the sums
 * follow the order batchnorm.ts documents (fixed numbers).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Random } from '../../core/index.js';
import { setSimd } from '../../backends/cpu/simd/simd.js';
import { batchNormApplyChunk, batchNormBackwardChunk, batchNormStatsChunk } from '../../backends/cpu/batchnorm.js';
import { awkward, values } from './simd-values.js';

afterEach(() => setSimd(true));

/**
 * [N, C, HW] of batch norm's tests: planes of 1, 3, 5 (all tail), 49 (7x7, a tail of 1), 64, past 1024 by
 * an odd few; and shapes past the SIMD path's block of 16,384 floats (batchnorm-simd.ts): 23 channels
 * of 1025 (blocks of 15 and 8 planes an image), planes of 33001, 16385 and 65537 (one plane a block).
 */
const bnShapes = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }),
    fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 49, 64, 1025, 1027), fc.integer({ min: 1, max: 120 }))) },
  { weight: 1, arbitrary: fc.constantFrom<[number, number, number]>([3, 23, 1025], [2, 2, 33001], [4, 3, 16385], [1, 2, 65537]) },
);

/**
 * Batch norm's test values, of a kind: 0 normal (finite statistics, whose bits are compared), 1 those
 * with ±0, subnormals and huge values (their squares overflow float32, not float64), 2 `awkward` (NaN,
 * ±Infinity too), 3 normal with pairs ±float32(1e16), where a sum's order shows in its float32 result
 * (a partial at 1e16 rounds the small values added to it away: which ones depends on the order).
 */
function bnValues(rng: Random, n: number, kind: number, scale = 1): Float32Array {
  if (kind === 2) return awkward(rng, n);
  const x = Float32Array.from({ length: n }, () => rng.normal() * scale);
  const odd = [0, -0, 1e-45, -3e-42, 1e-38, 3e38, -3e38, 1e20, -1e20, 16777217];
  if (kind === 1) for (let i = 0; i < n; i++) if (rng.uniform() < 0.1) x[i] = odd[Math.floor(rng.uniform() * odd.length)];
  if (kind === 3) {
    for (let p = 0; p < Math.floor(n / 8); p++) {
      x[Math.floor(rng.uniform() * n)] = Math.fround(1e16);
      x[Math.floor(rng.uniform() * n)] = -Math.fround(1e16);
    }
  }
  return x;
}

describe('batch norm\'s SIMD kernels', () => {
  it('the affine map: the same values with SIMD on and off (planes of 64 values and more, odd sizes, chunks of channels)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }), fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(1024, 16385)),
      fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean(), fc.integer(),
      (N, C, HW, nChunks, hasW, hasB, seed) => {
        const rng = new Random(seed);
        const x = awkward(rng, N * C * HW), mean = awkward(rng, C), invStd = awkward(rng, C), w = awkward(rng, C), b = awkward(rng, C);
        const run = (simd: boolean): string[] => {
          setSimd(simd);
          const y = new Float32Array(N * C * HW).fill(7);
          for (let c = 0; c < nChunks; c++) {
            batchNormApplyChunk([x, y, mean, invStd, hasW ? w : new Float32Array(0), hasB ? b : new Float32Array(0)], [N, C, HW, hasW ? 1 : 0, hasB ? 1 : 0], c, nChunks);
          }
          return values(y);
        };
        expect(run(true)).toEqual(run(false));
      }), { numRuns: 40 });
  });

  it('the statistics: the same values with SIMD on and off (odd planes, awkward values, chunks of channels)', () => {
    fc.assert(fc.property(
      bnShapes, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }), fc.integer(),
      ([N, C, HW], nChunks, kind, seed) => {
        const rng = new Random(seed);
        const x = bnValues(rng, N * C * HW, kind, 100);
        const run = (simd: boolean): string[] => {
          setSimd(simd);
          const mean = new Float32Array(C).fill(7), variance = new Float32Array(C).fill(7);
          // every chunk of a split call, as the threads would run them (later chunks start mid-way)
          for (let c = 0; c < nChunks; c++) batchNormStatsChunk([x, mean, variance], [N, C, HW], c, nChunks);
          return [...values(mean), '|', ...values(variance)];
        };
        expect(run(true)).toEqual(run(false));
      }), { numRuns: 150 });
  });

  it('the backward pass: the same dx, dw and db with SIMD on and off (with and without weight, batch statistics, each output)', () => {
    fc.assert(fc.property(
      bnShapes, fc.integer({ min: 1, max: 4 }),
      fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer(),
      ([N, C, HW], nChunks, hasW, batchStats, hasDx, hasDw, hasDb, kind, seed) => {
        const rng = new Random(seed), n = N * C * HW;
        const g = bnValues(rng, n, kind), x = bnValues(rng, n, kind === 3 ? 0 : kind, 10);
        const mean = bnValues(rng, C, kind === 3 ? 0 : kind), w = bnValues(rng, C, kind === 3 ? 0 : kind);
        const invStd = kind === 2 ? awkward(rng, C) : Float32Array.from({ length: C }, () => rng.uniform() * 3);
        const none = new Float32Array(0);
        const run = (simd: boolean): string[] => {
          setSimd(simd);
          const dx = hasDx ? new Float32Array(n).fill(7) : none;
          const dw = hasDw ? new Float32Array(C).fill(7) : none, db = hasDb ? new Float32Array(C).fill(7) : none;
          const params = [N, C, HW, hasW ? 1 : 0, batchStats ? 1 : 0, hasDx ? 1 : 0, hasDw ? 1 : 0, hasDb ? 1 : 0];
          for (let c = 0; c < nChunks; c++) batchNormBackwardChunk([g, x, mean, invStd, hasW ? w : none, dx, dw, db], params, c, nChunks);
          return [...values(dx), '|', ...values(dw), '|', ...values(db)];
        };
        expect(run(true)).toEqual(run(false));
      }), { numRuns: 120 });
  });

  it('the sums follow the documented order: four float64 partials by in-plane index mod 4, (s0 + s1) + (s2 + s3)', () => {
    // F = float32(1e16): F + 1 rounds back to F in float64. Two images of one channel, HW = 5:
    // image 0 [F, 1, 1, 1, 1], image 1 [-F, 1, 1, 1, 1]. Partial 0 takes F, 1 (index 4), -F, 1 = 1;
    // partials 1..3 take 1 + 1 = 2 each: (1 + 2) + (2 + 2) = 7, where the exact sum and the old single
    // sequential sum, F + 4 - F + 4, give 8.
    const F = Math.fround(1e16);
    const v = Float32Array.of(F, 1, 1, 1, 1, -F, 1, 1, 1, 1);
    for (const simd of [true, false]) {
      setSimd(simd);
      const mean = new Float32Array(1), variance = new Float32Array(1);
      batchNormStatsChunk([v, mean, variance], [2, 1, 5], 0, 1);
      expect(mean[0]).toBe(Math.fround(7 / 10));
      // one image [F, 1, -F, 1]: (F + 1) + (-F + 1) = F - F = 0, where ((F + 1) - F) + 1 = 1 (sequential,
      // or the partials added in turn)
      batchNormStatsChunk([Float32Array.of(F, 1, -F, 1), mean, variance], [1, 1, 4], 0, 1);
      expect(mean[0]).toBe(0);
      // Σg and Σg·xhat with g = v, x = 1, m = 0, invStd = 1 (xhat = 1): both 7; dx (running statistics) = 2g
      const dw = new Float32Array(1), db = new Float32Array(1), dx = new Float32Array(10);
      batchNormBackwardChunk([v, new Float32Array(10).fill(1), Float32Array.of(0), Float32Array.of(1), Float32Array.of(2), dx, dw, db], [2, 1, 5, 1, 0, 1, 1, 1], 0, 1);
      expect([dw[0], db[0]]).toEqual([7, 7]);
      expect(Array.from(dx)).toEqual(Array.from(v, (a) => 2 * a));
      // with batch statistics: dx = (2/10)·(10·g - 7 - 1·7) in float64, rounded once
      batchNormBackwardChunk([v, new Float32Array(10).fill(1), Float32Array.of(0), Float32Array.of(1), Float32Array.of(2), dx, dw, db], [2, 1, 5, 1, 1, 1, 1, 1], 0, 1);
      expect(Array.from(dx)).toEqual(Array.from(v, (a) => Math.fround((2 / 10) * (10 * a - 7 - 7))));
    }
  });
});
