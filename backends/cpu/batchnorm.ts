/** Batch-norm statistics: per-channel mean and biased variance of x viewed as [N, C, HW],
 *  accumulated in float64 (two passes, so the variance does not cancel catastrophically). */
export function batchNormStats(
  x: Float32Array, N: number, C: number, HW: number, mean: Float32Array, variance: Float32Array,
): void {
  const count = N * HW;
  for (let c = 0; c < C; c++) {
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
