/**
 * The GPU backend (gpu.js) in every gpu.js mode that runs here, on the reference cases of
 * shared/BENCH.md (conv_s|m|l.fwd, conv_s|m|l.fwd_bwd, matmul_512) plus matmul_2048 (not with
 * --quick) and, where the backend runs it on gpu.js (not GL), the 1-bit convolution (xnor_fwd).
 * Rows are named `gpu-<mode>`
 * (gpu-headlessgl, gpu-webasm, gpu-cpu); headlessgl needs a display (`xvfb-run -a`) and is skipped,
 * with a note on stderr, where it has none.
 *
 *   fwd      y = conv2d(x, w, null, { padding: 1 })                 (under noGrad)
 *   fwd_bwd  loss = sum(conv2d(x, w) * dy); loss.backward()         (gradients for x and w)
 *   xnor_fwd backend.xnorConv2d(x, packedW, alpha, y): packing x's signs is timed, packing w is not
 *
 * ms is the median of one call (tinybench; kernels are compiled in the warmup call, not timed);
 * gflops counts 2·N·H·W·C·K·R·S per forward, 3x for fwd_bwd, 2·n³ for matmul.
 */
import { Bench } from 'tinybench';
import { createGpuBackend, GPU_MODES, modeProblem, type GpuBackend, type GpuMode } from '../backends/gpu/index.js';
import { packedWeightWords } from '../backends/backend.js';
import { Random, Tensor, noGrad, withBackend, type XnorConv2dGeometry } from '../core/index.js';
import { mul } from '../ops/arithmetic.js';
import { conv2d } from '../ops/conv.js';
import { matmul } from '../ops/matmul.js';
import { sum } from '../ops/reduce.js';
import type { BenchOptions, BenchRow, BenchSuite } from './types.js';

/** NCHW reference shapes (BENCH.md): 3x3 kernels, stride 1, padding 1. */
const CONV_SHAPES: Record<string, { N: number; C: number; H: number; K: number }> = {
  conv_s: { N: 32, C: 16, H: 32, K: 16 },
  conv_m: { N: 16, C: 64, H: 16, K: 64 },
  conv_l: { N: 8, C: 128, H: 16, K: 128 },
};

interface Case {
  bench: string;
  flops: number;
  note?: string;
  /** Calls measured after the warmup call (matmul_2048 takes seconds per call here). */
  iterations?: number;
  fn: () => void;
}

function cases(gpu: GpuBackend, rng: Random): Case[] {
  const out: Case[] = [];
  for (const [name, s] of Object.entries(CONV_SHAPES)) {
    const x = Tensor.randn([s.N, s.C, s.H, s.H], 1, rng, true);
    const w = Tensor.randn([s.K, s.C, 3, 3], 0.1, rng, true);
    const dy = Tensor.randn([s.N, s.K, s.H, s.H], 1, rng);
    const flops = 2 * s.N * s.H * s.H * s.C * s.K * 9;
    out.push({ bench: `${name}.fwd`, flops, fn: () => { noGrad(() => conv2d(x, w, null, { padding: 1 })); } });
    out.push({
      bench: `${name}.fwd_bwd`, flops: 3 * flops, note: 'loss = sum(conv2d(x, w) * dy); backward (dx, dw)',
      fn: () => {
        x.zeroGrad();
        w.zeroGrad();
        sum(mul(conv2d(x, w, null, { padding: 1 }), dy)).backward();
      },
    });
    if (!gpu.cpuKernels().some((k) => k.startsWith('xnorConv2d'))) {
      const g: XnorConv2dGeometry = {
        N: s.N, C: s.C, H: s.H, W: s.H, K: s.K, R: 3, S: 3, strideH: 1, strideW: 1, padH: 1, padW: 1,
        dilationH: 1, dilationW: 1, groups: 1, P: s.H, Q: s.H, wordsPerTap: Math.ceil(s.C / 32),
      };
      const packed = new Uint32Array(packedWeightWords(g));
      gpu.packWeights(w.data, packed, g);
      const alpha = new Float32Array(s.K).fill(0.1), y = new Float32Array(s.N * s.K * s.H * s.H);
      out.push({
        bench: `${name}.xnor_fwd`, flops, note: 'XNOR-popcount in 24-bit chunks; input sign packing timed',
        fn: () => gpu.xnorConv2d(x.data, packed, alpha, y, g),
      });
    }
  }
  for (const n of [512, 2048]) {
    const a = Tensor.randn([n, n], 1, rng), b = Tensor.randn([n, n], 1, rng);
    out.push({
      bench: `matmul_${n}`, flops: 2 * n ** 3, iterations: n > 1000 ? 1 : undefined,
      note: n > 1000 ? 'one call, kernel compile included' : undefined,
      fn: () => { noGrad(() => matmul(a, b)); },
    });
  }
  return out;
}

/**
 * Median milliseconds of one call, measured by tinybench after one warmup call (the compile). A case
 * of one iteration (matmul_2048: close to a minute per call here) skips the warmup: its one call
 * includes the compile, a fraction of a second.
 */
async function measure(c: Case, quick: boolean): Promise<number | undefined> {
  const single = c.iterations === 1;
  const bench = new Bench({
    iterations: c.iterations ?? (quick ? 2 : 5),
    time: 0,
    warmup: !single,
    warmupIterations: 1,
    warmupTime: 0,
    throws: true,
  });
  bench.add(c.bench, c.fn);
  await bench.run();
  const r = bench.tasks[0].result;
  return r.state === 'completed' || r.state === 'aborted-with-statistics' ? r.latency.p50 : undefined;
}

/** The modes asked for: every available one by default; `--backend gpu` (all) or `gpu-<mode>`. */
function wantedModes(backends: string[] | undefined): GpuMode[] {
  if (!backends) return [...GPU_MODES];
  if (backends.includes('gpu')) return [...GPU_MODES];
  return GPU_MODES.filter((m) => backends.includes(`gpu-${m}`));
}

export const suite: BenchSuite = {
  name: 'gpu',
  async run(opts: BenchOptions): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const mode of wantedModes(opts.backends)) {
      const problem = modeProblem(mode);
      if (problem) {
        // browser-only modes are noise unless asked for by name
        if (mode === 'headlessgl' || opts.backends?.includes(`gpu-${mode}`)) {
          process.stderr.write(`bench gpu-${mode}: skipped: ${problem}\n`);
        }
        continue;
      }
      const gpu = createGpuBackend({ mode });
      try {
        const all = cases(gpu, new Random(1)).filter((c) => !opts.filter || c.bench.includes(opts.filter));
        for (const c of all) {
          if (opts.quick && c.iterations === 1) continue; // matmul_2048: seconds per call, not a smoke test
          // the active backend is set per call: tinybench awaits between calls
          const ms = await measure({ ...c, fn: () => withBackend(gpu, c.fn) }, opts.quick);
          if (ms === undefined) continue;
          const row: BenchRow = { backend: `gpu-${mode}`, bench: c.bench, ms: round(ms, 3), gflops: round(c.flops / ms / 1e6, 3) };
          row.note = `gpu.js ${mode}${c.note ? `; ${c.note}` : ''}`;
          rows.push(row);
        }
        const { compiled, firstRunMs, cacheHits } = gpu.stats;
        process.stderr.write(`bench gpu-${mode}: ${compiled} kernels compiled (first runs, compile included: ` +
          `${(firstRunMs / 1000).toFixed(1)} s), device cache hits ${cacheHits}\n`);
      } finally {
        await gpu.destroy();
      }
    }
    return rows;
  },
};

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
