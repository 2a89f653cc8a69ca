/**
 * Depthwise convolutions (one input channel per group, K = groups x multiplier) as direct loops: a
 * GEMM of one row per group would spend its time packing.
 *
 * The work is a 2-D correlation of one plane with one R x S kernel:
 *
 *     out[p, q] (+)= Σ_{r,s} k[r, s] · in[p·sh - ph + r·dh, q·sw - pw + s·dw]      (0 outside `in`)
 *
 * The forward pass is that correlation of x with w; the data gradient at stride 1 is the correlation of
 * dY with the flipped kernel and padding ·d - p (strided ones scatter instead). A padded plane
 * is copied into a zero-padded one first, so the sums run without tests (3x3 fully unrolled and 5x5
 * row by row, the kernel in locals).
 *
 * With the SIMD kernels on (simd/simd.ts), a correlation at stride 1 (the forward pass, and the data
 * gradient) runs in simd/float.wat `dwCorrelate`: the same float64 sums in the same order, four
 * outputs at a time, the plane zero-padded in WebAssembly memory as `padPlane` pads; a 3x3 kernel
 * reads the plane widened to float64 once, eight outputs at a time (a 32x32 plane: 6.0 against 3.8 us,
 * the kernel alone, /tmp/gk/dwab.mjs).
 *
 * The filter gradient sums each tap in four partial sums (see depthwiseBackwardFilterChunk), in
 * simd/float.wat `dwFilterGrad` with the SIMD kernels on; a 3x3 kernel at column stride 1 there
 * reads the plane and dY widened to float64 once and sums three taps at a time (a 32x32 plane: 3.3
 * against 2.3 us; 16x16: 2.1 against 1.1 us; the kernel alone, /tmp/gk/fgab.mjs).
 *
 * Both SIMD paths move planes in blocks of filters (correlateBlocksSimd, filterGradBlocksSimd): one copy
 * in and one out per image and block, where a call per plane spent as long in JavaScript as in the
 * kernel (bench dwconv_m, 1 thread, in one process run: forward 2.4-3.0 against 1.5-1.8 ms, forward and
 * backward 9.2-10.4 against 6.3-6.8 ms).
 *
 * Threads (threads.ts): every pass is cut into chunks of channels (filters k for the forward and the
 * filter gradient, input channels c for the data gradient, which sums the filters of its channel).
 */
import type { Conv2dGeometry } from '../backend.js';
import { convChunks, geometryOf, geometryParams } from './geometry.js';
import { qEnd, qStart } from './im2col.js';
import { chunkRange, fillShared, parallel, type JobArray } from './threads.js';
import { align16, simdHeap, simdWanted } from './simd/simd.js';

interface Plane {
  H: number; W: number;
  R: number; S: number;
  sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
  P: number; Q: number;
}

/** The kernel of the plane being processed (float64: read once per plane into locals). */
let taps = new Float64Array(0);

/** The zero-padded copy of the plane being processed, and the tap offsets inside it. */
let padded = new Float32Array(0);
let paddedOffsets = new Int32Array(0);
/** Per-column sums of one output row (float64, as the single sums of the other kernels). */
let rowAcc = new Float64Array(0);
/** The filter gradient's four partial sums per tap, and tap offsets. */
let tapSums = new Float64Array(0);
let tapOffsets = new Int32Array(0);

/** Where `padPlane`'s plane starts in the array it returns, and its row length. */
let planeBase = 0, planeWidth = 0;

/**
 * The plane in[inOff..] (H x W) as the correlation reads it: itself when unpadded (every tap of every
 * output lies inside it), else a zero-padded copy covering rows -ph .. (P-1)·sh - ph + (R-1)·dh and the
 * columns likewise (a negative padding, the data gradient's ·d - p, crops instead). Sets
 * planeBase and planeWidth.
 */
