/**
 * The WebAssembly SIMD kernels (backends/cpu/simd): the committed module is the assembly of
 * the .wat files, and each SIMD path gives the same values as the TypeScript kernel it stands in for
 * (bit for bit, but for the sign and payload of a NaN), on random shapes, channel slices, shortcuts
 * and awkward values (NaN, ±0, ±Infinity, huge maps).
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Random } from '../../core/index.js';
import { awkward, cancelling, spread, values } from './simd-values.js';
import { setSimd, simdEnabled } from '../../backends/cpu/simd/simd.js';
import { pointwiseTables, xnorPointwiseForward } from '../../backends/cpu/xnor-pointwise.js';
import { xnorConv2d } from '../../backends/cpu/xnor.js';
import { applyEpilogue } from '../../backends/cpu/xnor-epilogue.js';
import { xnorDepthwiseApplies, xnorDepthwiseForward } from '../../backends/cpu/xnor-depthwise.js';
import type { Conv2dGeometry, Pool2dGeometry } from '../../backends/backend.js';
import { maxPool2dInfer } from '../../backends/cpu/pool-infer.js';
import { avgPool2d, maxPool2dChunk } from '../../backends/cpu/pool.js';
import { matmul } from '../../backends/cpu/gemm.js';
import { conv2d } from '../../backends/cpu/conv.js';
import { depthwiseBackwardData, depthwiseBackwardFilter, depthwiseForward, depthwiseSettings } from '../../backends/cpu/depthwise.js';
import type { PackedEpilogue } from '../../backends/cpu/xnor-epilogue.js';
import { affineChunk, groupMeanChunk, shiftPlanesChunk, sliceAddChunk } from '../../backends/cpu/infer-ops.js';
import { activationGradChunk, binaryChunk, unaryChunk } from '../../backends/cpu/elementwise.js';

const DEPTHWISE_BLOCK = depthwiseSettings.blockFloats;
afterEach(() => {
  setSimd(true);
  depthwiseSettings.blockFloats = DEPTHWISE_BLOCK;
});
/** Block sizes of the SIMD depthwise paths: one filter a block, a few, and the default (one block). */
const depthwiseBlock = fc.constantFrom(1, 40, 300, DEPTHWISE_BLOCK);

/** A pooling of NC planes H x W by a square window k (stride, padding) gives the same values with SIMD on and off. */
function poolsAgree(
  pool: (x: Float32Array, y: Float32Array, g: Pool2dGeometry) => void, x: Float32Array, NC: number, H: number, W: number, k: number, stride: number, pad: number,
): void {
  const P = Math.floor((H + 2 * pad - k) / stride) + 1, Q = Math.floor((W + 2 * pad - k) / stride) + 1;
  const g: Pool2dGeometry = { N: 1, C: NC, H, W, kH: k, kW: k, strideH: stride, strideW: stride, padH: pad, padW: pad, P, Q };
  const run = (simd: boolean): Float32Array => {
    setSimd(simd);
    const y = new Float32Array(NC * P * Q).fill(7);
    pool(x, y, g);
    return y;
  };
  expect(values(run(true))).toEqual(values(run(false)));
}

