import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../core/index.js';
import { arbTensor } from '../../ops/arbitraries.js';
import { batchNorm2d } from '../../ops/batchnorm.js';
import { formatGradCheck, gradCheck } from '../../ops/gradcheck.js';

// Gradient tolerance: |analytic - numeric| <= 2e-3 + 1e-2 |numeric| with eps 1e-3 (normalized outputs are
// O(1) and sum many float32 terms, so atol is twice gradCheck's default). Batches have at least 4 values
// per channel, so the batch variance is not tiny.

const arbBN = fc.record({
  N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 3 }),
  H: fc.integer({ min: 1, max: 4 }), W: fc.integer({ min: 1, max: 4 }),
  affine: fc.boolean(), spatial: fc.boolean(),
}).filter((s) => s.N * (s.spatial ? s.H * s.W : 1) >= 4)
  .chain((s) => {
    const shape = s.spatial ? [s.N, s.C, s.H, s.W] : [s.N, s.C];
    return fc.tuple(fc.constant(s), arbTensor(shape, { min: -2, max: 2 }),
      arbTensor([s.C], { min: 0.5, max: 1.5 }), arbTensor([s.C], { min: -1, max: 1 }));
  });

/** Per-channel mean and biased variance in float64. */
function channelStats(x: Tensor): { mean: number[]; variance: number[] } {
  const [N, C] = x.shape;
  const HW = x.size / (N * C);
  const mean: number[] = [], variance: number[] = [];
  for (let c = 0; c < C; c++) {
    const v: number[] = [];
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) v.push(x.data[(n * C + c) * HW + i]);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    mean.push(m);
    variance.push(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
  }
  return { mean, variance };
}

describe('batchNorm2d', () => {
  it('training: normalizes each channel to mean bias and variance weight² and updates running stats (unbiased)', () => {
    fc.assert(fc.property(arbBN, ([s, x, w, b]) => {
      const C = s.C;
      const running = { mean: new Float32Array(C).fill(0.5), var: new Float32Array(C).fill(2) };
      const y = batchNorm2d(x, s.affine ? w : null, s.affine ? b : null, running, { training: true, momentum: 0.2 });
      const st = channelStats(y), xs = channelStats(x);
      const count = x.size / C;
      for (let c = 0; c < C; c++) {
        const wc = s.affine ? w.data[c] : 1, bc = s.affine ? b.data[c] : 0;
        expect(st.mean[c]).toBeCloseTo(bc, 4);
        expect(st.variance[c]).toBeCloseTo((wc * wc * xs.variance[c]) / (xs.variance[c] + 1e-5), 3);
        expect(running.mean[c]).toBeCloseTo(0.8 * 0.5 + 0.2 * xs.mean[c], 5);
        expect(running.var[c]).toBeCloseTo(0.8 * 2 + 0.2 * xs.variance[c] * count / (count - 1), 5);
      }
    }), { numRuns: 40 });
  });

  it('eval: uses the running statistics and leaves them alone', () => {
    const x = Tensor.of([[1, 2], [3, 4]]);
    const running = { mean: Float32Array.of(1, 2), var: Float32Array.of(4, 0.25) };
    const y = batchNorm2d(x, Tensor.of([2, 1]), Tensor.of([0, 1]), running, { training: false, eps: 0 });
    expect(y.toArray()).toEqual([0, 1, 2, 5]);
    expect([...running.mean]).toEqual([1, 2]);
    // no running stats: batch statistics even in eval (track_running_stats=False)
    const z = batchNorm2d(x, null, null, null, { training: false, eps: 0 });
    expect(z.toArray()).toEqual([-1, -1, 1, 1]);
  });

  it('gradients (training and eval, with and without affine) match central differences', () => {
    fc.assert(fc.property(arbBN, fc.boolean(), ([s, x, w, b], training) => {
      const C = s.C;
      const inputs = s.affine ? [x, w, b] : [x];
      const fn = (...t: Tensor[]) => {
        // fresh running stats per call: the update must not change what the numeric side sees
        const running = { mean: Float32Array.from({ length: C }, (_, c) => 0.1 * c), var: Float32Array.from({ length: C }, (_, c) => 0.5 + c) };
        return batchNorm2d(t[0], s.affine ? t[1] : null, s.affine ? t[2] : null, running, { training });
      };
      const rep = gradCheck(fn, inputs, { atol: 2e-3 });
      expect(rep.ok, `${JSON.stringify(s)} training=${training}: ${formatGradCheck(rep, inputs, { atol: 2e-3 })}`).toBe(true);
    }), { numRuns: 30 });
  });

  it('a large constant offset does not hurt the statistics (float64, two-pass)', () => {
    const rng = new Random(3);
    const x = Tensor.randn([4, 2, 3, 3], 1, rng);
    for (let i = 0; i < x.size; i++) x.data[i] += 1000;
    const y = batchNorm2d(x, null, null, null, { training: true });
    const st = channelStats(y);
    for (const v of st.variance) expect(v).toBeCloseTo(1, 2);
  });

  it('rejects mismatched shapes, naming the op and the shapes', () => {
    const x = Tensor.zeros([2, 3, 4, 4]);
    expect(() => batchNorm2d(x, Tensor.zeros([4]), null, null, { training: true }))
      .toThrow(/^batchNorm2d: weight \[4\] does not match the 3 channels of x \[2,3,4,4\]/);
    expect(() => batchNorm2d(x, null, null, { mean: new Float32Array(2), var: new Float32Array(2) }, { training: true }))
      .toThrow(/^batchNorm2d: running statistics have 2 means and 2 variances but x \[2,3,4,4\] has 3 channels/);
    expect(() => batchNorm2d(Tensor.zeros([2, 3, 4]), null, null, null, { training: true }))
      .toThrow(/^batchNorm2d: expects x of shape \[N,C,H,W\] or \[N,C\], got \[2,3,4\]/);
    expect(() => batchNorm2d(Tensor.zeros([1, 3]), null, null, { mean: new Float32Array(3), var: new Float32Array(3) }, { training: true }))
      .toThrow(/^batchNorm2d: expects more than 1 value per channel when training, got x \[1,3\]/);
  });
});