function padPlane(inp: Float32Array, inOff: number, g: Plane): Float32Array {
  const { H, W, R, S, sh, sw, ph, pw, dh, dw, P, Q } = g;
  if (ph === 0 && pw === 0) {
    planeBase = inOff;
    planeWidth = W;
    return inp;
  }
  const Hp = (P - 1) * sh + (R - 1) * dh + 1, Wp = (Q - 1) * sw + (S - 1) * dw + 1;
  if (padded.length < Hp * Wp) padded = new Float32Array(Hp * Wp);
  const buf = padded;
  buf.fill(0, 0, Hp * Wp);
  const jLo = Math.max(0, pw), jHi = Math.min(Wp, pw + W);
  for (let i = Math.max(0, ph); i < Math.min(Hp, ph + H); i++) {
    const src = inOff + (i - ph) * W - pw, dst = i * Wp;
    for (let j = jLo; j < jHi; j++) buf[dst + j] = inp[src + j];
  }
  planeBase = 0;
  planeWidth = Wp;
  return buf;
}

/**
 * out[outOff + p*Q + q] (+)= correlation of in[inOff..] (H x W) with `taps` (R x S), see the header.
 * A padded plane is first copied into a zero-padded one (on small planes, 7x7 with a 5x5 kernel of
 * dilation 2 say, most or all cells are border cells, whose tests would cost more than the sums), so
 * every tap of every cell lands inside the plane it reads and the loops run without tests; a tap in
 * the padding adds k * 0. An unpadded plane is read in place (every tap of every output is inside it).
 */
function correlate(
  inp: Float32Array, inOff: number, out: Float32Array, outOff: number, g: Plane, accumulate: boolean,
): void {
  const { R, S, sh, sw, dh, dw, P, Q } = g;
  const buf = padPlane(inp, inOff, g), base = planeBase, Wp = planeWidth;
  const k = taps, T = R * S;
  if (rowAcc.length < Q) rowAcc = new Float64Array(Q);
  if (paddedOffsets.length < T) paddedOffsets = new Int32Array(T);
  const offs = paddedOffsets;
  for (let t = 0; t < T; t++) offs[t] = Math.floor(t / S) * dh * Wp + (t % S) * dw;
  for (let p = 0; p < P; p++) {
    const o = outOff + p * Q, b0 = base + p * sh * Wp;
    if (R === 3 && S === 3) {
      const k00 = k[0], k01 = k[1], k02 = k[2], k10 = k[3], k11 = k[4], k12 = k[5], k20 = k[6], k21 = k[7], k22 = k[8];
      const b1 = b0 + dh * Wp, b2 = b1 + dh * Wp, d2 = 2 * dw;
      for (let q = 0; q < Q; q++) {
        const c = q * sw;
        const acc =
          k00 * buf[b0 + c] + k01 * buf[b0 + c + dw] + k02 * buf[b0 + c + d2] +
          k10 * buf[b1 + c] + k11 * buf[b1 + c + dw] + k12 * buf[b1 + c + d2] +
          k20 * buf[b2 + c] + k21 * buf[b2 + c + dw] + k22 * buf[b2 + c + d2];
        out[o + q] = accumulate ? out[o + q] + acc : acc;
      }
    } else if (R === 5 && S === 5) {
      // 5x5 (sep_conv_5x5, dil_conv_5x5): one row of five taps at a time, in tap order
      for (let q = 0; q < Q; q++) out[o + q] = accumulate ? out[o + q] : 0;
      for (let r = 0; r < 5; r++) {
        const t = 5 * r, k0 = k[t], k1 = k[t + 1], k2 = k[t + 2], k3 = k[t + 3], k4 = k[t + 4];
        const b = b0 + r * dh * Wp, d2 = 2 * dw, d3 = 3 * dw, d4 = 4 * dw;
        const acc = rowAcc;
        for (let q = 0; q < Q; q++) {
          const c = b + q * sw;
          acc[q] = (r === 0 ? 0 : acc[q]) + k0 * buf[c] + k1 * buf[c + dw] + k2 * buf[c + d2] + k3 * buf[c + d3] + k4 * buf[c + d4];
        }
      }
      for (let q = 0; q < Q; q++) out[o + q] += rowAcc[q];
    } else {
      for (let q = 0; q < Q; q++) {
        const c = b0 + q * sw;
        let acc = 0;
        for (let t = 0; t < T; t++) acc += k[t] * buf[c + offs[t]];
        out[o + q] = accumulate ? out[o + q] + acc : acc;
      }
    }
  }
}

