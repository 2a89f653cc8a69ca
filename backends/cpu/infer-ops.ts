/**
 * The float steps of the inference engine (binary/runtime/execute.ts) that are worth two threads on a
 * whole batch: the Bi-Real shortcut's channel-group mean, the sum into a channel slice of a cell's
 * concatenation, an eval-mode BatchNorm (+ ReLU), and FactorizedReduce's shifted view. Each is cut
 * into chunks of planes (image, channel) for the threads of threads.ts; every plane is computed the
 * same way on any thread.
 */
import { chunkRange, chunksFor, parallel, type JobArray } from './threads.js';
import { align16, simdEnabled, simdHeap } from './simd/simd.js';
import { affinePlanesSimd, round4, SEG } from './stream.js';

let acc = new Float64Array(0);

/*
 * With the SIMD kernels on (simd/simd.ts), each step runs in WebAssembly (simd/stream.wat) on blocks of
 * SEG floats per operand (stream.ts), copied into the thread's memory and back: copies run at memory
 * speed and a block stays in cache between them, while the plain loops here cost several ns a value.
 * The same values either way (stream.wat says why).
 */

/** y[n, c] = mean over g of x[n, g * C + c] (x: [N, groups * C, HW], y: [N, C, HW]); sums in group order. */
export function groupMean(x: Float32Array, y: Float32Array, N: number, C: number, HW: number, groups: number): void {
  parallel('groupMean', groupMeanChunk, [{ a: x }, { a: y, inout: true }], [N, C, HW, groups, simdEnabled() ? 1 : 0], chunksFor(N * C * HW * groups, N * C));
}

export function groupMeanChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [N, C, HW, groups, simd] = params, x = arrays[0] as Float32Array, y = arrays[1] as Float32Array, inv = 1 / groups;
  const [p0, p1] = chunkRange(N * C, chunk, nChunks);
  if (simd && groupMeanSimd(x, y, C, HW, groups, p0, p1)) return;
  for (let nc = p0; nc < p1; nc++) {
    const n = Math.floor(nc / C), c = nc - n * C, o = nc * HW, first = (n * groups * C + c) * HW, step = C * HW;
    // the groups' values of a pixel summed in group order, in doubles, then the mean
    if (groups === 2) {
      for (let j = 0; j < HW; j++) y[o + j] = (x[first + j] + x[first + step + j]) * inv;
    } else if (groups === 3) {
      for (let j = 0; j < HW; j++) y[o + j] = (x[first + j] + x[first + step + j] + x[first + 2 * step + j]) * inv;
    } else if (groups === 4) {
      const s1 = first + step, s2 = s1 + step, s3 = s2 + step;
      for (let j = 0; j < HW; j++) y[o + j] = (x[first + j] + x[s1 + j] + x[s2 + j] + x[s3 + j]) * inv;
    } else {
      if (acc.length < HW) acc = new Float64Array(HW);
      for (let j = 0; j < HW; j++) acc[j] = x[first + j];
      for (let g = 1; g < groups; g++) for (let j = 0, src = first + g * step; j < HW; j++) acc[j] += x[src + j];
      for (let j = 0; j < HW; j++) y[o + j] = acc[j] * inv;
    }
  }
}

/** Planes p0..p1 of groupMean in WebAssembly; false where this thread has no SIMD. */
function groupMeanSimd(x: Float32Array, y: Float32Array, C: number, HW: number, groups: number, p0: number, p1: number): boolean {
  const h = simdHeap(4 * SEG * (groups + 1));
  if (!h) return false;
  const { f32, kernels } = h, Y = groups * SEG;
  forRuns(C, HW, p0, p1, (n, c0, off, len) => {
    for (let g = 0; g < groups; g++) {
      const src = (n * groups * C + g * C + c0) * HW + off;
      f32.set(x.subarray(src, src + len), g * SEG);
    }
    kernels.groupMean(0, 4 * SEG, groups, 1 / groups, 4 * Y, round4(len));
    const dst = (n * C + c0) * HW + off;
    y.set(f32.subarray(Y, Y + len), dst);
  });
  return true;
}

/**
 * Calls `f(n, c0, off, len)` for blocks of at most SEG values covering planes p0..p1 of [N, C, HW]:
 * values off..off + len of the run of image n's planes from c0 (contiguous in the buffer).
 */
function forRuns(C: number, HW: number, p0: number, p1: number, f: (n: number, c0: number, off: number, len: number) => void): void {
  for (let nc = p0; nc < p1;) {
    const n = Math.floor(nc / C), end = Math.min(p1, (n + 1) * C), c0 = nc - n * C, total = (end - nc) * HW;
    for (let off = 0; off < total; off += SEG) f(n, c0, off, Math.min(SEG, total - off));
    nc = end;
  }
}

/** y[n, yC0 + c] = a[n, c] + b[n, c] (a, b: [N, C, HW]; y has Ct channels). */
export function sliceAdd(a: Float32Array, b: Float32Array, y: Float32Array, N: number, C: number, HW: number, Ct: number, yC0: number): void {
  parallel('sliceAdd', sliceAddChunk, [{ a }, { a: b }, { a: y, inout: true }], [N, C, HW, Ct, yC0, simdEnabled() ? 1 : 0], chunksFor(N * C * HW, N * C));
}

