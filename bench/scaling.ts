/**
 * Thread scaling of the float kernel rows (the cases of bench/conv.ts): each case timed on one kernel
 * thread and on N (the `--threads` setting, default every core) **in alternation, in one process**,
 * so that both thread counts see the same machine. Issue 11 asks every float kernel row to run at
 * least 1.7x faster on 2 threads than on 1; comparing two separate runs of the conv suite on this
 * shared 2-core VM mixes that ratio with the machine's drift (PyTorch's own 1-thread rows moved 1.8x
 * between passes of one day, and two 3-second windows of matmul_512 on one thread, minutes apart,
 * read 25.9 and 20.7 ms).
 *
 *   for each case:  a warm-up slice on each thread count, then ROUNDS rounds of
 *                     [1 thread, N threads] (odd rounds [N, 1]): calls for SLICE_MS, their median
 *                   speedup = median over the rounds of (median on 1 thread / median on N threads)
 *
 * Each round pairs two slices taken back to back (a few hundred ms apart), and alternating the order
 * cancels a drift within the round. Switching the thread count keeps the workers (threads.ts
 * setThreads: going down to 1 leaves them asleep), so nothing restarts between slices. Each thread
 * count times its own copy of the case, built under that setting from the same seed, so that its
 * storage is what a run of its own would have: ordinary arrays on one thread, shared memory on N.
 * (For matmul_512 the two kinds of inputs time the same on one thread: 26-28 ms either way, 3 rounds
 * alternated; other kernels copy from their inputs, and V8 copies out of shared memory more slowly.)
 *
 * Rows: per case, one with `"threads": 1` and one with `"threads": N` that carries `speedup` (ms are
 * the medians of the rounds' medians). With one thread (`--threads 1`, a 1-core machine) the suite has
 * nothing to compare and says so.
 */
import { getThreads, setThreads } from '../backends/cpu/threads.js';
import { simdEnabled } from '../backends/cpu/simd/simd.js';
import { Random, setBackend } from '../core/index.js';
import { floatKernelCases } from './conv.js';
import type { BenchOptions, BenchRow, BenchSuite } from './types.js';

/** Rounds per case (each: one slice per thread count), and the calls of a slice at least. */
const ROUNDS = 7, QUICK_ROUNDS = 2;
/** Milliseconds of calls per slice (at least MIN_CALLS calls). */
const SLICE_MS = 250, MIN_CALLS = 3;

/** The median of a non-empty list of numbers. */
export function median(values: number[]): number {
  if (values.length === 0) throw new RangeError('median: no values');
  const s = [...values].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Median ms of the calls of one slice: at least `minCalls` calls and `sliceMs` milliseconds. */
function slice(fn: () => void, sliceMs: number, minCalls: number): number {
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minCalls || performance.now() - start < sliceMs) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/**
 * Times `fn1` on 1 thread and `fnN` on `n` in `rounds` alternating rounds; returns the medians per
 * thread count and the median of the rounds' ratios. Leaves the thread setting at `n`.
 */
export function alternate(fn1: () => void, fnN: () => void, n: number, rounds: number, sliceMs: number, minCalls: number): { ms1: number; msN: number; speedup: number; ratios: number[] } {
  const one: number[] = [], many: number[] = [], ratios: number[] = [];
  try {
    // warm-up: a slice on each thread count (the JIT, the workers' own copies of the kernels)
    for (const t of [1, n]) {
      setThreads(t);
      slice(t === 1 ? fn1 : fnN, sliceMs, minCalls);
    }
    for (let r = 0; r < rounds; r++) {
      let a = 0, b = 0;
      for (const t of r % 2 ? [n, 1] : [1, n]) {
        setThreads(t);
        const fn = t === 1 ? fn1 : fnN;
        fn(); // the first call after a switch wakes the workers (or lets them fall asleep): not timed
        const ms = slice(fn, sliceMs, minCalls);
        if (t === 1) a = ms;
        else b = ms;
      }
      one.push(a);
      many.push(b);
      ratios.push(a / b);
    }
  } finally {
    setThreads(n);
  }
  return { ms1: median(one), msN: median(many), speedup: median(ratios), ratios };
}

export const suite: BenchSuite = {
  name: 'scaling',
  async run(opts: BenchOptions): Promise<BenchRow[]> {
    const backends = opts.backends ?? ['cpu'];
    if (!backends.includes('cpu')) return [];
    const n = getThreads();
    if (n < 2) {
      process.stderr.write('bench scaling: one kernel thread (--threads 1 or one core): no thread counts to compare, skipped\n');
      return [];
    }
    setBackend('cpu');
    const keep = (c: { bench: string }): boolean => !opts.filter || c.bench.includes(opts.filter);
    // each thread count's own copy of the cases (see the header), the same values
    setThreads(1);
    const ones = floatKernelCases(new Random(1)).filter(keep);
    setThreads(n);
    const cases = floatKernelCases(new Random(1)).filter(keep);
    const rounds = opts.quick ? QUICK_ROUNDS : ROUNDS, sliceMs = opts.quick ? 0 : SLICE_MS, minCalls = opts.quick ? 1 : MIN_CALLS;
    const rows: BenchRow[] = [];
    for (const [i, c] of cases.entries()) {
      const { ms1, msN, speedup, ratios } = alternate(ones[i].fn, c.fn, n, rounds, sliceMs, minCalls);
      const note = `scaling: 1 and ${n} threads alternated, ${rounds} rounds; ratios ${ratios.map((x) => x.toFixed(2)).join(' ')}`;
      const simd = simdEnabled();
      rows.push({ backend: 'cpu', bench: c.bench, ms: round(ms1, 3), gflops: round(c.flops / ms1 / 1e6, 3), threads: 1, simd, note });
      rows.push({ backend: 'cpu', bench: c.bench, ms: round(msN, 3), gflops: round(c.flops / msN / 1e6, 3), threads: n, simd, speedup: round(speedup, 3), note });
    }
    return rows;
  },
};

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
