/**
 * Batch norm's statistics and backward pass (batchnorm.ts) through the WebAssembly kernels of
 * simd/batchnorm.wat, for a chunk of channels [c0, c1): image by image, the chunk's planes are one run
 * of memory, copied in blocks of whole planes (about SEG values, one plane at least) into this thread's
 * WebAssembly memory, packed (no padding: the kernels load unaligned and mask a plane's tail), run there,
 * and the dx block copied back. The per-channel float64 partial sums stay in WebAssembly memory across
 * the images; they are added up here as batchnorm.ts's twin adds its own, (s0 + s1) + (s2 + s3), so
 * every output is the twin's bit for bit (its header gives the order). The copies are about half the
 * time: on this project's 2-core machine (busy), the backward of [64, 16, 32x32] took about 7 ms, its
 * TypeScript twin 11 ms. Holding a group of channels over all images in WebAssembly memory so that the
 * second pass needs no second copy was tried and was no faster there (many small copies).
 */
import { align16, simdHeap, type SimdHeap } from './simd/simd.js';
import { SEG } from './stream.js';

/** Planes of a block: as many whole planes as fit in SEG values, at least one, at most the chunk's. */
function blockPlanes(HW: number, nc: number): number {
  return Math.max(1, Math.min(nc, Math.floor(SEG / HW)));
}

/** Bytes of a block region: `per` planes and 16 bytes of slack (a tail vector's reach past the block). */
function regionBytes(per: number, HW: number): number {
  return align16(4 * (per * HW + 4));
}

/**
 * mean[c] and the biased variance[c] of channels c0..c1 of x [N, C, HW], as batchNormStatsChunk: false,
 * with nothing written, where this thread has no SIMD.
 */
export function batchNormStatsSimd(
  x: Float32Array, N: number, C: number, HW: number, c0: number, c1: number, mean: Float32Array, variance: Float32Array,
): boolean {
  const nc = c1 - c0, per = blockPlanes(HW, nc);
  const ACC = regionBytes(per, HW), MEAN = ACC + 32 * nc;
  const h = simdHeap(MEAN + 8 * nc);
  if (!h) return false;
  const { f64 } = h, acc = ACC >> 3, count = N * HW;
  // pass 1: Σx; pass 2: Σ(x - m)² about the float64 mean (two passes: the variance does not cancel)
  f64.fill(0, acc, acc + 4 * nc);
  sumPass(h, x, N, C, HW, c0, c1, per, ACC, MEAN, 0);
  for (let c = c0; c < c1; c++) {
    const a = acc + 4 * (c - c0);
    const m = ((f64[a] + f64[a + 1]) + (f64[a + 2] + f64[a + 3])) / count;
    mean[c] = m;
    f64[(MEAN >> 3) + c - c0] = m;
    f64.fill(0, a, a + 4);
  }
  sumPass(h, x, N, C, HW, c0, c1, per, ACC, MEAN, 1);
  for (let c = c0; c < c1; c++) {
    const a = acc + 4 * (c - c0);
    variance[c] = ((f64[a] + f64[a + 1]) + (f64[a + 2] + f64[a + 3])) / count;
  }
  return true;
}

function sumPass(
  h: SimdHeap, x: Float32Array, N: number, C: number, HW: number, c0: number, c1: number, per: number, ACC: number, MEAN: number, sq: number,
): void {
  const { f32, kernels } = h;
  for (let n = 0; n < N; n++) {
    for (let b0 = c0; b0 < c1; b0 += per) {
      const b1 = Math.min(c1, b0 + per);
      f32.set(x.subarray((n * C + b0) * HW, (n * C + b1) * HW), 0);
      kernels.bnSum(0, b1 - b0, HW, ACC + 32 * (b0 - c0), MEAN + 8 * (b0 - c0), sq);
    }
  }
}

/**
 * Batch norm's backward pass over channels c0..c1, as batchNormBackwardChunk (the same arrays and
 * flags): false, with nothing written, where this thread has no SIMD.
 */
export function batchNormBackwardSimd(
  g: Float32Array, x: Float32Array, N: number, C: number, HW: number, c0: number, c1: number,
  mean: Float32Array, invStd: Float32Array, wt: Float32Array, hasW: number, batchStats: number,
  dx: Float32Array, dw: Float32Array, db: Float32Array, hasDx: number, hasDw: number, hasDb: number,
): boolean {
  const nc = c1 - c0, per = blockPlanes(HW, nc), R = regionBytes(per, HW);
  const G = 0, X = R, Y = 2 * R, COEF = 3 * R, ACC = COEF + align16(40 * nc);
  const h = simdHeap(ACC + 64 * nc);
  if (!h) return false;
  const { f32, f64, kernels } = h, count = N * HW, cf = COEF >> 3, acc = ACC >> 3;
  // each channel's coefficients (k, sg, m, is, sgx), the sums filled in below
  for (let c = c0; c < c1; c++) {
    const o = cf + 5 * (c - c0), is = invStd[c], w = hasW ? wt[c] : 1;
    f64[o] = batchStats ? (w * is) / count : w * is;
    f64[o + 1] = 0;
    f64[o + 2] = mean[c];
    f64[o + 3] = is;
    f64[o + 4] = 0;
  }
  if (hasDw || hasDb || (hasDx && batchStats)) {
    // Σg and Σg·xhat over each channel
    f64.fill(0, acc, acc + 8 * nc);
    for (let n = 0; n < N; n++) {
      for (let b0 = c0; b0 < c1; b0 += per) {
        const b1 = Math.min(c1, b0 + per), from = (n * C + b0) * HW, to = (n * C + b1) * HW;
        f32.set(g.subarray(from, to), G >> 2);
        f32.set(x.subarray(from, to), X >> 2);
        kernels.bnGradSums(G, X, b1 - b0, HW, ACC + 64 * (b0 - c0), COEF + 40 * (b0 - c0));
      }
    }
    for (let c = c0; c < c1; c++) {
      const a = acc + 8 * (c - c0), o = cf + 5 * (c - c0);
      const sg = (f64[a] + f64[a + 1]) + (f64[a + 2] + f64[a + 3]);
      const sgx = (f64[a + 4] + f64[a + 5]) + (f64[a + 6] + f64[a + 7]);
      if (hasDw) dw[c] = sgx;
      if (hasDb) db[c] = sg;
      f64[o + 1] = sg;
      f64[o + 4] = sgx;
    }
  }
  if (!hasDx) return true;
  for (let n = 0; n < N; n++) {
    for (let b0 = c0; b0 < c1; b0 += per) {
      const b1 = Math.min(c1, b0 + per), from = (n * C + b0) * HW, to = (n * C + b1) * HW;
      f32.set(g.subarray(from, to), G >> 2);
      if (batchStats) f32.set(x.subarray(from, to), X >> 2);
      kernels.bnGradX(G, X, Y, b1 - b0, HW, COEF + 40 * (b0 - c0), count, batchStats);
      dx.set(f32.subarray(Y >> 2, (Y >> 2) + to - from), from);
    }
  }
  return true;
}
