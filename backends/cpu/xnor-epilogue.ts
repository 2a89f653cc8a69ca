/**
 * What the inference engine's packed convolutions write (binary/runtime): the float value of every
 * output, computed from its integer dot product of signs in one pass, with the layers that follow a
 * 1-bit convolution folded in:
 *
 *     y[n, yC0 + k, pq] = A[k] * dot[n, k, pq] + B[k] + R[k] * res[n, resC0 + k, pq]
 *
 * A[k] = alpha_k times the BN scale, B[k] the BN shift, and `res` the real-valued shortcut of a Bi-Real
 * unit (R = 1, or the BN scale where BN follows the sum). The output and the shortcut may be channel
 * slices of larger buffers (a cell's concatenation is written in place).
 */
export interface PackedEpilogue {
  A: Float32Array;
  B: Float32Array;
  /** The shortcut added after the affine map, or null. */
  res: Float32Array | null;
  /** Per-channel factor of the shortcut (null: 1). */
  resScale: Float32Array | null;
  /** Channels of the buffer `res` lives in, and the first of this convolution's. */
  resChannels: number;
  resC0: number;
  /** Channels of the output buffer, and the first this convolution writes. */
  yChannels: number;
  yC0: number;
}

/** An epilogue writing all K channels of a [N, K, P, Q] buffer, with no shortcut. */
export function plainEpilogue(A: Float32Array, B: Float32Array, K: number): PackedEpilogue {
  return { A, B, res: null, resScale: null, resChannels: K, resC0: 0, yChannels: K, yC0: 0 };
}

/**
 * Applies the epilogue to raw values v = alpha-free dots already in `y` at [N, K, PQ] (used after the
 * general xnorConv2d kernel, called with alpha = 1): `raw` and `y` may not alias unless the layouts agree.
 */
export function applyEpilogue(raw: Float32Array, y: Float32Array, N: number, K: number, PQ: number, e: PackedEpilogue): void {
  const { A, B, res, resScale } = e;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const a = A[k], b = B[k], src = (n * K + k) * PQ, dst = (n * e.yChannels + e.yC0 + k) * PQ;
      if (res) {
        const r = resScale ? resScale[k] : 1, ro = (n * e.resChannels + e.resC0 + k) * PQ;
        for (let i = 0; i < PQ; i++) y[dst + i] = a * raw[src + i] + b + r * res[ro + i];
      } else {
        for (let i = 0; i < PQ; i++) y[dst + i] = a * raw[src + i] + b;
      }
    }
  }
}
