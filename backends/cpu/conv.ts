/**
 * Convolution kernels (NCHW, KCRS weights): each one is a GEMM per image and group (gemm.ts) over the
 * implicit column matrix of im2col.ts.
 *
 *   forward          Y[n,g]  (Kg x PQ)   =  W[g] (Kg x CRS) · col[n,g] (CRS x PQ)
 *   backward data    dcol    (CRS x PQ)  =  W[g]ᵀ · dY[n,g],   then col2im into dX[n,g]
 *   backward filter  dW[g]   (Kg x CRS) +=  dY[n,g] (Kg x PQ) · col[n,g]ᵀ
 *
 * At stride 1 the data gradient is instead the forward convolution of dY with the flipped kernel, and
 * a 3x3 forward at stride 1 takes Winograd's F(2x2, 3x3) (winograd.ts: 2.25x fewer multiplies).
 * A 1x1 convolution with stride 1 and no padding needs no im2col: col is the image itself. Depthwise
 * convolutions (one input channel per group) would make GEMMs of a single row, so they take direct
 * loops instead (depthwise.ts).
 *
 * Threads (threads.ts): the forward and the data gradient are cut into chunks of whole images. The
 * filter gradient, a sum over images, is always summed in IMAGE_GROUPS partial sums over ranges of
 * images, added in order at the end, whatever the thread count (so the bits never depend on it); the
 * groups are the chunks. (Until this order, chunks were column ranges of dW, each packing every
 * image's dY again and running GEMMs a few columns wide: 2 threads ran a 1x1 filter gradient no
 * faster than 1.)
 */
import type { Conv2dGeometry } from '../backend.js';
import { depthwiseBackwardData, depthwiseBackwardFilter, depthwiseForward } from './depthwise.js';
import { StridedPanel, gemm } from './gemm.js';
import { Im2col, Im2colPanel, Im2colTransposedPanel, col2imAdd } from './im2col.js';
import { convChunks, geometryOf, geometryParams } from './geometry.js';
import { chunkRange, fillShared, parallel, threadScratch, type JobArray } from './threads.js';
import { winogradApplies, winogradConv2d } from './winograd.js';

// panel sources reused by every call (pointed at each image and group in turn)
const wPanel = new StridedPanel();
const dyPanel = new StridedPanel();
const xPanel = new StridedPanel();
const col = new Im2col();
const colPanel = new Im2colPanel(col);
const colTPanel = new Im2colTransposedPanel(col);

/** The column-matrix gradient of one image and group; grows to the largest CRS x PQ seen. */
let dcolBuf = new Float32Array(0);
/** Flipped, transposed weights for the data gradient (shared memory: the threads read them). */
let flippedBuf: Float32Array = new Float32Array(0);

function dcolScratch(n: number): Float32Array {
  if (dcolBuf.length < n) dcolBuf = new Float32Array(n);
  return dcolBuf;
}

/** Partial sums of the filter gradient over images (see the header): at most this many. */
const IMAGE_GROUPS = 4;
/** The partial filter gradients (shared memory when threads are on: the chunks write them). */
let partsBuf: Float32Array = new Float32Array(0);

/** Switches of the CPU convolution (tests and benchmarks compare the paths). */
export const convSettings = {
  /** Use Winograd F(2x2, 3x3) where it applies (3x3, stride 1, no dilation, >= 8 channels per group). */
  winograd: true,
};

/** True when col is the input itself (1x1 kernel, stride 1, no padding). */
function isPointwise(g: Conv2dGeometry): boolean {
  return g.R === 1 && g.S === 1 && g.strideH === 1 && g.strideW === 1 && g.padH === 0 && g.padW === 0;
}