/** Switches of the SIMD paths (tests shrink the block to cut every call into several blocks). */
export const depthwiseSettings = {
  /** Float32 values of input and output planes that one block moves into WebAssembly memory (at least
   *  one filter's planes go whatever this says). */
  blockFloats: 32768,
};

/**
 * Filters [k0, k1) of one pass at stride 1 through simd/float.wat `dwCorrelate` (the same sums, order
 * and rounding as `correlate`): filter k reads input plane ⌊k / inDiv⌋ and writes (adds into, after the
 * first filter of its output plane) output plane ⌊k / outDiv⌋. The forward pass is inDiv = multiplier,
 * outDiv = 1; the data gradient is inDiv = 1, outDiv = multiplier, with the flipped kernels. False, with
 * nothing written, where this thread has no SIMD.
 *
 * The filters go in blocks: for each image, a block's input planes (consecutive in memory) are copied
 * into WebAssembly memory in one copy, each filter's plane padded there as `padPlane` pads and
 * correlated, and the block's output planes copied back in one copy. A call per plane (as until this
 * stop) spent as long in JavaScript (the copies' views, the taps and offsets) as the kernel spent
 * summing: 16x16 planes, N16 C64 (bench dwconv_m), 1 thread, 2.4 against 1.5 ms forward.
 */
function correlateBlocksSimd(
  inp: Float32Array, inC: number, out: Float32Array, outC: number, w: Float32Array, g: Plane, N: number,
  k0: number, k1: number, inDiv: number, outDiv: number, flip: boolean,
): boolean {
  const { H, W, R, S, ph, pw, dh, dw, P, Q } = g;
  const T = R * S, HW = H * W, PQ = P * Q, padded = ph !== 0 || pw !== 0;
  const Hp = padded ? (P - 1) + (R - 1) * dh + 1 : H, Wp = padded ? (Q - 1) + (S - 1) * dw + 1 : W;
  // filters per block: whole output planes (outDiv filters each), as many as blockFloats allows
  const perFilter = HW / inDiv + PQ / outDiv;
  const fb = Math.max(outDiv, outDiv * Math.floor(depthwiseSettings.blockFloats / (perFilter * outDiv)));
  const inMax = Math.ceil(fb / inDiv) + 1, outMax = Math.ceil(fb / outDiv) + 1;
  // the 3x3 kernel reads the plane widened to float64 (WIDE, with room for a last group of four)
  // where a row has eight outputs or more (its eight-wide loop; narrower rows skip the widening)
  const three = R === 3 && S === 3, wide = three && Q >= 8, five = R === 5 && S === 5;
  const OFFS = 0, TAPS = align16(4 * T), IN = align16(TAPS + 8 * T * fb), OUT = align16(IN + 4 * HW * inMax + 32);
  const PLANE = align16(OUT + 4 * PQ * outMax), WIDE = align16(PLANE + 4 * Hp * Wp + 32);
  const h = simdHeap(WIDE + (wide ? 8 * (Hp * Wp + 4) : 0));
  if (!h) return false;
  const { f32, f64, i32, kernels } = h;
  for (let t = 0; t < T; t++) i32[(OFFS >> 2) + t] = Math.floor(t / S) * dh * Wp + (t % S) * dw;
  for (let kb = k0; kb < k1; kb += fb) {
    const ke = Math.min(k1, kb + fb);
    for (let k = kb; k < ke; k++) {
      const tk = (TAPS >> 3) + (k - kb) * T;
      for (let t = 0; t < T; t++) f64[tk + t] = w[k * T + (flip ? T - 1 - t : t)];
    }
    const i0 = Math.floor(kb / inDiv), i1 = Math.floor((ke - 1) / inDiv) + 1;
    const o0 = Math.floor(kb / outDiv), o1 = Math.floor((ke - 1) / outDiv) + 1;
    for (let n = 0; n < N; n++) {
      f32.set(inp.subarray((n * inC + i0) * HW, (n * inC + i1) * HW), IN >> 2);
      for (let k = kb; k < ke; k++) {
        let plane = IN + 4 * HW * (Math.floor(k / inDiv) - i0);
        if (padded) {
          kernels.padPlane(plane, H, W, PLANE, Hp, Wp, ph, pw);
          plane = PLANE;
        }
        const o = OUT + 4 * PQ * (Math.floor(k / outDiv) - o0), accumulate = k % outDiv !== 0;
        // the 5x5 code adds its sums to the output: zeroed first for a plane's first filter
        if (five && !accumulate) f32.fill(0, o >> 2, (o >> 2) + PQ);
        kernels.dwCorrelate(plane, Wp, TAPS + 8 * T * (k - kb), OFFS, T, P, Q, o, three ? 0 : 1, accumulate || five ? 1 : 0, wide ? WIDE : 0);
      }
      out.set(f32.subarray(OUT >> 2, (OUT >> 2) + (o1 - o0) * PQ), (n * outC + o0) * PQ);
    }
  }
  return true;
}

