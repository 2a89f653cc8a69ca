import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CpnasError, Tensor } from '../../core/index.js';
import { arbConvSettings, seededTensor, type ConvSettings } from '../../ops/arbitraries.js';
import { conv2d, conv2dGeometry } from '../../ops/conv.js';
import { formatGradCheck, gradCheck } from '../../ops/gradcheck.js';

// Gradient tolerance: |analytic - numeric| <= 1e-3 + 1e-2 |numeric|, the numeric side a central
// difference accumulated in float64. conv2d is linear in each input, so the difference has no
// truncation error and a larger step (eps 1e-2) keeps the float32 rounding of L small.
const GRAD = { eps: 1e-2, rtol: 1e-2, atol: 1e-3 };

function inputs(s: ConvSettings, seed: number, bias: boolean): Tensor[] {
  const x = seededTensor([s.N, s.C, s.H, s.W], seed);
  const w = seededTensor([s.K, s.C / s.groups, s.kernel, s.kernel], seed + 1);
  return bias ? [x, w, seededTensor([s.K], seed + 2)] : [x, w];
}

function opts(s: ConvSettings) {
  return { stride: s.stride, padding: s.padding, dilation: s.dilation, groups: s.groups };
}

/** Naive convolution in float64, straight from the definition. */
function reference(x: Tensor, w: Tensor, b: Tensor | null, s: ConvSettings): number[] {
  const out: number[] = [];
  const Cg = s.C / s.groups, Kg = s.K / s.groups;
  for (let n = 0; n < s.N; n++) for (let k = 0; k < s.K; k++) for (let p = 0; p < s.P; p++) for (let q = 0; q < s.Q; q++) {
    let acc = b ? b.data[k] : 0;
    const grp = Math.floor(k / Kg);
    for (let c = 0; c < Cg; c++) for (let r = 0; r < s.kernel; r++) for (let t = 0; t < s.kernel; t++) {
      const h = p * s.stride - s.padding + r * s.dilation, ww = q * s.stride - s.padding + t * s.dilation;
      if (h < 0 || h >= s.H || ww < 0 || ww >= s.W) continue;
      acc += x.data[((n * s.C + grp * Cg + c) * s.H + h) * s.W + ww] * w.data[((k * Cg + c) * s.kernel + r) * s.kernel + t];
    }
    out.push(acc);
  }
  return out;
}

