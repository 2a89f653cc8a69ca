/**
 * Winograd F(2x2, 3x3) convolution (Lavin & Gray, "Fast Algorithms for Convolutional Neural
 * Networks", 2016) for 3x3 kernels at stride 1 without dilation: 16 multiplies per 2x2 output tile
 * instead of 36, i.e. 2.25x fewer, the rest being additions in the transforms.
 *
 *     Y (2x2 tile) = Aᵀ [ Σ_c (G g_kc Gᵀ) ⊙ (Bᵀ d_c B) ] A        d_c: the 4x4 input tile of channel c
 *
 * With U[ξ] = G g Gᵀ (K x C per ξ, one of the 16 positions of a 4x4 tile) and V[ξ] = Bᵀ d B (C x tiles),
 * the sum over channels is 16 independent GEMMs M[ξ] = U[ξ] · V[ξ] (gemm.ts); the output transform
 * folds M back into 2x2 tiles. Images are processed in chunks so that V and M stay a few MB.
 *
 *     Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]   Aᵀ = [1 1 1 0; 0 1 -1 -1]
 *
 * Threads (threads.ts): two jobs per call. First the weights are transformed once, chunks of filters
 * writing U for every group into one shared array; then chunks of whole images read it. (Each image
 * chunk used to transform the weights itself: with 8 chunks of one image, conv_l's 128 x 128 filters
 * were transformed 8 times, more work than the images' own transforms, and 2 threads ran it only
 * 1.17x faster than 1.) The GEMMs' values do not depend on how many tiles they hold, so the result is
 * the same for any cut.
 */
import type { Conv2dGeometry } from '../backend.js';
import { StridedPanel, gemm } from './gemm.js';
import { convChunks, geometryOf, geometryParams } from './geometry.js';
import { chunkCount, chunkRange, chunksFor, parallel, threadScratch, type JobArray } from './threads.js';

/** Whether the Winograd path handles this convolution (and is worth it: enough channels for its GEMMs). */
export function winogradApplies(g: Conv2dGeometry): boolean {
  const Cg = g.C / g.groups, Kg = g.K / g.groups;
  return g.R === 3 && g.S === 3 && g.strideH === 1 && g.strideW === 1 && g.dilationH === 1 && g.dilationW === 1 &&
    Cg >= 8 && Kg >= 8;
}

/** U for every group, [grp][ξ][k][c] (shared memory: the image chunks of every thread read it). */
let U: Float32Array = new Float32Array(0);
let V = new Float32Array(0);
let Mbuf = new Float32Array(0);
const uPanel = new StridedPanel();
const vPanel = new StridedPanel();

export const winogradSettings = {
  /** Floats of V plus M per chunk of images (about 4 MB; at least one image per chunk). */
  chunkFloats: 1 << 20,
  /** Tiles (of all the images of a chunk) below which a call is not cut finer: a chunk's GEMMs pack U. */
  minChunkTiles: 256,
};

export function winogradConv2d(x: Float32Array, w: Float32Array, y: Float32Array, g: Conv2dGeometry): void {
  const { K, C, groups } = g;
  const n = 16 * K * (C / groups);
  U = threadScratch(U, n);
  const u = U.length === n ? U : U.subarray(0, n);
  parallel('winogradWeights', winogradWeightsChunk, [{ a: w }, { a: u, out: true }], [K, C / groups, K / groups],
    chunksFor(n * 4, K));
  // chunks of at least minChunkTiles tiles: every chunk packs each U[ξ] again for its GEMMs
  const tiles = Math.ceil(g.P / 2) * Math.ceil(g.Q / 2);
  const nChunks = convChunks(g, g.N) > 1 ? chunkCount(g.N, Math.ceil(winogradSettings.minChunkTiles / tiles)) : 1;
  parallel('winogradConv2d', winogradChunk, [{ a: x }, { a: u }, { a: y, out: true }],
    [...geometryParams(g), winogradSettings.chunkFloats], nChunks);
}

/** Filters [k0, k1) of U (params: K, Cg, Kg): each group's block [ξ][k][c] at grp·16·Kg·Cg. */
export function winogradWeightsChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [w, u] = arrays as Float32Array[];
  const [K, Cg, Kg] = params;
  const [k0, k1] = chunkRange(K, chunk, nChunks);
  for (let k = k0; k < k1;) {
    // the filters of one group at a time
    const grp = Math.floor(k / Kg), end = Math.min(k1, (grp + 1) * Kg);
    transformWeights(w, k, end - k, Cg, Kg, u, grp * 16 * Kg * Cg + (k - grp * Kg) * Cg);
    k = end;
  }
}

/** Images [n0, n1) of the Winograd convolution (arrays x, U, y; params: the geometry, then chunkFloats). */
export function winogradChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [x, u, y] = arrays as Float32Array[];
  const g = geometryOf(params);
  const [nStart, nEnd] = chunkRange(g.N, chunk, nChunks);
  winogradImages(x, u, y, g, nStart, nEnd, params[16]);
}