/** Loads kernel k's taps (flipped for the data gradient). */
function loadTaps(w: Float32Array, k: number, T: number, flip: boolean): void {
  if (taps.length < T) taps = new Float64Array(T);
  for (let t = 0; t < T; t++) taps[t] = w[k * T + (flip ? T - 1 - t : t)];
}

export function depthwiseForward(x: Float32Array, w: Float32Array, y: Float32Array, g: Conv2dGeometry): void {
  parallel('depthwiseForward', depthwiseForwardChunk, [{ a: x }, { a: w }, { a: y, out: true }], geometryParams(g), convChunks(g, g.K));
}

/** Filters [k0, k1) of the forward, over every image. */
export function depthwiseForwardChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [x, w, y] = arrays as Float32Array[];
  const g = geometryOf(params);
  const { N, C, H, W, K, R, S, groups, P, Q } = g;
  const Kg = K / groups, HW = H * W, PQ = P * Q;
  const plane: Plane = {
    H, W, R, S, sh: g.strideH, sw: g.strideW, ph: g.padH, pw: g.padW, dh: g.dilationH, dw: g.dilationW, P, Q,
  };
  const [k0, k1] = chunkRange(K, chunk, nChunks);
  if (plane.sh === 1 && plane.sw === 1 && simdWanted() && correlateBlocksSimd(x, C, y, K, w, plane, N, k0, k1, Kg, 1, false)) return;
  for (let k = k0; k < k1; k++) {
    loadTaps(w, k, R * S, false);
    const c = Math.floor(k / Kg);
    for (let n = 0; n < N; n++) correlate(x, (n * C + c) * HW, y, (n * K + k) * PQ, plane, false);
  }
}

export function depthwiseBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, g: Conv2dGeometry): void {
  parallel('depthwiseBackwardData', depthwiseBackwardDataChunk, [{ a: dy }, { a: w }, { a: dx, out: true }], geometryParams(g), convChunks(g, g.C));
}

/** Input channels [c0, c1) of the data gradient (each the sum over the filters of its group). */
export function depthwiseBackwardDataChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [dy, w, dx] = arrays as Float32Array[];
  const g = geometryOf(params);
  const { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q } = g;
  const Kg = K / groups, HW = H * W, PQ = P * Q;
  const [c0, c1] = chunkRange(C, chunk, nChunks);
  if (strideH === 1 && strideW === 1) {
    // dx = dY correlated with the flipped kernel, padded so that every dx cell sees all its taps
    const plane: Plane = {
      H: P, W: Q, R, S, sh: 1, sw: 1, ph: (R - 1) * dilationH - padH, pw: (S - 1) * dilationW - padW,
      dh: dilationH, dw: dilationW, P: H, Q: W,
    };
    if (simdWanted() && correlateBlocksSimd(dy, K, dx, C, w, plane, N, c0 * Kg, c1 * Kg, 1, Kg, true)) return;
    for (let k = c0 * Kg; k < c1 * Kg; k++) {
      loadTaps(w, k, R * S, true);
      const c = Math.floor(k / Kg), first = k % Kg === 0;
      for (let n = 0; n < N; n++) correlate(dy, (n * K + k) * PQ, dx, (n * C + c) * HW, plane, !first);
    }
    return;
  }
  // strided: scatter each tap's contribution, row by row over the valid range of q
  for (let n = 0; n < N; n++) fillShared(dx, 0, (n * C + c0) * HW, (n * C + c1) * HW);
  for (let n = 0; n < N; n++) {
    for (let k = c0 * Kg; k < c1 * Kg; k++) {
      const xo = (n * C + Math.floor(k / Kg)) * HW, yo = (n * K + k) * PQ;
      for (let r = 0; r < R; r++) {
        for (let s = 0; s < S; s++) {
          const wv = w[(k * R + r) * S + s];
          const wOff = s * dilationW - padW;
          const qlo = qStart(wOff, strideW, Q), qhi = qEnd(wOff, strideW, W, Q, qlo);
          for (let p = 0; p < P; p++) {
            const h = p * strideH - padH + r * dilationH;
            if (h < 0 || h >= H) continue;
            const row = xo + h * W + wOff, src = yo + p * Q;
            for (let q = qlo; q < qhi; q++) dx[row + q * strideW] += wv * dy[src + q];
          }
        }
      }
    }
  }
}

