/** Max and average pooling over NCHW. Average pooling excludes padded cells from its count
 *  (DARTS's count_include_pad=False); max pooling never picks a padded cell. */
import type { Pool2dGeometry } from '../backend.js';

export function maxPool2d(x: Float32Array, y: Float32Array, argmax: Int32Array, g: Pool2dGeometry): void {
  const { N, C, H, W, kH, kW, strideH, strideW, padH, padW, P, Q } = g;
  let o = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let p = 0; p < P; p++) {
      const h0 = p * strideH - padH;
      const hs = Math.max(h0, 0), he = Math.min(h0 + kH, H);
      for (let q = 0; q < Q; q++, o++) {
        const w0 = q * strideW - padW;
        const ws = Math.max(w0, 0), we = Math.min(w0 + kW, W);
        let best = -Infinity, bi = -1;
        for (let h = hs; h < he; h++) {
          const row = base + h * W;
          for (let w = ws; w < we; w++) {
            const v = x[row + w];
            if (v > best || bi < 0) { best = v; bi = row + w; }
          }
        }
        y[o] = bi < 0 ? 0 : best;
        argmax[o] = bi;
      }
    }
  }
}

export function maxPool2dBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array, _g: Pool2dGeometry): void {
  dx.fill(0);
  for (let o = 0; o < dy.length; o++) {
    const i = argmax[o];
    if (i >= 0) dx[i] += dy[o];
  }
}

export function avgPool2d(x: Float32Array, y: Float32Array, g: Pool2dGeometry): void {
  const { N, C, H, W, kH, kW, strideH, strideW, padH, padW, P, Q } = g;
  let o = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let p = 0; p < P; p++) {
      const h0 = p * strideH - padH;
      const hs = Math.max(h0, 0), he = Math.min(h0 + kH, H);
      for (let q = 0; q < Q; q++, o++) {
        const w0 = q * strideW - padW;
        const ws = Math.max(w0, 0), we = Math.min(w0 + kW, W);
        let s = 0;
        for (let h = hs; h < he; h++) {
          const row = base + h * W;
          for (let w = ws; w < we; w++) s += x[row + w];
        }
        const count = (he - hs) * (we - ws);
        y[o] = count > 0 ? s / count : 0;
      }
    }
  }
}

export function avgPool2dBackward(dy: Float32Array, dx: Float32Array, g: Pool2dGeometry): void {
  const { N, C, H, W, kH, kW, strideH, strideW, padH, padW, P, Q } = g;
  dx.fill(0);
  let o = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let p = 0; p < P; p++) {
      const h0 = p * strideH - padH;
      const hs = Math.max(h0, 0), he = Math.min(h0 + kH, H);
      for (let q = 0; q < Q; q++, o++) {
        const w0 = q * strideW - padW;
        const ws = Math.max(w0, 0), we = Math.min(w0 + kW, W);
        const count = (he - hs) * (we - ws);
        if (count === 0) continue;
        const v = dy[o] / count;
        for (let h = hs; h < he; h++) {
          const row = base + h * W;
          for (let w = ws; w < we; w++) dx[row + w] += v;
        }
      }
    }
  }
}
