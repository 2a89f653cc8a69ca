import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CpnasError, Tensor, sizeOf } from '../../core/index.js';
import { arbBroadcastPair, seededTensor } from '../../ops/arbitraries.js';
import { formatGradCheck, gradCheck } from '../../ops/gradcheck.js';
import { linear, matmul } from '../../ops/matmul.js';

// Gradient tolerance: |analytic - numeric| <= 1e-3 + 1e-2 |numeric|, the numeric side a central
// difference accumulated in float64. Both ops are linear in each input (no truncation error), so the
// step is 1e-2 to keep float32 rounding of the projected loss small.
const GRAD = { eps: 1e-2, rtol: 1e-2, atol: 1e-3 };

/** Flat index of `coord` (aligned at the right with `shape`, size-1 dims broadcast). */
function broadcastIndex(shape: readonly number[], coord: number[]): number {
  let f = 0;
  const lead = coord.length - shape.length;
  for (let d = 0; d < shape.length; d++) f = f * shape[d] + (shape[d] === 1 ? 0 : coord[lead + d]);
  return f;
}

/** Naive batched product in float64. */
function reference(a: Tensor, b: Tensor, outBatch: number[]): number[] {
  const M = a.shape[a.rank - 2], K = a.shape[a.rank - 1], N = b.shape[b.rank - 1];
  const out: number[] = [];
  const coord = new Array<number>(outBatch.length).fill(0);
  for (let o = 0; o < sizeOf(outBatch); o++) {
    const ai = broadcastIndex(a.shape.slice(0, -2), coord), bi = broadcastIndex(b.shape.slice(0, -2), coord);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a.data[(ai * M + i) * K + k] * b.data[(bi * K + k) * N + j];
      out.push(s);
    }
    for (let d = outBatch.length - 1; d >= 0; d--) {
      if (++coord[d] < outBatch[d]) break;
      coord[d] = 0;
    }
  }
  return out;
}

const arbProduct = fc.record({
  batches: arbBroadcastPair({ minRank: 0, maxRank: 3, maxDim: 3 }),
  M: fc.integer({ min: 1, max: 6 }), K: fc.integer({ min: 1, max: 6 }), N: fc.integer({ min: 1, max: 6 }),
  seed: fc.nat(1 << 20),
}).map(({ batches: [ba, bb], M, K, N, seed }) => {
  const rank = Math.max(ba.length, bb.length);
  const outBatch = Array.from({ length: rank }, (_, i) => Math.max(ba[ba.length - rank + i] ?? 1, bb[bb.length - rank + i] ?? 1));
  return { a: seededTensor([...ba, M, K], seed), b: seededTensor([...bb, K, N], seed + 1), outBatch, M, N };
});

function expectError(fn: () => unknown, message: string): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(CpnasError);
  expect((err as Error).message).toBe(message);
}

describe('matmul', () => {
  it('multiplies 2-D and batched matrices, broadcasting the batch dims', () => {
    fc.assert(fc.property(arbProduct, ({ a, b, outBatch, M, N }) => {
      const y = matmul(a, b);
      expect(y.shape).toEqual([...outBatch, M, N]);
      const ref = reference(a, b, outBatch);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(y.data[i] - ref[i])).toBeLessThan(1e-5);
    }), { numRuns: 60 });
  });

  it('has gradients that match central differences, summed over broadcast batches', () => {
    fc.assert(fc.property(arbProduct, ({ a, b }) => {
      const rep = gradCheck(matmul, [a, b], { ...GRAD, samples: 40 });
      expect(rep.ok, formatGradCheck(rep, [a, b], GRAD)).toBe(true);
    }), { numRuns: 40 });
  });

  it('takes the stacked path for a batch of matrices times one matrix, gradients included', () => {
    const a = seededTensor([3, 4, 5], 1), b = seededTensor([5, 2], 2);
    expect(matmul(a, b).toArray()).toEqual(matmul(a, seededTensor([1, 5, 2], 2)).toArray());
    const rep = gradCheck(matmul, [a, b], GRAD);
    expect(rep.ok, formatGradCheck(rep, [a, b], GRAD)).toBe(true);
  });

  it('names the shapes when they do not fit', () => {
    expectError(() => matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5])), 'matmul: a has 3 columns but b has 4 rows ([2,3] vs [4,5])');
    expectError(() => matmul(Tensor.zeros([3]), Tensor.zeros([3, 5])), 'matmul: a must have at least 2 dims [..., M, K], got rank 1 ([3] vs [3,5])');
    expectError(() => matmul(Tensor.zeros([2, 3]), Tensor.zeros([3])), 'matmul: b must have at least 2 dims [..., K, N], got rank 1 ([2,3] vs [3])');
    expectError(() => matmul(Tensor.zeros([2, 2, 3]), Tensor.zeros([3, 3, 4])), 'matmul: batch dims [2] and [3] do not broadcast ([2,2,3] vs [3,3,4])');
  });
});

describe('linear', () => {
  it('computes x·wᵀ + b over any leading dims', () => {
    const x = Tensor.of([[1, 2], [3, 4], [5, 6]]), w = Tensor.of([[1, 0], [0, 1], [1, 1]]), b = Tensor.of([10, 20, 30]);
    expect(linear(x, w, b).toArray()).toEqual([11, 22, 33, 13, 24, 37, 15, 26, 41]);
    expect(linear(x, w).shape).toEqual([3, 3]);
    const x3 = seededTensor([2, 3, 4], 5), w3 = seededTensor([6, 4], 6);
    const y3 = linear(x3, w3);
    expect(y3.shape).toEqual([2, 3, 6]);
    const flat = linear(Tensor.from(x3.data, [6, 4]), w3);
    expect(Array.from(y3.data)).toEqual(Array.from(flat.data));
  });

  it('has gradients for x, w and b that match central differences', () => {
    fc.assert(fc.property(
      fc.record({ rows: fc.integer({ min: 1, max: 5 }), inF: fc.integer({ min: 1, max: 7 }), outF: fc.integer({ min: 1, max: 7 }), seed: fc.nat(1 << 20), bias: fc.boolean() }),
      ({ rows, inF, outF, seed, bias }) => {
        const ins = [seededTensor([rows, inF], seed), seededTensor([outF, inF], seed + 1)];
        if (bias) ins.push(seededTensor([outF], seed + 2));
        const rep = gradCheck((x, w, b) => linear(x, w, b), ins, GRAD);
        expect(rep.ok, formatGradCheck(rep, ins, GRAD)).toBe(true);
      },
    ), { numRuns: 40 });
  });

  it('names the shapes when they do not fit', () => {
    expectError(() => linear(Tensor.zeros([8, 5]), Tensor.zeros([3, 4])), 'linear: input has 5 features, weight expects 4 ([8,5] vs [3,4])');
    expectError(() => linear(Tensor.zeros([8, 4]), Tensor.zeros([3, 4, 1])), 'linear: weight must be 2-D [out,in], got rank 3 ([8,4] vs [3,4,1])');
    expectError(() => linear(Tensor.zeros([8, 4]), Tensor.zeros([3, 4]), Tensor.zeros([4])), 'linear: bias must have shape [3], got [4] ([8,4] vs [3,4])');
  });
});