export function depthwiseBackwardFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, g: Conv2dGeometry): void {
  parallel('depthwiseBackwardFilter', depthwiseBackwardFilterChunk, [{ a: x }, { a: dy }, { a: dw, out: true }], geometryParams(g), convChunks(g, g.K));
}

/**
 * Filters [k0, k1) of the filter gradient. Each tap's sum over every image runs in four float64
 * partial sums: partial j takes, in image order, then row order, the columns q ≡ j (mod 4) of each
 * output row, and the tap's gradient is (s0 + s1) + (s2 + s3). Four partials are the lanes of the SIMD
 * kernel (simd/float.wat `dwFilterGrad`, stride 1 or 2 across), which gives these bits; this loop is its
 * reference and the path without SIMD. (Until this order, each tap was one sum in (image, row, column)
 * order, which no vector kernel can keep; the products of two float32 are exact in float64, so the
 * partial sums are as accurate.) Each image's plane of x goes through `padPlane`, so every tap of
 * every output reads inside it (a tap in the padding adds dy * 0).
 */
export function depthwiseBackwardFilterChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [x, dy, dw] = arrays as Float32Array[];
  const g = geometryOf(params);
  const { N, C, H, W, K, R, S, groups, P, Q } = g;
  const Kg = K / groups, HW = H * W, PQ = P * Q, T = R * S;
  const plane: Plane = {
    H, W, R, S, sh: g.strideH, sw: g.strideW, ph: g.padH, pw: g.padW, dh: g.dilationH, dw: g.dilationW, P, Q,
  };
  const { sh, sw, dh, dw: dil } = plane;
  if (tapSums.length < 4 * T) tapSums = new Float64Array(4 * T);
  if (tapOffsets.length < T) tapOffsets = new Int32Array(T);
  const sums = tapSums, offs = tapOffsets;
  const [k0, k1] = chunkRange(K, chunk, nChunks);
  if ((sw === 1 || sw === 2) && simdWanted() && filterGradBlocksSimd(x, dy, dw, g, plane, k0, k1)) return;
  for (let k = k0; k < k1; k++) {
    const c = Math.floor(k / Kg);
    sums.fill(0, 0, 4 * T);
    for (let n = 0; n < N; n++) {
      const xp = padPlane(x, (n * C + c) * HW, plane), base = planeBase, Wp = planeWidth, yo = (n * K + k) * PQ;
      for (let t = 0; t < T; t++) offs[t] = Math.floor(t / S) * dh * Wp + (t % S) * dil;
      for (let t = 0; t < T; t++) {
        let s0 = sums[4 * t], s1 = sums[4 * t + 1], s2 = sums[4 * t + 2], s3 = sums[4 * t + 3];
        for (let p = 0; p < P; p++) {
          const r = base + p * sh * Wp + offs[t], src = yo + p * Q;
          let q = 0;
          for (; q + 4 <= Q; q += 4) {
            const cq = r + q * sw;
            s0 += dy[src + q] * xp[cq];
            s1 += dy[src + q + 1] * xp[cq + sw];
            s2 += dy[src + q + 2] * xp[cq + 2 * sw];
            s3 += dy[src + q + 3] * xp[cq + 3 * sw];
          }
          for (; q < Q; q++) {
            const v = dy[src + q] * xp[r + q * sw], j = q & 3;
            if (j === 0) s0 += v;
            else if (j === 1) s1 += v;
            else s2 += v; // Q % 4 leaves at most 3 columns: lanes 0, 1, 2
          }
        }
        sums[4 * t] = s0; sums[4 * t + 1] = s1; sums[4 * t + 2] = s2; sums[4 * t + 3] = s3;
      }
    }
    const o = k * T;
    for (let t = 0; t < T; t++) dw[o + t] = (sums[4 * t] + sums[4 * t + 1]) + (sums[4 * t + 2] + sums[4 * t + 3]);
  }
}

