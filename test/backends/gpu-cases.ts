/**
 * The cross-backend cases shared by the gpu-<mode> test files: every GPU kernel against the CPU
 * backend's kernel on random shapes (fast-check, few runs: each new shape compiles gpu.js kernels,
 * a few hundred milliseconds each for a convolution under Mesa's GL, where small constant loops are
 * unrolled).
 *
 * Tolerances (stated per kernel below):
 * - sums of products (matmul, conv2d and its gradients, avg pools, sums, batch-norm statistics):
 *   |gpu - cpu| <= 2e-5 · (1 + Σ|terms|), Σ|terms| being the same kernel run on |inputs|: float32
 *   rounding of partial sums taken in another order;
 * - elementwise: |gpu - cpu| <= 1e-6 + 4e-6 · |cpu| (GL's transcendentals are not correctly rounded);
 * - max pool, max reduction (values and winning indices) and the XNOR convolution: exactly equal.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { BinaryOp, Conv2dGeometry, Pool2dGeometry, UnaryOp, XnorConv2dGeometry } from '../../backends/backend.js';
import { packedWeightWords } from '../../backends/backend.js';
import { cpuBackend } from '../../backends/cpu/index.js';
import { createGpuBackend, type GpuBackend, type GpuMode } from '../../backends/gpu/index.js';
import { Random, Tensor, withBackend } from '../../core/index.js';
import { arbBroadcastPair, arbConvSettings, arbPoolSettings, type ConvSettings } from '../../ops/arbitraries.js';
import { conv2d as conv2dOp } from '../../ops/conv.js';
import { formatGradCheck, gradCheck } from '../../ops/gradcheck.js';
import { AvgPool2d, BatchNorm2d, Conv2d, GlobalAvgPool2d, Linear, MaxPool2d, ReLU, Sequential } from '../../ops/layers.js';
import { crossEntropy } from '../../ops/loss.js';

const cpu = cpuBackend;
const SUM_TOL = 2e-5;
const EW_ATOL = 1e-6, EW_RTOL = 4e-6;

export function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = new Random(seed), a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

const abs = (a: Float32Array) => a.map(Math.abs);

/** |got - want| <= tol · (1 + scale) elementwise. */
export function expectSums(got: Float32Array, want: Float32Array, scale: Float32Array, what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= SUM_TOL * (1 + scale[i]))) {
      throw new Error(`${what}: element ${i}: gpu ${got[i]}, cpu ${want[i]} (Σ|terms| ${scale[i]})`);
    }
  }
}

function expectElementwise(got: Float32Array, want: Float32Array, what: string): void {
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= EW_ATOL + EW_RTOL * Math.abs(want[i]))) {
      throw new Error(`${what}: element ${i}: gpu ${got[i]}, cpu ${want[i]}`);
    }
  }
}

function convGeometry(s: ConvSettings): Conv2dGeometry {
  return {
    N: s.N, C: s.C, H: s.H, W: s.W, K: s.K, R: s.kernel, S: s.kernel,
    strideH: s.stride, strideW: s.stride, padH: s.padding, padW: s.padding,
    dilationH: s.dilation, dilationW: s.dilation, groups: s.groups, P: s.P, Q: s.Q,
  };
}

const seed = fc.noBias(fc.integer({ min: 0, max: 0x7fffffff }));

/**
 * Declares the cross-backend suite for `mode`. `numRuns` bounds fast-check runs per property, and
 * `heavyRuns` those of the properties that compile three or four kernels per run (convolutions,
 * pools, batch-norm statistics); the whole suite compiles a few dozen kernels.
 */
