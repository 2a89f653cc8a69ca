import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor, enableGrad, sizeOf } from '../../core/index.js';
import { mul } from '../../ops/arithmetic.js';
import { arbShape, arbTensor } from '../../ops/arbitraries.js';
import { formatGradCheck, gradCheck } from '../../ops/gradcheck.js';
import { max, mean, sum } from '../../ops/reduce.js';

// Gradient tolerance: |analytic - numeric| <= 1e-3 + 1e-2 |numeric| (gradCheck defaults, eps 1e-3).

/** A shape, a subset of its axes (possibly empty, or undefined = all) and keepDims. */
const arbReduce = arbShape({ maxRank: 4, maxDim: 4 }).chain((shape) => fc.tuple(
  fc.constant(shape),
  fc.option(fc.subarray(shape.map((_, i) => i)), { nil: undefined }),
  fc.boolean(),
  fc.boolean(),
)).map(([shape, axes, keepDims, negative]) => ({
  shape,
  // sometimes spell the axes from the end
  axes: axes && negative ? axes.map((a) => a - shape.length) : axes,
  keepDims,
}));

/** Reference reduction in float64 by walking every element. */
function reference(x: Tensor, axes: number[] | undefined, keepDims: boolean, kind: 'sum' | 'max') {
  const rank = x.rank;
  const ax = (axes ?? x.shape.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a));
  const outShape: number[] = [];
  for (let d = 0; d < rank; d++) if (!ax.includes(d)) outShape.push(x.shape[d]); else if (keepDims) outShape.push(1);
  const acc = new Float64Array(sizeOf(outShape)).fill(kind === 'sum' ? 0 : -Infinity);
  const idx = new Array(rank).fill(0);
  for (let i = 0; i < x.size; i++) {
    let o = 0;
    for (let d = 0; d < rank; d++) if (!ax.includes(d)) o = o * x.shape[d] + idx[d];
    acc[o] = kind === 'sum' ? acc[o] + x.data[i] : Math.max(acc[o], x.data[i]);
    for (let d = rank - 1; d >= 0; d--) { if (++idx[d] < x.shape[d]) break; idx[d] = 0; }
  }
  return { shape: outShape, values: [...acc] };
}

describe('sum / mean / max', () => {
  it('forward values and shapes match a float64 reference', () => {
    fc.assert(fc.property(arbReduce.chain((r) => fc.tuple(fc.constant(r), arbTensor(r.shape, { min: -2, max: 2 }))), ([r, x]) => {
      const ref = reference(x, r.axes, r.keepDims, 'sum');
      const s = sum(x, r.axes, r.keepDims);
      expect(s.shape).toEqual(ref.shape);
      s.data.forEach((v, i) => expect(v).toBeCloseTo(ref.values[i], 4));
      const count = x.size / Math.max(1, s.size);
      mean(x, r.axes, r.keepDims).data.forEach((v, i) => expect(v).toBeCloseTo(ref.values[i] / count, 4));
      const mref = reference(x, r.axes, r.keepDims, 'max');
      const m = max(x, r.axes, r.keepDims);
      expect(m.shape).toEqual(mref.shape);
      expect(m.toArray()).toEqual(mref.values.map(Math.fround));
    }), { numRuns: 60 });
  });

  it('gradients of sum and mean match central differences', () => {
    fc.assert(fc.property(arbReduce.chain((r) => fc.tuple(fc.constant(r), arbTensor(r.shape))), ([r, x]) => {
      for (const f of [sum, mean]) {
        const rep = gradCheck((t) => f(t, r.axes, r.keepDims), [x]);
        expect(rep.ok, formatGradCheck(rep, [x])).toBe(true);
      }
    }), { numRuns: 25 });
  });

  it('the gradient of sum is the upstream gradient copied to every reduced element, exactly (contiguous runs of axes and others)', () => {
    fc.assert(fc.property(arbReduce.chain((r) => fc.tuple(fc.constant(r), arbTensor(r.shape))), ([r, x0]) => {
      const x = new Tensor(x0.data.slice(), x0.shape, true);
      const y = sum(x, r.axes, r.keepDims);
      const w = new Tensor(Float32Array.from({ length: y.size }, (_, i) => (i % 7) - 3.25), y.shape);
      enableGrad(() => sum(mul(sum(x, r.axes, r.keepDims), w)).backward());
      // the index of element i of x in the reduced array, by walking x's indices
      const rank = x.rank, ax = (r.axes ?? x.shape.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a));
      const idx = new Array(rank).fill(0);
      for (let i = 0; i < x.size; i++) {
        let o = 0;
        for (let d = 0; d < rank; d++) if (!ax.includes(d)) o = o * x.shape[d] + idx[d];
        expect(x.grad!.data[i]).toBe(w.data[o]);
        for (let d = rank - 1; d >= 0; d--) { if (++idx[d] < x.shape[d]) break; idx[d] = 0; }
      }
    }), { numRuns: 60 });
  });

  it('gradient of max matches central differences (values at least 0.01 apart: no ties)', () => {
    fc.assert(fc.property(arbReduce.chain((r) => fc.tuple(fc.constant(r), arbTensor(r.shape, { min: -3, max: 3, minGap: 0.01 }))), ([r, x]) => {
      const rep = gradCheck((t) => max(t, r.axes, r.keepDims), [x]);
      expect(rep.ok, formatGradCheck(rep, [x])).toBe(true);
    }), { numRuns: 25 });
  });

  it('max sends the gradient to the first of tied maxima', () => {
    const x = Tensor.of([[1, 3, 3], [2, 2, 0]], true);
    max(x, 1).backward(Float32Array.of(1, 1));
    expect(x.grad!.toArray()).toEqual([0, 1, 0, 1, 0, 0]);
    const y = Tensor.of([[5, 1], [5, 1]], true);
    max(y, 0).backward(Float32Array.of(1, 1));
    expect(y.grad!.toArray()).toEqual([1, 1, 0, 0]);
    const z = Tensor.of([[[4, 4], [1, 4]]], true);
    max(z, [0, 2]).backward(Float32Array.of(1, 1)); // non-contiguous axes: the strided path
    expect(z.grad!.toArray()).toEqual([1, 0, 0, 1]);
  });

  it('reduces everything to a scalar by default', () => {
    const x = Tensor.of([[1, 2], [3, 4]], true);
    expect(sum(x).shape).toEqual([]);
    expect(sum(x).item()).toBe(10);
    expect(mean(x, undefined, true).shape).toEqual([1, 1]);
    expect(mean(x).item()).toBe(2.5);
    expect(max(x).item()).toBe(4);
  });

  it('rejects bad axes, naming the op and the rank', () => {
    expect(() => sum(Tensor.zeros([2, 3]), 2)).toThrow(/^sum: axis 2 is out of range for a tensor of rank 2/);
    expect(() => mean(Tensor.zeros([2, 3]), [-3])).toThrow(/^mean: axis -3/);
    expect(() => max(Tensor.zeros([2, 0]), 1)).toThrow(/^max: cannot take the max over axis 1 of size 0 \(x \[2,0\]\)/);
  });
});
