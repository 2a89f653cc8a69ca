/**
 * The inference engine's packed kernels against the float convolution of ±1 values: exact equality
 * of the integer dot products (zero padding contributes 0), and the epilogue's folded map and
 * shortcut on top.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../core/index.js';
import type { Conv2dGeometry } from '../../backends/backend.js';
import { packWeightSigns } from '../../backends/cpu/bitpack.js';
import { depthwiseForward } from '../../backends/cpu/depthwise.js';
import { xnorDepthwiseApplies, xnorDepthwiseForward } from '../../backends/cpu/xnor-depthwise.js';
import { packPlanesByThreshold, packedPlaneWords, plainEpilogue, signThreshold, unpackPlanes } from '../../backends/cpu/xnor-epilogue.js';
import { pointwiseTables, xnorPointwiseForward } from '../../backends/cpu/xnor-pointwise.js';
import { maxPool2d } from '../../backends/cpu/pool.js';
import { maxPool2dInfer } from '../../backends/cpu/pool-infer.js';

/** Direct convolution of the signs, float64 sums; taps in the padding contribute 0. */
function refSignConv(x: Float32Array, w: Float32Array, g: Conv2dGeometry): Float64Array {
  const { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q } = g;
  const Cg = C / groups, Kg = K / groups, sg = (v: number): number => (v >= 0 ? 1 : -1);
  const y = new Float64Array(N * K * P * Q);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
    const grp = Math.floor(k / Kg);
    for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
      let s = 0;
      for (let c = 0; c < Cg; c++) for (let r = 0; r < R; r++) for (let t = 0; t < S; t++) {
        const h = p * strideH - padH + r * dilationH, ww = q * strideW - padW + t * dilationW;
        if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
        s += sg(x[((n * C + grp * Cg + c) * H + h) * W + ww]) * sg(w[((k * Cg + c) * R + r) * S + t]);
      }
      y[((n * K + k) * P + p) * Q + q] = s;
    }
  }
  return y;
}

function geometry(N: number, C: number, H: number, W: number, K: number, R: number, stride: number, pad: number, dil: number, groups: number): Conv2dGeometry {
  const P = Math.floor((H + 2 * pad - dil * (R - 1) - 1) / stride) + 1, Q = Math.floor((W + 2 * pad - dil * (R - 1) - 1) / stride) + 1;
  return { N, C, H, W, K, R, S: R, strideH: stride, strideW: stride, padH: pad, padW: pad, dilationH: dil, dilationW: dil, groups, P, Q };
}

function randomArrays(g: Conv2dGeometry, seed: number): { x: Float32Array; w: Float32Array; signs: Uint32Array } {
  const rng = new Random(seed);
  const x = Float32Array.from({ length: g.N * g.C * g.H * g.W }, () => (rng.uniform() < 0.1 ? 0 : rng.normal()));
  const w = Float32Array.from({ length: g.K * (g.C / g.groups) * g.R * g.S }, () => rng.normal());
  const signs = new Uint32Array(Math.ceil(w.length / 32));
  packWeightSigns(w, signs, { ...g, wordsPerTap: (g.C / g.groups + 31) >>> 5 });
  return { x, w, signs };
}

const ones = (n: number): Float32Array => new Float32Array(n).fill(1);

