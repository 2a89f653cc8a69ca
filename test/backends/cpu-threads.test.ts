/**
 * The kernel threads of the CPU backend (backends/cpu/threads.ts): every kernel that splits its work
 * gives the same bits with 1 and 2 threads, on random shapes; the workers really computed chunks; and
 * a process that used the pool exits by itself.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conv2dGeometry } from '../../ops/conv.js';
import { batchNormApply, batchNormBackward, batchNormStats } from '../../backends/cpu/batchnorm.js';
import { conv2d, conv2dBackwardData, conv2dBackwardFilter, convSettings } from '../../backends/cpu/conv.js';
import { splitEveryCallOnTwoThreads } from './two-threads.js';
import { activationGrad, binary, unary } from '../../backends/cpu/elementwise.js';
import { matmul } from '../../backends/cpu/gemm.js';
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward } from '../../backends/cpu/pool.js';
import { allocFloat32, chunkRange, clearShared, coresLookBusy, isShared, releaseFloat32, getThreads, parallel, setThreads, spinWhile, threadInfo, threadSettings, waitForThreads } from '../../backends/cpu/threads.js';
import { CHUNK_FUNCTIONS } from '../../backends/cpu/jobs.js';
import { Random } from '../../core/index.js';
import { packWeightSigns } from '../../backends/cpu/bitpack.js';
import { copyRows, fill } from '../../backends/cpu/copy.js';
import { SUM_BLOCK, sum, sumSettings } from '../../backends/cpu/reduce.js';
import { affine, groupMean, shiftPlanes, sliceAdd } from '../../backends/cpu/infer-ops.js';
import { maxPool2dInfer } from '../../backends/cpu/pool-infer.js';
import { xnorDepthwiseForward } from '../../backends/cpu/xnor-depthwise.js';
import { signThreshold, type PackedEpilogue } from '../../backends/cpu/xnor-epilogue.js';
import { pointwiseTables, xnorPointwiseForward } from '../../backends/cpu/xnor-pointwise.js';
import { PlanRunner } from '../../binary/runtime/execute.js';
import { compileChild } from '../../nas/compile.js';
import { randomChild } from '../binary/random-child.js';

splitEveryCallOnTwoThreads();

function rand(n: number, seed: number, shared: boolean): Float32Array {
  const rng = new Random(seed);
  const a = shared ? allocFloat32(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** The first index where a and b differ in bits (NaNs of the same bits agree), or -1; fast on long arrays. */