export function defineGpuSuite(mode: GpuMode, numRuns: number, heavyRuns = numRuns): void {
  let backend: GpuBackend | null = null;
  const gpu = (): GpuBackend => (backend ??= createGpuBackend({ mode, minElements: 0 }));
  const runs = { numRuns };
  const heavy = { numRuns: heavyRuns };

  afterAll(async () => {
    if (!backend) return;
    // gpu.js must not have quietly run any kernel in another mode
    expect(backend.stats.degraded).toEqual([]);
    if (process.env.GPU_TEST_STATS) console.log(mode, JSON.stringify(backend.stats));
    await backend.destroy();
  });

  it(`describes itself as gpu.js (${mode})`, () => {
    expect(gpu().describe()).toBe(`gpu.js (${mode})`);
  });

  it('matmul equals the CPU kernel (batched, transposed, broadcast batches)', () => {
    fc.assert(fc.property(fc.record({
      batch: fc.integer({ min: 1, max: 3 }), M: fc.integer({ min: 1, max: 7 }), K: fc.integer({ min: 1, max: 9 }),
      N: fc.integer({ min: 1, max: 7 }), tA: fc.boolean(), tB: fc.boolean(), bcA: fc.boolean(), bcB: fc.boolean(), seed,
    }), ({ batch, M, K, N, tA, tB, bcA, bcB, seed: s }) => {
      const aS = bcA ? 0 : M * K, bS = bcB ? 0 : K * N;
      const a = rand(Math.max(aS * batch, M * K), s), b = rand(Math.max(bS * batch, K * N), s + 1);
      const run = (be: typeof cpu, x: Float32Array, y: Float32Array) => {
        const out = new Float32Array(batch * M * N);
        be.matmul(x, y, out, batch, M, K, N, tA, tB, aS, bS);
        return out;
      };
      expectSums(run(gpu(), a, b), run(cpu, a, b), run(cpu, abs(a), abs(b)), 'matmul');
    }), runs);
  });

  it('conv2d forward, backward-data and backward-filter equal the CPU kernels (stride, padding, dilation, groups)', () => {
    fc.assert(fc.property(arbConvSettings(), seed, (s, sd) => {
      const g = convGeometry(s);
      const x = rand(s.N * s.C * s.H * s.W, sd), w = rand(s.K * (s.C / s.groups) * s.kernel * s.kernel, sd + 1);
      const dy = rand(s.N * s.K * s.P * s.Q, sd + 2);
      /** Runs `kernel(a, b, out, g)` on the GPU, on the CPU, and on the CPU with |a|, |b| (Σ|terms|). */
      const check = (name: 'conv2d' | 'conv2dBackwardData' | 'conv2dBackwardFilter', a: Float32Array, b: Float32Array, n: number) => {
        const [got, want, scale] = [0, 1, 2].map(() => new Float32Array(n));
        gpu()[name](a, b, got, g);
        cpu[name](a, b, want, g);
        cpu[name](abs(a), abs(b), scale, g);
        expectSums(got, want, scale, name);
      };
      check('conv2d', x, w, dy.length);
      check('conv2dBackwardData', dy, w, x.length);
      check('conv2dBackwardFilter', x, dy, w.length);
    }), heavy);
  });

  it('depthwise and split-batch convolutions equal the CPU kernels (DARTS dil_conv 5x5, stride 2)', () => {
    const g: Conv2dGeometry = {
      N: 6, C: 8, H: 9, W: 9, K: 8, R: 5, S: 5, strideH: 2, strideW: 2, padH: 4, padW: 4,
      dilationH: 2, dilationW: 2, groups: 8, P: 5, Q: 5,
    };
    const x = rand(6 * 8 * 81, 11), w = rand(8 * 25, 12), dy = rand(6 * 8 * 25, 13);
    const y1 = new Float32Array(dy.length), y2 = new Float32Array(dy.length), y3 = new Float32Array(dy.length);
    gpu().conv2d(x, w, y1, g);
    cpu.conv2d(x, w, y2, g);
    cpu.conv2d(abs(x), abs(w), y3, g);
    expectSums(y1, y2, y3, 'depthwise conv2d');
    const d1 = new Float32Array(w.length), d2 = new Float32Array(w.length), d3 = new Float32Array(w.length);
    gpu().conv2dBackwardFilter(x, dy, d1, g);
    cpu.conv2dBackwardFilter(x, dy, d2, g);
    cpu.conv2dBackwardFilter(abs(x), abs(dy), d3, g);
    expectSums(d1, d2, d3, 'depthwise conv2dBackwardFilter (batch split in chunks)');
  });

  it('max and average pooling, forward and backward, equal the CPU kernels', () => {
    fc.assert(fc.property(arbPoolSettings(), seed, (s, sd) => {
      const g: Pool2dGeometry = {
        N: s.N, C: s.C, H: s.H, W: s.W, kH: s.kernel, kW: s.kernel, strideH: s.stride, strideW: s.stride,
        padH: s.padding, padW: s.padding, P: s.P, Q: s.Q,
      };
      const x = rand(s.N * s.C * s.H * s.W, sd), dy = rand(s.N * s.C * s.P * s.Q, sd + 1);
      const outs = () => [new Float32Array(dy.length), new Int32Array(dy.length)] as const;
      const [yg, ag] = outs(), [yc, ac] = outs();
      gpu().maxPool2d(x, yg, ag, g);
      cpu.maxPool2d(x, yc, ac, g);
      expect(yg).toEqual(yc);
      expect(ag).toEqual(ac);
      const dxg = new Float32Array(x.length), dxc = new Float32Array(x.length), dxs = new Float32Array(x.length);
      gpu().maxPool2dBackward(dy, ac, dxg, g);
      cpu.maxPool2dBackward(dy, ac, dxc, g);
      cpu.maxPool2dBackward(abs(dy), ac, dxs, g);
      expectSums(dxg, dxc, dxs, 'maxPool2dBackward');
      const ys = new Float32Array(dy.length);
      gpu().avgPool2d(x, yg, g);
      cpu.avgPool2d(x, yc, g);
      cpu.avgPool2d(abs(x), ys, g);
      expectSums(yg, yc, ys, 'avgPool2d');
      gpu().avgPool2dBackward(dy, dxg, g);
      cpu.avgPool2dBackward(dy, dxc, g);
      cpu.avgPool2dBackward(abs(dy), dxs, g);
      expectSums(dxg, dxc, dxs, 'avgPool2dBackward');
    }), heavy);
  });

  it('every unary op equals the CPU kernel', () => {
    const ops: [UnaryOp, number, number][] = [
      ['neg', -3, 3], ['exp', -8, 8], ['log', 1e-3, 50], ['sqrt', 0, 50], ['abs', -3, 3], ['relu', -3, 3],
      ['sigmoid', -20, 20], ['tanh', -12, 12], ['sign', -3, 3], ['square', -30, 30], ['reciprocal', 0.05, 20],
    ];
    for (const [op, lo, hi] of ops) {
      const x = rand(211, op.length, lo, hi);
      x[0] = 0; // sign(0) = +1, relu(0) = 0, ...
      if (op === 'log' || op === 'reciprocal') x[0] = lo;
      const got = new Float32Array(x.length), want = new Float32Array(x.length);
      gpu().unary(op, x, got);
      cpu.unary(op, x, want);
      expectElementwise(got, want, `unary ${op}`);
    }
  });

  it('binary ops with broadcasting equal the CPU kernel', () => {
    const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min'];
    fc.assert(fc.property(arbBroadcastPair({ maxRank: 4, maxDim: 4 }), fc.constantFrom(...ops), seed, ([as, bs], op, sd) => {
      const outShape = broadcast(as, bs);
      const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
      // pow: positive bases (any exponent) here; negative bases with whole exponents below
      const a = op === 'pow' ? rand(size(as), sd, 0.1, 3) : rand(size(as), sd);
      const b = op === 'div' ? rand(size(bs), sd + 1, 0.5, 2) : rand(size(bs), sd + 1, -2, 2);
      const got = new Float32Array(size(outShape)), want = new Float32Array(got.length);
      gpu().binary(op, a, as, b, bs, got, outShape);
      cpu.binary(op, a, as, b, bs, want, outShape);
      expectElementwise(got, want, `binary ${op} ${JSON.stringify(as)} ${JSON.stringify(bs)}`);
    }), { numRuns: numRuns * 2 });
    // JavaScript's pow on negative bases: whole exponents keep or flip the sign
    const a = Float32Array.of(-2, -1.5, -3, 0, 2, -0.5), b = Float32Array.of(2, 3, -1, 2, 0.5, 0);
    const got = new Float32Array(6), want = new Float32Array(6);
    gpu().binary('pow', a, [6], b, [6], got, [6]);
    cpu.binary('pow', a, [6], b, [6], want, [6]);
    expectElementwise(got, want, 'pow with negative bases');
  });

  it('sum and max over any axes equal the CPU kernels (max: same values and indices)', () => {
    const arbCase = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 })
      .chain((shape) => fc.tuple(fc.constant(shape), fc.subarray(shape.map((_, i) => i), { minLength: 1 }), seed));
    fc.assert(fc.property(arbCase, ([shape, axes, sd]) => checkReductions(gpu(), shape, axes, sd)), runs);
  });

  it('large reductions go through two stages and still equal the CPU kernels (ties included)', () => {
    // 3 outputs of 2000 elements each, over non-adjacent axes: split into chunks; integer data makes
    // ties within and across chunks, which must resolve to the lowest index as on the CPU
    checkReductions(gpu(), [40, 3, 50], [0, 2], 6, true);
  });

  it('batchNormStats equals the CPU kernel', () => {
    const dims = [fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 40 })] as const;
    fc.assert(fc.property(...dims, seed, (N, C, HW, sd) => {
      const x = rand(N * C * HW, sd, -2, 3);
      const [mg, vg, mc, vc] = [0, 1, 2, 3].map(() => new Float32Array(C));
      gpu().batchNormStats(x, N, C, HW, mg, vg);
      cpu.batchNormStats(x, N, C, HW, mc, vc);
      // Σ|terms| / count is at most 3 for the mean and 9 for the variance (|x| < 3)
      expectSums(mg, mc, new Float32Array(C).fill(3), 'batchNormStats mean');
      expectSums(vg, vc, new Float32Array(C).fill(9), 'batchNormStats variance');
    }), heavy);
  });

  const xnorHow = mode === 'headlessgl' ? 'GLSL ES 1.00: falls back to the CPU' : 'XNOR-popcount on gpu.js';
  it(`xnorConv2d equals the CPU kernel exactly (${xnorHow})`, () => {
    fc.assert(fc.property(arbConvSettings({ maxChannelsPerGroup: 40, maxGroups: 2 }), seed, (s, sd) => {
      const g: XnorConv2dGeometry = { ...convGeometry(s), wordsPerTap: Math.ceil(s.C / s.groups / 32) };
      const x = rand(s.N * s.C * s.H * s.W, sd), w = rand(s.K * (s.C / s.groups) * s.kernel * s.kernel, sd + 1);
      x[0] = 0; // sign(0) = +1
      const alpha = rand(s.K, sd + 2, 0.1, 1);
      const packed = new Uint32Array(packedWeightWords(g));
      gpu().packWeights(w, packed, g);
      const yg = new Float32Array(s.N * s.K * s.P * s.Q), yc = new Float32Array(yg.length);
      gpu().xnorConv2d(x, packed, alpha, yg, g);
      cpu.xnorConv2d(x, packed, alpha, yc, g);
      expect(yg).toEqual(yc);
    }), runs);
  });

  it('a small network trains to the same loss and gradients as on the CPU backend', () => {
    // conv, batch norm (training statistics), relu, both pools, a depthwise conv, linear, cross-entropy
    const net = (): Sequential => {
      const rng = new Random(7);
      return new Sequential(
        new Conv2d(3, 8, 3, { padding: 1, rng }), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
        new Conv2d(8, 8, 3, { padding: 1, groups: 8, rng }), new AvgPool2d(3, { stride: 1, padding: 1 }),
        new GlobalAvgPool2d(), new Linear(8, 5, true, rng));
    };
    const x = Tensor.from(rand(4 * 3 * 8 * 8, 31), [4, 3, 8, 8]);
    const labels = [0, 3, 1, 4];
    const step = (be: typeof cpu): [number, Float32Array[]] => withBackend(be, () => {
      const m = net();
      const loss = crossEntropy(m.forward(x) as Tensor, labels);
      loss.backward();
      return [loss.item(), m.parameters().map((p) => p.grad!.data)];
    });
    const [lossG, gradsG] = step(gpu()), [lossC, gradsC] = step(cpu);
    expect(Math.abs(lossG - lossC)).toBeLessThan(1e-5);
    gradsC.forEach((gc, i) => {
      for (let j = 0; j < gc.length; j++) {
        if (!(Math.abs(gradsG[i][j] - gc[j]) <= 1e-5 + 1e-3 * Math.abs(gc[j]))) {
          throw new Error(`parameter ${i} element ${j}: gpu grad ${gradsG[i][j]}, cpu grad ${gc[j]}`);
        }
      }
    });
  });

  it('a gradient check of conv2d passes through the GPU backend', () => {
    const x = Tensor.from(rand(2 * 4 * 5 * 5, 21), [2, 4, 5, 5], true);
    const w = Tensor.from(rand(6 * 2 * 3 * 3, 22), [6, 2, 3, 3], true);
    const b = Tensor.from(rand(6, 23), [6], true);
    const fn = (xi: Tensor, wi: Tensor, bi: Tensor) => conv2dOp(xi, wi, bi, { stride: 2, padding: 1, groups: 2 });
    const before = gpu().stats.runs;
    const rep = withBackend(gpu(), () => gradCheck(fn, [x, w, b], { samples: 24 }));
    expect(rep.ok, formatGradCheck(rep, [x, w, b])).toBe(true);
    expect(gpu().stats.runs).toBeGreaterThan(before); // the kernels really ran on gpu.js
  });
}

