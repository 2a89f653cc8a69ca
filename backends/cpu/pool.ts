/** Max and average pooling over NCHW. Average pooling excludes padded cells from its count
 *  (DARTS's count_include_pad=False); max pooling never picks a padded cell. Large calls are cut
 *  into chunks of planes (image, channel) for the threads of threads.ts: planes are independent in
 *  both directions (a max-pool winner always lies in its own plane). */
import type { Pool2dGeometry } from '../backend.js';
import { chunkRange, chunksFor, fillShared, parallel, type JobArray } from './threads.js';
import { align16, simdEnabled, simdHeap } from './simd/simd.js';
import { SEG } from './stream.js';

function poolParams(g: Pool2dGeometry): number[] {
  return [g.N, g.C, g.H, g.W, g.kH, g.kW, g.strideH, g.strideW, g.padH, g.padW, g.P, g.Q];
}

function poolGeometry(p: number[]): Pool2dGeometry {
  const [N, C, H, W, kH, kW, strideH, strideW, padH, padW, P, Q] = p;
  return { N, C, H, W, kH, kW, strideH, strideW, padH, padW, P, Q };
}

function poolChunks(g: Pool2dGeometry): number {
  const planes = g.N * g.C;
  return chunksFor(planes * g.P * g.Q * g.kH * g.kW, planes);
}

export function maxPool2d(x: Float32Array, y: Float32Array, argmax: Int32Array, g: Pool2dGeometry): void {
  parallel('maxPool2d', maxPool2dChunk, [{ a: x }, { a: y, out: true }, { a: argmax, out: true }], [...poolParams(g), simdEnabled() ? 1 : 0], poolChunks(g));
}

export function maxPool2dChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const g = poolGeometry(params);
  const [p0, p1] = chunkRange(g.N * g.C, c, nChunks);
  const [x, y, argmax] = arrays as [Float32Array, Float32Array, Int32Array];
  if (params[12] && poolPlanesSimd(x, y, argmax, g, p0, p1)) return;
  maxPoolPlanes(x, y, argmax, g, p0, p1);
}

export function maxPool2dBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array, g: Pool2dGeometry): void {
  parallel('maxPool2dBackward', maxPool2dBackwardChunk, [{ a: dy }, { a: argmax }, { a: dx, out: true }], poolParams(g), poolChunks(g));
}

export function maxPool2dBackwardChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const [dy, argmax, dx] = arrays;
  const { H, W, P, Q, N, C } = poolGeometry(params);
  const [p0, p1] = chunkRange(N * C, c, nChunks);
  fillShared(dx as Float32Array, 0, p0 * H * W, p1 * H * W);
  for (let o = p0 * P * Q; o < p1 * P * Q; o++) {
    const i = argmax[o];
    if (i >= 0) dx[i] += dy[o];
  }
}

export function avgPool2d(x: Float32Array, y: Float32Array, g: Pool2dGeometry): void {
  parallel('avgPool2d', avgPool2dChunk, [{ a: x }, { a: y, out: true }], [...poolParams(g), simdEnabled() ? 1 : 0], poolChunks(g));
}

export function avgPool2dChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const g = poolGeometry(params);
  const [p0, p1] = chunkRange(g.N * g.C, c, nChunks);
  if (params[12] && poolPlanesSimd(arrays[0] as Float32Array, arrays[1] as Float32Array, null, g, p0, p1)) return;
  avgPoolPlanes(arrays[0] as Float32Array, arrays[1] as Float32Array, g, p0, p1);
}

/**
 * Planes p0..p1 through simd/stream.wat `avgPool` (the same sums in the same order, four 3x3 windows at
 * a time), or `maxPoolArg` where `argmax` is given (the same winners and indices), a block of planes of
 * about 64 KB at a time: false where this thread has no SIMD.
 */
