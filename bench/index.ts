/**
 * `npm run bench`: runs the benchmark suites of this folder and prints one row per case and backend
 * (format: shared/BENCH.md).
 *
 *   node dist/bench/index.js [--json] [--quick] [--backend NAME[,NAME]] [--threads N] [--simd on|off] [--sums float64|float32] [--suite NAME[,NAME]] [--filter SUBSTR]
 *
 *   --json      the last line of stdout is one JSON array of rows (progress goes to stderr)
 *   --quick     fewer repetitions (a smoke run)
 *   --backend   the backends to measure (default: each suite's own)
 *   --threads   kernel threads of the cpu backend (default: CPNAS_THREADS or every core)
 *   --simd      the cpu backend's WebAssembly SIMD kernels on or off (default: CPNAS_SIMD, else on)
 *   --sums      how the cpu GEMM sums, float64 or float32 (default: CPNAS_GEMM_SUMS, else float64;
 *               backends/cpu/sums.ts); rows timed with float32 sums carry `"sums": "float32"`
 *   --suite     run only these suites (conv, scaling, xnor, gpu, data, net; default: all)
 *   --filter    keep only the cases whose name (or suite name) contains SUBSTR
 *
 * Each suite is a file of bench/ exporting `suite: BenchSuite`; a suite file that is not there (not
 * written yet, or not built) is skipped with a note.
 */
import { fileURLToPath } from 'node:url';
import { getThreads, setThreads, threadInfo, waitForThreads } from '../backends/cpu/threads.js';
import { setSimd, simdEnabled } from '../backends/cpu/simd/simd.js';
import { GEMM_SUMS, gemmSums, setGemmSums, type GemmSums } from '../backends/cpu/sums.js';
import type { BenchOptions, BenchRow, BenchSuite } from './types.js';

/** Suite files, in the order they run. */
const SUITES = ['conv', 'scaling', 'xnor', 'gpu', 'data', 'net'];

interface Args {
  json: boolean;
  quick: boolean;
  backends?: string[];
  suites?: string[];
  filter?: string;
  threads?: number;
  simd?: boolean;
  sums?: GemmSums;
}

const USAGE = 'usage: node dist/bench/index.js [--json] [--quick] [--backend NAME[,NAME]] [--threads N] [--simd on|off] [--sums float64|float32] [--suite NAME[,NAME]] [--filter SUBSTR]';

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--json') args.json = true;
    else if (a === '--quick') args.quick = true;
    else if (a === '--backend' || a === '--backends') args.backends = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--suite' || a === '--suites') {
      args.suites = value().split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = args.suites.filter((n) => !SUITES.includes(n));
      if (unknown.length) throw new Error(`--suite: unknown suite ${unknown.join(', ')} (suites: ${SUITES.join(', ')})\n${USAGE}`);
    } else if (a === '--filter') args.filter = value();
    else if (a === '--threads') {
      const v = value(), n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--threads: expected an integer >= 1, got ${v}\n${USAGE}`);
      args.threads = n;
    } else if (a === '--simd') {
      const v = value();
      if (v !== 'on' && v !== 'off') throw new Error(`--simd: expected on or off, got ${v}\n${USAGE}`);
      args.simd = v === 'on';
    }
    else if (a === '--sums') {
      const v = value();
      if (!(GEMM_SUMS as readonly string[]).includes(v)) throw new Error(`--sums: expected ${GEMM_SUMS.join(' or ')}, got ${v}\n${USAGE}`);
      args.sums = v as GemmSums;
    }
    else if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return args;
}

/** Imports bench/<name>.js; null when that file does not exist. */
async function loadSuite(name: string): Promise<BenchSuite | null> {
  const url = new URL(`./${name}.js`, import.meta.url);
  try {
    const mod = (await import(url.href)) as { suite?: BenchSuite };
    if (!mod.suite) throw new Error(`bench/${name}.js does not export a suite`);
    return mod.suite;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // only the suite file itself missing counts as "not there"; a broken import inside it is an error
    if (err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(fileURLToPath(url))) return null;
    throw e;
  }
}

function formatRow(r: BenchRow): string {
  const ms = r.ms.toFixed(r.ms < 10 ? 2 : 1).padStart(10);
  const gf = r.gflops === undefined ? ''.padEnd(17) : `${r.gflops.toFixed(2).padStart(8)} GFLOP/s`;
  const t = r.threads === undefined ? '' : `  ${r.threads}t${r.simd === false ? ' no-simd' : ''}${r.sums === 'float32' ? ' f32-sums' : ''}`;
  const up = r.speedup === undefined ? '' : `  ${r.speedup.toFixed(2)}x the 1-thread time`;
  return `${r.backend.padEnd(8)} ${r.bench.padEnd(32)} ${ms} ms ${gf}${t}${up}${r.note ? `   ${r.note}` : ''}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (s: string) => (args.json ? process.stderr.write(`${s}\n`) : process.stdout.write(`${s}\n`));
  if (args.threads !== undefined) setThreads(args.threads);
  if (args.simd !== undefined) setSimd(args.simd);
  if (args.sums !== undefined) setGemmSums(args.sums);
  // the workers load before the first timing (a worker still loading would leave its share to this thread)
  waitForThreads();
  log(`cpu kernel threads: ${getThreads()}, SIMD kernels: ${simdEnabled() ? 'on' : 'off'}, GEMM sums: ${gemmSums()}`);
  const rows: BenchRow[] = [];
  let failed = false;
  for (const name of SUITES) {
    if (args.suites && !args.suites.includes(name)) continue;
    let suite: BenchSuite | null;
    try {
      suite = await loadSuite(name);
    } catch (e) {
      failed = true;
      process.stderr.write(`bench ${name}: cannot load: ${(e as Error).message}\n`);
      continue;
    }
    if (!suite) {
      process.stderr.write(`bench ${name}: bench/${name}.js not found, skipped\n`);
      continue;
    }
    const suiteMatches = !args.filter || suite.name.includes(args.filter);
    // suites may use `filter` to skip cases early; rows are filtered here in any case
    const opts: BenchOptions = {
      quick: args.quick, backends: args.backends, filter: suiteMatches ? undefined : args.filter,
    };
    const t0 = performance.now();
    try {
      const got = (await suite.run(opts)).filter((r) => suiteMatches || r.bench.includes(args.filter!));
      // the cpu rows' values depend on the GEMM's sums only when they are float32 (the default's rows stay as they were)
      if (gemmSums() === 'float32') for (const r of got) if (r.backend === 'cpu') r.sums = 'float32';
      for (const r of got) log(formatRow(r));
      rows.push(...got);
      if (got.length) process.stderr.write(`bench ${suite.name}: ${got.length} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (e) {
      failed = true;
      process.stderr.write(`bench ${suite.name}: failed: ${(e as Error).stack ?? e}\n`);
    }
  }
  if (args.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
  // rows timed after the pool was given up ran on one thread whatever they were asked: say so loudly
  const failure = threadInfo().failure;
  if (failure) {
    process.stderr.write(`bench: the kernel threads were given up (${failure}); later rows ran on one thread\n`);
    failed = true;
  }
  if (failed) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
});
