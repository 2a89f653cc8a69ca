/**
 * Rows copied between two tensors' storage: the box copies of concat, slice, pad and their gradients
 * (ops/shape.ts). A copy moves memory and computes nothing, but a Parent train step of the DARTS-V2
 * network copies about 20 MB per cell this way (concatenated node outputs, and their gradients
 * sliced back), which was 5 % of the calling thread's time and none of the workers'.
 *
 * Threads (threads.ts): cut into chunks of rows when both arrays are shared memory (staging a copy's
 * arrays would cost more than the copy).
 */
import { chunkRange, chunksFor, isShared, parallel, type JobArray } from './threads.js';

/**
 * dst[dstOff + r·dstStride + i] = src[srcOff + r·srcStride + i] for r < rows, i < len. The rows must
 * not overlap in dst (they do not in a box copy).
 */
export function copyRows(
  src: Float32Array, srcOff: number, srcStride: number, dst: Float32Array, dstOff: number, dstStride: number, len: number, rows: number,
): void {
  const nChunks = isShared(src) && isShared(dst) ? chunksFor(rows * len, rows) : 1;
  if (nChunks < 2) {
    copyRowRange(src, srcOff, srcStride, dst, dstOff, dstStride, len, 0, rows);
    return;
  }
  parallel('copyRows', copyRowsChunk, [{ a: src }, { a: dst, inout: true }], [srcOff, srcStride, dstOff, dstStride, len, rows], nChunks);
}

/** Rows [r0, r1) of chunk c. */
export function copyRowsChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const [src, dst] = arrays as Float32Array[];
  const [srcOff, srcStride, dstOff, dstStride, len, rows] = params;
  const [r0, r1] = chunkRange(rows, c, nChunks);
  copyRowRange(src, srcOff, srcStride, dst, dstOff, dstStride, len, r0, r1);
}

function copyRowRange(
  src: Float32Array, srcOff: number, srcStride: number, dst: Float32Array, dstOff: number, dstStride: number, len: number, r0: number, r1: number,
): void {
  for (let r = r0; r < r1; r++) {
    const so = srcOff + r * srcStride, dof = dstOff + r * dstStride;
    if (len >= 64) dst.set(src.subarray(so, so + len), dof);
    else for (let i = 0; i < len; i++) dst[dof + i] = src[so + i];
  }
}
