/**
 * The 1-bit convolution on the bit-packed path (shared/BENCH.md rows conv_s|m|l.xnor_fwd), through
 * the public layer as inference runs it:
 *
 *   layer = new BinaryConv2d(C, K, 3, { padding: 1 }).eval();   weights packed once, outside the timing
 *   noGrad(() => layer.forward(x))                              packs the input's signs: timed
 *
 * gflops counts the float forward's 2·N·H·W·C·K·9, so the row compares with `<shape>.fwd` as equal
 * work. Each row's note gives the packed weight bytes as a fraction of the float weight bytes, the
 * threads used and the process CPU time of one call (median; all threads: with two threads it
 * exceeds `ms` when both work). Large calls run on two threads where the machine has two cores
 * (CPNAS_XNOR_THREADS=1 keeps one); there, `<shape>.xnor_fwd_1t` repeats the case on one thread.
 * A depthwise case (dwconv_m.xnor_fwd, groups = C) shows the packed path where a filter is 9 bits.
 * `dwconv_m.xnor_engine` times the inference engine's bit-sliced depthwise kernel on the same shape
 * (backends/cpu/xnor-depthwise.ts: float input, its signs packed in the kernel's pass, float output
 * through the folded per-channel map), on the kernel threads of `--threads`: compare it with
 * `dwconv_m.fwd`, the float depthwise convolution.
 */
import { Bench } from 'tinybench';
import { Random, Tensor, noGrad, setBackend } from '../core/index.js';
import { BinaryConv2d } from '../binary/binary-conv.js';
import { setXnorThreads, xnorThreadInfo } from '../backends/cpu/xnor.js';
import { packWeightSigns } from '../backends/cpu/bitpack.js';
import { getThreads } from '../backends/cpu/threads.js';
import { xnorDepthwiseForward } from '../backends/cpu/xnor-depthwise.js';
import { plainEpilogue } from '../backends/cpu/xnor-epilogue.js';
import type { BenchOptions, BenchRow, BenchSuite } from './types.js';

const SHAPES = {
  conv_s: { N: 32, C: 16, H: 32, K: 16, groups: 1 },
  conv_m: { N: 16, C: 64, H: 16, K: 64, groups: 1 },
  conv_l: { N: 8, C: 128, H: 16, K: 128, groups: 1 },
  dwconv_m: { N: 16, C: 64, H: 16, K: 64, groups: 64 },
} as const;

interface Case {
  bench: string;
  flops: number;
  /** Threads asked for (1 or 2). */
  threads: number;
  note: string;
  fn: () => void;
}

/** Packed weight bytes, float weight bytes, and how many times smaller the packed ones are. */
export function packedRatio(layer: BinaryConv2d): { packedBytes: number; floatBytes: number; ratio: number } {
  const packedBytes = layer.packedWeights().byteLength, floatBytes = layer.weight.size * 4;
  return { packedBytes, floatBytes, ratio: floatBytes / packedBytes };
}

function cases(rng: Random, twoThreads: boolean): Case[] {
  const out: Case[] = [];
  for (const [name, s] of Object.entries(SHAPES)) {
    const layer = new BinaryConv2d(s.C, s.K, 3, { padding: 1, groups: s.groups, rng }).eval();
    const x = Tensor.randn([s.N, s.C, s.H, s.H], 1, rng);
    const { packedBytes, floatBytes, ratio } = packedRatio(layer); // packs once, outside the timing
    const flops = 2 * s.N * s.H * s.H * (s.C / s.groups) * s.K * 9;
    const note = `packed weights ${packedBytes} B = 1/${ratio.toFixed(1)} of float ${floatBytes} B` +
      `${s.groups > 1 ? `, depthwise N${s.N} C${s.C} ${s.H}x${s.H}` : ''}`;
    const fn = (): void => { noGrad(() => layer.forward(x)); };
    out.push({ bench: `${name}.xnor_fwd`, flops, threads: twoThreads ? 2 : 1, note, fn });
    if (twoThreads) out.push({ bench: `${name}.xnor_fwd_1t`, flops, threads: 1, note, fn });
  }
  out.push(engineDepthwiseCase(rng));
  return out;
}

/** The inference engine's bit-sliced depthwise kernel on dwconv_m (see the file comment). */
function engineDepthwiseCase(rng: Random): Case {
  const { N, C, H } = SHAPES.dwconv_m;
  const g = { N, C, H, W: H, K: C, R: 3, S: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: C, P: H, Q: H };
  const w = Tensor.randn([C, 1, 3, 3], 1, rng).data, x = Tensor.randn([N, C, H, H], 1, rng).data;
  const signs = new Uint32Array(Math.ceil((C * 9) / 32));
  packWeightSigns(w, signs, { ...g, wordsPerTap: 1 });
  const alpha = new Float32Array(C).fill(1), y = new Float32Array(N * C * H * H);
  const e = plainEpilogue(alpha, new Float32Array(C), C);
  const threads = getThreads();
  return {
    bench: 'dwconv_m.xnor_engine', flops: 2 * N * H * H * C * 9, threads: 1,
    note: `inference engine's bit-sliced depthwise kernel, depthwise N${N} C${C} ${H}x${H}, float in and out, kernel threads ${threads}`,
    fn: () => xnorDepthwiseForward(x, signs, y, g, e),
  };
}

/** Median wall milliseconds (tinybench) and median process CPU milliseconds of one call. */
async function measure(c: Case, quick: boolean): Promise<{ ms: number; cpuMs: number } | undefined> {
  const cpu: number[] = [];
  const timed = (): void => {
    const t0 = process.cpuUsage();
    c.fn();
    const d = process.cpuUsage(t0);
    cpu.push((d.user + d.system) / 1000);
  };
  const warmup = quick ? 1 : 3;
  const bench = new Bench({ iterations: quick ? 3 : 20, time: quick ? 0 : 500, warmupIterations: warmup, warmupTime: 0, throws: true });
  bench.add(c.bench, timed);
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') return undefined;
  const sorted = cpu.slice(warmup).sort((a, b) => a - b);
  return { ms: r.latency.p50, cpuMs: sorted[sorted.length >> 1] };
}

export const suite: BenchSuite = {
  name: 'xnor',
  async run(opts: BenchOptions & { filter?: string }): Promise<BenchRow[]> {
    const backends = opts.backends ?? ['cpu'];
    if (!backends.includes('cpu')) return [];
    setBackend('cpu');
    const twoThreads = xnorThreadInfo().threads > 1;
    const list = cases(new Random(2), twoThreads).filter((c) => !opts.filter || c.bench.includes(opts.filter));
    const rows: BenchRow[] = [];
    for (const c of list) {
      const prev = setXnorThreads(c.threads);
      try {
        if (c.threads > 1) await new Promise((r) => setTimeout(r, 100)); // let a newly started worker come up
        const before = xnorThreadInfo().workerChunks;
        const m = await measure(c, opts.quick);
        if (!m) continue;
        // whether the worker thread took part in this case's calls (large calls, two free cores)
        const used = xnorThreadInfo().workerChunks > before ? 2 : 1;
        const threads = c.bench.endsWith('.xnor_engine') ? '' : c.threads > 1 ? `, 2 threads${used > 1 ? '' : ' asked, the worker took no chunk'}` : ', 1 thread';
        rows.push({
          backend: 'cpu', bench: c.bench, ms: round(m.ms, 3), gflops: round(c.flops / m.ms / 1e6, 3),
          note: `${c.note}${threads}, cpu ${m.cpuMs.toFixed(2)} ms`,
        });
      } finally {
        setXnorThreads(prev);
      }
    }
    return rows;
  },
};

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
