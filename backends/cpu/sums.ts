/**
 * How the float GEMM sums its products (gemm.ts; every convolution, matmul and Winograd product goes
 * through it), a named switch of the cpu backend:
 *
 *   'float64'  (the default) every product and sum in float64, one rounding to float32 into C: the
 *              most exact of the two, and what every earlier result of this project was computed with.
 *   'float32'  products and sums in float32, as PyTorch's CPU kernels (oneDNN, OpenBLAS) and cuDNN sum:
 *              four lanes of WebAssembly SIMD where float64 gives two, so the micro-kernel does twice
 *              the multiply-adds per instruction. Values differ from 'float64' by float32 rounding of the
 *              partial sums (relative error about K · 2^-24 for K terms at worst, far less on average).
 *
 * Either is deterministic: the same bits for any thread count, with SIMD on or off (the TypeScript
 * kernel rounds with Math.fround where the SIMD kernel rounds in float32). A job carries the caller's
 * choice to the kernel threads (threads.ts). CPNAS_GEMM_SUMS=float32 sets it for a process; the CLI's
 * `--sums` records it in a run's config.
 */
export type GemmSums = 'float64' | 'float32';

export const GEMM_SUMS: readonly GemmSums[] = ['float64', 'float32'];

/** Read from the environment at the first question (so that importing this module never throws). */
let sums: GemmSums | null = null;

function envSums(): GemmSums | undefined {
  const env = typeof process !== 'undefined' ? process.env?.CPNAS_GEMM_SUMS : undefined;
  if (env === undefined || env === '') return undefined;
  if (!(GEMM_SUMS as readonly string[]).includes(env)) {
    throw new Error(`CPNAS_GEMM_SUMS: expected ${GEMM_SUMS.join(' or ')}, got '${env}'`);
  }
  return env as GemmSums;
}

/** Sets how the GEMM sums for this thread (the next kernel call on). */
export function setGemmSums(s: GemmSums): void {
  if (!(GEMM_SUMS as readonly string[]).includes(s)) throw new Error(`setGemmSums: expected ${GEMM_SUMS.join(' or ')}, got '${String(s)}'`);
  sums = s;
}

/** How the GEMM sums now (a bad CPNAS_GEMM_SUMS throws here, naming it). */
export function gemmSums(): GemmSums {
  return (sums ??= envSums() ?? 'float64');
}
