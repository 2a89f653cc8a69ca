/** Convolution kernels, direct loops. (The tuned im2col + GEMM kernels replace these.) */
import type { Conv2dGeometry } from '../backend.js';

export function conv2d(x: Float32Array, w: Float32Array, y: Float32Array, g: Conv2dGeometry): void {
  const { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q } = g;
  const Cg = C / groups, Kg = K / groups;
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
    const grp = Math.floor(k / Kg);
    for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
      let s = 0;
      for (let c = 0; c < Cg; c++) for (let r = 0; r < R; r++) {
        const h = p * strideH - padH + r * dilationH;
        if (h < 0 || h >= H) continue;
        for (let t = 0; t < S; t++) {
          const ww = q * strideW - padW + t * dilationW;
          if (ww < 0 || ww >= W) continue;
          s += x[((n * C + grp * Cg + c) * H + h) * W + ww] * w[((k * Cg + c) * R + r) * S + t];
        }
      }
      y[((n * K + k) * P + p) * Q + q] = s;
    }
  }
}

export function conv2dBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, g: Conv2dGeometry): void {
  const { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q } = g;
  const Cg = C / groups, Kg = K / groups;
  dx.fill(0);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
    const grp = Math.floor(k / Kg);
    for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
      const d = dy[((n * K + k) * P + p) * Q + q];
      for (let c = 0; c < Cg; c++) for (let r = 0; r < R; r++) {
        const h = p * strideH - padH + r * dilationH;
        if (h < 0 || h >= H) continue;
        for (let t = 0; t < S; t++) {
          const ww = q * strideW - padW + t * dilationW;
          if (ww < 0 || ww >= W) continue;
          dx[((n * C + grp * Cg + c) * H + h) * W + ww] += d * w[((k * Cg + c) * R + r) * S + t];
        }
      }
    }
  }
}

export function conv2dBackwardFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, g: Conv2dGeometry): void {
  const { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q } = g;
  const Cg = C / groups, Kg = K / groups;
  dw.fill(0);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
    const grp = Math.floor(k / Kg);
    for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
      const d = dy[((n * K + k) * P + p) * Q + q];
      for (let c = 0; c < Cg; c++) for (let r = 0; r < R; r++) {
        const h = p * strideH - padH + r * dilationH;
        if (h < 0 || h >= H) continue;
        for (let t = 0; t < S; t++) {
          const ww = q * strideW - padW + t * dilationW;
          if (ww < 0 || ww >= W) continue;
          dw[((k * Cg + c) * R + r) * S + t] += d * x[((n * C + grp * Cg + c) * H + h) * W + ww];
        }
      }
    }
  }
}
