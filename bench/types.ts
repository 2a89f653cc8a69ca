/** The shape of benchmark output (../shared/BENCH.md): one row per case and backend. */
export interface BenchRow {
  backend: string;
  bench: string;
  /** Median time of one call, milliseconds. */
  ms: number;
  /** 2*N*H*W*C*K*R*S per forward (3x for fwd_bwd); absent where FLOPs do not apply. */
  gflops?: number;
  /** Kernel threads the case ran with, where the thread count matters (shared/BENCH.md). */
  threads?: number;
  /** Whether the cpu backend's WebAssembly SIMD kernels were on (`--simd`), on the rows that carry threads. */
  simd?: boolean;
  /** 'float32' on cpu rows timed with the GEMM's float32 sums (`--sums float32`, backends/cpu/sums.ts); absent: float64. */
  sums?: 'float32';
  /** On the N-thread row of the scaling suite: its 1-thread time over its N-thread time, the median
   *  over rounds that alternate the two in one process (bench/scaling.ts). */
  speedup?: number;
  /** Free-form notes (mode, sizes). */
  note?: string;
}

export interface BenchOptions {
  /** Shorter runs (CI smoke, --quick). */
  quick: boolean;
  /** Backend names asked for with --backend (undefined = the suite's defaults). */
  backends?: string[];
  /** Only cases whose name contains this (--filter); suites may skip the others early. */
  filter?: string;
}

/** A suite is one file of bench/ that measures some cases and returns their rows. */
export interface BenchSuite {
  name: string;
  run(opts: BenchOptions): Promise<BenchRow[]>;
}
