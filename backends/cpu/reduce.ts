/**
 * Reductions over a set of axes. The tensor is viewed as [outer, reduced, inner] blocks when the
 * axes are contiguous (the common case: a fast path), else walked with strides.
 *
 * Sums run in float64 and round once. A row of fewer than `sumSettings.blockedMin` values is summed
 * in order. A longer row (inner run of 1: a loss over a whole tensor, say) is summed in blocks of
 * `SUM_BLOCK` values: four float64 partial sums per block (partial j takes the values ≡ j mod 4, in
 * order), the block's sum (s0 + s1) + (s2 + s3), and the blocks' sums added in order. One chain of
 * dependent additions waits on each addition's latency (4 cycles); four chains do not, so a sum of
 * 262,144 values runs about 3x faster, and the blocks bound the rounding error like a pairwise sum
 * (as NumPy's and PyTorch's blocked sums do). The order is fixed, so the bits never depend on threads.
 *
 * Threads (threads.ts): the blocks' sums of a long sum over shared memory are computed in chunks of
 * blocks on every thread (into a float64 scratch), then added in order on the calling thread. A sum
 * over a middle axis (an inner run after it) is cut into runs of outputs, each summed whole by one
 * thread.
 */
import { chunkRange, chunksFor, isShared, parallel, type JobArray } from './threads.js';

function contiguousRun(axes: readonly number[]): boolean {
  for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1] + 1) return false;
  return true;
}

function split(shape: readonly number[], axes: readonly number[]): [number, number, number] {
  let outer = 1, red = 1, inner = 1;
  const first = axes[0], last = axes[axes.length - 1];
  for (let i = 0; i < shape.length; i++) {
    if (i < first) outer *= shape[i];
    else if (i <= last) red *= shape[i];
    else inner *= shape[i];
  }
  return [outer, red, inner];
}

/** For the general case: for every input element, the flat index of its output. */
function outputIndex(shape: readonly number[], axes: readonly number[]): Int32Array {
  const rank = shape.length;
  const outStrides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    if (!axes.includes(i)) { outStrides[i] = s; s *= shape[i]; }
  }
  let n = 1;
  for (const d of shape) n *= d;
  const map = new Int32Array(n);
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    map[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      off += outStrides[d];
      if (idx[d] < shape[d]) break;
      off -= outStrides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return map;
}

/** Values per block of a long row's sum (see the header). */
export const SUM_BLOCK = 4096;

/** Switches of the sums (tests lower blockedMin to reach the blocked path on small rows). */
export const sumSettings = {
  /** Rows at least this long are summed in blocks (see the header); shorter ones in order. */
  blockedMin: 16384,
};

/** The float64 sums of the blocks of a threaded long sum (shared memory, viewed as float64). */
let blockScratch: Float32Array = new Float32Array(0);

/** x[base .. base + n) summed in blocks of SUM_BLOCK, four partial sums each (see the header). */
export function blockedSum(x: Float32Array, base: number, n: number): number {
  let total = 0;
  for (let b = 0; b < n; b += SUM_BLOCK) total += blockSum(x, base + b, base + Math.min(n, b + SUM_BLOCK));
  return total;
}

/** Blocks [b0, b1) of chunk c of a long sum: rows of `red` values, each cut into blocks of SUM_BLOCK. */
export function blockSumsChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const [x, scratch] = arrays as Float32Array[];
  const [red, blocks] = params;
  const perRow = Math.ceil(red / SUM_BLOCK), sums = new Float64Array(scratch.buffer, scratch.byteOffset, blocks);
  const [b0, b1] = chunkRange(blocks, c, nChunks);
  for (let b = b0; b < b1; b++) {
    const row = Math.floor(b / perRow), start = (b - row * perRow) * SUM_BLOCK;
    sums[b] = blockSum(x, row * red + start, row * red + Math.min(red, start + SUM_BLOCK));
  }
}

/** Outputs per run of a reduction between an outer and an inner run (a chunk's unit of work). */
const SUM_RUN = 2048;

/**
 * Chunk c of a sum of x viewed as [outer, red, inner] over its middle axis: the outputs are runs of at
 * most SUM_RUN consecutive values of one outer index; each output is the float64 sum of its `red`
 * values in order, from 0, rounded once (the same additions whichever thread or chunk computes it).
 * The sum stays in a local: a float64 array of running sums, row after row, took half as long again
 * (3 million values, red 3: 13-14 against 9 ms on the 2-core machine).
 */
