/**
 * The fast CPU kernels (blocked GEMM, im2col convolutions, depthwise loops) against plain float64
 * loops written here, on random shapes. Tolerance: |fast - ref| <= 1e-4 · (1 + Σ|terms|), i.e.
 * float32 rounding of the operands and of partial sums over at most a few thousand terms.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outSize, type Conv2dGeometry } from '../../backends/backend.js';
import { conv2d, conv2dBackwardData, conv2dBackwardFilter, convSettings } from '../../backends/cpu/conv.js';
import { conv2dGeometry } from '../../ops/conv.js';
import { matmul } from '../../backends/cpu/gemm.js';
import { SUM_BLOCK, sum, sumSettings } from '../../backends/cpu/reduce.js';
import { gemmSums, setGemmSums } from '../../backends/cpu/sums.js';
import { winogradSettings } from '../../backends/cpu/winograd.js';
import { Random } from '../../core/index.js';

const TOL = 1e-4;

function randArray(n: number, rng: Random): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

/** Asserts |got - want| <= TOL * (1 + scale) elementwise; `scale` is Σ|terms| of each reference value. */
function expectClose(got: Float32Array, want: Float64Array, scale: Float64Array, what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= TOL * (1 + scale[i]))) {
      throw new Error(`${what}: element ${i}: got ${got[i]}, want ${want[i]} (scale ${scale[i]})`);
    }
  }
}

// ---- float64 references ---------------------------------------------------------------------------

function refMatmul(
  a: Float32Array, b: Float32Array, batch: number, M: number, K: number, N: number,
  transA: boolean, transB: boolean, aBS: number, bBS: number,
): [Float64Array, Float64Array] {
  const out = new Float64Array(batch * M * N), scale = new Float64Array(batch * M * N);
  for (let bt = 0; bt < batch; bt++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0, sa = 0;
        for (let k = 0; k < K; k++) {
          const av = transA ? a[bt * aBS + k * M + i] : a[bt * aBS + i * K + k];
          const bv = transB ? b[bt * bBS + j * K + k] : b[bt * bBS + k * N + j];
          s += av * bv;
          sa += Math.abs(av * bv);
        }
        out[(bt * M + i) * N + j] = s;
        scale[(bt * M + i) * N + j] = sa;
      }
    }
  }
  return [out, scale];
}

/** Calls visit(n, k, c, p, q, xIndex, wIndex, yIndex) for every multiply of the convolution. */
function eachTap(g: Conv2dGeometry, visit: (xi: number, wi: number, yi: number) => void): void {
  const { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q } = g;
  const Cg = C / groups, Kg = K / groups;
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
    const grp = Math.floor(k / Kg);
    for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
      for (let c = 0; c < Cg; c++) for (let r = 0; r < R; r++) for (let s = 0; s < S; s++) {
        const h = p * strideH - padH + r * dilationH, w = q * strideW - padW + s * dilationW;
        if (h < 0 || h >= H || w < 0 || w >= W) continue;
        visit(((n * C + grp * Cg + c) * H + h) * W + w, ((k * Cg + c) * R + r) * S + s, ((n * K + k) * P + p) * Q + q);
      }
    }
  }
}

function geometry(s: {
  N: number; C: number; H: number; W: number; K: number; kernel: number; stride: number | [number, number];
  padding: number | [number, number]; dilation: number | [number, number]; groups: number;
}): Conv2dGeometry {
  const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);
  const [sh, sw] = pair(s.stride), [ph, pw] = pair(s.padding), [dh, dw] = pair(s.dilation);
  return {
    N: s.N, C: s.C, H: s.H, W: s.W, K: s.K, R: s.kernel, S: s.kernel,
    strideH: sh, strideW: sw, padH: ph, padW: pw, dilationH: dh, dilationW: dw, groups: s.groups,
    P: outSize(s.H, s.kernel, sh, ph, dh), Q: outSize(s.W, s.kernel, sw, pw, dw),
  };
}