describe('conv2d', () => {
  it('computes the convolution of its definition (stride, padding, dilation, groups, bias)', () => {
    fc.assert(fc.property(arbConvSettings(), fc.nat(1 << 20), fc.boolean(), (s, seed, withBias) => {
      const [x, w, b] = inputs(s, seed, withBias);
      const y = conv2d(x, w, b ?? null, opts(s));
      expect(y.shape).toEqual([s.N, s.K, s.P, s.Q]);
      const ref = reference(x, w, b ?? null, s);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(y.data[i] - ref[i])).toBeLessThan(1e-5 * (1 + Math.abs(ref[i])) + 1e-5);
    }), { numRuns: 40 });
  });

  it('has gradients for x, w and bias that match central differences', () => {
    fc.assert(fc.property(arbConvSettings(), fc.nat(1 << 20), (s, seed) => {
      const ins = inputs(s, seed, true);
      const rep = gradCheck((x, w, b) => conv2d(x, w, b, opts(s)), ins, { ...GRAD, samples: 30, seed });
      expect(rep.ok, `${JSON.stringify(s)}: ${formatGradCheck(rep, ins, GRAD)}`).toBe(true);
    }), { numRuns: 30 });
  });

  it('has correct gradients for depthwise convolutions (groups = C, multiplier 1-2), including 5x5 dilated', () => {
    fc.assert(fc.property(
      fc.record({
        N: fc.integer({ min: 1, max: 2 }), C: fc.integer({ min: 1, max: 4 }), mult: fc.integer({ min: 1, max: 2 }),
        kernel: fc.constantFrom(3, 5), stride: fc.integer({ min: 1, max: 2 }), padding: fc.integer({ min: 0, max: 4 }),
        dilation: fc.integer({ min: 1, max: 2 }), extra: fc.integer({ min: 0, max: 3 }), seed: fc.nat(1 << 20),
      }),
      (r) => {
        const H = Math.max(1, r.dilation * (r.kernel - 1) + 1 - 2 * r.padding) + r.extra;
        const x = seededTensor([r.N, r.C, H, H], r.seed), w = seededTensor([r.C * r.mult, 1, r.kernel, r.kernel], r.seed + 1);
        const o = { stride: r.stride, padding: r.padding, dilation: r.dilation, groups: r.C };
        const rep = gradCheck((a, b) => conv2d(a, b, null, o), [x, w], { ...GRAD, samples: 30, seed: r.seed });
        expect(rep.ok, `${JSON.stringify(r)}: ${formatGradCheck(rep, [x, w], GRAD)}`).toBe(true);
      },
    ), { numRuns: 25 });
  });

  it('is right on the CPU fast paths for many channels (Winograd 3x3, im2col GEMM, 1x1)', () => {
    for (const [kernel, padding, seed] of [[3, 1, 10], [3, 0, 11], [3, 2, 12], [1, 0, 13], [5, 2, 14]]) {
      const s = { N: 2, C: 8, H: 5, W: 6, K: 9, kernel, stride: 1, padding, dilation: 1, groups: 1, P: 0, Q: 0 };
      s.P = s.H + 2 * padding - kernel + 1;
      s.Q = s.W + 2 * padding - kernel + 1;
      const [x, w, b] = inputs(s, seed, true);
      const y = conv2d(x, w, b, opts(s));
      const ref = reference(x, w, b, s);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(y.data[i] - ref[i])).toBeLessThan(1e-4 * (1 + Math.abs(ref[i])));
      const rep = gradCheck((xx, ww, bb) => conv2d(xx, ww, bb, opts(s)), [x, w, b], { ...GRAD, samples: 40, seed });
      expect(rep.ok, `${JSON.stringify(s)}: ${formatGradCheck(rep, [x, w, b], GRAD)}`).toBe(true);
    }
  });

  it('accepts [h, w] pairs for stride, padding and dilation', () => {
    const x = seededTensor([1, 2, 7, 6], 3), w = seededTensor([3, 2, 3, 2], 4);
    const y = conv2d(x, w, null, { stride: [2, 1], padding: [1, 0], dilation: [1, 2] });
    expect(y.shape).toEqual([1, 3, 4, 4]);
    const rep = gradCheck((a, b) => conv2d(a, b, null, { stride: [2, 1], padding: [1, 0], dilation: [1, 2] }), [x, w], GRAD);
    expect(rep.ok, formatGradCheck(rep, [x, w], GRAD)).toBe(true);
  });

  it('records no graph when nothing requires gradients', () => {
    const y = conv2d(seededTensor([1, 1, 3, 3], 1, { requiresGrad: false }), seededTensor([1, 1, 3, 3], 2, { requiresGrad: false }));
    expect(y.requiresGrad).toBe(false);
    expect(y.shape).toEqual([1, 1, 1, 1]);
  });
});

