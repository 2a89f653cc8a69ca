/**
 * Max pooling for inference (the engine of binary/runtime): the same values as pool.ts's maxPool2d,
 * without the argmax that only a backward pass reads. Separable: the max over a window is the max
 * over its rows of the max along each row, so a plane takes one pass along the rows (into a per-thread
 * scratch of H x Q) and one down the columns, about 2k comparisons per output instead of k².
 * Padded cells are never picked (the window is clipped to the plane; an empty one gives 0, as pool.ts).
 * Large calls are cut into chunks of planes for the threads of threads.ts. With the SIMD kernels on,
 * the planes go through simd/engine.wat `maxPool` (the same comparisons, four outputs at a time where
 * the windows are whole: the same values).
 */
import type { Pool2dGeometry } from '../backend.js';
import { chunkRange, chunksFor, parallel, type JobArray } from './threads.js';
import { align16, simdEnabled, simdHeap } from './simd/simd.js';

let rowMax = new Float32Array(0);

export function maxPool2dInfer(x: Float32Array, y: Float32Array, g: Pool2dGeometry): void {
  const planes = g.N * g.C;
  const params = [g.N, g.C, g.H, g.W, g.kH, g.kW, g.strideH, g.strideW, g.padH, g.padW, g.P, g.Q, simdEnabled() ? 1 : 0];
  parallel('maxPool2dInfer', maxPool2dInferChunk, [{ a: x }, { a: y, inout: true }], params, chunksFor(planes * g.P * g.Q * (g.kH + g.kW), planes));
}

export function maxPool2dInferChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [N, C, H, W, kH, kW, sh, sw, padH, padW, P, Q, simd] = params;
  const x = arrays[0] as Float32Array, y = arrays[1] as Float32Array;
  const [p0, p1] = chunkRange(N * C, chunk, nChunks);
  if (simd && maxPoolPlanesSimd(x, y, params, p0, p1)) return;
  if (rowMax.length < H * Q) rowMax = new Float32Array(H * Q);
  const t = rowMax;
  for (let nc = p0; nc < p1; nc++) {
    const base = nc * H * W, out = nc * P * Q;
    // along the rows: t[h, q] = max of x[h, ws..we)
    for (let h = 0; h < H; h++) {
      const row = base + h * W, to = h * Q;
      for (let q = 0; q < Q; q++) {
        const w0 = q * sw - padW;
        if (kW === 3 && w0 >= 0 && w0 + 3 <= W) {
          const i = row + w0;
          t[to + q] = Math.max(x[i], x[i + 1], x[i + 2]);
          continue;
        }
        const ws = w0 > 0 ? w0 : 0, we = Math.min(w0 + kW, W);
        let m = ws < we ? x[row + ws] : -Infinity;
        for (let w = ws + 1; w < we; w++) { const v = x[row + w]; if (v > m) m = v; }
        t[to + q] = m;
      }
    }
    // down the columns
    for (let p = 0; p < P; p++) {
      const h0 = p * sh - padH, hs = h0 > 0 ? h0 : 0, he = Math.min(h0 + kH, H), o = out + p * Q;
      if (hs >= he) { y.fill(0, o, o + Q); continue; }
      if (he - hs === 3) {
        const t0 = hs * Q, t1 = t0 + Q, t2 = t1 + Q;
        for (let q = 0; q < Q; q++) {
          y[o + q] = Math.max(t[t0 + q], t[t1 + q], t[t2 + q]);
        }
      } else {
        for (let q = 0; q < Q; q++) {
          let m = t[hs * Q + q];
          for (let h = hs + 1; h < he; h++) { const v = t[h * Q + q]; if (v > m) m = v; }
          y[o + q] = m;
        }
      }
      // a window wholly in the padding has no cell to pick: 0, as pool.ts
      if (padW >= kW) for (let q = 0; q < Q; q++) if (emptyColumns(q, sw, padW, kW, W)) y[o + q] = 0;
    }
  }
}

/** Whether output column q's window lies wholly in the padding (no cell to pick). */
function emptyColumns(q: number, sw: number, padW: number, kW: number, W: number): boolean {
  const w0 = q * sw - padW;
  return Math.max(w0, 0) >= Math.min(w0 + kW, W);
}

/** Planes at a time through the SIMD kernel (bounds its memory). */
const SIMD_PLANES = 64;

/** Planes p0..p1 through the SIMD kernel: false where this thread has no SIMD (the TypeScript loop runs). */
function maxPoolPlanesSimd(x: Float32Array, y: Float32Array, params: number[], p0: number, p1: number): boolean {
  const [, , H, W, kH, kW, sh, sw, padH, padW, P, Q] = params;
  const HW = H * W, PQ = P * Q, most = Math.min(SIMD_PLANES, p1 - p0);
  const GEO = 0, T = 64, X = align16(T + 4 * H * Q + 64), Y = align16(X + 4 * most * HW), end = align16(Y + 4 * most * PQ + 64);
  const h = simdHeap(end);
  if (!h) return false;
  const { f32, i32, kernels } = h;
  i32.set([H, W, kH, kW, sh, sw, padH, padW, P, Q], GEO >> 2);
  for (let a = p0; a < p1; a += SIMD_PLANES) {
    const n = Math.min(SIMD_PLANES, p1 - a);
    f32.set(x.subarray(a * HW, (a + n) * HW), X >> 2);
    kernels.maxPool(X, Y, T, GEO, n);
    y.set(f32.subarray(Y >> 2, (Y >> 2) + n * PQ), a * PQ);
  }
  return true;
}
