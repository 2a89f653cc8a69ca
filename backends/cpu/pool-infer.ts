/**
 * Max pooling for inference (the engine of binary/runtime): the same values as pool.ts's maxPool2d,
 * without the argmax that only a backward pass reads. Rows whose window lies inside the plane take
 * an unrolled 3x3 loop; border cells test their taps. Padded cells are never picked.
 */
import type { Pool2dGeometry } from '../backend.js';

export function maxPool2dInfer(x: Float32Array, y: Float32Array, g: Pool2dGeometry): void {
  const { N, C, H, W, kH, kW, strideH: sh, strideW: sw, padH, padW, P, Q } = g;
  const unrolled = kH === 3 && kW === 3;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W, out = nc * P * Q;
    for (let p = 0; p < P; p++) {
      const h0 = p * sh - padH, hs = Math.max(h0, 0), he = Math.min(h0 + kH, H);
      const rowInside = h0 >= 0 && h0 + kH <= H;
      for (let q = 0; q < Q; q++) {
        const w0 = q * sw - padW;
        if (unrolled && rowInside && w0 >= 0 && w0 + 3 <= W) {
          const r0 = base + h0 * W + w0, r1 = r0 + W, r2 = r1 + W;
          let m = x[r0];
          let v = x[r0 + 1]; if (v > m) m = v;
          v = x[r0 + 2]; if (v > m) m = v;
          v = x[r1]; if (v > m) m = v;
          v = x[r1 + 1]; if (v > m) m = v;
          v = x[r1 + 2]; if (v > m) m = v;
          v = x[r2]; if (v > m) m = v;
          v = x[r2 + 1]; if (v > m) m = v;
          v = x[r2 + 2]; if (v > m) m = v;
          y[out + p * Q + q] = m;
          continue;
        }
        const ws = Math.max(w0, 0), we = Math.min(w0 + kW, W);
        let best = -Infinity, any = false;
        for (let h = hs; h < he; h++) {
          for (let w = ws; w < we; w++) {
            const v = x[base + h * W + w];
            if (v > best || !any) { best = v; any = true; }
          }
        }
        y[out + p * Q + q] = any ? best : 0;
      }
    }
  }
}