/**
 * Filters [k0, k1) of the filter gradient through simd/float.wat `dwFilterGrad` (the same partial sums,
 * see depthwiseBackwardFilterChunk), into dw: false, with nothing written, where this thread has no
 * SIMD. As `correlateBlocksSimd`, in blocks of filters: for each image, the block's planes of x and of dY
 * (each consecutive in memory) go into WebAssembly memory in one copy each, and each filter's plane is
 * padded there as `padPlane` pads; each filter keeps its partial sums there across the images.
 */
function filterGradBlocksSimd(x: Float32Array, dy: Float32Array, dwOut: Float32Array, g: Conv2dGeometry, pl: Plane, k0: number, k1: number): boolean {
  const { N, C, H, W, K, R, S, groups, P, Q } = g;
  const { sh, sw, ph, pw, dh, dw: dil } = pl;
  const Kg = K / groups, T = R * S, HW = H * W, PQ = P * Q, padded = ph !== 0 || pw !== 0;
  const Hp = padded ? (P - 1) * sh + (R - 1) * dh + 1 : H, Wp = padded ? (Q - 1) * sw + (S - 1) * dil + 1 : W;
  const fb = Math.max(1, Math.floor(depthwiseSettings.blockFloats / (HW / Kg + PQ))), xMax = Math.ceil(fb / Kg) + 1;
  // the vector loads at stride 2 read one value past a row's last tap: 32 bytes of room after a plane
  const OFFS = 0, ACC = align16(4 * T), DY = align16(ACC + 32 * T * fb), IN = align16(DY + 4 * PQ * fb + 32);
  // a 3x3 kernel at column stride 1 reads the plane and dY widened to float64 (WIDE, each with room
  // for a last group of four)
  const three = R === 3 && S === 3 && sw === 1;
  const PLANE = align16(IN + 4 * HW * xMax + 32), WIDE = align16(PLANE + 4 * Hp * Wp + 32);
  const h = simdHeap(three ? WIDE + 8 * (Hp * Wp + 4) + 8 * (PQ + 4) : WIDE);
  if (!h) return false;
  const { f32, f64, i32, kernels } = h;
  for (let t = 0; t < T; t++) i32[(OFFS >> 2) + t] = Math.floor(t / S) * dh * Wp + (t % S) * dil;
  for (let kb = k0; kb < k1; kb += fb) {
    const ke = Math.min(k1, kb + fb), c0 = Math.floor(kb / Kg), c1 = Math.floor((ke - 1) / Kg) + 1;
    f64.fill(0, ACC >> 3, (ACC >> 3) + 4 * T * (ke - kb));
    for (let n = 0; n < N; n++) {
      f32.set(x.subarray((n * C + c0) * HW, (n * C + c1) * HW), IN >> 2);
      f32.set(dy.subarray((n * K + kb) * PQ, (n * K + ke) * PQ), DY >> 2);
      for (let k = kb; k < ke; k++) {
        let plane = IN + 4 * HW * (Math.floor(k / Kg) - c0);
        if (padded) {
          kernels.padPlane(plane, H, W, PLANE, Hp, Wp, ph, pw);
          plane = PLANE;
        }
        kernels.dwFilterGrad(plane, Wp, sh, sw, DY + 4 * PQ * (k - kb), P, Q, OFFS, T, ACC + 32 * T * (k - kb), three ? WIDE : 0, Hp * Wp);
      }
    }
    for (let k = kb; k < ke; k++) {
      const a = (ACC >> 3) + 4 * T * (k - kb);
      for (let t = 0; t < T; t++) dwOut[k * T + t] = (f64[a + 4 * t] + f64[a + 4 * t + 1]) + (f64[a + 4 * t + 2] + f64[a + 4 * t + 3]);
    }
  }
  return true;
}
