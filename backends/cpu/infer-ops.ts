/**
 * The float steps of the inference engine (binary/runtime/execute.ts) that are worth two threads on a
 * whole batch: the Bi-Real shortcut's channel-group mean, the sum into a channel slice of a cell's
 * concatenation, and an eval-mode BatchNorm (+ ReLU). Each is cut into chunks of planes (image,
 * channel) for the threads of threads.ts; every plane is computed the same way on any thread.
 */
import { chunkRange, chunksFor, parallel, type JobArray } from './threads.js';

let acc = new Float64Array(0);

/** y[n, c] = mean over g of x[n, g * C + c] (x: [N, groups * C, HW], y: [N, C, HW]); sums in group order. */
export function groupMean(x: Float32Array, y: Float32Array, N: number, C: number, HW: number, groups: number): void {
  parallel('groupMean', groupMeanChunk, [{ a: x }, { a: y, inout: true }], [N, C, HW, groups], chunksFor(N * C * HW * groups, N * C));
}

export function groupMeanChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [N, C, HW, groups] = params, x = arrays[0] as Float32Array, y = arrays[1] as Float32Array, inv = 1 / groups;
  const [p0, p1] = chunkRange(N * C, chunk, nChunks);
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

/** y[n, yC0 + c] = a[n, c] + b[n, c] (a, b: [N, C, HW]; y has Ct channels). */
export function sliceAdd(a: Float32Array, b: Float32Array, y: Float32Array, N: number, C: number, HW: number, Ct: number, yC0: number): void {
  parallel('sliceAdd', sliceAddChunk, [{ a }, { a: b }, { a: y, inout: true }], [N, C, HW, Ct, yC0], chunksFor(N * C * HW, N * C));
}

export function sliceAddChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [N, C, HW, Ct, yC0] = params, a = arrays[0] as Float32Array, b = arrays[1] as Float32Array, y = arrays[2] as Float32Array;
  const [p0, p1] = chunkRange(N * C, chunk, nChunks);
  for (let nc = p0; nc < p1; nc++) {
    const n = Math.floor(nc / C), src = nc * HW, dst = (n * Ct + yC0 + nc - n * C) * HW;
    for (let j = 0; j < HW; j++) y[dst + j] = a[src + j] + b[src + j];
  }
}

/** y = x * scale[c] + shift[c], then ReLU if `relu` (x, y: [N, C, HW]). */
export function affine(x: Float32Array, y: Float32Array, scale: Float32Array, shift: Float32Array, N: number, C: number, HW: number, relu: boolean): void {
  parallel('affine', affineChunk, [{ a: x }, { a: y, inout: true }, { a: scale }, { a: shift }], [N, C, HW, relu ? 1 : 0], chunksFor(N * C * HW, N * C));
}

export function affineChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [, C, HW, relu] = params, x = arrays[0] as Float32Array, y = arrays[1] as Float32Array;
  const scale = arrays[2] as Float32Array, shift = arrays[3] as Float32Array;
  const [p0, p1] = chunkRange(params[0] * C, chunk, nChunks);
  for (let nc = p0; nc < p1; nc++) {
    const c = nc % C, o = nc * HW, sc = scale[c], sh = shift[c];
    if (relu) for (let j = o; j < o + HW; j++) { const v = x[j] * sc + sh; y[j] = v > 0 ? v : 0; }
    else for (let j = o; j < o + HW; j++) y[j] = x[j] * sc + sh;
  }
}