function firstDifference(a: Float32Array | Int32Array, b: Float32Array | Int32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** Runs `f` on the calling thread alone and then with the worker, returning both outputs. */
function both<T>(f: () => T): [T, T] {
  const min = threadSettings.minWork;
  threadSettings.minWork = Infinity; // one chunk: the calling thread's own loop
  const one = f();
  threadSettings.minWork = min;
  const two = f();
  return [one, two];
}

const convShape = fc.record({
  N: fc.integer({ min: 1, max: 6 }), groups: fc.constantFrom(1, 2), cPer: fc.integer({ min: 1, max: 12 }),
  kPer: fc.integer({ min: 1, max: 12 }), H: fc.integer({ min: 3, max: 14 }), W: fc.integer({ min: 3, max: 14 }),
  k: fc.constantFrom(1, 3, 5), stride: fc.constantFrom(1, 2), pad: fc.integer({ min: 0, max: 2 }),
  dilation: fc.constantFrom(1, 2), depthwise: fc.boolean(), winograd: fc.boolean(), shared: fc.boolean(),
}).filter((s) => (s.k - 1) * s.dilation + 1 <= Math.min(s.H, s.W) + 2 * s.pad);

describe('cpu kernels: 1 thread and 2 threads give identical bits', () => {
  it('conv2d forward, data gradient and filter gradient (im2col, 1x1, Winograd, depthwise)', () => {
    const before = threadInfo().workerChunks;
    fc.assert(fc.property(convShape, (s) => {
      const C = s.depthwise ? 4 * s.cPer : s.groups * s.cPer;
      const groups = s.depthwise ? C : s.groups;
      const K = s.depthwise ? C : s.groups * s.kPer;
      const g = conv2dGeometry('test', [s.N, C, s.H, s.W], [K, C / groups, s.k, s.k],
        { stride: s.stride, padding: s.pad, dilation: s.dilation, groups });
      const x = rand(g.N * C * s.H * s.W, 1, s.shared), w = rand(K * (C / groups) * s.k * s.k, 2, s.shared);
      const dy = rand(g.N * K * g.P * g.Q, 3, s.shared);
      convSettings.winograd = s.winograd;
      try {
        const [a, b] = both(() => {
          const y = new Float32Array(g.N * K * g.P * g.Q), dx = new Float32Array(x.length), dw = new Float32Array(w.length);
          conv2d(x, w, y, g);
          conv2dBackwardData(dy, w, dx, g);
          conv2dBackwardFilter(x, dy, dw, g);
          return [y, dx, dw];
        });
        for (let i = 0; i < 3; i++) expect(firstDifference(b[i], a[i]), `output ${i}`).toBe(-1);
      } finally {
        convSettings.winograd = true;
      }
    }), { numRuns: 60, seed: 11 });
    // the second thread did part of the work
    expect(threadInfo().workerChunks).toBeGreaterThan(before);
  });

  it('Winograd: the weights transformed once in filter chunks (groups cut mid-way), the images in image chunks', () => {
    // the shapes above reach Winograd (3x3, stride 1, >= 8 channels per group) in few runs: here every run
    const before = threadInfo().workerChunks;
    fc.assert(fc.property(
      fc.record({
        N: fc.integer({ min: 1, max: 5 }), groups: fc.integer({ min: 1, max: 3 }), cPer: fc.integer({ min: 8, max: 19 }),
        kPer: fc.integer({ min: 8, max: 19 }), H: fc.integer({ min: 2, max: 11 }), W: fc.integer({ min: 2, max: 11 }),
        pad: fc.integer({ min: 0, max: 2 }), shared: fc.boolean(),
      }).filter((s) => Math.min(s.H, s.W) + 2 * s.pad >= 3),
      (s) => {
        const C = s.groups * s.cPer, K = s.groups * s.kPer;
        const g = conv2dGeometry('test', [s.N, C, s.H, s.W], [K, s.cPer, 3, 3], { padding: s.pad, groups: s.groups });
        const x = rand(g.N * C * s.H * s.W, 4, s.shared), w = rand(K * s.cPer * 9, 5, s.shared);
        const dy = rand(g.N * K * g.P * g.Q, 6, s.shared);
        const [a, b] = both(() => {
          const y = new Float32Array(g.N * K * g.P * g.Q), dx = new Float32Array(x.length);
          conv2d(x, w, y, g);
          conv2dBackwardData(dy, w, dx, g);
          return [y, dx];
        });
        for (let i = 0; i < 2; i++) expect(firstDifference(b[i], a[i]), `output ${i}`).toBe(-1);
      },
    ), { numRuns: 30, seed: 12 });
    expect(threadInfo().workerChunks).toBeGreaterThan(before);
  });

  it('matmul (batched, transposed, broadcast), split by batch entries or by columns', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 90 }),
      fc.boolean(), fc.boolean(), fc.boolean(),
      (batch, M, K, N, tA, tB, broadcastB) => {
        const m = M;
        const a = rand(batch * m * K, 4, true), b = rand((broadcastB ? 1 : batch) * K * N, 5, false);
        const [o1, o2] = both(() => {
          const out = new Float32Array(batch * m * N);
          matmul(a, b, out, batch, m, K, N, tA, tB, m * K, broadcastB ? 0 : K * N);
          return out;
        });
        expect(firstDifference(o2, o1)).toBe(-1);
      }), { numRuns: 60, seed: 12 });
  });

  it('max and average pooling with their gradients, and batch norm (statistics, affine map, backward)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 2, max: 20 }),
      fc.constantFrom(2, 3), fc.constantFrom(1, 2), fc.integer({ min: 0, max: 1 }),
      (n, C, H, k, stride, pad) => {
        const N = n;
        const P = Math.floor((H + 2 * pad - k) / stride) + 1;
        const g = { N, C, H, W: H, kH: k, kW: k, strideH: stride, strideW: stride, padH: pad, padW: pad, P, Q: P };
        const x = rand(N * C * H * H, 6, true), dy = rand(N * C * P * P, 7, true);
        const [r1, r2] = both(() => {
          const y = new Float32Array(N * C * P * P), am = new Int32Array(y.length), dx = new Float32Array(x.length);
          const ya = new Float32Array(y.length), dxa = new Float32Array(x.length);
          const mean = new Float32Array(C), variance = new Float32Array(C);
          maxPool2d(x, y, am, g);
          maxPool2dBackward(dy, am, dx, g);
          avgPool2d(x, ya, g);
          avgPool2dBackward(dy, dxa, g);
          batchNormStats(x, N, C, H * H, mean, variance);
          const invStd = variance.map((v) => 1 / Math.sqrt(v + 1e-5)), w = rand(C, 8, false), b = rand(C, 9, false);
          const yb = new Float32Array(x.length), dxb = new Float32Array(x.length), dw = new Float32Array(C), db = new Float32Array(C);
          const dxr = new Float32Array(x.length);
          batchNormApply(x, yb, N, C, H * H, mean, invStd, w, b);
          batchNormBackward(yb, x, N, C, H * H, mean, invStd, w, true, dxb, dw, db);
          batchNormBackward(yb, x, N, C, H * H, mean, invStd, null, false, dxr, null, null);
          return [y, am, dx, ya, dxa, mean, variance, yb, dxb, dw, db, dxr];
        });
        for (let i = 0; i < r1.length; i++) expect(firstDifference(r2[i], r1[i]), `output ${i}`).toBe(-1);
      }), { numRuns: 40, seed: 13 });
  });

  it('elementwise maps: every unary op, activation gradient, same-shape and scalar binary ops', () => {
    const before = threadInfo().workerChunks;
    fc.assert(fc.property(fc.integer({ min: 1, max: 200_000 }), fc.boolean(), (n, scalar) => {
      const x = rand(n, 8, true), y = rand(scalar ? 1 : n, 9, n % 2 === 0);
      const [r1, r2] = both(() => {
        const outs: Float32Array[] = [];
        for (const op of ['neg', 'exp', 'log', 'sqrt', 'abs', 'relu', 'sigmoid', 'tanh', 'sign', 'square', 'reciprocal'] as const) {
          const o = new Float32Array(n);
          unary(op, x, o);
          outs.push(o);
        }
        for (const op of ['relu', 'clip', 'approxSign'] as const) {
          const o = new Float32Array(n), g = rand(n, 10, false);
          activationGrad(op, x, g, o);
          outs.push(o);
        }
        for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min'] as const) {
          const o = new Float32Array(n);
          binary(op, x, [n], y, [y.length], o, [n]);
          outs.push(o);
        }
        return outs;
      });
      for (let i = 0; i < r1.length; i++) expect(firstDifference(r2[i], r1[i]), `output ${i}`).toBe(-1);
    }), { numRuns: 15, seed: 14 });
    expect(threadInfo().workerChunks).toBeGreaterThan(before);
  });
});

