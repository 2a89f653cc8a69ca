import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../core/index.js';
import { arbShape, arbTensor } from '../../ops/arbitraries.js';
import { formatGradCheck, gradCheck } from '../../ops/gradcheck.js';
import { crossEntropy, mse } from '../../ops/loss.js';

// Gradient tolerance: |analytic - numeric| <= 1e-3 + 1e-2 |numeric| (gradCheck defaults, eps 1e-3).

const arbCE = fc.record({ N: fc.integer({ min: 1, max: 6 }), K: fc.integer({ min: 1, max: 6 }) }).chain(({ N, K }) =>
  fc.tuple(arbTensor([N, K], { min: -4, max: 4 }), fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: N, maxLength: N }),
    fc.constantFrom('mean' as const, 'sum' as const, 'none' as const)));

/** -log softmax(x)[y] in float64, the textbook way (fine for moderate logits). */
function reference(x: Tensor, labels: number[]): number[] {
  const [N, K] = x.shape;
  return labels.map((y, n) => {
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(x.data[n * K + k]);
    return Math.log(s) - x.data[n * K + y];
  });
}

describe('crossEntropy', () => {
  it('matches -log softmax[label] with mean, sum and none reductions', () => {
    fc.assert(fc.property(arbCE, ([x, labels, reduction]) => {
      const ref = reference(x, labels);
      const out = crossEntropy(x, labels, reduction);
      if (reduction === 'none') {
        expect(out.shape).toEqual([labels.length]);
        ref.forEach((v, i) => expect(out.data[i]).toBeCloseTo(v, 5));
      } else {
        const total = ref.reduce((a, b) => a + b, 0);
        expect(out.shape).toEqual([]);
        expect(out.item()).toBeCloseTo(reduction === 'mean' ? total / labels.length : total, 4);
      }
      // Int32Array labels give the same result
      expect(crossEntropy(x, Int32Array.from(labels), reduction).toArray()).toEqual(out.toArray());
    }), { numRuns: 40 });
  });

  it('gradient matches central differences', () => {
    fc.assert(fc.property(arbCE, ([x, labels, reduction]) => {
      const rep = gradCheck((t) => crossEntropy(t, labels, reduction), [x]);
      expect(rep.ok, formatGradCheck(rep, [x])).toBe(true);
    }), { numRuns: 30 });
  });

  it('is stable for huge logits', () => {
    const x = Tensor.of([[1000, 0, -1000], [-1e4, 1e4, 0]], true);
    const l = crossEntropy(x, [1, 1]);
    expect(l.item()).toBeCloseTo(1000 / 2, 3);
    l.backward();
    expect(x.grad!.toArray().map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0.5, -0.5, 0, 0, 0, 0]);
  });

  it('rejects labels out of range and mismatched counts', () => {
    const x = Tensor.zeros([2, 3]);
    expect(() => crossEntropy(x, [0, 3])).toThrow(/^crossEntropy: label 3 at row 1 is out of range for 3 classes \(logits \[2,3\]\)/);
    expect(() => crossEntropy(x, [0, -1])).toThrow(/^crossEntropy: label -1 at row 1 is out of range/);
    expect(() => crossEntropy(x, [0.5, 1])).toThrow(/^crossEntropy: label 0.5 at row 0/);
    expect(() => crossEntropy(x, [0])).toThrow(/^crossEntropy: got 1 labels for logits \[2,3\] \(2 rows\)/);
    expect(() => crossEntropy(Tensor.zeros([2, 3, 4]), [0, 1])).toThrow(/^crossEntropy: expects logits of shape \[N,K\], got \[2,3,4\]/);
  });
});

describe('mse', () => {
  it('is the mean squared difference, with gradients to both sides', () => {
    fc.assert(fc.property(arbShape({ maxRank: 3, maxDim: 4 }).chain((s) => fc.tuple(arbTensor(s), arbTensor(s))), ([a, b]) => {
      let s = 0;
      for (let i = 0; i < a.size; i++) s += (a.data[i] - b.data[i]) ** 2;
      expect(mse(a, b).item()).toBeCloseTo(s / a.size, 5);
      const rep = gradCheck(mse, [a, b]);
      expect(rep.ok, formatGradCheck(rep, [a, b])).toBe(true);
    }), { numRuns: 30 });
    const a = Tensor.of([1, 2], true);
    mse(a, Tensor.of([0, 0])).backward();
    expect(a.grad!.toArray()).toEqual([1, 2]);
  });

  it('rejects different shapes', () => {
    expect(() => mse(Tensor.zeros([2, 3]), Tensor.zeros([3, 2]))).toThrow(/^mse: a \[2,3\] and b \[3,2\] have different shapes/);
  });
});