function checkConv(g: Conv2dGeometry, seed: number): void {
  const rng = new Random(seed);
  const { N, C, H, W, K, R, S, groups, P, Q } = g;
  const x = randArray(N * C * H * W, rng), w = randArray(K * (C / groups) * R * S, rng);
  const dy = randArray(N * K * P * Q, rng);
  const yRef = new Float64Array(dy.length), yScale = new Float64Array(dy.length);
  const dxRef = new Float64Array(x.length), dxScale = new Float64Array(x.length);
  const dwRef = new Float64Array(w.length), dwScale = new Float64Array(w.length);
  eachTap(g, (xi, wi, yi) => {
    yRef[yi] += x[xi] * w[wi]; yScale[yi] += Math.abs(x[xi] * w[wi]);
    dxRef[xi] += dy[yi] * w[wi]; dxScale[xi] += Math.abs(dy[yi] * w[wi]);
    dwRef[wi] += dy[yi] * x[xi]; dwScale[wi] += Math.abs(dy[yi] * x[xi]);
  });
  // outputs start as garbage: every kernel must overwrite
  const y = new Float32Array(dy.length).fill(NaN), dx = new Float32Array(x.length).fill(NaN);
  const dw = new Float32Array(w.length).fill(NaN);
  conv2d(x, w, y, g);
  conv2dBackwardData(dy, w, dx, g);
  conv2dBackwardFilter(x, dy, dw, g);
  const tag = JSON.stringify(g);
  expectClose(y, yRef, yScale, `conv2d ${tag}`);
  expectClose(dx, dxRef, dxScale, `conv2dBackwardData ${tag}`);
  expectClose(dw, dwRef, dwScale, `conv2dBackwardFilter ${tag}`);
}

// ---- matmul ------------------------------------------------------------------------------------------

