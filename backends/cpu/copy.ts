/**
 * Rows copied between two tensors' storage, and runs of one value (`fill`, core/alloc.ts fillFloat32:
 * the gradient of a sum, Tensor.full). Rows: the box copies of concat, slice, pad and their gradients
 * (ops/shape.ts). A copy moves memory and computes nothing, but a Parent train step of the DARTS-V2
 * network copies about 20 MB per cell this way (concatenated node outputs, and their gradients
 * sliced back), which was 5 % of the calling thread's time and none of the workers'.
 *
 * Threads (threads.ts): cut into chunks of rows when both arrays are shared memory (staging a copy's
 * arrays would cost more than the copy).
 */
import { chunkRange, chunksFor, fillShared, isShared, parallel, type JobArray } from './threads.js';

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

/** a[start, end) = value (threads.ts fillShared), in chunks over the threads when the run is long. */
export function fill(a: Float32Array, value: number, start: number, end: number): void {
  const n = end - start;
  const nChunks = isShared(a) ? chunksFor(n, Math.ceil(n / FILL_CHUNK)) : 1;
  if (nChunks < 2) {
    fillShared(a, value, start, end);
    return;
  }
  parallel('fill', fillChunk, [{ a, inout: true }], [value, start, end], nChunks);
}

/** Values per fill chunk at least (64 KB). */
const FILL_CHUNK = 1 << 14;

/** Part c of a fill. */
export function fillChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const [value, start, end] = params;
  const [i0, i1] = chunkRange(end - start, c, nChunks, 16);
  fillShared(arrays[0] as Float32Array, value, start + i0, start + i1);
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
