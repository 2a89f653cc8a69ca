import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Tensor, broadcastShapes, getBackend, normalizeAxes, reducedShape, shapesEqual, sizeOf, stridesOf,
} from '../../core/index.js';
import { add, div, mul, sub } from '../../ops/arithmetic.js';
import { arbBroadcastPair, arbShape, arbTensor } from '../../ops/arbitraries.js';
import { formatGradCheck, gradCheck } from '../../ops/gradcheck.js';

/** Reads `t` at an output multi-index, NumPy-style (right-aligned, size-1 dims repeat). */
function readBroadcast(t: Tensor, outIdx: number[]): number {
  const lead = outIdx.length - t.rank;
  let o = 0;
  for (let d = 0; d < t.rank; d++) o = o * t.shape[d] + (t.shape[d] === 1 ? 0 : outIdx[lead + d]);
  return t.data[o];
}

describe('shape helpers', () => {
  it('sizeOf, stridesOf and shapesEqual', () => {
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([2, 0, 3])).toBe(0);
    expect(stridesOf([2, 3, 4])).toEqual([12, 4, 1]);
    expect(stridesOf([])).toEqual([]);
    expect(shapesEqual([1, 2], [1, 2])).toBe(true);
    expect(shapesEqual([1, 2], [2])).toBe(false);
  });

  it('broadcastShapes follows NumPy: right-aligned, equal or 1, symmetric', () => {
    fc.assert(fc.property(arbBroadcastPair({ maxRank: 5 }), ([a, b]) => {
      const out = broadcastShapes('t', a, b);
      expect(out).toEqual(broadcastShapes('t', b, a));
      expect(out.length).toBe(Math.max(a.length, b.length));
      for (let i = 0; i < out.length; i++) {
        const da = a[a.length - out.length + i] ?? 1, db = b[b.length - out.length + i] ?? 1;
        expect(out[i]).toBe(Math.max(da, db));
      }
    }), { numRuns: 100 });
    expect(broadcastShapes('t', [], [2, 3])).toEqual([2, 3]);
    expect(broadcastShapes('t', [4, 1, 3], [5, 1])).toEqual([4, 5, 3]);
  });

  it('broadcastShapes names the op, both shapes and the dim that clashes', () => {
    expect(() => broadcastShapes('add', [2, 3], [4, 3])).toThrow(/^add: shapes \[2,3\] and \[4,3\] cannot be broadcast \(dim 0: 2 vs 4\)/);
  });

  it('normalizeAxes sorts, dedupes and resolves negative axes; reducedShape keeps or drops them', () => {
    expect(normalizeAxes('sum', undefined, 3)).toEqual([0, 1, 2]);
    expect(normalizeAxes('sum', [-1, 0, 2], 3)).toEqual([0, 2]);
    expect(normalizeAxes('sum', 1, 3)).toEqual([1]);
    expect(() => normalizeAxes('sum', [3], 3)).toThrow(/^sum: axis 3 is out of range for a tensor of rank 3/);
    expect(() => normalizeAxes('sum', 0.5, 3)).toThrow(/^sum: axis 0.5/);
    expect(reducedShape([2, 3, 4], [0, 2], true)).toEqual([1, 3, 1]);
    expect(reducedShape([2, 3, 4], [0, 2], false)).toEqual([3]);
  });
});

describe('broadcasting arithmetic', () => {
  it('add/sub/mul/div agree elementwise with a NumPy-style reference', () => {
    const arb = arbBroadcastPair({ maxRank: 4, maxDim: 4 }).chain(([sa, sb]) =>
      fc.tuple(arbTensor(sa, { requiresGrad: false }), arbTensor(sb, { min: 0.5, max: 2, requiresGrad: false })));
    fc.assert(fc.property(arb, ([a, b]) => {
      const outShape = broadcastShapes('t', a.shape, b.shape);
      const results = { add: add(a, b), sub: sub(a, b), mul: mul(a, b), div: div(a, b) };
      const refs = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y, mul: (x: number, y: number) => x * y, div: (x: number, y: number) => x / y };
      const idx = new Array(outShape.length).fill(0);
      for (let i = 0; i < sizeOf(outShape); i++) {
        const x = readBroadcast(a, idx), y = readBroadcast(b, idx);
        for (const k of ['add', 'sub', 'mul', 'div'] as const) {
          expect(results[k].shape).toEqual(outShape);
          expect(results[k].data[i]).toBe(Math.fround(refs[k](x, y)));
        }
        for (let d = outShape.length - 1; d >= 0; d--) { if (++idx[d] < outShape[d]) break; idx[d] = 0; }
      }
    }), { numRuns: 60 });
  });

  it('gradients sum back over broadcast dims (central differences, atol 1e-3 + rtol 1e-2)', () => {
    const arb = arbBroadcastPair({ maxRank: 3, maxDim: 3 }).chain(([sa, sb]) => fc.tuple(arbTensor(sa), arbTensor(sb, { min: 0.5, max: 2 })));
    fc.assert(fc.property(arb, ([a, b]) => {
      for (const f of [add, sub, mul, div]) {
        const rep = gradCheck((x, y) => f(x, y), [a, b]);
        expect(rep.ok, `${f.name}: ${formatGradCheck(rep, [a, b])}`).toBe(true);
      }
    }), { numRuns: 25 });
  });

  it('scalar operands (numbers) broadcast against anything', () => {
    fc.assert(fc.property(arbShape({ maxRank: 3 }).chain((s) => arbTensor(s)), (x) => {
      expect(add(x, 2).toArray()).toEqual(x.toArray().map((v) => Math.fround(v + 2)));
      expect(mul(3, x).toArray()).toEqual(x.toArray().map((v) => Math.fround(3 * v)));
    }), { numRuns: 20 });
  });

  it('the backend sum kernel undoes broadcasting over any axes', () => {
    fc.assert(fc.property(arbShape({ maxRank: 4, maxDim: 3 }).chain((s) => fc.tuple(arbTensor(s), fc.subarray(s.map((_, i) => i)))), ([x, axes]) => {
      const out = new Float32Array(sizeOf(reducedShape(x.shape, axes, false)));
      getBackend().sum(x.data, x.shape, axes, out);
      let total = 0;
      for (const v of out) total += v;
      let expected = 0;
      for (const v of x.data) expected += v;
      expect(total).toBeCloseTo(expected, 4);
    }), { numRuns: 40 });
  });
});
