import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../core/index.js';
import { arbShape, arbTensor } from '../../ops/arbitraries.js';
import { formatGradCheck, gradCheck } from '../../ops/gradcheck.js';
import { logSoftmax, softmax } from '../../ops/softmax.js';

// Gradient tolerance: |analytic - numeric| <= 1e-3 + 1e-2 |numeric| (gradCheck defaults, eps 1e-3).

const arbCase = arbShape({ maxRank: 3, maxDim: 5 }).chain((s) =>
  fc.tuple(arbTensor(s, { min: -3, max: 3 }), fc.integer({ min: -s.length, max: s.length - 1 })));

describe('softmax / logSoftmax', () => {
  it('softmax sums to 1 along the axis and equals exp(logSoftmax)', () => {
    fc.assert(fc.property(arbCase, ([x, axis]) => {
      const ax = axis < 0 ? axis + x.rank : axis;
      const y = softmax(x, axis), ly = logSoftmax(x, axis);
      expect(y.shape).toEqual(x.shape);
      for (let i = 0; i < x.size; i++) expect(Math.exp(ly.data[i])).toBeCloseTo(y.data[i], 5);
      const inner = x.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
      const len = x.shape[ax];
      for (let o = 0; o < x.size / (len * inner); o++) {
        for (let i = 0; i < inner; i++) {
          let s = 0;
          for (let k = 0; k < len; k++) s += y.data[(o * len + k) * inner + i];
          expect(s).toBeCloseTo(1, 5);
        }
      }
    }), { numRuns: 40 });
  });

  it('gradients match central differences', () => {
    fc.assert(fc.property(arbCase, ([x, axis]) => {
      for (const f of [softmax, logSoftmax]) {
        const rep = gradCheck((t) => f(t, axis), [x]);
        expect(rep.ok, `${f.name} axis ${axis}: ${formatGradCheck(rep, [x])}`).toBe(true);
      }
    }), { numRuns: 30 });
  });

  it('is stable for huge logits', () => {
    const x = Tensor.of([[1000, 1001, 999], [-1000, -1000, -1000]], true);
    const y = softmax(x);
    const e = [Math.exp(-1), 1, Math.exp(-2)];
    const z = e[0] + e[1] + e[2];
    y.data.slice(0, 3).forEach((v, i) => expect(v).toBeCloseTo(e[i] / z, 6));
    y.data.slice(3).forEach((v) => expect(v).toBeCloseTo(1 / 3, 6));
    const ly = logSoftmax(x);
    expect(ly.data[1]).toBeCloseTo(-Math.log(z), 5);
    expect(ly.toArray().every(Number.isFinite)).toBe(true);
    ly.backward(new Float32Array(6).fill(1));
    expect(x.grad!.toArray().every(Number.isFinite)).toBe(true);
  });

  it('rejects a bad axis, naming the op and the shape', () => {
    expect(() => softmax(Tensor.zeros([2, 3]), 2)).toThrow(/^softmax: axis 2 is out of range for x \[2,3\]/);
    expect(() => logSoftmax(Tensor.zeros([2, 0]))).toThrow(/^logSoftmax: axis -1 of x \[2,0\] is empty/);
  });
});