describe('cpu matmul (blocked GEMM)', () => {
  it('matches float64 loops on random shapes, transposes and batch strides', () => {
    fc.assert(fc.property(
      fc.record({
        batch: fc.integer({ min: 1, max: 3 }),
        M: fc.integer({ min: 1, max: 40 }), K: fc.integer({ min: 1, max: 40 }), N: fc.integer({ min: 1, max: 40 }),
        transA: fc.boolean(), transB: fc.boolean(), broadcastA: fc.boolean(), broadcastB: fc.boolean(),
        seed: fc.integer({ min: 0, max: 1 << 30 }),
      }),
      (s) => {
        const rng = new Random(s.seed);
        const aBS = s.broadcastA ? 0 : s.M * s.K, bBS = s.broadcastB ? 0 : s.K * s.N;
        const a = randArray(Math.max(aBS * s.batch, s.M * s.K), rng), b = randArray(Math.max(bBS * s.batch, s.K * s.N), rng);
        const out = new Float32Array(s.batch * s.M * s.N).fill(NaN);
        matmul(a, b, out, s.batch, s.M, s.K, s.N, s.transA, s.transB, aBS, bBS);
        const [ref, scale] = refMatmul(a, b, s.batch, s.M, s.K, s.N, s.transA, s.transB, aBS, bBS);
        expectClose(out, ref, scale, `matmul ${JSON.stringify(s)}`);
      },
    ), { numRuns: 60 });
  });

  it('handles sizes that cross every block boundary (K > 256, N > 1024, M > 64)', () => {
    const rng = new Random(7);
    for (const [M, K, N] of [[67, 300, 5], [3, 520, 1030], [130, 9, 1]] as const) {
      const a = randArray(M * K, rng), b = randArray(K * N, rng);
      const out = new Float32Array(M * N);
      matmul(a, b, out, 1, M, K, N, false, false, 0, 0);
      const [ref, scale] = refMatmul(a, b, 1, M, K, N, false, false, 0, 0);
      expectClose(out, ref, scale, `matmul ${M}x${K}x${N}`);
    }
  });

  it('treats K = 0 as a zero product', () => {
    const out = new Float32Array(6).fill(NaN);
    matmul(new Float32Array(0), new Float32Array(0), out, 1, 2, 0, 3, false, false, 0, 0);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

// ---- convolution -------------------------------------------------------------------------------------

describe('cpu conv2d kernels (im2col GEMM, depthwise loops)', () => {
  it('match float64 loops on random geometries (stride, padding, dilation, groups)', () => {
    fc.assert(fc.property(
      fc.record({
        N: fc.integer({ min: 1, max: 2 }),
        groups: fc.integer({ min: 1, max: 3 }),
        cPer: fc.integer({ min: 1, max: 5 }),
        kPer: fc.integer({ min: 1, max: 6 }),
        kernel: fc.integer({ min: 1, max: 3 }),
        sh: fc.integer({ min: 1, max: 2 }), sw: fc.integer({ min: 1, max: 2 }),
        ph: fc.integer({ min: 0, max: 2 }), pw: fc.integer({ min: 0, max: 2 }),
        dh: fc.integer({ min: 1, max: 2 }), dw: fc.integer({ min: 1, max: 2 }),
        H: fc.integer({ min: 1, max: 9 }), W: fc.integer({ min: 1, max: 9 }),
        seed: fc.integer({ min: 0, max: 1 << 30 }),
      }).filter((s) => s.H + 2 * s.ph >= s.dh * (s.kernel - 1) + 1 && s.W + 2 * s.pw >= s.dw * (s.kernel - 1) + 1),
      (s) => {
        checkConv(geometry({
          N: s.N, C: s.groups * s.cPer, H: s.H, W: s.W, K: s.groups * s.kPer, kernel: s.kernel,
          stride: [s.sh, s.sw], padding: [s.ph, s.pw], dilation: [s.dh, s.dw], groups: s.groups,
        }), s.seed);
      },
    ), { numRuns: 80 });
  });

  it('match on depthwise geometries (groups = C, multiplier 1-2)', () => {
    fc.assert(fc.property(
      fc.record({
        N: fc.integer({ min: 1, max: 2 }), C: fc.integer({ min: 2, max: 6 }), mult: fc.integer({ min: 1, max: 2 }),
        kernel: fc.constantFrom(1, 3, 5), stride: fc.integer({ min: 1, max: 2 }), padding: fc.integer({ min: 0, max: 4 }),
        dilation: fc.integer({ min: 1, max: 2 }), H: fc.integer({ min: 1, max: 10 }), W: fc.integer({ min: 1, max: 10 }),
        seed: fc.integer({ min: 0, max: 1 << 30 }),
      }).filter((s) => Math.min(s.H, s.W) + 2 * s.padding >= s.dilation * (s.kernel - 1) + 1),
      (s) => {
        checkConv(geometry({ ...s, K: s.C * s.mult, groups: s.C }), s.seed);
      },
    ), { numRuns: 50 });
  });

  it('match on the Winograd path (3x3, stride 1, >= 8 channels per group) and with Winograd off', () => {
    fc.assert(fc.property(
      fc.record({
        N: fc.integer({ min: 1, max: 2 }), groups: fc.integer({ min: 1, max: 2 }),
        cPer: fc.integer({ min: 8, max: 11 }), kPer: fc.integer({ min: 8, max: 10 }),
        padding: fc.integer({ min: 0, max: 2 }), H: fc.integer({ min: 1, max: 9 }), W: fc.integer({ min: 1, max: 9 }),
        winograd: fc.boolean(), seed: fc.integer({ min: 0, max: 1 << 30 }),
      }).filter((s) => Math.min(s.H, s.W) + 2 * s.padding >= 3),
      (s) => {
        convSettings.winograd = s.winograd;
        try {
          checkConv(geometry({
            N: s.N, C: s.groups * s.cPer, H: s.H, W: s.W, K: s.groups * s.kPer, kernel: 3,
            stride: 1, padding: s.padding, dilation: 1, groups: s.groups,
          }), s.seed);
        } finally {
          convSettings.winograd = true;
        }
      },
    ), { numRuns: 30 });
  });

  it('sum the filter gradient over images in four partial sums, added in order (fixed numbers)', () => {
    // 8 images of one pixel, x = 1: the gradient is the sum of dy over images. In groups of two
    // images: (2^24 + 1) + (1 + 1) + (1 + 1) + (1 + 1) = 2^24 + 6 in float32 (2^24 + 1 rounds to 2^24,
    // then each 2 counts), where one running sum over the images gives 2^24 (every 1 is lost)
    const g = conv2dGeometry('test', [8, 1, 1, 1], [1, 1, 1, 1], {});
    const x = new Float32Array(8).fill(1), dy = Float32Array.of(2 ** 24, 1, 1, 1, 1, 1, 1, 1);
    const dw = new Float32Array(1).fill(NaN);
    conv2dBackwardFilter(x, dy, dw, g);
    expect(dw[0]).toBe(2 ** 24 + 6);
    // three images: groups of one image each, (2^24 + 1) + 1 = 2^24 in float32
    const g3 = conv2dGeometry('test', [3, 1, 1, 1], [1, 1, 1, 1], {});
    conv2dBackwardFilter(x.subarray(0, 3), Float32Array.of(2 ** 24, 1, 1), dw, g3);
    expect(dw[0]).toBe(2 ** 24);
  });

  it('match with the GEMM summing in float32 (sums.ts): im2col, 1x1, Winograd, past the blocks', () => {
    const before = gemmSums();
    setGemmSums('float32');
    try {
      checkConv(geometry({ N: 2, C: 6, H: 7, W: 5, K: 4, kernel: 3, stride: [2, 1], padding: [1, 2], dilation: 1, groups: 2 }), 11);
      checkConv(geometry({ N: 2, C: 7, H: 5, W: 4, K: 9, kernel: 1, stride: 1, padding: 0, dilation: 1, groups: 1 }), 12);
      checkConv(geometry({ N: 2, C: 16, H: 6, W: 7, K: 12, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1 }), 13);
      checkConv(geometry({ N: 1, C: 32, H: 6, W: 6, K: 5, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1 }), 14);
      checkConv(geometry({ N: 2, C: 2, H: 33, W: 34, K: 3, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1 }), 15);
    } finally {
      setGemmSums(before);
    }
  });

  it('match on shapes past the GEMM blocks (CRS > 256, PQ > 1024) and on 1x1 stride-1 convolutions', () => {
    checkConv(geometry({ N: 1, C: 32, H: 6, W: 6, K: 5, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1 }), 1);
    checkConv(geometry({ N: 2, C: 2, H: 33, W: 34, K: 3, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1 }), 2);
    checkConv(geometry({ N: 2, C: 7, H: 5, W: 4, K: 9, kernel: 1, stride: 1, padding: 0, dilation: 1, groups: 1 }), 3);
    checkConv(geometry({ N: 2, C: 6, H: 5, W: 4, K: 4, kernel: 1, stride: 1, padding: 0, dilation: 1, groups: 2 }), 4);
    checkConv(geometry({ N: 1, C: 12, H: 8, W: 8, K: 12, kernel: 5, stride: 1, padding: 4, dilation: 2, groups: 12 }), 5);
    // Winograd over several chunks of images (2 per chunk), odd output size
    const chunk = winogradSettings.chunkFloats;
    winogradSettings.chunkFloats = 2 * 16 * (24 + 16) * 4 * 5;
    try {
      checkConv(geometry({ N: 5, C: 24, H: 7, W: 9, K: 16, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1 }), 6);
    } finally {
      winogradSettings.chunkFloats = chunk;
    }
    // stride-1 data gradient with padding larger than the kernel reach (col2im path)
    checkConv(geometry({ N: 1, C: 3, H: 4, W: 4, K: 2, kernel: 3, stride: 1, padding: 3, dilation: 1, groups: 1 }), 7);
  });
});

describe('cpu sum (reductions)', () => {
  it('sums each row in float64, in order, and rounds once (fixed numbers)', () => {
    // float32 partial sums would lose the 1s beside 2^24; one float64 sum keeps them, rounded at the end
    const x = Float32Array.of(2 ** 24, 1, 1, -(2 ** 24), 0.5, -0, 3, 0.25);
    const out = new Float32Array(2).fill(NaN);
    sum(x, [2, 4], [1], out);
    expect([...out]).toEqual([2, 3.75]);
    // the whole tensor (one row of 8): a reduction over trailing axes that leaves nothing inside
    const all = new Float32Array(1).fill(NaN);
    sum(x, [2, 2, 2], [0, 1, 2], all);
    expect(all[0]).toBe(5.75);
    // -0 alone sums to +0, as a sum started at 0 does
    sum(Float32Array.of(-0, -0), [2], [0], all);
    expect(Object.is(all[0], 0)).toBe(true);
  });

  it('sums a long row in fixed blocks of four partial sums, rounding once (fixed numbers)', () => {
    const n = sumSettings.blockedMin, x = new Float32Array(2 * n), out = new Float32Array(2);
    // row 0: 2^60 and -2^60 in partial 0 of block 0, 1 in partial 1; in order, 2^60 + 1 loses the 1
    x[0] = 2 ** 60; x[1] = 1; x[4] = -(2 ** 60);
    // row 1: 2^60 and 1 in block 1, -2^60 in block 2: the blocks add in order, so the 1 is lost
    x[n + SUM_BLOCK] = 2 ** 60; x[n + SUM_BLOCK + 1] = 1; x[n + 2 * SUM_BLOCK] = -(2 ** 60);
    sum(x, [2, n], [1], out);
    expect([...out]).toEqual([1, 0]);
    const min = sumSettings.blockedMin;
    sumSettings.blockedMin = Infinity; // every row in order
    try {
      sum(x, [2, n], [1], out);
      expect([...out]).toEqual([0, 0]);
    } finally {
      sumSettings.blockedMin = min;
    }
  });

  it('sums long rows as the blocked reference does, for any length and tail (random rows)', () => {
    const reference = (x: Float32Array, base: number, n: number): number => {
      let total = 0;
      for (let b = 0; b < n; b += SUM_BLOCK) {
        const lanes = [0, 0, 0, 0];
        for (let i = b; i < Math.min(n, b + SUM_BLOCK); i++) lanes[(i - b) % 4] += x[base + i];
        total += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
      }
      return total;
    };
    const min = sumSettings.blockedMin;
    sumSettings.blockedMin = 1;
    try {
      fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 * SUM_BLOCK + 7 }), fc.integer(), (outer, red, seed) => {
        const rng = new Random(seed >>> 0);
        // small values, and pairs of 2^60 and -2^60 that cancel: a small value added while 2^60 is in a
        // partial sum is lost, so the order of the additions shows in the result
        const x = new Float32Array(outer * red).map(() => rng.normal());
        for (let o = 0; o < outer; o++) {
          for (let pair = 0; pair < 3; pair++) {
            x[o * red + rng.int(red)] = 2 ** 60;
            x[o * red + rng.int(red)] = -(2 ** 60);
          }
        }
        const out = new Float32Array(outer);
        sum(x, [outer, red], [1], out);
        for (let o = 0; o < outer; o++) expect(out[o]).toBe(Math.fround(reference(x, o * red, red)));
      }), { numRuns: 40 });
    } finally {
      sumSettings.blockedMin = min;
    }
  });

  it('matches a float64 loop over rows, and over rows with an inner run, on random shapes', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 4 }), fc.integer(),
      (outer, red, inner, seed) => {
        const rng = new Random(seed >>> 0);
        const x = randArray(outer * red * inner, rng);
        const out = new Float32Array(outer * inner);
        sum(x, [outer, red, inner], [1], out);
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < inner; i++) {
            let s = 0;
            for (let r = 0; r < red; r++) s += x[(o * red + r) * inner + i];
            expect(out[o * inner + i]).toBe(Math.fround(s));
          }
        }
      }), { numRuns: 60 });
  });
});