describe('SIMD kernels', () => {
  it('module.ts is the assembly of the .wat files (npm run wasm)', () => {
    const out = execFileSync(process.execPath, ['backends/cpu/simd/assemble.mjs', '--check'], { encoding: 'utf8' });
    expect(out).toMatch(/up to date/);
  });

  it('are available here and follow the switch', () => {
    expect(simdEnabled()).toBe(true);
    setSimd(false);
    expect(simdEnabled()).toBe(false);
    setSimd(true);
    expect(simdEnabled()).toBe(true);
  });

  it('pointwise: the same values as the TypeScript kernel (slices, shortcuts, scales, special values)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }), fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(31, 32, 33, 64, 100, 255)),
      fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 11 }),
      fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer(),
      (N, C, K, H, W, withRes, withScale, extra, seed) => {
        const rng = new Random(seed), HW = H * W;
        const x = awkward(rng, N * C * HW);
        const signs = Uint32Array.from({ length: Math.ceil((C * K) / 32) }, () => (rng.uniform() * 2 ** 32) >>> 0);
        const t = pointwiseTables(signs, C, K);
        // output and shortcut are channel slices [c0, c0 + K) of larger buffers
        const yChannels = K + extra, yC0 = extra, resChannels = K + 2 * extra, resC0 = Math.min(extra, 1);
        const e: PackedEpilogue = {
          A: awkward(rng, K), B: awkward(rng, K), res: withRes ? awkward(rng, N * resChannels * HW) : null,
          resScale: withRes && withScale ? awkward(rng, K) : null, resChannels, resC0, yChannels, yC0, bits: null,
        };
        e.A[0] = 3e38; // a map that overflows float32 for large dots
        const run = (simd: boolean): Float32Array => {
          setSimd(simd);
          const y = new Float32Array(N * yChannels * HW).fill(7);
          xnorPointwiseForward(x, t, y, N, H, W, e);
          return y;
        };
        expect(values(run(true))).toEqual(values(run(false)));
      }), { numRuns: 80 });
  });

  it('depthwise: the same values as the TypeScript kernel (strides, dilations, padding, 3x3 and 5x5, shortcuts)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 40 }),
      fc.constantFrom(1, 3, 5), fc.constantFrom(1, 2), fc.constantFrom(1, 2), fc.integer({ min: 0, max: 4 }),
      fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 2 }), fc.integer(),
      (N, C, H, W, R, stride, dil, pad, withRes, withScale, extra, seed) => {
        fc.pre(H + 2 * pad >= dil * (R - 1) + 1 && W + 2 * pad >= dil * (R - 1) + 1);
        const P = Math.floor((H + 2 * pad - dil * (R - 1) - 1) / stride) + 1, Q = Math.floor((W + 2 * pad - dil * (R - 1) - 1) / stride) + 1;
        const g: Conv2dGeometry = { N, C, H, W, K: C, R, S: R, strideH: stride, strideW: stride, padH: pad, padW: pad, dilationH: dil, dilationW: dil, groups: C, P, Q };
        fc.pre(xnorDepthwiseApplies(g));
        const rng = new Random(seed), PQ = P * Q;
        const x = awkward(rng, N * C * H * W);
        const signs = Uint32Array.from({ length: Math.ceil((C * R * R) / 32) }, () => (rng.uniform() * 2 ** 32) >>> 0);
        const yChannels = C + extra, resChannels = C + 2 * extra;
        const e: PackedEpilogue = {
          A: awkward(rng, C), B: awkward(rng, C), res: withRes ? awkward(rng, N * resChannels * PQ) : null,
          resScale: withRes && withScale ? awkward(rng, C) : null, resChannels, resC0: extra, yChannels, yC0: extra, bits: null,
        };
        const run = (simd: boolean): Float32Array => {
          setSimd(simd);
          const y = new Float32Array(N * yChannels * PQ).fill(7);
          xnorDepthwiseForward(x, signs, y, g, e);
          return y;
        };
        expect(values(run(true))).toEqual(values(run(false)));
      }), { numRuns: 150 });
  });

  it('average pooling: the same values as the TypeScript loop (3x3 at strides 1 and 2, other windows, padding, -0 windows)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 23 }),
      fc.constantFrom(1, 2, 3, 3, 3, 4), fc.constantFrom(1, 2, 2, 3), fc.integer({ min: 0, max: 2 }), fc.boolean(), fc.integer(), (NC, H, W, k, stride, pad, zeros, seed) => {
        fc.pre(H + 2 * pad >= k && W + 2 * pad >= k && pad < k);
        const rng = new Random(seed);
        // some planes of -0 only: a sum that starts at 0 gives +0, one that starts at its first value -0
        const x = zeros ? new Float32Array(NC * H * W).fill(-0) : awkward(rng, NC * H * W);
        poolsAgree(avgPool2d, x, NC, H, W, k, stride, pad);
      }), { numRuns: 150 });
  });

  it('inference max pooling: the same values as the TypeScript loop (windows, strides, padding, NaN, ±0)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 21 }),
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 4 }), fc.integer(), (NC, H, W, k, stride, pad, seed) => {
        fc.pre(H + 2 * pad >= k && W + 2 * pad >= k);
        const rng = new Random(seed);
        poolsAgree(maxPool2dInfer, awkward(rng, NC * H * W), NC, H, W, k, stride, pad);
      }), { numRuns: 150 });
  });

  it('training max pooling: the same values and argmax indices as the TypeScript loop (3x3 at strides 1 and 2, other windows, padding, NaN, ±0, chunks)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 21 }), fc.constantFrom(1, 2, 3),
      fc.constantFrom(1, 2, 3), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.integer(),
      (NC, H, W, k, stride, pad, nChunks, zeros, seed) => {
        fc.pre(pad < k && H + 2 * pad >= k && W + 2 * pad >= k);
        const P = Math.floor((H + 2 * pad - k) / stride) + 1, Q = Math.floor((W + 2 * pad - k) / stride) + 1;
        const g: Pool2dGeometry = { N: 1, C: NC, H, W, kH: k, kW: k, strideH: stride, strideW: stride, padH: pad, padW: pad, P, Q };
        const rng = new Random(seed);
        // planes of ±0 only half the time: a window of zeros keeps its first cell, +0 or -0
        const x = zeros ? Float32Array.from({ length: NC * H * W }, () => (rng.uniform() < 0.5 ? 0 : -0)) : awkward(rng, NC * H * W);
        const params = [1, NC, H, W, k, k, stride, stride, pad, pad, P, Q];
        const run = (simd: boolean): string[] => {
          setSimd(simd);
          const y = new Float32Array(NC * P * Q).fill(7), arg = new Int32Array(NC * P * Q).fill(-7);
          for (let c = 0; c < Math.min(nChunks, NC); c++) maxPool2dChunk([x, y, arg], [...params, simd ? 1 : 0], c, Math.min(nChunks, NC));
          return [...values(y), '|', ...Array.from(arg, String)];
        };
        expect(run(true)).toEqual(run(false));
      }), { numRuns: 200 });
  });

  it('GEMM: the same values as the TypeScript micro-kernel (edges, transposes, deep and wide blocks)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }), fc.oneof(fc.integer({ min: 1, max: 13 }), fc.constantFrom(64, 67, 130)),
      fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(255, 256, 257, 600)), fc.oneof(fc.integer({ min: 1, max: 11 }), fc.constantFrom(512, 515, 1100)),
      fc.boolean(), fc.boolean(), fc.integer(),
      (batch, M, K, N, tA, tB, seed) => {
        fc.pre(batch * (M * K + K * N + M * N) < 400_000);
        const rng = new Random(seed);
        const a = awkward(rng, batch * M * K), b = awkward(rng, batch * K * N);
        const run = (simd: boolean): Float32Array => {
          setSimd(simd);
          const out = new Float32Array(batch * M * N).fill(7);
          matmul(a, b, out, batch, M, K, N, tA, tB, M * K, K * N);
          return out;
        };
        expect(values(run(true))).toEqual(values(run(false)));
      }), { numRuns: 60 });
  });

  it('convolution through the packed GEMM: the same values with SIMD on and off', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 3, max: 12 }),
      fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 3), fc.constantFrom(1, 2), fc.integer(), (N, C, H, K, R, stride, seed) => {
        const pad = (R - 1) / 2, P = Math.floor((H + 2 * pad - R) / stride) + 1;
        const g: Conv2dGeometry = { N, C, H, W: H, K, R, S: R, strideH: stride, strideW: stride, padH: pad, padW: pad, dilationH: 1, dilationW: 1, groups: 1, P, Q: P };
        const rng = new Random(seed);
        const x = awkward(rng, N * C * H * H), w = awkward(rng, K * C * R * R);
        const run = (simd: boolean): Float32Array => {
          setSimd(simd);
          const y = new Float32Array(N * K * P * P);
          conv2d(x, w, y, g);
          return y;
        };
        expect(values(run(true))).toEqual(values(run(false)));
      }), { numRuns: 15 });
  });

  it('float depthwise forward and data gradient: the same values with SIMD on and off (3x3, 5x5, 1x1, 7x7, dilations, padding, multipliers, rows of 8 and more, blocks of filters)', () => {
    // the 3x3 kernel's eight-wide loop (rows of 8 outputs and more) and its accumulating form (the data
    // gradient of a multiplier of 2 adds each filter's correlation into its channel's); the SIMD path
    // moves the planes of a block of filters at a time (small blocks: a call cut into several)
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 27 }),
      fc.constantFrom(1, 3, 3, 5, 7), fc.constantFrom(1, 2), fc.constantFrom(1, 2), fc.integer({ min: 0, max: 5 }), fc.constantFrom(1, 2), fc.integer(),
      depthwiseBlock,
      (N, C, H, W, R, stride, dil, pad, mult, seed, block) => {
        fc.pre(H + 2 * pad >= dil * (R - 1) + 1 && W + 2 * pad >= dil * (R - 1) + 1);
        const P = Math.floor((H + 2 * pad - dil * (R - 1) - 1) / stride) + 1, Q = Math.floor((W + 2 * pad - dil * (R - 1) - 1) / stride) + 1;
        const K = C * mult;
        const g: Conv2dGeometry = { N, C, H, W, K, R, S: R, strideH: stride, strideW: stride, padH: pad, padW: pad, dilationH: dil, dilationW: dil, groups: C, P, Q };
        const rng = new Random(seed);
        const x = awkward(rng, N * C * H * W), w = awkward(rng, K * R * R), dy = awkward(rng, N * K * P * Q);
        const run = (simd: boolean): string[] => {
          setSimd(simd);
          depthwiseSettings.blockFloats = block;
          const y = new Float32Array(N * K * P * Q).fill(7), dx = new Float32Array(N * C * H * W).fill(7);
          depthwiseForward(x, w, y, g);
          depthwiseBackwardData(dy, w, dx, g);
          return [...values(y), '|', ...values(dx)];
        };
        expect(run(true)).toEqual(run(false));
      }), { numRuns: 150 });
  });

  it('float depthwise filter gradient: the same values with SIMD on and off (strides 1-3 per axis, dilations, padding, multipliers, odd widths, 3x3 at stride 1, blocks of filters)', () => {
    fc.assert(fc.property(
      fc.record({
        N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 3 }), mult: fc.integer({ min: 1, max: 2 }),
        // 3x3 at column stride 1 (the kernel's three-taps-at-a-time path) in about a fifth of the runs
        H: fc.integer({ min: 1, max: 13 }), W: fc.integer({ min: 1, max: 23 }), R: fc.constantFrom(1, 3, 3, 3, 5), S: fc.constantFrom(1, 3, 3, 3, 5),
        sh: fc.constantFrom(1, 2, 3), sw: fc.constantFrom(1, 1, 2, 3), dil: fc.constantFrom(1, 2), ph: fc.integer({ min: 0, max: 3 }),
        pw: fc.integer({ min: 0, max: 3 }), seed: fc.integer(), block: depthwiseBlock,
      }),
      ({ N, C, mult, H, W, R, S, sh, sw, dil, ph, pw, seed, block }) => {
        fc.pre(H + 2 * ph >= dil * (R - 1) + 1 && W + 2 * pw >= dil * (S - 1) + 1);
        const P = Math.floor((H + 2 * ph - dil * (R - 1) - 1) / sh) + 1, Q = Math.floor((W + 2 * pw - dil * (S - 1) - 1) / sw) + 1;
        const K = C * mult;
        const g: Conv2dGeometry = { N, C, H, W, K, R, S, strideH: sh, strideW: sw, padH: ph, padW: pw, dilationH: dil, dilationW: dil, groups: C, P, Q };
        const rng = new Random(seed);
        // spread values a third of the time, and a third ±2^60 among normal values with dy = 1 (a
        // ±2^60 pair cancels exactly only in the same partial sum): a term summed in another partial,
        // or in another order, shows
        const mode = Math.abs(seed) % 3;
        const x = (mode === 0 ? awkward : mode === 1 ? spread : cancelling)(rng, N * C * H * W);
        const dy = mode === 2 ? new Float32Array(N * K * P * Q).fill(1) : (mode === 0 ? awkward : spread)(rng, N * K * P * Q);
        const run = (simd: boolean): string[] => {
          setSimd(simd);
          depthwiseSettings.blockFloats = block;
          const dw = new Float32Array(K * R * S).fill(7);
          depthwiseBackwardFilter(x, dy, dw, g);
          return values(dw);
        };
        expect(run(true)).toEqual(run(false));
      }), { numRuns: 200 });
  });

  it('float depthwise filter gradient, 3x3 at column stride 1 (three taps at a time): the same partial sums with SIMD on and off', () => {
    // dy = 1 and ±2^60 among normal x: a ±2^60 pair cancels exactly only in the same partial sum, so a
    // term moved to another partial (a row's last columns go one by one into theirs) changes the result
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 3, max: 9 }), fc.integer({ min: 3, max: 23 }),
      fc.constantFrom(1, 2), fc.constantFrom(1, 2), fc.integer({ min: 0, max: 2 }), fc.integer(),
      (N, mult, H, W, sh, dil, pad, seed) => {
        fc.pre(H + 2 * pad >= 2 * dil + 1 && W + 2 * pad >= 2 * dil + 1);
        const P = Math.floor((H + 2 * pad - 2 * dil - 1) / sh) + 1, Q = W + 2 * pad - 2 * dil;
        const g: Conv2dGeometry = { N, C: 1, H, W, K: mult, R: 3, S: 3, strideH: sh, strideW: 1, padH: pad, padW: pad, dilationH: dil, dilationW: dil, groups: 1, P, Q };
        const rng = new Random(seed);
        const x = cancelling(rng, N * H * W), dy = new Float32Array(N * mult * P * Q).fill(1);
        const run = (simd: boolean): string[] => {
          setSimd(simd);
          const dw = new Float32Array(mult * 9).fill(7);
          depthwiseBackwardFilter(x, dy, dw, g);
          return values(dw);
        };
        expect(run(true)).toEqual(run(false));
      }), { numRuns: 300 });
  });

  it('float depthwise filter gradient: four partial sums per tap by column mod 4, then (s0 + s1) + (s2 + s3) (fixed numbers)', () => {
    // one 1x1 filter over a 1 x 6 plane: dy = 1 everywhere, so the tap sums x itself. Columns 0 and 4
    // fall in partial 0, 1 and 5 in partial 1: (2^60 + -2^60) + (1 + 1) + (3 + 0) = 5, where one sum in
    // column order gives 2^60 + 1 + 3 + 0 - 2^60 + 1 = 1 (the 1 and the 3 are lost beside 2^60)
    const g: Conv2dGeometry = { N: 1, C: 1, H: 1, W: 6, K: 1, R: 1, S: 1, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 1, P: 1, Q: 6 };
    const x = Float32Array.of(2 ** 60, 1, 3, 0, -(2 ** 60), 1), dy = new Float32Array(6).fill(1);
    // and a 1 x 7 plane, whose last three columns are summed one at a time: column 6 belongs with
    // column 2 in partial 2, so 2^60 and -2^60 cancel there and the 1 of column 4 (partial 0) stays
    const g7: Conv2dGeometry = { ...g, W: 7, Q: 7 };
    const x7 = Float32Array.of(0, 0, 2 ** 60, 0, 1, 0, -(2 ** 60)), dy7 = new Float32Array(7).fill(1);
    for (const simd of [true, false]) {
      setSimd(simd);
      const dw = new Float32Array(1);
      depthwiseBackwardFilter(x, dy, dw, g);
      expect(dw[0], `SIMD ${simd}`).toBe(5);
      depthwiseBackwardFilter(x7, dy7, dw, g7);
      expect(dw[0], `SIMD ${simd}, 7 columns`).toBe(1);
    }
  });

  it('engine streaming steps (slice sum, group mean, affine + ReLU): the same values with SIMD on and off, chunk by chunk', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(1024, 4099, 17000)),
      fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.integer(),
      (N0, C0, HW, groups, extra, nChunks, relu, seed) => {
        // planes past a SIMD block (16,384 values) only for small batches: the test stays quick
        const N = HW > 1000 ? 1 : N0, C = HW > 1000 ? Math.min(C0, 2) : C0;
        const rng = new Random(seed), Ct = C + extra, yC0 = extra;
        const a = awkward(rng, N * C * HW), b = awkward(rng, N * C * HW), x = awkward(rng, N * groups * C * HW);
        const scale = awkward(rng, C), shift = awkward(rng, C);
        scale[0] = 1; shift[0] = -0; a[0] = -0; // a map to -0, which ReLU makes +0
        const run = (simd: number): string[] => {
          const sum = new Float32Array(N * Ct * HW).fill(7), mean = new Float32Array(N * C * HW).fill(7), aff = new Float32Array(N * C * HW).fill(7);
          // every chunk of a split call, as the threads would run them (chunks start inside an image)
          for (let c = 0; c < nChunks; c++) {
            sliceAddChunk([a, b, sum], [N, C, HW, Ct, yC0, simd], c, nChunks);
            groupMeanChunk([x, mean], [N, C, HW, groups, simd], c, nChunks);
            affineChunk([a, aff, scale, shift], [N, C, HW, relu ? 1 : 0, simd], c, nChunks);
          }
          // FactorizedReduce's shift, planes of H x W = HW x 1 and, folded, of about sqrt(HW) square
          const H = Math.max(1, Math.round(Math.sqrt(HW))), W = Math.floor(HW / H), P = Math.max(1, H - extra), Q = Math.max(1, W - 1 + extra);
          const shifted = new Float32Array(N * C * P * Q).fill(7);
          for (let c = 0; c < nChunks; c++) shiftPlanesChunk([a, shifted], [N * C, H, W, P, Q, simd], c, nChunks);
          return [...values(sum), '|', ...values(mean), '|', ...values(aff), '|', ...values(shifted)];
        };
        expect(run(1)).toEqual(run(0));
      }), { numRuns: 60 });
  });

  it('strided and wide 1x1 convolutions: the SIMD kernel, its plain word loop and the general kernel give the same values', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 }), fc.oneof(fc.integer({ min: 1, max: 70 }), fc.constantFrom(255, 256, 300, 640, 992)),
      fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 3 }),
      fc.boolean(), fc.integer({ min: 0, max: 2 }), fc.integer(),
      (N, C, K, H, W, stride, withRes, extra, seed) => {
        fc.pre(stride > 1 || C > 255);
        const rng = new Random(seed), P = Math.floor((H - 1) / stride) + 1, Q = Math.floor((W - 1) / stride) + 1, PQ = P * Q;
        const x = awkward(rng, N * C * H * W);
        const signs = Uint32Array.from({ length: Math.ceil((C * K) / 32) }, () => (rng.uniform() * 2 ** 32) >>> 0);
        const yChannels = K + extra, resChannels = K + extra;
        const e: PackedEpilogue = {
          A: awkward(rng, K), B: awkward(rng, K), res: withRes ? awkward(rng, N * resChannels * PQ) : null,
          resScale: withRes ? awkward(rng, K) : null, resChannels, resC0: extra, yChannels, yC0: extra, bits: null,
        };
        const run = (simd: boolean): string[] => {
          setSimd(simd);
          const y = new Float32Array(N * yChannels * PQ).fill(7);
          xnorPointwiseForward(x, pointwiseTables(signs, C, K), y, N, H, W, e, null, stride);
          return values(y);
        };
        // the general kernel, as the engine runs it without SIMD: raw dots, then the epilogue
        const raw = new Float32Array(N * K * PQ), general = new Float32Array(N * yChannels * PQ).fill(7);
        xnorConv2d(x, signs, new Float32Array(K).fill(1), raw, {
          N, C, H, W, K, R: 1, S: 1, strideH: stride, strideW: stride, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 1, P, Q, wordsPerTap: (C + 31) >>> 5,
        });
        applyEpilogue(raw, general, N, K, PQ, e);
        const simd = run(true);
        expect(simd).toEqual(run(false));
        expect(simd).toEqual(values(general));
      }), { numRuns: 60 });
  });

  it('elementwise maps of training (ReLU, sign, activation gradients, add/sub/mul/div, scalar too): the same values with SIMD on and off', () => {
    fc.assert(fc.property(
      fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constantFrom(16390, 20000)), fc.integer({ min: 1, max: 3 }), fc.integer(),
      (n, nChunks, seed) => {
        const rng = new Random(seed);
        const a = awkward(rng, n), b = awkward(rng, n), s = awkward(rng, 1);
        // values about ±1 for the clipped gradients' edges, and some exactly ±1
        const x = Float32Array.from(a, (v, i) => (i % 7 === 0 ? (i % 2 ? 1 : -1) : i % 3 === 0 ? v / 2 : v));
        const run = (simd: boolean): string[] => {
          setSimd(simd);
          const outs: string[] = [];
          const go = (f: (c: number) => void): void => { for (let c = 0; c < nChunks; c++) f(c); };
          const relu = new Float32Array(n).fill(7);
          go((c) => unaryChunk([x, relu], [5], c, nChunks)); // 5: 'relu' in UNARY_OPS
          outs.push(...values(relu));
          const sign = new Float32Array(n).fill(7);
          go((c) => unaryChunk([x, sign], [8], c, nChunks)); // 8: 'sign'
          outs.push('|', ...values(sign));
          for (let op = 0; op < 3; op++) {
            const out = new Float32Array(n).fill(7);
            go((c) => activationGradChunk([x, b, out], [op], c, nChunks));
            outs.push('|', ...values(out));
          }
          for (let op = 0; op < 4; op++) {
            for (const rhs of [b, s]) {
              const out = new Float32Array(n).fill(7);
              go((c) => binaryChunk([a, rhs, out], [op], c, nChunks));
              outs.push('|', ...values(out));
            }
          }
          return outs;
        };
        expect(run(true)).toEqual(run(false));
      }), { numRuns: 15 });
  });
});