describe('bit-sliced depthwise kernel', () => {
  it('equals the float convolution of the signs exactly (strides, dilations, padding, 3x3 and 5x5)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 }), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 70 }),
      fc.constantFrom(1, 3, 5), fc.constantFrom(1, 2), fc.constantFrom(1, 2), fc.integer({ min: 0, max: 4 }), fc.integer(),
      (N, C, H, W, R, stride, dil, pad, seed) => {
        fc.pre(H + 2 * pad >= dil * (R - 1) + 1 && W + 2 * pad >= dil * (R - 1) + 1);
        const g = geometry(N, C, H, W, C, R, stride, pad, dil, C);
        expect(xnorDepthwiseApplies(g)).toBe(true);
        const { x, w, signs } = randomArrays(g, seed);
        const y = new Float32Array(N * C * g.P * g.Q);
        xnorDepthwiseForward(x, signs, y, g, plainEpilogue(ones(C), new Float32Array(C), C));
        expect(Array.from(y)).toEqual(Array.from(refSignConv(x, w, g)));
      }), { numRuns: 60 });
  });

  it('applies the epilogue: A * dot + B + R * shortcut, into a channel slice', () => {
    const g = geometry(2, 3, 7, 9, 3, 3, 1, 1, 1, 3);
    const { x, w, signs } = randomArrays(g, 5);
    const PQ = g.P * g.Q, A = Float32Array.of(0.5, -2, 1.25), B = Float32Array.of(0.1, 0.2, -0.3), Rs = Float32Array.of(1, -1, 2);
    const res = Float32Array.from({ length: 2 * 5 * PQ }, (_, i) => Math.sin(i));
    const y = new Float32Array(2 * 4 * PQ).fill(99);
    xnorDepthwiseForward(x, signs, y, g, { A, B, res, resScale: Rs, resChannels: 5, resC0: 2, yChannels: 4, yC0: 1, bits: null });
    const dot = refSignConv(x, w, g);
    for (let n = 0; n < 2; n++) for (let k = 0; k < 3; k++) for (let i = 0; i < PQ; i++) {
      const want = Math.fround(A[k] * dot[(n * 3 + k) * PQ + i] + B[k] + Rs[k] * res[(n * 5 + 2 + k) * PQ + i]);
      expect(y[(n * 4 + 1 + k) * PQ + i]).toBeCloseTo(want, 5);
    }
    for (let n = 0; n < 2; n++) for (let i = 0; i < PQ; i++) expect(y[(n * 4) * PQ + i]).toBe(99); // channel 0 untouched
  });

  it('is the float depthwise kernel on ±1 inputs and weights', () => {
    const g = geometry(2, 16, 16, 16, 16, 3, 1, 2, 2, 16);
    const { x, w, signs } = randomArrays(g, 9);
    const xs = x.map((v) => (v >= 0 ? 1 : -1)), ws = w.map((v) => (v >= 0 ? 1 : -1));
    const yf = new Float32Array(2 * 16 * g.P * g.Q), yb = new Float32Array(yf.length);
    depthwiseForward(xs, ws, yf, g);
    xnorDepthwiseForward(x, signs, yb, g, plainEpilogue(ones(16), new Float32Array(16), 16));
    expect(Array.from(yb)).toEqual(Array.from(yf));
  });
});

describe('byte-table pointwise kernel', () => {
  it('equals the float 1x1 convolution of the signs exactly', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }), fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(31, 32, 33, 64, 100, 255)),
      fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 90 }), fc.integer(),
      (N, C, K, HW, seed) => {
        const g = geometry(N, C, 1, HW, K, 1, 1, 0, 1, 1);
        const { x, w, signs } = randomArrays(g, seed);
        const y = new Float32Array(N * K * HW);
        xnorPointwiseForward(x, pointwiseTables(signs, C, K), y, N, 1, HW, plainEpilogue(ones(K), new Float32Array(K), K));
        expect(Array.from(y)).toEqual(Array.from(refSignConv(x, w, g)));
      }), { numRuns: 60 });
  });
});