export function conv2d(x: Float32Array, w: Float32Array, y: Float32Array, g: Conv2dGeometry): void {
  const Cg = g.C / g.groups;
  if (Cg === 1 && g.groups > 1) return depthwiseForward(x, w, y, g);
  if (convSettings.winograd && winogradApplies(g)) return winogradConv2d(x, w, y, g);
  parallel('conv2d', conv2dChunk, [{ a: x }, { a: w }, { a: y, out: true }], geometryParams(g), convChunks(g, g.N));
}

/** Images [n0, n1) of the im2col + GEMM forward. */
export function conv2dChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const [x, w, y] = arrays as Float32Array[];
  const g = geometryOf(params);
  const { N, C, H, W, K, R, S, groups, P, Q } = g;
  const Cg = C / groups, Kg = K / groups;
  const CRS = Cg * R * S, PQ = P * Q, HW = H * W;
  const [n0, n1] = chunkRange(N, c, nChunks);
  const pointwise = isPointwise(g);
  if (!pointwise) col.prepare(g);
  for (let n = n0; n < n1; n++) {
    for (let grp = 0; grp < groups; grp++) {
      const xOff = (n * C + grp * Cg) * HW;
      // W[g]: lanes are output channels, depth is (c, r, s)
      wPanel.set(w, grp * Kg * CRS, CRS, 1);
      if (!pointwise) col.load(x, xOff);
      const b = pointwise ? xPanel.set(x, xOff, 1, HW) : colPanel;
      gemm(Kg, PQ, CRS, wPanel, b, y, (n * K + grp * Kg) * PQ, PQ, false);
    }
  }
}

export function conv2dBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, g: Conv2dGeometry): void {
  const { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q } = g;
  const Cg = C / groups;
  if (Cg === 1 && groups > 1) return depthwiseBackwardData(dy, w, dx, g);
  const pointwise = isPointwise(g);
  const padH2 = (R - 1) * dilationH - padH, padW2 = (S - 1) * dilationW - padW;
  if (!pointwise && strideH === 1 && strideW === 1 && padH2 >= 0 && padW2 >= 0) {
    // at stride 1 the data gradient is the convolution of dY with the kernel flipped in space and
    // transposed in channels (w'[c, k, r, s] = w[k, c, R-1-r, S-1-s] within each group), padded so
    // that every dx cell sees all its taps: the fast forward path, no col2im
    const flipped = flippedWeights(w, K, Cg, R * S, groups);
    conv2d(dy, flipped, dx, {
      N, C: K, H: P, W: Q, K: C, R, S, strideH: 1, strideW: 1, padH: padH2, padW: padW2,
      dilationH, dilationW, groups, P: H, Q: W,
    });
    return;
  }
  parallel('conv2dBackwardData', conv2dBackwardDataChunk, [{ a: dy }, { a: w }, { a: dx, out: true }], geometryParams(g), convChunks(g, N));
}

/** Images [n0, n1) of the GEMM + col2im data gradient (strided, or 1x1). */
export function conv2dBackwardDataChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const [dy, w, dx] = arrays as Float32Array[];
  const g = geometryOf(params);
  const { N, C, H, W, K, R, S, groups, P, Q } = g;
  const Cg = C / groups, Kg = K / groups;
  const CRS = Cg * R * S, PQ = P * Q, HW = H * W;
  const [n0, n1] = chunkRange(N, c, nChunks);
  const pointwise = isPointwise(g);
  const dcol = pointwise ? dx : dcolScratch(CRS * PQ);
  if (!pointwise) fillShared(dx, 0, n0 * C * HW, n1 * C * HW);
  for (let n = n0; n < n1; n++) {
    for (let grp = 0; grp < groups; grp++) {
      const dxOff = (n * C + grp * Cg) * HW;
      // W[g]ᵀ: lanes are (c, r, s), depth is output channels
      wPanel.set(w, grp * Kg * CRS, 1, CRS);
      // dY[n,g]: lanes are output positions, depth is output channels
      dyPanel.set(dy, (n * K + grp * Kg) * PQ, 1, PQ);
      if (pointwise) {
        gemm(CRS, PQ, Kg, wPanel, dyPanel, dx, dxOff, PQ, false);
      } else {
        gemm(CRS, PQ, Kg, wPanel, dyPanel, dcol, 0, PQ, false);
        col2imAdd(dcol, dx, dxOff, Cg, g);
      }
    }
  }
}

