/** Batch norm's kernels over x viewed as [N, C, HW]: the per-channel statistics (mean and biased
 *  variance, accumulated in float64 in two passes, so the variance does not cancel catastrophically),
 *  the per-channel affine map, and its backward pass. Large calls are cut into chunks of channels for
 *  the threads of threads.ts (each channel summed in one order, so any thread count gives the same bits). */
import { chunkRange, chunksFor, parallel, type JobArray } from './threads.js';
import { simdEnabled } from './simd/simd.js';
import { affinePlanesSimd } from './stream.js';

export function batchNormStats(
  x: Float32Array, N: number, C: number, HW: number, mean: Float32Array, variance: Float32Array,
): void {
  const nChunks = chunksFor(2 * x.length, C);
  parallel('batchNormStats', batchNormStatsChunk, [{ a: x }, { a: mean, out: true }, { a: variance, out: true }], [N, C, HW], nChunks);
}

export function batchNormStatsChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [x, mean, variance] = arrays as Float32Array[];
  const [N, C, HW] = params;
  const [c0, c1] = chunkRange(C, chunk, nChunks);
  const count = N * HW;
  for (let c = c0; c < c1; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) s += x[base + i];
    }
    const m = s / count;
    let v = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) { const d = x[base + i] - m; v += d * d; }
    }
    mean[c] = m;
    variance[c] = v / count;
  }
}

const NONE = new Float32Array(0);

export function batchNormApply(
  x: Float32Array, y: Float32Array, N: number, C: number, HW: number, mean: Float32Array, invStd: Float32Array,
  weight: Float32Array | null, bias: Float32Array | null,
): void {
  const args = [{ a: x }, { a: y, out: true }, { a: mean }, { a: invStd }, { a: weight ?? NONE }, { a: bias ?? NONE }];
  parallel('batchNormApply', batchNormApplyChunk, args, [N, C, HW, weight ? 1 : 0, bias ? 1 : 0], chunksFor(x.length, C));
}

export function batchNormApplyChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [x, y, mean, invStd, w, b] = arrays as Float32Array[];
  const [N, C, HW, hasW, hasB] = params;
  const [c0, c1] = chunkRange(C, chunk, nChunks);
  if (HW >= 64 && simdEnabled()) {
    // SIMD: image by image, the chunk's channels are one run of planes (the same doubles, stream.ts)
    const scale = new Float64Array(C), shift = new Float64Array(C);
    for (let c = c0; c < c1; c++) {
      scale[c] = invStd[c] * (hasW ? w[c] : 1);
      shift[c] = (hasB ? b[c] : 0) - mean[c] * scale[c];
    }
    let done = true;
    for (let n = 0; n < N && done; n++) done = affinePlanesSimd(x, y, scale, shift, C, HW, 0, n * C + c0, n * C + c1);
    if (done) return;
  }
  for (let c = c0; c < c1; c++) {
    const scale = invStd[c] * (hasW ? w[c] : 1);
    const shift = (hasB ? b[c] : 0) - mean[c] * scale;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = base; i < base + HW; i++) y[i] = x[i] * scale + shift;
    }
  }
}

export function batchNormBackward(
  g: Float32Array, x: Float32Array, N: number, C: number, HW: number, mean: Float32Array, invStd: Float32Array,
  weight: Float32Array | null, batchStats: boolean, dx: Float32Array | null, dw: Float32Array | null, db: Float32Array | null,
): void {
  const args = [
    { a: g }, { a: x }, { a: mean }, { a: invStd }, { a: weight ?? NONE },
    { a: dx ?? NONE, out: true }, { a: dw ?? NONE, out: true }, { a: db ?? NONE, out: true },
  ];
  const params = [N, C, HW, weight ? 1 : 0, batchStats ? 1 : 0, dx ? 1 : 0, dw ? 1 : 0, db ? 1 : 0];
  parallel('batchNormBackward', batchNormBackwardChunk, args, params, chunksFor(3 * x.length, C));
}

export function batchNormBackwardChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [g, x, mean, invStd, wt, dx, dw, db] = arrays as Float32Array[];
  const [N, C, HW, hasW, batchStats, hasDx, hasDw, hasDb] = params;
  const count = N * HW;
  const [c0, c1] = chunkRange(C, chunk, nChunks);
  for (let c = c0; c < c1; c++) {
    const m = mean[c], is = invStd[c], w = hasW ? wt[c] : 1;
    // Σ g and Σ g·xhat over the channel, in float64
    let sg = 0, sgx = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = base; i < base + HW; i++) { sg += g[i]; sgx += g[i] * (x[i] - m) * is; }
    }
    if (hasDw) dw[c] = sgx;
    if (hasDb) db[c] = sg;
    if (!hasDx) continue;
    if (batchStats) {
      // dx = w·invStd/n · (n·g - Σg - xhat·Σ(g·xhat)): the batch statistics depend on x too
      const k = (w * is) / count;
      for (let n = 0; n < N; n++) {
        const base = (n * C + c) * HW;
        for (let i = base; i < base + HW; i++) dx[i] = k * (count * g[i] - sg - (x[i] - m) * is * sgx);
      }
    } else {
      const k = w * is;
      for (let n = 0; n < N; n++) {
        const base = (n * C + c) * HW;
        for (let i = base; i < base + HW; i++) dx[i] = k * g[i];
      }
    }
  }
}
