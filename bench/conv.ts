/**
 * Float convolution and matmul timings on the CPU backend: the reference rows of shared/BENCH.md
 * (conv_s|m|l.fwd, conv_s|m|l.fwd_bwd, matmul_512), a depthwise case of the kind the DARTS cells
 * use (sep_conv / dil_conv), and conv_m's forward without Winograd (the im2col + GEMM path that
 * other kernel sizes take). Everything goes through the public ops, as training does:
 *
 *   fwd      y = conv2d(x, w, null, { padding: 1 })                 (under noGrad)
 *   fwd_bwd  loss = sum(conv2d(x, w) * dy); loss.backward()         (gradients for x and w)
 *
 * ms is the median of one call (tinybench); gflops counts 2·N·H·W·C·K·R·S per forward, 3x for fwd_bwd.
 */
import { Bench } from 'tinybench';
import { convSettings } from '../backends/cpu/conv.js';
import { getThreads } from '../backends/cpu/threads.js';
import { simdEnabled } from '../backends/cpu/simd/simd.js';
import { Random, Tensor, noGrad, setBackend } from '../core/index.js';
import { mul } from '../ops/arithmetic.js';
import { conv2d } from '../ops/conv.js';
import { matmul } from '../ops/matmul.js';
import { sum } from '../ops/reduce.js';
import type { BenchOptions, BenchRow, BenchSuite } from './types.js';

/** NCHW reference shapes (BENCH.md): 3x3 kernels, stride 1, padding 1. */
export const CONV_SHAPES = {
  conv_s: { N: 32, C: 16, H: 32, K: 16 },
  conv_m: { N: 16, C: 64, H: 16, K: 64 },
  conv_l: { N: 8, C: 128, H: 16, K: 128 },
} as const;

/** One timed case: a name, its FLOPs, and the call to time (bench/scaling.ts times the same cases). */
export interface Case {
  bench: string;
  flops: number;
  note?: string;
  fn: () => void;
}

/** Median milliseconds of one call of each case, measured by tinybench. */
async function measure(cases: Case[], quick: boolean): Promise<Map<string, number>> {
  const bench = new Bench({
    // a few calls of a 100 ms kernel already give a stable median; keep the whole suite short
    iterations: quick ? 3 : 10,
    time: quick ? 0 : 500,
    warmupIterations: quick ? 1 : 2,
    warmupTime: 0,
    throws: true,
  });
  for (const c of cases) bench.add(c.bench, c.fn);
  await bench.run();
  const out = new Map<string, number>();
  for (const t of bench.tasks) {
    const r = t.result;
    if (r.state === 'completed' || r.state === 'aborted-with-statistics') out.set(t.name, r.latency.p50);
  }
  return out;
}

function convCases(rng: Random): Case[] {
  const cases: Case[] = [];
  for (const [name, s] of Object.entries(CONV_SHAPES)) {
    const x = Tensor.randn([s.N, s.C, s.H, s.H], 1, rng, true);
    const w = Tensor.randn([s.K, s.C, 3, 3], 0.1, rng, true);
    const dy = Tensor.randn([s.N, s.K, s.H, s.H], 1, rng);
    const flops = 2 * s.N * s.H * s.H * s.C * s.K * 9;
    cases.push({ bench: `${name}.fwd`, flops, fn: () => { noGrad(() => conv2d(x, w, null, { padding: 1 })); } });
    if (name === 'conv_m') {
      // the same forward without Winograd: the im2col + GEMM path that other kernel sizes take
      cases.push({
        bench: `${name}.fwd_im2col`, flops, note: 'Winograd off: im2col + blocked GEMM',
        fn: () => {
          convSettings.winograd = false;
          try { noGrad(() => conv2d(x, w, null, { padding: 1 })); } finally { convSettings.winograd = true; }
        },
      });
    }
    cases.push({
      bench: `${name}.fwd_bwd`, flops: 3 * flops, note: 'loss = sum(conv2d(x, w) * dy); backward (dx, dw)',
      fn: () => {
        x.zeroGrad();
        w.zeroGrad();
        sum(mul(conv2d(x, w, null, { padding: 1 }), dy)).backward();
      },
    });
  }
  return cases;
}

/** A depthwise 3x3 (groups = C) of a sep_conv at the middle of a CIFAR network. */
function depthwiseCases(rng: Random): Case[] {
  const N = 16, C = 64, H = 16;
  const x = Tensor.randn([N, C, H, H], 1, rng, true);
  const w = Tensor.randn([C, 1, 3, 3], 0.1, rng, true);
  const dy = Tensor.randn([N, C, H, H], 1, rng);
  const flops = 2 * N * H * H * C * 9;
  const opts = { padding: 1, groups: C };
  return [
    { bench: 'dwconv_m.fwd', flops, note: 'depthwise 3x3, N16 C64 16x16', fn: () => { noGrad(() => conv2d(x, w, null, opts)); } },
    {
      bench: 'dwconv_m.fwd_bwd', flops: 3 * flops, note: 'depthwise 3x3, N16 C64 16x16',
      fn: () => {
        x.zeroGrad();
        w.zeroGrad();
        sum(mul(conv2d(x, w, null, opts), dy)).backward();
      },
    },
  ];
}

function matmulCases(rng: Random): Case[] {
  const a = Tensor.randn([512, 512], 1, rng), b = Tensor.randn([512, 512], 1, rng);
  return [{ bench: 'matmul_512', flops: 2 * 512 ** 3, fn: () => { noGrad(() => matmul(a, b)); } }];
}

/** Every case of this suite, built from `rng`: the conv shapes, matmul_512, the depthwise case. */
export function floatKernelCases(rng: Random): Case[] {
  return [...convCases(rng), ...matmulCases(rng), ...depthwiseCases(rng)];
}

export const suite: BenchSuite = {
  name: 'conv',
  async run(opts: BenchOptions): Promise<BenchRow[]> {
    const backends = opts.backends ?? ['cpu'];
    if (!backends.includes('cpu')) return [];
    setBackend('cpu');
    const cases = floatKernelCases(new Random(1))
      .filter((c) => !opts.filter || c.bench.includes(opts.filter));
    const times = await measure(cases, opts.quick);
    const rows: BenchRow[] = [];
    for (const c of cases) {
      const ms = times.get(c.bench);
      if (ms === undefined) continue;
      const row: BenchRow = { backend: 'cpu', bench: c.bench, ms: round(ms, 3), gflops: round(c.flops / ms / 1e6, 3), threads: getThreads(), simd: simdEnabled() };
      if (c.note) row.note = c.note;
      rows.push(row);
    }
    return rows;
  },
};

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
