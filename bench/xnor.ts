/**
 * The 1-bit convolution on the bit-packed path (shared/BENCH.md rows conv_s|m|l.xnor_fwd), through
 * the public layer as inference runs it:
 *
 *   layer = new BinaryConv2d(C, K, 3, { padding: 1 }).eval();   weights packed once, outside the timing
 *   noGrad(() => layer.forward(x))                              packs the input's signs: timed
 *
 * gflops counts the float forward's 2·N·H·W·C·K·9, so the row compares with `<shape>.fwd` as equal
 * work. Each row's note gives the packed weight bytes against the float weight bytes. A depthwise
 * case (dwconv_m.xnor_fwd, groups = C) shows the packed path where a tap is one bit. Large calls
 * run on two threads where the machine has two cores (the note says whether the worker thread took
 * part; CPNAS_XNOR_THREADS=1 keeps one).
 */
import { Bench } from 'tinybench';
import { Random, Tensor, noGrad, setBackend } from '../core/index.js';
import { BinaryConv2d } from '../binary/binary-conv.js';
import { xnorThreadInfo } from '../backends/cpu/xnor.js';
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
  note: string;
  fn: () => void;
}

function cases(rng: Random): Case[] {
  const out: Case[] = [];
  for (const [name, s] of Object.entries(SHAPES)) {
    const layer = new BinaryConv2d(s.C, s.K, 3, { padding: 1, groups: s.groups, rng }).eval();
    const x = Tensor.randn([s.N, s.C, s.H, s.H], 1, rng);
    const packedBytes = layer.packedWeights().byteLength; // packs once, outside the timing
    const floatBytes = layer.weight.size * 4;
    const flops = 2 * s.N * s.H * s.H * (s.C / s.groups) * s.K * 9;
    out.push({
      bench: `${name}.xnor_fwd`, flops,
      note: `packed weights ${packedBytes} B vs float ${floatBytes} B (1/${(floatBytes / packedBytes).toFixed(1)})` +
        `${s.groups > 1 ? `, depthwise N${s.N} C${s.C} ${s.H}x${s.H}` : ''}`,
      fn: () => { noGrad(() => layer.forward(x)); },
    });
  }
  return out;
}

async function measure(list: Case[], quick: boolean): Promise<Map<string, number>> {
  const bench = new Bench({ iterations: quick ? 3 : 20, time: quick ? 0 : 500, warmupIterations: quick ? 1 : 3, warmupTime: 0, throws: true });
  for (const c of list) bench.add(c.bench, c.fn);
  await bench.run();
  const times = new Map<string, number>();
  for (const t of bench.tasks) {
    const r = t.result;
    if (r.state === 'completed' || r.state === 'aborted-with-statistics') times.set(t.name, r.latency.p50);
  }
  return times;
}

export const suite: BenchSuite = {
  name: 'xnor',
  async run(opts: BenchOptions & { filter?: string }): Promise<BenchRow[]> {
    const backends = opts.backends ?? ['cpu'];
    if (!backends.includes('cpu')) return [];
    setBackend('cpu');
    const list = cases(new Random(2)).filter((c) => !opts.filter || c.bench.includes(opts.filter));
    const rows: BenchRow[] = [];
    for (const c of list) {
      const before = xnorThreadInfo().workerChunks;
      const ms = (await measure([c], opts.quick)).get(c.bench);
      if (ms === undefined) continue;
      // the worker thread took part in this case's calls (large calls, two cores)
      const threads = xnorThreadInfo().workerChunks > before ? 2 : 1;
      const note = `${c.note}, ${threads} thread${threads > 1 ? 's' : ''}`;
      rows.push({ backend: 'cpu', bench: c.bench, ms: round(ms, 3), gflops: round(c.flops / ms / 1e6, 3), note });
    }
    return rows;
  },
};

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
