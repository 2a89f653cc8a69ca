import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../core/index.js';
import { arbShape, arbTensor } from '../../ops/arbitraries.js';
import { formatGradCheck, gradCheck } from '../../ops/gradcheck.js';
import { concat, flatten, pad, permute, reshape, slice, transpose } from '../../ops/shape.js';

// Gradient tolerance: |analytic - numeric| <= 1e-3 + 1e-2 |numeric| (gradCheck defaults, eps 1e-3).
// These ops only move values, so their gradients are exact; the checks confirm the routing.

const shapes = arbShape({ minRank: 1, maxRank: 4, maxDim: 4 });

function expectGradOk(fn: (...t: Tensor[]) => Tensor, inputs: Tensor[]) {
  const rep = gradCheck(fn, inputs);
  expect(rep.ok, formatGradCheck(rep, inputs)).toBe(true);
}

/** Reads element `idx` of a row-major tensor. */
function at(t: Tensor, idx: number[]): number {
  let o = 0;
  for (let d = 0; d < t.rank; d++) o = o * t.shape[d] + idx[d];
  return t.data[o];
}

describe('reshape / flatten', () => {
  it('keeps the values, infers one -1, and shares storage', () => {
    const x = Tensor.from(Float32Array.from({ length: 24 }, (_, i) => i), [2, 3, 4], true);
    const y = reshape(x, [4, -1]);
    expect(y.shape).toEqual([4, 6]);
    expect(y.data).toBe(x.data);
    expect(flatten(x).shape).toEqual([2, 12]);
    expect(flatten(x, 0).shape).toEqual([24]);
    expect(flatten(x, -1).shape).toEqual([2, 3, 4]);
    expectGradOk((t) => reshape(t, [3, 8]), [x]);
    expectGradOk((t) => flatten(t), [x]);
  });

  it('rejects impossible shapes', () => {
    const x = Tensor.zeros([2, 3]);
    expect(() => reshape(x, [4, 2])).toThrow(/^reshape: x \[2,3\] has 6 values but shape \[4,2\] needs 8/);
    expect(() => reshape(x, [-1, -1])).toThrow(/^reshape: only one dim may be -1/);
    expect(() => reshape(x, [4, -1])).toThrow(/^reshape: cannot infer the -1 dim/);
    expect(() => flatten(x, 2)).toThrow(/^flatten: startDim 2 is out of range/);
  });
});

describe('permute / transpose', () => {
  it('moves every element to its permuted index, and the gradient back', () => {
    const arb = shapes.chain((s) => fc.tuple(arbTensor(s), fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length })));
    fc.assert(fc.property(arb, ([x, perm]) => {
      const y = permute(x, perm);
      expect(y.shape).toEqual(perm.map((a) => x.shape[a]));
      // check a few elements by index
      const idx = new Array(x.rank).fill(0);
      for (let i = 0; i < x.size; i++) {
        expect(at(y, perm.map((a) => idx[a]))).toBe(x.data[i]);
        for (let d = x.rank - 1; d >= 0; d--) { if (++idx[d] < x.shape[d]) break; idx[d] = 0; }
      }
      expectGradOk((t) => permute(t, perm), [x]);
    }), { numRuns: 30 });
  });

  it('transpose swaps the last two axes by default', () => {
    const x = Tensor.of([[1, 2, 3], [4, 5, 6]]);
    expect(transpose(x).shape).toEqual([3, 2]);
    expect(transpose(x).toArray()).toEqual([1, 4, 2, 5, 3, 6]);
    expect(transpose(Tensor.zeros([2, 3, 4]), 0, 2).shape).toEqual([4, 3, 2]);
    expect(() => permute(x, [0, 0])).toThrow(/^permute: perm \[0,0\] repeats an axis \(x \[2,3\]\)/);
    expect(() => permute(x, [0])).toThrow(/^permute: perm \[0\] has 1 entries but x \[2,3\] has rank 2/);
  });
});

