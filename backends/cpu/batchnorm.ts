/** Batch-norm statistics: per-channel mean and biased variance of x viewed as [N, C, HW],
 *  accumulated in float64 (two passes, so the variance does not cancel catastrophically). Large calls
 *  are cut into chunks of channels for the threads of threads.ts (each channel summed in one order). */
import { chunkRange, chunksFor, parallel, type JobArray } from './threads.js';

export function batchNormStats(
  x: Float32Array, N: number, C: number, HW: number, mean: Float32Array, variance: Float32Array,
): void {
  const nChunks = chunksFor(2 * x.length, C);
  parallel('batchNormStats', batchNormStatsChunk, [{ a: x }, { a: mean, out: true }, { a: variance, out: true }], [N, C, HW], nChunks);
}

export function batchNormStatsChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [x, mean, variance] = arrays as Float32Array[];
  const [N, C, HW] = params;
  const [c0, c1] = chunkRange(C, chunk, nChunks);
  const count = N * HW;
  for (let c = c0; c < c1; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) s += x[base + i];
    }
    const m = s / count;
    let v = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) { const d = x[base + i] - m; v += d * d; }
    }
    mean[c] = m;
    variance[c] = v / count;
  }
}