describe('the inference engine on 1 and 2 threads gives identical bits', () => {
  /** An epilogue over a slice of larger buffers, with a scaled shortcut, or with sign bits out. */
  function epilogue(K: number, N: number, PQ: number, seed: number, bits: boolean, outWords: number): PackedEpilogue {
    const rng = new Random(seed);
    const A = Float32Array.from({ length: K }, () => rng.normal()), B = Float32Array.from({ length: K }, () => rng.normal());
    if (bits) {
      const t = Array.from({ length: K }, (_, k) => signThreshold(A[k], B[k]));
      return { A: new Float32Array(0), B: new Float32Array(0), res: null, resScale: null, resChannels: K, resC0: 0, yChannels: K, yC0: 0,
        bits: { out: new Int32Array(outWords), dir: Float32Array.from(t, (v) => v.dir), val: Float32Array.from(t, (v) => v.val) } };
    }
    return { A, B, res: rand(N * (K + 2) * PQ, seed + 1, seed % 2 === 0), resScale: rand(K, seed + 2, false), resChannels: K + 2, resC0: 1,
      yChannels: K + 3, yC0: 2, bits: null };
  }

  it('the packed depthwise and pointwise kernels, float or bits out', () => {
    const before = threadInfo().workerChunks;
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 20 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 3, max: 40 }),
      fc.constantFrom(1, 2), fc.constantFrom(1, 2), fc.boolean(), fc.integer({ min: 1, max: 1e6 }),
      (N, C, K, H, stride, dil, bits, seed) => {
        const rng = new Random(seed);
        const P = Math.floor((H + 2 * dil - 2 * dil - 1) / stride) + 1;
        const g = { N, C, H, W: H, K: C, R: 3, S: 3, strideH: stride, strideW: stride, padH: dil, padW: dil, dilationH: dil, dilationW: dil, groups: C, P, Q: P };
        const x = rand(N * C * H * H, seed, seed % 3 === 0);
        const w = Float32Array.from({ length: C * 9 }, () => rng.normal());
        const signs = new Uint32Array(Math.ceil(w.length / 32));
        packWeightSigns(w, signs, { ...g, wordsPerTap: 1 });
        const wp = Float32Array.from({ length: K * C }, () => rng.normal());
        const sp = new Uint32Array(Math.ceil(wp.length / 32));
        packWeightSigns(wp, sp, { N, C, H, W: H, K, R: 1, S: 1, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 1, P: H, Q: H, wordsPerTap: 1 });
        const tables = pointwiseTables(sp, C, K);
        const [r1, r2] = both(() => {
          const ed = epilogue(C, N, P * P, seed + 3, bits, N * C * P * Math.ceil(P / 32));
          const yd = new Float32Array(N * (C + 3) * P * P);
          xnorDepthwiseForward(x, signs, yd, g, ed);
          const ep = epilogue(K, N, H * H, seed + 4, bits, N * K * H * Math.ceil(H / 32));
          const yp = new Float32Array(N * (K + 3) * H * H);
          xnorPointwiseForward(x, tables, yp, N, H, H, ep);
          return [yd, ed.bits?.out ?? new Int32Array(0), yp, ep.bits?.out ?? new Int32Array(0)];
        });
        for (let i = 0; i < r1.length; i++) expect(firstDifference(r2[i], r1[i]), `output ${i}`).toBe(-1);
      }), { numRuns: 40, seed: 15 });
    expect(threadInfo().workerChunks).toBeGreaterThan(before);
  });

  it('max pooling for inference, group means, sums into a slice, affine maps, shifted planes', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 2, max: 20 }), fc.constantFrom(2, 3),
      fc.constantFrom(1, 2), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 4 }), fc.boolean(),
      (N, C, H, k, stride, pad, groups, relu) => {
        const P = Math.floor((H + 2 * pad - k) / stride) + 1, HW = H * H;
        const g = { N, C, H, W: H, kH: k, kW: k, strideH: stride, strideW: stride, padH: pad, padW: pad, P, Q: P };
        const x = rand(N * groups * C * HW, 16, true), b = rand(N * C * HW, 17, false);
        const [r1, r2] = both(() => {
          const yp = new Float32Array(N * C * P * P), ym = new Float32Array(N * C * HW), ys = new Float32Array(N * (C + 2) * HW);
          const ya = new Float32Array(N * C * HW), yh = new Float32Array(N * C * P * P);
          maxPool2dInfer(x, yp, g);
          groupMean(x, ym, N, C, HW, groups);
          sliceAdd(ym, b, ys, N, C, HW, C + 2, 1);
          affine(b, ya, rand(C, 18, false), rand(C, 19, false), N, C, HW, relu);
          shiftPlanes(b, yh, N * C, H, H, P, P);
          return [yp, ym, ys, ya, yh];
        });
        for (let i = 0; i < r1.length; i++) expect(firstDifference(r2[i], r1[i]), `output ${i}`).toBe(-1);
      }), { numRuns: 40, seed: 16 });
    expect(threadInfo().failure).toBeNull();
  });

  it('row copies (the box copies of concat, slice, pad): the rows a loop copies, the rest kept', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 70 }),
      fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }),
      (rows, len, srcGap, dstGap, srcOff, dstOff) => {
        const srcStride = len + srcGap, dstStride = len + dstGap;
        const src = rand(srcOff + rows * srcStride, 23, true), before = rand(dstOff + rows * dstStride, 24, true);
        const want = before.slice();
        for (let r = 0; r < rows; r++) for (let i = 0; i < len; i++) want[dstOff + r * dstStride + i] = src[srcOff + r * srcStride + i];
        const [one, two] = both(() => {
          const dst = allocFloat32(before.length);
          dst.set(before);
          copyRows(src, srcOff, srcStride, dst, dstOff, dstStride, len, rows);
          return dst;
        });
        expect(firstDifference(one, want)).toBe(-1);
        expect(firstDifference(two, want)).toBe(-1);
      }), { numRuns: 40, seed: 25 });
    expect(threadInfo().failure).toBeNull();
  });

  it('fills: what TypedArray.fill writes, on 1 and 2 threads, the rest kept', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 70_000 }), fc.nat(), fc.nat(),
      fc.oneof(fc.constantFrom(0, -0, NaN, 1.5), fc.double({ noNaN: true })), (n, a, b, value) => {
        const start = a % (n + 1), end = start + (b % (n - start + 1));
        const before = rand(n, 27, true);
        const want = before.slice().fill(value, start, end);
        const [one, two] = both(() => {
          const x = allocFloat32(n);
          x.set(before);
          fill(x, value, start, end);
          return x;
        });
        expect(firstDifference(one, want)).toBe(-1);
        expect(firstDifference(two, want)).toBe(-1);
      }), { numRuns: 30, seed: 28 });
    expect(threadInfo().failure).toBeNull();
  });

  it('long sums: the blocks summed on every thread, added in order (the bits of one thread)', () => {
    const min = sumSettings.blockedMin;
    sumSettings.blockedMin = 1; // every row in blocks, so that small arrays reach the threaded path
    try {
      fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 * SUM_BLOCK + 5 }), fc.integer({ min: 0, max: 1000 }),
        (outer, red, seed) => {
          const x = rand(outer * red, seed, true);
          // pairs of 2^40 and -2^40 that cancel: the small values added beside them lose low bits, so
          // the order of the additions shows in the result, and so does any value left out
          for (let i = 0; i + 1 < x.length; i += 97) { x[i] = 2 ** 40; x[i + 1] = -(2 ** 40); }
          expect(isShared(x) || x.length < 2048).toBe(true);
          const [one, two] = both(() => {
            const out = new Float32Array(outer);
            sum(x, [outer, red], [1], out);
            return out;
          });
          expect(firstDifference(two, one)).toBe(-1);
        }), { numRuns: 30, seed: 26 });
    } finally {
      sumSettings.blockedMin = min;
    }
    expect(threadInfo().failure).toBeNull();
  });

  it('sums over a middle axis (a channel-group mean): runs of outputs on every thread, each the in-order float64 sum', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 1000 }),
      (outer, red, inner, seed) => {
        const x = rand(outer * red * inner, seed, true);
        // a 2^40 and a -2^40 in the same output's run: the values added between them lose low bits,
        // so the order of the additions shows, and so does any value left out
        for (let i = 0; i + 2 * inner < x.length; i += 89) { x[i] = 2 ** 40; x[i + inner] = -(2 ** 40); }
        const [one, two] = both(() => {
          const out = allocFloat32(outer * inner);
          sum(x, [outer, red, inner], [1], out);
          return out;
        });
        expect(firstDifference(two, one)).toBe(-1);
        const want = new Float32Array(outer * inner);
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < inner; i++) {
            let s = 0;
            for (let r = 0; r < red; r++) s += x[(o * red + r) * inner + i];
            want[o * inner + i] = s;
          }
        }
        expect(firstDifference(one, want)).toBe(-1);
      }), { numRuns: 30, seed: 27 });
    // sums start from +0, so negative zeros add up to +0 (as the in-order sum gives)
    const zeros = allocFloat32(2 * 3 * 3000).fill(-0);
    const [one, two] = both(() => {
      const out = allocFloat32(2 * 3000);
      sum(zeros, [2, 3, 3000], [1], out);
      return out;
    });
    expect(firstDifference(one, new Float32Array(2 * 3000))).toBe(-1);
    expect(firstDifference(two, one)).toBe(-1);
    expect(threadInfo().failure).toBeNull();
  });

  it('a whole Child plan: the same logits on any thread count', () => {
    for (const childBlock of ['bireal', 'paper'] as const) {
      const net = randomChild(21, { cells: 3, channels: 6, inputChannels: 3, childBlock });
      const rng = new Random(22);
      const x = Float32Array.from({ length: 3 * 3 * 12 * 12 }, () => rng.normal());
      const plan = compileChild(net, [3, 12, 12]);
      setThreads(1);
      const one = new PlanRunner(plan).run(x, 3);
      setThreads(2);
      const before = threadInfo().workerChunks;
      // its jobs are tiny: on a loaded machine the calling thread can take every chunk of a run before
      // a worker wakes (1 run in about 6 here), so the runs repeat, each with the same bits, until
      // the workers have served some
      for (let run = 0; run < 20 && (run === 0 || threadInfo().workerChunks === before); run++) {
        const two = new PlanRunner(plan).run(x, 3);
        expect(firstDifference(two, one), childBlock).toBe(-1);
      }
      // the same logits would come from this thread alone: the workers must really have served jobs
      expect(threadInfo().failure, childBlock).toBeNull();
      expect(threadInfo().workerChunks, childBlock).toBeGreaterThan(before);
    }
  });
});