describe('slice / concat / pad', () => {
  it('slice takes a range along one axis (gradient scatters back)', () => {
    const arb = shapes.chain((s) => fc.tuple(arbTensor(s), fc.integer({ min: 0, max: s.length - 1 })).chain(([x, axis]) =>
      fc.tuple(fc.constant(x), fc.constant(axis), fc.integer({ min: 0, max: x.shape[axis] }), fc.integer({ min: 0, max: x.shape[axis] }))));
    fc.assert(fc.property(arb, ([x, axis, a, b]) => {
      const [start, end] = a <= b ? [a, b] : [b, a];
      const y = slice(x, axis, start, end);
      expect(y.shape[axis]).toBe(end - start);
      if (y.size > 0) {
        expect(at(y, y.shape.map(() => 0))).toBe(at(x, x.shape.map((_, d) => (d === axis ? start : 0))));
        expectGradOk((t) => slice(t, axis, start, end), [x]);
      }
    }), { numRuns: 30 });
    const x = Tensor.of([[1, 2, 3], [4, 5, 6]]);
    expect(slice(x, 1, -2).toArray()).toEqual([2, 3, 5, 6]);
    expect(() => slice(x, 1, 2, 5)).toThrow(/^slice: range 2\.\.5 is not inside axis 1 of size 3 \(x \[2,3\]\)/);
  });

  it('a crop (slices along several axes, as DARTS FactorizedReduce takes x[:, :, 1:, 1:]) holds every value at its offset', () => {
    const arb = arbShape({ minRank: 1, maxRank: 4, maxDim: 6 }).chain((s) => fc.tuple(arbTensor(s, { requiresGrad: false }),
      fc.tuple(...s.map((d) => fc.tuple(fc.integer({ min: 0, max: d }), fc.integer({ min: 0, max: d }))))));
    fc.assert(fc.property(arb, ([x, ranges]) => {
      const lo = ranges.map(([a, b]) => Math.min(a, b)), hi = ranges.map(([a, b]) => Math.max(a, b));
      let y = x;
      for (let d = 0; d < x.rank; d++) y = slice(y, d, lo[d], hi[d]);
      expect(y.shape).toEqual(lo.map((l, d) => hi[d] - l));
      const idx = y.shape.map(() => 0);
      for (let i = 0; i < y.size; i++) {
        expect(y.data[i]).toBe(at(x, idx.map((v, d) => v + lo[d])));
        for (let d = y.rank - 1; d >= 0 && ++idx[d] === y.shape[d]; d--) idx[d] = 0;
      }
    }), { numRuns: 60 });
    const x = Tensor.of([[[1, 2, 3], [4, 5, 6], [7, 8, 9]]], true);
    const crop = slice(slice(x, 1, 1, 3), 2, 1, 3);
    expect(crop.toArray()).toEqual([5, 6, 8, 9]);
    crop.backward(Float32Array.of(1, 2, 3, 4));
    expect(x.grad!.toArray()).toEqual([0, 0, 0, 0, 1, 2, 0, 3, 4]);
  });

  it('concat joins along an axis and splits the gradient', () => {
    const arb = shapes.chain((s) => fc.integer({ min: 0, max: s.length - 1 }).chain((axis) =>
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }).chain((sizes) =>
        fc.tuple(fc.constant(axis), fc.tuple(...sizes.map((k) => arbTensor(s.map((d, i) => (i === axis ? k : d)))))))));
    fc.assert(fc.property(arb, ([axis, ts]) => {
      const y = concat(ts, axis);
      expect(y.shape[axis]).toBe(ts.reduce((a, t) => a + t.shape[axis], 0));
      // splitting it again gives the pieces back
      let off = 0;
      for (const t of ts) {
        expect(slice(y, axis, off, off + t.shape[axis]).toArray()).toEqual(t.toArray());
        off += t.shape[axis];
      }
      expectGradOk((...xs) => concat(xs, axis), ts);
    }), { numRuns: 30 });
  });

  it('concat sends no gradient to inputs that do not need one', () => {
    const a = Tensor.of([1, 2], true), b = Tensor.of([3]);
    concat([a, b]).backward(Float32Array.of(1, 2, 3));
    expect(a.grad!.toArray()).toEqual([1, 2]);
    expect(b.grad).toBeNull();
  });

  it('pad surrounds with a constant (pairs align with the trailing dims)', () => {
    const x = Tensor.of([[[1, 2], [3, 4]]], true);
    const y = pad(x, [[1, 0], [0, 2]], -1);
    expect(y.shape).toEqual([1, 3, 4]);
    expect(y.toArray()).toEqual([-1, -1, -1, -1, 1, 2, -1, -1, 3, 4, -1, -1]);
    const arb = shapes.chain((s) => fc.tuple(arbTensor(s),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { maxLength: s.length })));
    fc.assert(fc.property(arb, ([t, pads]) => {
      const out = pad(t, pads, 0.5);
      const lead = t.rank - pads.length;
      out.shape.forEach((d, i) => expect(d).toBe(t.shape[i] + (i >= lead ? pads[i - lead][0] + pads[i - lead][1] : 0)));
      expectGradOk((u) => pad(u, pads, 0.5), [t]);
    }), { numRuns: 30 });
    expect(() => pad(x, [[1, 1], [1, 1], [1, 1], [1, 1]])).toThrow(/^pad: 4 \[before, after\] pairs for x \[1,2,2\] of rank 3/);
    expect(() => pad(x, [[-1, 0]])).toThrow(/^pad: pads must be non-negative integers/);
  });
});

describe('shape errors name the op and the shapes', () => {
  it('concat with mismatched dims', () => {
    expect(() => concat([Tensor.zeros([2, 3]), Tensor.zeros([3, 3])], 1))
      .toThrow(/^concat: dim 0 differs \(3 vs 2\) along a non-concatenated axis; shapes \[2,3\], \[3,3\], axis 1/);
    expect(() => concat([Tensor.zeros([2, 3]), Tensor.zeros([2])], 0)).toThrow(/^concat: all tensors need rank 2, got shapes \[2,3\], \[2\]/);
  });
});
