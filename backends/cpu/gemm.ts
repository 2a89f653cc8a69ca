/** Matrix products. (Straightforward i-k-j loops; the tuned kernel replaces this.) */
export function matmul(
  a: Float32Array, b: Float32Array, out: Float32Array,
  batch: number, M: number, K: number, N: number,
  transA: boolean, transB: boolean, aBatchStride: number, bBatchStride: number,
): void {
  for (let bt = 0; bt < batch; bt++) {
    const ao = bt * aBatchStride, bo = bt * bBatchStride, oo = bt * M * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) out[oo + i * N + j] = 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? a[ao + k * M + i] : a[ao + i * K + k];
        if (av === 0) continue;
        if (transB) for (let j = 0; j < N; j++) out[oo + i * N + j] += av * b[bo + j * K + k];
        else for (let j = 0; j < N; j++) out[oo + i * N + j] += av * b[bo + k * N + j];
      }
    }
  }
}