describe('the worker pool', () => {
  it('every job a kernel hands to parallel() finds its chunk function in the workers\' table', async () => {
    // a name missing from jobs.ts breaks the worker at its first such job; the caller computes that
    // job itself (right values) and every later call runs on one thread: only this check sees it
    const dir = fileURLToPath(new URL('../../backends/cpu/', import.meta.url));
    const calls: [string, string, string][] = [];
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts') && !n.endsWith('.d.ts'))) {
      for (const m of readFileSync(dir + f, 'utf8').matchAll(/\bparallel\(\s*'(\w+)',\s*(\w+)/g)) calls.push([f, m[1], m[2]]);
    }
    expect(calls.length).toBeGreaterThan(20);
    for (const [f, name, fn] of calls) {
      const mod = (await import(`../../backends/cpu/${f.replace(/\.ts$/, '.js')}`)) as Record<string, unknown>;
      expect(CHUNK_FUNCTIONS[name], `${f}: job '${name}'`).toBeDefined();
      expect(CHUNK_FUNCTIONS[name] === mod[fn], `${f}: job '${name}' is ${fn}`).toBe(true);
    }
  });

  it('a worker that broke is noticed at a later call, even when the caller took every chunk of the job that broke it', () => {
    const x = rand(64 * 1024, 30, true), y = allocFloat32(x.length);
    unary('relu', x, y);
    expect(threadInfo().failure).toBeNull();
    // a job that no worker knows: a worker that takes it stops; this thread computes the job itself
    const out = allocFloat32(8);
    parallel('noSuchJob', (arrays, _p, c, n) => {
      const [i0, i1] = chunkRange(8, c, n);
      (arrays[0] as Float32Array).fill(7, i0, i1);
    }, [{ a: out, out: true }], [], 8);
    expect([...out]).toEqual(new Array(8).fill(7));
    // the worker stops on its own time: later calls find out (within seconds) and run on this thread
    const sleep = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 100 && threadInfo().failure === null; i++) {
      Atomics.wait(sleep, 0, 0, 20);
      unary('relu', x, y);
    }
    expect(threadInfo().failure).toMatch(/worker (broke|stopped).*'noSuchJob'/);
    expect(getThreads()).toBe(1);
    expect(threadInfo().running).toBe(false);
    // asking for threads again starts a fresh pool
    setThreads(2);
    expect(threadInfo().failure).toBeNull();
    expect(waitForThreads(120_000)).toBe(true);
    const big = rand(1 << 22, 31, true), bigY = allocFloat32(big.length);
    for (let i = 0; i < 20 && threadInfo().workerChunks === 0; i++) unary('exp', big, bigY);
    expect(threadInfo().workerChunks).toBeGreaterThan(0);
  }, 130_000);

  it('backs off to one thread only on timings that show busy cores, not on a call too short for a worker to wake', () => {
    const { wakeMs } = threadSettings;
    expect(wakeMs).toBe(2);
    // the workers took nothing: busy only if this thread worked long enough for a worker to wake
    expect(coresLookBusy(8, 8, 0.4, 0.5)).toBe(false);
    expect(coresLookBusy(8, 8, 1.9, 2.0)).toBe(false);
    expect(coresLookBusy(8, 8, 2.5, 2.6)).toBe(true);
    // shared: busy only when clearly slower than this thread alone (mine 4 of 8 in 4 ms: alone 8 ms)
    expect(coresLookBusy(4, 8, 4, 8.5)).toBe(false);
    expect(coresLookBusy(4, 8, 4, 9.9)).toBe(false);
    expect(coresLookBusy(4, 8, 4, 10.1)).toBe(true);
    expect(coresLookBusy(1, 8, 0.1, 1.5)).toBe(false); // short: noise
    expect(coresLookBusy(0, 8, 0, 50)).toBe(false); // this thread took nothing: the workers kept up
  });

  it('hands a released shared array out again zero-filled', () => {
    const n = 1 << 16, junk = allocFloat32(n);
    expect(isShared(junk)).toBe(true);
    junk.fill(3.5);
    releaseFloat32(junk);
    const again = Array.from({ length: 3 }, () => allocFloat32(n)).find((a) => a.buffer === junk.buffer);
    expect(again, 'the released array is handed out again').toBeDefined();
    expect(again?.every((v) => v === 0)).toBe(true);
    // clearShared zeros a longer array than any before it, and only its own values
    const big = allocFloat32(3 * n).fill(-1), neighbour = allocFloat32(n).fill(2);
    clearShared(big);
    expect(big.every((v) => v === 0)).toBe(true);
    expect(neighbour.every((v) => v === 2)).toBe(true);
  });

  it('polls a slot while it holds, for a bounded time (how workers wait for the next job before they sleep)', () => {
    const ctrl = new Int32Array(new SharedArrayBuffer(8));
    ctrl[1] = 5;
    expect(spinWhile(ctrl, 1, (v) => v === 4, 1000)).toBe(5); // not waiting: returns at once
    expect(spinWhile(ctrl, 1, (v) => v === 5, 0)).toBe(5); // no spin
    const t0 = performance.now();
    expect(spinWhile(ctrl, 1, (v) => v === 5, 20)).toBe(5); // gives up after about 20 ms
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(20);
    expect(took).toBeLessThan(5000);
  });

  it('gives the same bits with the workers sleeping at once and polling long between jobs', () => {
    const spin = threadSettings.spinMs;
    const run = (ms: number): Float32Array => {
      threadSettings.spinMs = ms;
      const g = { N: 4, C: 8, H: 12, W: 12, K: 8, R: 3, S: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 8, P: 12, Q: 12 };
      const x = rand(4 * 8 * 144, 1, true), w = rand(8 * 9, 2, false), y = allocFloat32(x.length);
      for (let r = 0; r < 3; r++) conv2d(x, w, y, g); // jobs back to back: the worker polls between them
      return y.slice();
    };
    try {
      expect(firstDifference(run(0), run(50))).toBe(-1);
    } finally {
      threadSettings.spinMs = spin;
    }
  });

  it('setThreads refuses a count that is not a positive integer', () => {
    expect(() => setThreads(0)).toThrow(/integer >= 1, got 0/);
    expect(() => setThreads(1.5)).toThrow(/integer >= 1/);
  });

  const built = fileURLToPath(new URL('../../dist/backends/cpu/index.js', import.meta.url));
  it.skipIf(!existsSync(built))('a process that ran kernels on 2 threads exits by itself', () => {
    const script = `
      import { conv2d } from ${JSON.stringify(new URL('../../dist/backends/cpu/conv.js', import.meta.url).href)};
      import { setThreads, threadInfo } from ${JSON.stringify(new URL('../../dist/backends/cpu/threads.js', import.meta.url).href)};
      setThreads(2);
      const g = { N: 64, C: 16, H: 16, W: 16, K: 16, R: 3, S: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 1, P: 16, Q: 16 };
      const x = new Float32Array(64 * 16 * 256).fill(1), w = new Float32Array(16 * 16 * 9).fill(0.5), y = new Float32Array(x.length);
      conv2d(x, w, y, g);
      console.log(JSON.stringify({ running: threadInfo().running, y: y[300] }));
    `;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ running: true, y: 72 });
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});
