/** Batch norm's kernels over x viewed as [N, C, HW]: the per-channel statistics (mean and biased
 *  variance, accumulated in float64 in two passes, so the variance does not cancel catastrophically),
 *  the per-channel affine map, and its backward pass. Large calls are cut into chunks of channels for
 *  the threads of threads.ts (each channel summed in one order, so any thread count gives the same bits).
 *
 *  The order of every per-channel sum (Σx, Σ(x-m)², Σg, Σg·xhat): four float64 partial sums s0..s3,
 *  partial j taking, image after image and in pixel order within an image's plane, the values at
 *  in-plane index i ≡ j (mod 4) (a plane's tail, when HW is not a multiple of 4, lands in partials
 *  0..r-1), and the channel's sum = (s0 + s1) + (s2 + s3). Why: it is the order of the SIMD kernels
 *  (simd/batchnorm.wat, driven by batchnorm-simd.ts), whose four lanes are the four partials, and the
 *  TypeScript loops below are their twin (the tested reference, and the path where SIMD is off or
 *  unavailable): every value is promoted to float64 before any arithmetic and each term is the same
 *  double expression, so both give the same bits. The partials are float64, as the one
 *  sequential sum before them was, so the sums are as accurate as before (if anything a little more:
 *  each partial adds a quarter of the terms, so its rounding errors grow more slowly). dx is
 *  computed per element in float64 and rounded to float32 once, by both. */
import { chunkRange, chunksFor, parallel, type JobArray } from './threads.js';
import { simdEnabled } from './simd/simd.js';
import { affinePlanesSimd } from './stream.js';
import { batchNormBackwardSimd, batchNormStatsSimd } from './batchnorm-simd.js';

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
  if (c1 > c0 && batchNormStatsSimd(x, N, C, HW, c0, c1, mean, variance)) return;
  const count = N * HW, H4 = HW & ~3, r = HW & 3;
  for (let c = c0; c < c1; c++) {
    // the four partials of the header's order
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW, end = base + H4;
      let i = base;
      for (; i < end; i += 4) { s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3]; }
      if (r > 0) s0 += x[i];
      if (r > 1) s1 += x[i + 1];
      if (r > 2) s2 += x[i + 2];
    }
    const m = ((s0 + s1) + (s2 + s3)) / count;
    let v0 = 0, v1 = 0, v2 = 0, v3 = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW, end = base + H4;
      let i = base;
      for (; i < end; i += 4) {
        const d0 = x[i] - m, d1 = x[i + 1] - m, d2 = x[i + 2] - m, d3 = x[i + 3] - m;
        v0 += d0 * d0; v1 += d1 * d1; v2 += d2 * d2; v3 += d3 * d3;
      }
      if (r > 0) { const d = x[i] - m; v0 += d * d; }
      if (r > 1) { const d = x[i + 1] - m; v1 += d * d; }
      if (r > 2) { const d = x[i + 2] - m; v2 += d * d; }
    }
    mean[c] = m;
    variance[c] = ((v0 + v1) + (v2 + v3)) / count;
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
  const [c0, c1] = chunkRange(C, chunk, nChunks);
  if (c1 > c0 && batchNormBackwardSimd(g, x, N, C, HW, c0, c1, mean, invStd, wt, hasW, batchStats, dx, dw, db, hasDx, hasDw, hasDb)) return;
  const count = N * HW, H4 = HW & ~3, r = HW & 3;
  // the running-statistics dx = w·invStd·g needs no sums
  const needSums = hasDw || hasDb || (hasDx && batchStats);
  for (let c = c0; c < c1; c++) {
    const m = mean[c], is = invStd[c], w = hasW ? wt[c] : 1;
    // Σ g and Σ g·xhat over the channel, in float64, in the header's four partials
    let g0 = 0, g1 = 0, g2 = 0, g3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (let n = 0; n < N && needSums; n++) {
      const base = (n * C + c) * HW, end = base + H4;
      let i = base;
      for (; i < end; i += 4) {
        g0 += g[i]; t0 += g[i] * (x[i] - m) * is;
        g1 += g[i + 1]; t1 += g[i + 1] * (x[i + 1] - m) * is;
        g2 += g[i + 2]; t2 += g[i + 2] * (x[i + 2] - m) * is;
        g3 += g[i + 3]; t3 += g[i + 3] * (x[i + 3] - m) * is;
      }
      if (r > 0) { g0 += g[i]; t0 += g[i] * (x[i] - m) * is; }
      if (r > 1) { g1 += g[i + 1]; t1 += g[i + 1] * (x[i + 1] - m) * is; }
      if (r > 2) { g2 += g[i + 2]; t2 += g[i + 2] * (x[i + 2] - m) * is; }
    }
    const sg = (g0 + g1) + (g2 + g3), sgx = (t0 + t1) + (t2 + t3);
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