function poolPlanesSimd(x: Float32Array, y: Float32Array, argmax: Int32Array | null, g: Pool2dGeometry, p0: number, p1: number): boolean {
  const HW = g.H * g.W, PQ = g.P * g.Q, per = Math.max(1, Math.floor(SEG / HW));
  // the kernel's loads reach up to 9 floats past a row's last window: slack after X
  const X = 64, Y = align16(X + 4 * per * HW + 64), A = Y + 4 * per * PQ, end = A + (argmax ? 4 * per * PQ : 0);
  const h = simdHeap(end);
  if (!h) return false;
  const { f32, i32, kernels } = h;
  i32.set([g.H, g.W, g.kH, g.kW, g.strideH, g.strideW, g.padH, g.padW, g.P, g.Q], 0);
  for (let a = p0; a < p1; a += per) {
    const n = Math.min(per, p1 - a);
    f32.set(x.subarray(a * HW, (a + n) * HW), X >> 2);
    if (argmax) kernels.maxPoolArg(X, Y, A, 0, n, a);
    else kernels.avgPool(X, Y, 0, n);
    y.set(f32.subarray(Y >> 2, (Y >> 2) + n * PQ), a * PQ);
    if (argmax) argmax.set(i32.subarray(A >> 2, (A >> 2) + n * PQ), a * PQ);
  }
  return true;
}

export function avgPool2dBackward(dy: Float32Array, dx: Float32Array, g: Pool2dGeometry): void {
  parallel('avgPool2dBackward', avgPool2dBackwardChunk, [{ a: dy }, { a: dx, out: true }], poolParams(g), poolChunks(g));
}

export function avgPool2dBackwardChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const g = poolGeometry(params);
  const [p0, p1] = chunkRange(g.N * g.C, c, nChunks);
  avgPoolBackwardPlanes(arrays[0] as Float32Array, arrays[1] as Float32Array, g, p0, p1);
}

function maxPoolPlanes(x: Float32Array, y: Float32Array, argmax: Int32Array, g: Pool2dGeometry, p0: number, p1: number): void {
  const { H, W, kH, kW, strideH, strideW, padH, padW, P, Q } = g;
  let o = p0 * P * Q;
  for (let nc = p0; nc < p1; nc++) {
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

function avgPoolPlanes(x: Float32Array, y: Float32Array, g: Pool2dGeometry, p0: number, p1: number): void {
  const { H, W, kH, kW, strideH, strideW, padH, padW, P, Q } = g;
  let o = p0 * P * Q;
  for (let nc = p0; nc < p1; nc++) {
    const base = nc * H * W;
    for (let p = 0; p < P; p++) {
      const h0 = p * strideH - padH;
      const hs = Math.max(h0, 0), he = Math.min(h0 + kH, H);
      const rowInside = kH === 3 && kW === 3 && h0 >= 0 && h0 + 3 <= H;
      for (let q = 0; q < Q; q++, o++) {
        const w0 = q * strideW - padW;
        if (rowInside && w0 >= 0 && w0 + 3 <= W) {
          // a 3x3 window inside the plane: the loop below unrolled (the same sum, in the same order)
          const r0 = base + h0 * W + w0, r1 = r0 + W, r2 = r1 + W;
          y[o] = (x[r0] + x[r0 + 1] + x[r0 + 2] + x[r1] + x[r1 + 1] + x[r1 + 2] + x[r2] + x[r2 + 1] + x[r2 + 2]) / 9;
          continue;
        }
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

function avgPoolBackwardPlanes(dy: Float32Array, dx: Float32Array, g: Pool2dGeometry, p0: number, p1: number): void {
  const { H, W, kH, kW, strideH, strideW, padH, padW, P, Q } = g;
  fillShared(dx, 0, p0 * H * W, p1 * H * W);
  let o = p0 * P * Q;
  for (let nc = p0; nc < p1; nc++) {
    const base = nc * H * W;
    for (let p = 0; p < P; p++) {
      const h0 = p * strideH - padH;
      const hs = Math.max(h0, 0), he = Math.min(h0 + kH, H);
      const rowInside = kH === 3 && kW === 3 && h0 >= 0 && h0 + 3 <= H;
      for (let q = 0; q < Q; q++, o++) {
        const w0 = q * strideW - padW;
        if (rowInside && w0 >= 0 && w0 + 3 <= W) {
          // a 3x3 window inside the plane: the loop below unrolled (the same additions, in the same order)
          const v = dy[o] / 9, r0 = base + h0 * W + w0, r1 = r0 + W, r2 = r1 + W;
          dx[r0] += v; dx[r0 + 1] += v; dx[r0 + 2] += v;
          dx[r1] += v; dx[r1 + 1] += v; dx[r1 + 2] += v;
          dx[r2] += v; dx[r2 + 1] += v; dx[r2 + 2] += v;
          continue;
        }
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