export function sliceAddChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [N, C, HW, Ct, yC0, simd] = params, a = arrays[0] as Float32Array, b = arrays[1] as Float32Array, y = arrays[2] as Float32Array;
  const [p0, p1] = chunkRange(N * C, chunk, nChunks);
  if (simd) {
    const h = simdHeap(4 * 3 * SEG);
    if (h) {
      const { f32, kernels } = h;
      forRuns(C, HW, p0, p1, (n, c0, off, len) => {
        const src = (n * C + c0) * HW + off;
        f32.set(a.subarray(src, src + len), 0);
        f32.set(b.subarray(src, src + len), SEG);
        kernels.addF32(0, 4 * SEG, 8 * SEG, round4(len));
        y.set(f32.subarray(2 * SEG, 2 * SEG + len), (n * Ct + yC0 + c0) * HW + off);
      });
      return;
    }
  }
  for (let nc = p0; nc < p1; nc++) {
    const n = Math.floor(nc / C), src = nc * HW, dst = (n * Ct + yC0 + nc - n * C) * HW;
    for (let j = 0; j < HW; j++) y[dst + j] = a[src + j] + b[src + j];
  }
}

/** y = x * scale[c] + shift[c], then ReLU if `relu` (x, y: [N, C, HW]). */
export function affine(x: Float32Array, y: Float32Array, scale: Float32Array, shift: Float32Array, N: number, C: number, HW: number, relu: boolean): void {
  parallel('affine', affineChunk, [{ a: x }, { a: y, inout: true }, { a: scale }, { a: shift }], [N, C, HW, relu ? 1 : 0, simdEnabled() ? 1 : 0], chunksFor(N * C * HW, N * C));
}

export function affineChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [, C, HW, relu, simd] = params, x = arrays[0] as Float32Array, y = arrays[1] as Float32Array;
  const scale = arrays[2] as Float32Array, shift = arrays[3] as Float32Array;
  const [p0, p1] = chunkRange(params[0] * C, chunk, nChunks);
  if (simd && affinePlanesSimd(x, y, scale, shift, C, HW, relu, p0, p1)) return;
  for (let nc = p0; nc < p1; nc++) {
    const c = nc % C, o = nc * HW, sc = scale[c], sh = shift[c];
    if (relu) for (let j = o; j < o + HW; j++) { const v = x[j] * sc + sh; y[j] = v > 0 ? v : 0; }
    else for (let j = o; j < o + HW; j++) y[j] = x[j] * sc + sh;
  }
}

/**
 * y[nc, p, q] = x[nc, p + 1, q + 1] where that lies inside x, else 0 (x: [NC, H, W], y: [NC, P, Q]):
 * FactorizedReduce's second path, which reads the input one pixel down and right.
 */
export function shiftPlanes(x: Float32Array, y: Float32Array, NC: number, H: number, W: number, P: number, Q: number): void {
  parallel('shiftPlanes', shiftPlanesChunk, [{ a: x }, { a: y, inout: true }], [NC, H, W, P, Q, simdEnabled() ? 1 : 0], chunksFor(NC * P * Q, NC));
}

export function shiftPlanesChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [NC, H, W, P, Q, simd] = params, x = arrays[0] as Float32Array, y = arrays[1] as Float32Array;
  const [p0, p1] = chunkRange(NC, chunk, nChunks);
  if (simd && shiftPlanesSimd(x, y, H, W, P, Q, p0, p1)) return;
  y.fill(0, p0 * P * Q, p1 * P * Q);
  for (let nc = p0; nc < p1; nc++) {
    for (let p = 0; p < P && p + 1 < H; p++) {
      const src = nc * H * W + (p + 1) * W + 1, dst = (nc * P + p) * Q;
      for (let q = 0; q < Q && q + 1 < W; q++) y[dst + q] = x[src + q];
    }
  }
}

/** Planes p0..p1 of shiftPlanes: blocks of planes copied in whole, each cropped by simd/float.wat padPlane (padding -1). */
function shiftPlanesSimd(x: Float32Array, y: Float32Array, H: number, W: number, P: number, Q: number, p0: number, p1: number): boolean {
  const HW = H * W, PQ = P * Q, per = Math.max(1, Math.floor(SEG / Math.max(HW, PQ)));
  const Y = align16(4 * per * HW), h = simdHeap(Y + 4 * per * PQ);
  if (!h) return false;
  const { f32, kernels } = h;
  for (let b0 = p0; b0 < p1; b0 += per) {
    const n = Math.min(per, p1 - b0);
    f32.set(x.subarray(b0 * HW, (b0 + n) * HW), 0);
    for (let i = 0; i < n; i++) kernels.padPlane(4 * i * HW, H, W, Y + 4 * i * PQ, P, Q, -1, -1);
    y.set(f32.subarray(Y >> 2, (Y >> 2) + n * PQ), b0 * PQ);
  }
  return true;
}