describe('conv2dGeometry and argument errors', () => {
  it('computes the output size', () => {
    const g = conv2dGeometry('conv2d', [8, 16, 32, 32], [32, 4, 3, 3], { stride: 2, padding: 1, dilation: 1, groups: 4 });
    expect(g).toMatchObject({ N: 8, C: 16, H: 32, W: 32, K: 32, R: 3, S: 3, strideH: 2, padH: 1, groups: 4, P: 16, Q: 16 });
    expect(conv2dGeometry('conv2d', [1, 3, 9, 9], [2, 3, 3, 3], { dilation: 2 })).toMatchObject({ P: 5, Q: 5 });
  });

  const x = Tensor.zeros([8, 3, 32, 32]);
  const cases: [string, () => unknown][] = [
    ['conv2d: input has 3 channels, weight expects 16 ([8,3,32,32] vs [16,16,3,3])',
      () => conv2d(x, Tensor.zeros([16, 16, 3, 3]))],
    ['conv2d: input has 16 channels, weight expects 8 (2 groups of 4) ([8,16,32,32] vs [16,4,3,3])',
      () => conv2d(Tensor.zeros([8, 16, 32, 32]), Tensor.zeros([16, 4, 3, 3]), null, { groups: 2 })],
    ['conv2d: input must be 4-D [N,C,H,W], got rank 3 ([3,32,32] vs [16,3,3,3])',
      () => conv2d(Tensor.zeros([3, 32, 32]), Tensor.zeros([16, 3, 3, 3]))],
    ['conv2d: weight must be 4-D [K,C/groups,R,S], got rank 2 ([8,3,32,32] vs [16,27])',
      () => conv2d(x, Tensor.zeros([16, 27]))],
    ["conv2d: groups 2 does not divide the input's 3 channels ([8,3,32,32] vs [16,1,3,3])",
      () => conv2d(x, Tensor.zeros([16, 1, 3, 3]), null, { groups: 2 })],
    ["conv2d: groups 3 does not divide the weight's 16 output channels ([8,3,32,32] vs [16,1,3,3])",
      () => conv2d(x, Tensor.zeros([16, 1, 3, 3]), null, { groups: 3 })],
    ['conv2d: groups must be a positive integer, got 0 ([8,3,32,32] vs [16,3,3,3])',
      () => conv2d(x, Tensor.zeros([16, 3, 3, 3]), null, { groups: 0 })],
    ['conv2d: stride must be a positive integer or a pair of them, got [0,1] ([8,3,32,32] vs [16,3,3,3])',
      () => conv2d(x, Tensor.zeros([16, 3, 3, 3]), null, { stride: [0, 1] })],
    ['conv2d: padding must be a non-negative integer or a pair of them, got -1 ([8,3,32,32] vs [16,3,3,3])',
      () => conv2d(x, Tensor.zeros([16, 3, 3, 3]), null, { padding: -1 })],
    ['conv2d: dilation must be a positive integer or a pair of them, got 1.5 ([8,3,32,32] vs [16,3,3,3])',
      () => conv2d(x, Tensor.zeros([16, 3, 3, 3]), null, { dilation: 1.5 })],
    ['conv2d: output would be empty: input 4x4 padded by 0x0 is smaller than the dilated kernel 5x5 ([1,3,4,4] vs [2,3,3,3])',
      () => conv2d(Tensor.zeros([1, 3, 4, 4]), Tensor.zeros([2, 3, 3, 3]), null, { dilation: 2 })],
    ['conv2d: output would be empty: input 2x9 padded by 0x0 is smaller than the kernel 3x3 ([1,3,2,9] vs [2,3,3,3])',
      () => conv2d(Tensor.zeros([1, 3, 2, 9]), Tensor.zeros([2, 3, 3, 3]))],
    ['conv2d: bias must have shape [16], got [8] ([8,3,32,32] vs [16,3,3,3])',
      () => conv2d(x, Tensor.zeros([16, 3, 3, 3]), Tensor.zeros([8]))],
  ];
  for (const [message, fn] of cases) {
    it(`throws "${message}"`, () => {
      let err: unknown;
      try { fn(); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(CpnasError);
      expect((err as Error).message).toBe(message);
    });
  }

  it('names the calling op', () => {
    expect(() => conv2dGeometry('binaryConv2d', [1, 2, 5, 5], [4, 3, 3, 3])).toThrow(/^binaryConv2d: input has 2 channels/);
  });
});
