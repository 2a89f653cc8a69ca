import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor, attach } from '../../core/index.js';
import { add, div, mul, sub } from '../../ops/arithmetic.js';
import { arbBroadcastPair, arbConvSettings, arbPoolSettings, arbShape, arbTensor } from '../../ops/arbitraries.js';
import { assertGradClose, gradCheck } from '../../ops/gradcheck.js';

/** x * k with a deliberately wrong gradient (k + 1 instead of k). */
function wrongScale(x: Tensor, k: number): Tensor {
  const out = Tensor.from(x.data.map((v) => v * k), x.shape);
  return attach(out, 'wrongScale', [x], (g) => [g.map((v) => v * (k + 1))]);
}

describe('gradCheck', () => {
  it('accepts correct gradients of broadcasting arithmetic (tolerance rtol 1e-2, atol 1e-3)', () => {
    fc.assert(fc.property(
      arbBroadcastPair({ maxRank: 3, maxDim: 3 }).chain(([sa, sb]) => fc.tuple(arbTensor(sa), arbTensor(sb, { min: 0.5, max: 2 }))),
      ([a, b]) => {
        const rep = gradCheck((x, y) => div(mul(sub(x, y), add(x, 1)), y), [a, b]);
        expect(rep.ok, JSON.stringify(rep)).toBe(true);
        expect(rep.checked).toBe(a.size + b.size);
      },
    ), { numRuns: 25 });
  });

  it('catches a wrong gradient and reports the worst element', () => {
    const x = Tensor.of([[1, 2], [3, 4]], true);
    const rep = gradCheck((t) => wrongScale(t, 3), [x]);
    expect(rep.ok).toBe(false);
    expect(rep.worst.input).toBe(0);
    expect(rep.worst.analytic / rep.worst.numeric).toBeCloseTo(4 / 3, 3);
    expect(() => assertGradClose((t) => wrongScale(t, 3), [x])).toThrow(/gradCheck: gradients disagree .* worst: input 0 \[2,2\] at \[\d,\d\]: analytic/);
  });

  it('uses a scalar output as is, respects wrt and samples, and leaves the inputs alone', () => {
    const a = Tensor.of([1, 2, 3], true), b = Tensor.of([4, 5, 6], true);
    const rep = gradCheck((x, y) => mul(x, y), [a, b], { wrt: [1], samples: 2 });
    expect(rep.ok).toBe(true);
    expect(rep.checked).toBe(2);
    expect(a.grad).toBeNull();
    expect(b.grad).toBeNull();
    expect(b.toArray()).toEqual([4, 5, 6]);
    const s = gradCheck((x) => mul(x, 2), [Tensor.of([5], true)]);
    expect(s.worst.numeric).toBeCloseTo(2, 3);
  });

  it('complains when the output does not depend on the checked inputs', () => {
    expect(() => gradCheck((x, y) => mul(y, 2), [Tensor.of([1], true), Tensor.of([1])], { wrt: [0] })).toThrow(/does not depend/);
    expect(() => gradCheck((x) => x, [Tensor.of([1])], { wrt: [3] })).toThrow(/wrt index 3/);
  });
});

describe('arbitraries', () => {
  it('arbShape and arbTensor respect their bounds', () => {
    fc.assert(fc.property(arbShape({ minRank: 2, maxRank: 3, maxDim: 4 }).chain((s) => arbTensor(s, { min: -2, max: 3, minAbs: 0.1 })), (t) => {
      expect(t.rank).toBeGreaterThanOrEqual(2);
      expect(t.rank).toBeLessThanOrEqual(3);
      for (const d of t.shape) expect(d).toBeLessThanOrEqual(4);
      for (const v of t.data) expect(Math.abs(v)).toBeGreaterThanOrEqual(0.1 - 1e-7);
      for (const v of t.data) expect(v >= -2.1 && v < 3.1).toBe(true);
      expect(t.requiresGrad).toBe(true);
    }), { numRuns: 30 });
  });

  it('arbTensor with minGap spaces all values', () => {
    fc.assert(fc.property(arbTensor([3, 4], { min: -1, max: 1, minGap: 0.05 }), (t) => {
      const v = [...t.data].sort((x, y) => x - y);
      for (let i = 1; i < v.length; i++) expect(v[i] - v[i - 1]).toBeGreaterThanOrEqual(0.05 - 1e-6);
    }), { numRuns: 30 });
  });

  it('arbBroadcastPair yields broadcastable shapes', () => {
    fc.assert(fc.property(arbBroadcastPair(), ([a, b]) => {
      const n = Math.max(a.length, b.length);
      for (let i = 0; i < n; i++) {
        const da = a[a.length - n + i] ?? 1, db = b[b.length - n + i] ?? 1;
        expect(da === db || da === 1 || db === 1).toBe(true);
      }
    }), { numRuns: 50 });
  });

  it('arbConvSettings and arbPoolSettings always have an output', () => {
    fc.assert(fc.property(arbConvSettings(), (s) => {
      expect(s.P).toBeGreaterThanOrEqual(1);
      expect(s.Q).toBeGreaterThanOrEqual(1);
      expect(s.C % s.groups).toBe(0);
      expect(s.K % s.groups).toBe(0);
      expect(s.stride).toBeLessThanOrEqual(2);
      expect(s.padding).toBeLessThanOrEqual(2);
      expect(s.dilation).toBeLessThanOrEqual(2);
    }), { numRuns: 100 });
    fc.assert(fc.property(arbPoolSettings(), (s) => {
      expect(s.P).toBeGreaterThanOrEqual(1);
      expect(s.Q).toBeGreaterThanOrEqual(1);
      expect(2 * s.padding).toBeLessThanOrEqual(s.kernel);
    }), { numRuns: 100 });
  });
});