function broadcast(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length), out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1, db = b[b.length - r + i] ?? 1;
    out.push(da === 1 ? db : da);
  }
  return out;
}

function checkReductions(gpu: GpuBackend, shape: number[], axes: number[], sd: number, ties = false): void {
  const n = shape.reduce((p, d) => p * d, 1);
  const x = ties ? rand(n, sd, 0, 4).map(Math.floor) : rand(n, sd);
  const outN = shape.reduce((p, d, i) => (axes.includes(i) ? p : p * d), 1);
  const sg = new Float32Array(outN), sc = new Float32Array(outN), ss = new Float32Array(outN);
  gpu.sum(x, shape, axes, sg);
  cpu.sum(x, shape, axes, sc);
  cpu.sum(abs(x), shape, axes, ss);
  expectSums(sg, sc, ss, `sum ${JSON.stringify(shape)} over ${JSON.stringify(axes)}`);
  const mg = new Float32Array(outN), mc = new Float32Array(outN);
  const ag = new Int32Array(outN), ac = new Int32Array(outN);
  gpu.max(x, shape, axes, mg, ag);
  cpu.max(x, shape, axes, mc, ac);
  expect(mg).toEqual(mc);
  expect(ag).toEqual(ac);
}

/** The suite, or a skipped placeholder naming why `mode` is unavailable here. */
export function describeGpuMode(mode: GpuMode, problem: string | null, numRuns: number, heavyRuns = numRuns): void {
  if (problem) {
    describe.skip(`gpu backend, gpu.js ${mode} mode (skipped: ${problem})`, () => {
      it('cross-backend kernels', () => undefined);
    });
    console.warn(`gpu-${mode} tests skipped: ${problem}`);
    return;
  }
  // GPU_TEST_RUNS=n runs every property n times (a longer soak than CI's)
  const soak = Number(process.env.GPU_TEST_RUNS) || 0;
  describe(`gpu backend, gpu.js ${mode} mode, against the CPU backend`,
    () => defineGpuSuite(mode, soak || numRuns, soak || heavyRuns));
}