describe('packed activations between layers (BN + sign folded into a threshold)', () => {
  it('signThreshold: dir * dot < val exactly where A * dot + B < 0, negative BN scales flip the comparison', () => {
    fc.assert(fc.property(fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -50, max: 50, noNaN: true }), (A, B) => {
      const { dir, val } = signThreshold(A, B);
      if (A < 0) expect(dir).toBe(-1);
      for (let dot = -60; dot <= 60; dot++) expect(dir * dot < val, `A=${A} B=${B} dot=${dot}`).toBe(!(A * dot + B >= 0));
    }), { numRuns: 200 });
    expect(signThreshold(0, -1)).toEqual({ dir: 0, val: 1 });
    expect(signThreshold(0, 0)).toEqual({ dir: 0, val: 0 });
  });

  /** The reference: float dots of the signs, A * dot + B, packed by the sign (bit where negative). */
  function refBits(dot: Float64Array, A: Float32Array, B: Float32Array, N: number, K: number, P: number, Q: number): Int32Array {
    const v = new Float32Array(dot.length);
    for (let i = 0; i < dot.length; i++) { const k = Math.floor(i / (P * Q)) % K; v[i] = A[k] * dot[i] + B[k]; }
    const out = new Int32Array(packedPlaneWords(N, K, P, Q));
    packPlanesByThreshold(v, { out, dir: new Float32Array(K).fill(1), val: new Float32Array(K) }, N, K, P, Q);
    return out;
  }

  function thresholds(A: Float32Array, B: Float32Array): { dir: Float32Array; val: Float32Array } {
    const dir = new Float32Array(A.length), val = new Float32Array(A.length);
    for (let k = 0; k < A.length; k++) ({ dir: dir[k], val: val[k] } = signThreshold(A[k], B[k]));
    return { dir, val };
  }

  it('depthwise and pointwise kernels read sign bits and write sign bits as the float path would', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 40 }),
      fc.constantFrom(1, 2), fc.integer(),
      (N, C, H, W, stride, seed) => {
        const rng = new Random(seed);
        const A = Float32Array.from({ length: C }, () => rng.normal()), B = Float32Array.from({ length: C }, () => 3 * rng.normal());
        // depthwise 3x3, float input -> bits
        const g = geometry(N, C, H, W, C, 3, stride, 1, 1, C);
        const { x, w, signs } = randomArrays(g, seed);
        const bits = new Int32Array(packedPlaneWords(N, C, g.P, g.Q));
        const e = { ...plainEpilogue(A, B, C), bits: { out: bits, ...thresholds(A, B) } };
        xnorDepthwiseForward(x, signs, new Float32Array(0), g, e);
        expect(Array.from(bits)).toEqual(Array.from(refBits(refSignConv(x, w, g), A, B, N, C, g.P, g.Q)));
        // the same input given as bits gives the same float output
        const xb = new Int32Array(packedPlaneWords(N, C, H, W));
        packPlanesByThreshold(x, { out: xb, dir: new Float32Array(C).fill(1), val: new Float32Array(C) }, N, C, H, W);
        const y1 = new Float32Array(N * C * g.P * g.Q), y2 = new Float32Array(y1.length);
        xnorDepthwiseForward(x, signs, y1, g, plainEpilogue(A, B, C));
        xnorDepthwiseForward(new Float32Array(0), signs, y2, g, plainEpilogue(A, B, C), xb);
        expect(Array.from(y2)).toEqual(Array.from(y1));
        const back = new Float32Array(x.length);
        unpackPlanes(xb, back, N * C, H, W);
        expect(Array.from(back)).toEqual(Array.from(x, (v) => (v >= 0 ? 1 : -1)));
        // pointwise: bits in, bits out
        const K = 1 + (seed >>> 0) % 7, gp = geometry(N, C, H, W, K, 1, 1, 0, 1, 1), wp = randomArrays(gp, seed + 1);
        const Ap = Float32Array.from({ length: K }, () => rng.normal()), Bp = Float32Array.from({ length: K }, () => rng.normal());
        const pb = new Int32Array(packedPlaneWords(N, K, H, W));
        xnorPointwiseForward(new Float32Array(0), pointwiseTables(wp.signs, C, K), new Float32Array(0), N, H, W,
          { ...plainEpilogue(Ap, Bp, K), bits: { out: pb, ...thresholds(Ap, Bp) } }, xb);
        expect(Array.from(pb)).toEqual(Array.from(refBits(refSignConv(x, wp.w, gp), Ap, Bp, N, K, H, W)));
      }), { numRuns: 40 });
  });
});

describe('inference max pooling', () => {
  it('gives maxPool2d values (3x3 and other windows, strides, padding, odd sizes)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }),
      fc.constantFrom(2, 3), fc.constantFrom(1, 2), fc.constantFrom(0, 1), fc.integer(), (NC, H, W, k, stride, pad, seed) => {
        fc.pre(H + 2 * pad >= k && W + 2 * pad >= k);
        const rng = new Random(seed);
        const x = Float32Array.from({ length: NC * H * W }, () => rng.normal());
        const P = Math.floor((H + 2 * pad - k) / stride) + 1, Q = Math.floor((W + 2 * pad - k) / stride) + 1;
        const g = { N: 1, C: NC, H, W, kH: k, kW: k, strideH: stride, strideW: stride, padH: pad, padW: pad, P, Q };
        const want = new Float32Array(NC * P * Q), got = new Float32Array(NC * P * Q);
        maxPool2d(x, want, new Int32Array(NC * P * Q), g);
        maxPool2dInfer(x, got, g);
        expect(Array.from(got)).toEqual(Array.from(want));
      }), { numRuns: 60 });
  });
});