/** w'[g, c, k, t] = w[g, k, c, RS-1-t]: per group, channels transposed and taps reversed. */
function flippedWeights(w: Float32Array, K: number, Cg: number, RS: number, groups: number): Float32Array {
  const n = K * Cg * RS, Kg = K / groups;
  flippedBuf = threadScratch(flippedBuf, n);
  const out = flippedBuf;
  for (let grp = 0; grp < groups; grp++) {
    for (let k = 0; k < Kg; k++) {
      for (let c = 0; c < Cg; c++) {
        const from = ((grp * Kg + k) * Cg + c) * RS, to = ((grp * Cg + c) * Kg + k) * RS;
        for (let t = 0; t < RS; t++) out[to + t] = w[from + RS - 1 - t];
      }
    }
  }
  return out.length === n ? out : out.subarray(0, n);
}

export function conv2dBackwardFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, g: Conv2dGeometry): void {
  const Cg = g.C / g.groups;
  if (Cg === 1 && g.groups > 1) return depthwiseBackwardFilter(x, dy, dw, g);
  // the sum over images in IMAGE_GROUPS partial sums (the same for any thread count), one chunk each
  const G = Math.min(IMAGE_GROUPS, g.N), n = dw.length;
  partsBuf = threadScratch(partsBuf, G * n);
  const parts = partsBuf.length === G * n ? partsBuf : partsBuf.subarray(0, G * n);
  parallel('conv2dBackwardFilter', conv2dBackwardFilterChunk, [{ a: x }, { a: dy }, { a: parts, out: true }],
    [...geometryParams(g), G], convChunks(g, G));
  // dW = ((part 0 + part 1) + part 2) + part 3, each sum rounded to float32 as it is stored
  dw.set(parts.subarray(0, n));
  for (let j = 1; j < G; j++) {
    const o = j * n;
    for (let i = 0; i < n; i++) dw[i] += parts[o + i];
  }
}

/**
 * Image groups of the filter gradient: group j's partial dW[g] = Σ_n dY[n,g] · col[n,g]ᵀ over its
 * images (chunkRange(N, j, G), in order, each image's product added to the partial in float32 as
 * the GEMM stores it), written at parts[j * |dW|]. Chunks are ranges of groups.
 */
export function conv2dBackwardFilterChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const [x, dy, parts] = arrays as Float32Array[];
  const g = geometryOf(params);
  const G = params[16];
  const { N, C, H, W, K, R, S, groups, P, Q } = g;
  const Cg = C / groups, Kg = K / groups;
  const CRS = Cg * R * S, PQ = P * Q, HW = H * W, n = K * CRS;
  const pointwise = isPointwise(g);
  if (!pointwise) col.prepare(g);
  const [j0, j1] = chunkRange(G, c, nChunks);
  for (let j = j0; j < j1; j++) {
    const [n0, n1] = chunkRange(N, j, G);
    parts.fill(0, j * n, (j + 1) * n);
    for (let img = n0; img < n1; img++) {
      for (let grp = 0; grp < groups; grp++) {
        const xOff = (img * C + grp * Cg) * HW;
        // dY[n,g]: lanes are output channels, depth is output positions
        dyPanel.set(dy, (img * K + grp * Kg) * PQ, PQ, 1);
        // colᵀ: lanes are (c, r, s), depth is output positions
        if (!pointwise) col.load(x, xOff);
        const b = pointwise ? xPanel.set(x, xOff, HW, 1) : colTPanel;
        gemm(Kg, CRS, PQ, dyPanel, b, parts, j * n + grp * Kg * CRS, CRS, true);
      }
    }
  }
}