function winogradImages(x: Float32Array, U: Float32Array, y: Float32Array, g: Conv2dGeometry, nStart: number, nEnd: number, chunkFloats: number): void {
  const { C, K, groups, P, Q } = g;
  const N = nEnd - nStart;
  if (N <= 0) return;
  const Cg = C / groups, Kg = K / groups;
  const tilesPerImage = Math.ceil(P / 2) * Math.ceil(Q / 2);
  const imagesPerChunk = Math.max(1, Math.min(N, Math.floor(chunkFloats / (16 * (Cg + Kg) * tilesPerImage))));
  const maxT = imagesPerChunk * tilesPerImage;
  if (V.length < 16 * Cg * maxT) V = new Float32Array(16 * Cg * maxT);
  if (Mbuf.length < 16 * Kg * maxT) Mbuf = new Float32Array(16 * Kg * maxT);
  for (let grp = 0; grp < groups; grp++) {
    const u0 = grp * 16 * Kg * Cg;
    for (let n0 = nStart; n0 < nEnd; n0 += imagesPerChunk) {
      const images = Math.min(imagesPerChunk, nEnd - n0), T = images * tilesPerImage;
      transformInput(x, n0, images, grp * Cg, Cg, T, g, V);
      for (let xi = 0; xi < 16; xi++) {
        // M[ξ] (Kg x T) = U[ξ] (Kg x Cg) · V[ξ] (Cg x T)
        uPanel.set(U, u0 + xi * Kg * Cg, Cg, 1);
        vPanel.set(V, xi * Cg * T, 1, T);
        gemm(Kg, T, Cg, uPanel, vPanel, Mbuf, xi * Kg * T, T, false);
      }
      transformOutput(Mbuf, y, n0, images, grp * Kg, Kg, T, g);
    }
  }
}

/**
 * U[ξ][k][c] = (G g Gᵀ)[ξ] for the 3x3 filters g = w[k0 + k, c], k < count: written at
 * out[at + ξ·plane + k·Cg + c], where plane = Kg·Cg is one ξ's block of the group.
 */
function transformWeights(w: Float32Array, k0: number, count: number, Cg: number, Kg: number, out: Float32Array, at: number): void {
  const plane = Kg * Cg;
  for (let k = 0; k < count; k++) {
    for (let c = 0; c < Cg; c++) {
      const o = ((k0 + k) * Cg + c) * 9;
      // rows of G g (4 x 3)
      const g00 = w[o], g01 = w[o + 1], g02 = w[o + 2];
      const g10 = w[o + 3], g11 = w[o + 4], g12 = w[o + 5];
      const g20 = w[o + 6], g21 = w[o + 7], g22 = w[o + 8];
      const r0a = g00, r0b = g01, r0c = g02;
      const r1a = 0.5 * (g00 + g10 + g20), r1b = 0.5 * (g01 + g11 + g21), r1c = 0.5 * (g02 + g12 + g22);
      const r2a = 0.5 * (g00 - g10 + g20), r2b = 0.5 * (g01 - g11 + g21), r2c = 0.5 * (g02 - g12 + g22);
      const r3a = g20, r3b = g21, r3c = g22;
      const d = at + k * Cg + c;
      // each row times Gᵀ: [a, (a+b+c)/2, (a-b+c)/2, c]
      out[d] = r0a; out[plane + d] = 0.5 * (r0a + r0b + r0c); out[2 * plane + d] = 0.5 * (r0a - r0b + r0c); out[3 * plane + d] = r0c;
      out[4 * plane + d] = r1a; out[5 * plane + d] = 0.5 * (r1a + r1b + r1c); out[6 * plane + d] = 0.5 * (r1a - r1b + r1c); out[7 * plane + d] = r1c;
      out[8 * plane + d] = r2a; out[9 * plane + d] = 0.5 * (r2a + r2b + r2c); out[10 * plane + d] = 0.5 * (r2a - r2b + r2c); out[11 * plane + d] = r2c;
      out[12 * plane + d] = r3a; out[13 * plane + d] = 0.5 * (r3a + r3b + r3c); out[14 * plane + d] = 0.5 * (r3a - r3b + r3c); out[15 * plane + d] = r3c;
    }
  }
}

/** The 4x4 input tile, zero outside the image (module scratch: no allocation per tile). */
const tile = new Float64Array(16);