export function runSumsChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const [x, out] = arrays as Float32Array[];
  const [, red, inner] = params;
  const perOuter = Math.ceil(inner / SUM_RUN);
  const [u0, u1] = chunkRange(params[0] * perOuter, c, nChunks);
  for (let u = u0; u < u1; u++) {
    const o = Math.floor(u / perOuter), i0 = (u - o * perOuter) * SUM_RUN, n = Math.min(SUM_RUN, inner - i0);
    const base = o * red * inner + i0, at = o * inner + i0;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let r = 0, k = base + i; r < red; r++, k += inner) sum += x[k];
      out[at + i] = sum;
    }
  }
}

/** One block's sum: x[i0 .. end) in four partial sums, (s0 + s1) + (s2 + s3). */
function blockSum(x: Float32Array, i0: number, end: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, i = i0;
  for (; i + 4 <= end; i += 4) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
  }
  if (i < end) s0 += x[i++];
  if (i < end) s1 += x[i++];
  if (i < end) s2 += x[i];
  return (s0 + s1) + (s2 + s3);
}

export function sum(x: Float32Array, shape: readonly number[], axes: readonly number[], out: Float32Array): void {
  if (axes.length === 0) { out.set(x); return; }
  if (contiguousRun(axes)) {
    const [outer, red, inner] = split(shape, axes);
    if (inner === 1 && red >= sumSettings.blockedMin) {
      const perRow = Math.ceil(red / SUM_BLOCK), blocks = outer * perRow;
      // work counted as the elementwise kernels count it (8 a value: a value of this JavaScript loop
      // costs about as much as eight multiply-adds of a SIMD kernel, 1 ns on the 2-core machine), so
      // the bench's dwconv_m loss (262,144 values, 0.25 ms on one thread) is split too
      const nChunks = isShared(x) ? chunksFor(8 * outer * red, blocks) : 1;
      if (nChunks < 2) {
        for (let o = 0; o < outer; o++) out[o] = blockedSum(x, o * red, red);
        return;
      }
      // every block's sum on the threads, then each row's blocks added in order here
      if (blockScratch.length < 2 * blocks) blockScratch = new Float32Array(new SharedArrayBuffer(8 * blocks));
      parallel('blockSums', blockSumsChunk, [{ a: x }, { a: blockScratch, inout: true }], [red, blocks], nChunks);
      const sums = new Float64Array(blockScratch.buffer, 0, blocks);
      for (let o = 0; o < outer; o++) {
        let total = 0;
        for (let b = o * perRow; b < (o + 1) * perRow; b++) total += sums[b];
        out[o] = total;
      }
      return;
    }
    if (inner === 1) {
      // one sum per outer row: the same float64 additions in the same order, in a local variable (the
      // loop below carries every addition through acc[0] in memory; a sum of 262,144 values, the
      // bench's dwconv_m loss, took 1.25 ms that way and 0.45 ms this way on the 2-core machine)
      for (let o = 0; o < outer; o++) {
        let s = 0;
        const base = o * red;
        for (let r = 0; r < red; r++) s += x[base + r];
        out[o] = s;
      }
      return;
    }
    // a reduction between an outer and an inner run (the Bi-Real shortcut's channel-group mean, say):
    // every output adds its `red` values in order in float64
    // (runSumsChunk), the outputs cut into runs of at most SUM_RUN, spread over the threads
    const runs = outer * Math.ceil(inner / SUM_RUN);
    const nChunks = isShared(x) ? chunksFor(8 * outer * red * inner, runs) : 1;
    parallel('runSums', runSumsChunk, [{ a: x }, { a: out, out: true }], [outer, red, inner], nChunks);
    return;
  }
  const map = outputIndex(shape, axes);
  const acc = new Float64Array(out.length);
  for (let i = 0; i < x.length; i++) acc[map[i]] += x[i];
  for (let i = 0; i < out.length; i++) out[i] = acc[i];
}

export function max(
  x: Float32Array, shape: readonly number[], axes: readonly number[], out: Float32Array, argmax?: Int32Array,
): void {
  if (axes.length === 0) {
    out.set(x);
    if (argmax) for (let i = 0; i < x.length; i++) argmax[i] = i;
    return;
  }
  if (contiguousRun(axes)) {
    const [outer, red, inner] = split(shape, axes);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let base = o * red * inner + i;
        let best = x[base], bi = base;
        for (let r = 1; r < red; r++) {
          base += inner;
          const v = x[base];
          if (v > best || (v !== v && best === best)) { best = v; bi = base; }
        }
        out[o * inner + i] = best;
        if (argmax) argmax[o * inner + i] = bi;
      }
    }
    return;
  }
  const map = outputIndex(shape, axes);
  out.fill(-Infinity);
  const arg = argmax ?? new Int32Array(out.length);
  arg.fill(-1);
  for (let i = 0; i < x.length; i++) {
    const o = map[i];
    if (arg[o] < 0 || x[i] > out[o]) { out[o] = x[i]; arg[o] = i; }
  }
}