/** V[ξ][c][t] = (Bᵀ d B)[ξ] for the 4x4 tiles d of channels c0.. of images n0.. (t runs over images, then tiles). */
function transformInput(
  x: Float32Array, n0: number, images: number, c0: number, Cg: number, T: number, g: Conv2dGeometry, out: Float32Array,
): void {
  const { C, H, W, padH, padW, P, Q } = g;
  const TP = Math.ceil(P / 2), TQ = Math.ceil(Q / 2), plane = Cg * T, d = tile;
  for (let c = 0; c < Cg; c++) {
    for (let i = 0; i < images; i++) {
      const xo = ((n0 + i) * C + c0 + c) * H * W;
      let t = c * T + i * TP * TQ;
      for (let ty = 0; ty < TP; ty++) {
        const h0 = 2 * ty - padH;
        const rowsInside = h0 >= 0 && h0 + 3 < H;
        for (let tx = 0; tx < TQ; tx++, t++) {
          const w0 = 2 * tx - padW;
          if (rowsInside && w0 >= 0 && w0 + 3 < W) {
            let o = xo + h0 * W + w0;
            for (let r = 0; r < 16; r += 4, o += W) { d[r] = x[o]; d[r + 1] = x[o + 1]; d[r + 2] = x[o + 2]; d[r + 3] = x[o + 3]; }
          } else {
            for (let r = 0; r < 4; r++) {
              const h = h0 + r, inside = h >= 0 && h < H;
              for (let s = 0; s < 4; s++) {
                const ww = w0 + s;
                d[r * 4 + s] = inside && ww >= 0 && ww < W ? x[xo + h * W + ww] : 0;
              }
            }
          }
          // Bᵀ d: rows
          const a0 = d[0] - d[8], a1 = d[1] - d[9], a2 = d[2] - d[10], a3 = d[3] - d[11];
          const b0 = d[4] + d[8], b1 = d[5] + d[9], b2 = d[6] + d[10], b3 = d[7] + d[11];
          const e0 = d[8] - d[4], e1 = d[9] - d[5], e2 = d[10] - d[6], e3 = d[11] - d[7];
          const f0 = d[4] - d[12], f1 = d[5] - d[13], f2 = d[6] - d[14], f3 = d[7] - d[15];
          // (Bᵀ d) B: columns
          out[t] = a0 - a2; out[plane + t] = a1 + a2; out[2 * plane + t] = a2 - a1; out[3 * plane + t] = a1 - a3;
          out[4 * plane + t] = b0 - b2; out[5 * plane + t] = b1 + b2; out[6 * plane + t] = b2 - b1; out[7 * plane + t] = b1 - b3;
          out[8 * plane + t] = e0 - e2; out[9 * plane + t] = e1 + e2; out[10 * plane + t] = e2 - e1; out[11 * plane + t] = e1 - e3;
          out[12 * plane + t] = f0 - f2; out[13 * plane + t] = f1 + f2; out[14 * plane + t] = f2 - f1; out[15 * plane + t] = f1 - f3;
        }
      }
    }
  }
}

/** y[n0 + i, k0 + k] 2x2 tiles = Aᵀ m A with m[ξ] = M[ξ][k][t]; cells past P x Q are dropped. */
function transformOutput(
  m: Float32Array, y: Float32Array, n0: number, images: number, k0: number, Kg: number, T: number, g: Conv2dGeometry,
): void {
  const { K, P, Q } = g;
  const TP = Math.ceil(P / 2), TQ = Math.ceil(Q / 2), plane = Kg * T;
  for (let k = 0; k < Kg; k++) {
    for (let i = 0; i < images; i++) {
      const yo = ((n0 + i) * K + k0 + k) * P * Q;
      let t = k * T + i * TP * TQ;
      for (let ty = 0; ty < TP; ty++) {
        for (let tx = 0; tx < TQ; tx++, t++) {
          const m0 = m[t], m1 = m[plane + t], m2 = m[2 * plane + t], m3 = m[3 * plane + t];
          const m4 = m[4 * plane + t], m5 = m[5 * plane + t], m6 = m[6 * plane + t], m7 = m[7 * plane + t];
          const m8 = m[8 * plane + t], m9 = m[9 * plane + t], m10 = m[10 * plane + t], m11 = m[11 * plane + t];
          const m12 = m[12 * plane + t], m13 = m[13 * plane + t], m14 = m[14 * plane + t], m15 = m[15 * plane + t];
          // Aᵀ m: two rows of 4
          const s0 = m0 + m4 + m8, s1 = m1 + m5 + m9, s2 = m2 + m6 + m10, s3 = m3 + m7 + m11;
          const u0 = m4 - m8 - m12, u1 = m5 - m9 - m13, u2 = m6 - m10 - m14, u3 = m7 - m11 - m15;
          const p = 2 * ty, q = 2 * tx, o = yo + p * Q + q;
          y[o] = s0 + s1 + s2;
          if (q + 1 < Q) y[o + 1] = s1 - s2 - s3;
          if (p + 1 < P) {
            y[o + Q] = u0 + u1 + u2;
            if (q + 1 < Q) y[o + Q + 1] = u1 - u2 - u3;
          }
        }
      }
    }
  }
}
