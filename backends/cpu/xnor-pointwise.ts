/**
 * 1-bit pointwise convolution (1x1, stride 1, no padding, one group) for the inference engine, by
 * byte tables built once from the weights.
 *
 * A pixel's C input signs are rowBytes = ceil(C / 8) bytes. For byte position j and each of the 256
 * values v a byte can take, the table holds the mismatches popcount(v XOR w_k[j]) of four filters at
 * once, in the four 8-bit lanes of an int32:
 *
 *     T[j][v][k/4] = Σ_i popcount(v XOR byte j of filter 4(k/4) + i) << 8i
 *     mism(pixel, four filters) = Σ_j T[j][byte j of the pixel][k/4]     one load and add per byte
 *
 * Lanes stay apart while a count is at most 255 (C <= 255; wider inputs take the general kernel).
 * Then dot = C - 2 * mism and the epilogue (xnor-epilogue.ts) writes the float value. Pixels go in
 * blocks of 64: the counts of a block are gathered first, then written filter by filter, so y is
 * written sequentially.
 *
 * With the SIMD kernels on (simd/simd.ts) a float-input, float-output call runs image by image in
 * WebAssembly instead (simd/engine.wat `pointwise`): the signs of a pixel's channels packed into
 * ceil(C / 32) words, the mismatches with a filter's words counted by i8x16.popcnt four pixels at a
 * time, and the same epilogue in float64: the same values (bit for bit, a NaN's sign aside).
 */
import { epilogueArgs, epilogueOf, epilogueParams, type PackedEpilogue } from './xnor-epilogue.js';
import { chunkRange, chunksFor, parallel, type JobArg, type JobArray } from './threads.js';
import { align16, simdEnabled, simdHeap } from './simd/simd.js';

/** The tables of one layer's weights (built once, kept with the plan). */
export interface PointwiseTables {
  C: number;
  K: number;
  rowBytes: number;
  /** Table words per table row: ceil(K / 4). */
  KQ: number;
  tab: Int32Array;
  /** The SIMD kernel's weights: filter k's signs in ceil(C / 32) words from k * ceil(C / 32), bits past C clear. */
  words: Int32Array;
}

export function xnorPointwiseApplies(C: number): boolean {
  return C <= 255;
}

/**
 * The SIMD kernel's reach (float input and output): a 1x1 convolution with no padding and one group,
 * at any stride (the input's pixels at the stride are gathered as its planes are copied in), of up to
 * 992 channels (its byte lanes count at most 8 mismatches per word: 31 words). Wider or strided calls
 * take the general kernel where SIMD is off.
 */
export function xnorPointwiseSimdApplies(g: { C: number; R: number; S: number; padH: number; padW: number; groups: number }): boolean {
  return g.R === 1 && g.S === 1 && g.padH === 0 && g.padW === 0 && g.groups === 1 && g.C <= 992;
}

/** Builds the tables from the packed weight stream (bitpack.ts: filter k's C bits from bit k*C). */
export function pointwiseTables(signs: Uint32Array, C: number, K: number): PointwiseTables {
  const rowBytes = (C + 7) >>> 3, KQ = (K + 3) >>> 2;
  // shared memory where there is any, so that the kernel's threads read the tables without a copy
  // (no byte tables past 255 channels: their 8-bit lanes would overflow; the word kernels take those)
  const n = xnorPointwiseApplies(C) ? rowBytes * 256 * KQ : 0;
  const tab = typeof SharedArrayBuffer !== 'undefined' ? new Int32Array(new SharedArrayBuffer(4 * n)) : new Int32Array(n);
  for (let k = 0; k < K && n > 0; k++) {
    for (let j = 0; j < rowBytes; j++) {
      const nb = Math.min(8, C - 8 * j);
      let wb = 0;
      for (let i = 0; i < nb; i++) {
        const bit = k * C + 8 * j + i;
        wb |= ((signs[bit >>> 5] >>> (bit & 31)) & 1) << i;
      }
      const mask = (1 << nb) - 1, lane = 8 * (k & 3);
      for (let v = 0; v < 256; v++) {
        let m = (v ^ wb) & mask;
        m = m - ((m >>> 1) & 0x55);
        m = (m & 0x33) + ((m >>> 2) & 0x33);
        m = (m + (m >>> 4)) & 0x0f;
        tab[(j * 256 + v) * KQ + (k >>> 2)] += m << lane;
      }
    }
  }
  const CW = (C + 31) >>> 5;
  const words = typeof SharedArrayBuffer !== 'undefined' ? new Int32Array(new SharedArrayBuffer(4 * K * CW)) : new Int32Array(K * CW);
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < C; c++) {
      const bit = k * C + c;
      words[k * CW + (c >>> 5)] |= ((signs[bit >>> 5] >>> (bit & 31)) & 1) << (c & 31);
    }
  }
  return { C, K, rowBytes, KQ, tab, words };
}

const BLOCK = 64;
let xbytes = new Uint8Array(0);
let counts = new Int32Array(0);
let lut = new Float64Array(0);
/** What `lut` was built from: the chunks of one call (and the calls of one layer) reuse it. */
let lutFor: { C: number; A: Float32Array; B: Float32Array } | null = null;

/** Whether `lut` holds the outputs of this C, A and B (compared by value: a job's arrays arrive as new objects). */
function lutHolds(C: number, K: number, A: Float32Array, B: Float32Array): boolean {
  if (!lutFor || lutFor.C !== C || lutFor.A.length !== K) return false;
  const a = lutFor.A, b = lutFor.B;
  for (let k = 0; k < K; k++) if (!Object.is(a[k], A[k]) || !Object.is(b[k], B[k])) return false;
  return true;
}
const NO_BITS = new Int32Array(0);

/**
 * y (through the epilogue) = the 1x1 convolution of sign(x[N, C, H, W]) with the tabulated weight
 * signs. `xBits` (instead of x): the input's signs already packed in the plane layout of
 * xnor-epilogue.ts; with `e.bits` the output is sign bits by threshold in that layout. Large calls are
 * cut into chunks of pixel blocks (whole images when the output is bits: a word of bits may span two
 * blocks) for the threads of threads.ts.
 * `stride` > 1 or C > 255 (xnorPointwiseSimdApplies): float input and output only, for the SIMD
 * kernel, with a plain word-by-word loop (pointwiseWords) where a thread has no SIMD.
 */
export function xnorPointwiseForward(
  x: Float32Array, t: PointwiseTables, y: Float32Array, N: number, H: number, W: number, e: PackedEpilogue, xBits: Int32Array | null = null,
  stride = 1,
): void {
  const P = Math.floor((H - 1) / stride) + 1, Q = Math.floor((W - 1) / stride) + 1;
  const wide = stride !== 1 || !xnorPointwiseApplies(t.C);
  if (wide && (xBits || e.bits || t.C > 992)) {
    throw new Error(`xnorPointwiseForward: stride ${stride} with C = ${t.C} takes float input and output and at most 992 channels`);
  }
  // the SIMD kernel takes float input to float output, whole images at a time
  const simd = !xBits && !e.bits && simdEnabled();
  const units = e.bits || simd || wide ? N : N * Math.ceil((H * W) / BLOCK);
  const nChunks = chunksFor(N * P * Q * (t.K + t.rowBytes * t.KQ), units);
  const args: JobArg[] = [{ a: x }, { a: t.tab }, { a: y, inout: true }, { a: xBits ?? NO_BITS }, { a: t.words }, ...epilogueArgs(e)];
  parallel('xnorPointwise', xnorPointwiseChunk, args, [t.C, t.K, N, H, W, xBits ? 1 : 0, simd ? 1 : 0, ...epilogueParams(e), stride], nChunks);
}

/** Chunk `chunk` of `nChunks` of a pointwise call: a range of (image, pixel block) units. */
export function xnorPointwiseChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [C, K, N, H, W, hasBits, simd] = params, stride = params[14];
  const rowBytes = (C + 7) >>> 3, KQ = (K + 3) >>> 2;
  const t: PointwiseTables = { C, K, rowBytes, KQ, tab: arrays[1] as Int32Array, words: arrays[4] as Int32Array };
  const e = epilogueOf(arrays, 5, params, 7);
  if (simd) {
    const [n0, n1] = chunkRange(N, chunk, nChunks);
    if (pointwiseImagesSimd(arrays[0] as Float32Array, t, arrays[2] as Float32Array, H, W, stride, e, n0, n1)) return;
  }
  if (stride !== 1 || !xnorPointwiseApplies(C)) {
    const [n0, n1] = chunkRange(N, chunk, nChunks);
    pointwiseWords(arrays[0] as Float32Array, t, arrays[2] as Float32Array, H, W, stride, e, n0, n1);
    return;
  }
  const blocks = e.bits || simd ? 1 : Math.ceil((H * W) / BLOCK);
  const [u0, u1] = chunkRange(N * blocks, chunk, nChunks);
  pointwiseUnits(arrays[0] as Float32Array, t, arrays[2] as Float32Array, H, W, e, hasBits ? (arrays[3] as Int32Array) : null, blocks, u0, u1);
}

/** Units u0..u1 of (image n, block b) = u = n * blocks + b; one block per image when the output is bits. */
function pointwiseUnits(
  x: Float32Array, t: PointwiseTables, y: Float32Array, H: number, W: number, e: PackedEpilogue, xBits: Int32Array | null,
  blocks: number, u0: number, u1: number,
): void {
  const { C, K, rowBytes, KQ, tab } = t, HW = H * W, RW = (W + 31) >>> 5, ob = e.bits;
  const span = blocks === 1 ? HW : BLOCK;
  if (xbytes.length < span * rowBytes) xbytes = new Uint8Array(span * rowBytes);
  if (counts.length < BLOCK * KQ) counts = new Int32Array(BLOCK * KQ);
  const { A, B, res, resScale } = e;
  // the output of every mismatch count m of filter k: lut[k * (C + 1) + m] = A[k] * (C - 2m) + B[k]
  if (!ob && !lutHolds(C, K, A, B)) {
    if (lut.length < K * (C + 1)) lut = new Float64Array(K * (C + 1));
    for (let k = 0; k < K; k++) for (let m = 0; m <= C; m++) lut[k * (C + 1) + m] = A[k] * (C - 2 * m) + B[k];
    lutFor = { C, A: A.slice(0, K), B: B.slice(0, K) };
  }
  for (let u = u0; u < u1; u++) {
    const n = Math.floor(u / blocks), p0 = (u - n * blocks) * span, pn = Math.min(span, HW - p0);
    if (xBits) unpackPixelBits(xBits, n * C * H * RW, C, H, W, rowBytes, p0, pn);
    else packPixels(x, n * C * HW, C, HW, rowBytes, p0, pn);
    if (ob) ob.out.fill(0, n * K * H * RW, (n + 1) * K * H * RW);
    for (let i0 = 0; i0 < pn; i0 += BLOCK) {
      const bn = Math.min(BLOCK, pn - i0);
      // counts[kq * BLOCK + ii]: four filters' mismatches of pixel ii, summed in a local over the
      // pixel's bytes (one store per pixel and filter quad, and the epilogue reads them in order)
      for (let kq = 0; kq < KQ; kq++) {
        const co = kq * BLOCK;
        if (rowBytes === 2) {
          for (let ii = 0, xb = i0 * 2; ii < bn; ii++, xb += 2) {
            counts[co + ii] = tab[xbytes[xb] * KQ + kq] + tab[(256 + xbytes[xb + 1]) * KQ + kq];
          }
        } else {
          for (let ii = 0, xb = i0 * rowBytes; ii < bn; ii++, xb += rowBytes) {
            let sum = 0;
            for (let j = 0, t = kq; j < rowBytes; j++, t += 256 * KQ) sum += tab[t + xbytes[xb + j] * KQ];
            counts[co + ii] = sum;
          }
        }
      }
      const pix = p0 + i0;
      if (ob) { // sign bits of the next layer: dir * dot < val
        for (let k = 0; k < K; k++) {
          const d = ob.dir[k], v = ob.val[k], lane = 8 * (k & 3), kq = k >>> 2, plane = (n * K + k) * H;
          for (let ii = 0, h = ((pix / W) | 0), w = pix - h * W; ii < bn; ii++) {
            const m = (counts[kq * BLOCK + ii] >>> lane) & 255;
            if (d * (C - 2 * m) < v) ob.out[(plane + h) * RW + (w >>> 5)] |= 1 << (w & 31);
            if (++w === W) { w = 0; h++; }
          }
        }
        continue;
      }
      for (let k = 0; k < K; k++) {
        const lane = 8 * (k & 3), kq = k >>> 2, lo = k * (C + 1);
        const yo = (n * e.yChannels + e.yC0 + k) * HW + pix;
        if (res) {
          const r = resScale ? resScale[k] : 1, ro = (n * e.resChannels + e.resC0 + k) * HW + pix;
          for (let ii = 0, ci = kq * BLOCK; ii < bn; ii++, ci++) y[yo + ii] = lut[lo + ((counts[ci] >>> lane) & 255)] + r * res[ro + ii];
        } else {
          for (let ii = 0, ci = kq * BLOCK; ii < bn; ii++, ci++) y[yo + ii] = lut[lo + ((counts[ci] >>> lane) & 255)];
        }
      }
    }
  }
}

/**
 * Images n0..n1 through the SIMD kernel (float input and output): false where this thread has no
 * SIMD (the caller then runs the TypeScript kernel: the same values). Planes are copied in and out
 * whole; a plane of HW values sits in HWs = HW rounded up to 4 (the kernel's lanes).
 */
function pointwiseImagesSimd(
  x: Float32Array, t: PointwiseTables, y: Float32Array, H: number, W: number, stride: number, e: PackedEpilogue, n0: number, n1: number,
): boolean {
  const { C, K, words } = t, P = Math.floor((H - 1) / stride) + 1, Q = Math.floor((W - 1) / stride) + 1;
  const HW = P * Q, HWs = (HW + 3) & ~3, CW = (C + 31) >>> 5;
  const plane = 4 * HWs;
  const X = 0, XW = X + C * plane, RES = XW + CW * plane, Y = RES + K * plane;
  const WT = Y + K * plane, A = align16(WT + 4 * K * CW), B = align16(A + 4 * K), R = align16(B + 4 * K), end = align16(R + 4 * K);
  const h = simdHeap(end);
  if (!h) return false;
  const { f32, i32, kernels } = h;
  i32.set(words.subarray(0, K * CW), WT >> 2);
  f32.set(e.A.subarray(0, K), A >> 2);
  f32.set(e.B.subarray(0, K), B >> 2);
  if (e.resScale) f32.set(e.resScale.subarray(0, K), R >> 2);
  else f32.fill(1, R >> 2, (R >> 2) + K);
  const res = e.res;
  for (let n = n0; n < n1; n++) {
    if (stride === 1) copyPlanesIn(f32, X >> 2, x, n * C * HW, C, HW, HWs);
    else gatherPlanesIn(f32, X >> 2, x, n * C * H * W, C, H, W, stride, P, Q, HWs);
    if (res) copyPlanesIn(f32, RES >> 2, res, (n * e.resChannels + e.resC0) * HW, K, HW, HWs);
    kernels.packPixelWords(X, XW, C, HWs);
    kernels.pointwise(XW, WT, C, K, HWs, A, B, R, RES, Y, res ? 1 : 0);
    const yo = (n * e.yChannels + e.yC0) * HW;
    if (HWs === HW) y.set(f32.subarray(Y >> 2, (Y >> 2) + K * HW), yo);
    else for (let k = 0; k < K; k++) y.set(f32.subarray((Y >> 2) + k * HWs, (Y >> 2) + k * HWs + HW), yo + k * HW);
  }
  return true;
}

/** planes planes of HW values from src[off..] into dst[d..], each at a stride of HWs. */
function copyPlanesIn(dst: Float32Array, d: number, src: Float32Array, off: number, planes: number, HW: number, HWs: number): void {
  if (HWs === HW) dst.set(src.subarray(off, off + planes * HW), d);
  else for (let c = 0; c < planes; c++) dst.set(src.subarray(off + c * HW, off + (c + 1) * HW), d + c * HWs);
}

/** planes planes of H x W values from src[off..], their pixels at the stride (P x Q), into dst[d..] at a stride of HWs. */
function gatherPlanesIn(
  dst: Float32Array, d: number, src: Float32Array, off: number, planes: number, H: number, W: number, stride: number, P: number, Q: number, HWs: number,
): void {
  for (let c = 0; c < planes; c++) {
    const o = d + c * HWs, plane = off + c * H * W;
    for (let p = 0; p < P; p++) {
      const row = plane + p * stride * W, to = o + p * Q;
      for (let q = 0; q < Q; q++) dst[to + q] = src[row + q * stride];
    }
  }
}

/**
 * The word kernel in plain TypeScript (strided or wide calls on a thread without SIMD): what
 * simd/engine.wat `pointwise` computes, pixel by pixel, mismatches counted word by word, then the
 * epilogue of pointwiseUnits (A * (C - 2m) + B [+ R * res], in doubles), images n0..n1.
 */
function pointwiseWords(x: Float32Array, t: PointwiseTables, y: Float32Array, H: number, W: number, stride: number, e: PackedEpilogue, n0: number, n1: number): void {
  const { C, K, words } = t, CW = (C + 31) >>> 5, P = Math.floor((H - 1) / stride) + 1, Q = Math.floor((W - 1) / stride) + 1, PQ = P * Q;
  const { A, B, res, resScale } = e;
  const xw = new Int32Array(CW);
  for (let n = n0; n < n1; n++) {
    for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
      xw.fill(0);
      const pix = p * stride * W + q * stride;
      for (let c = 0; c < C; c++) xw[c >>> 5] |= Number(!(x[(n * C + c) * H * W + pix] >= 0)) << (c & 31);
      for (let k = 0; k < K; k++) {
        let m = 0;
        for (let w = 0; w < CW; w++) {
          let v = xw[w] ^ words[k * CW + w];
          v -= (v >>> 1) & 0x55555555;
          v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
          m += (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
        }
        const o = p * Q + q, v = A[k] * (C - 2 * m) + B[k];
        y[(n * e.yChannels + e.yC0 + k) * PQ + o] = res ? v + (resScale ? resScale[k] : 1) * res[(n * e.resChannels + e.resC0 + k) * PQ + o] : v;
      }
    }
  }
}

/** `packPixels` from planes of sign bits ([C][H][RW] words of one image from `off`), pixels p0..p0+pn. */
function unpackPixelBits(bits: Int32Array, off: number, C: number, H: number, W: number, rowBytes: number, p0: number, pn: number): void {
  const RW = (W + 31) >>> 5;
  xbytes.fill(0, 0, pn * rowBytes);
  for (let c = 0; c < C; c++) {
    const j = c >>> 3, sh = c & 7, plane = off + c * H * RW;
    for (let i = 0, h = (p0 / W) | 0, w = p0 - h * W; i < pn; i++) {
      xbytes[i * rowBytes + j] |= ((bits[plane + h * RW + (w >>> 5)] >>> (w & 31)) & 1) << sh;
      if (++w === W) { w = 0; h++; }
    }
  }
}

/** Sign bits of one image's pixels p0..p0+pn, channel-minor: byte j of pixel i holds channels 8j..8j+7. */
function packPixels(x: Float32Array, off: number, C: number, HW: number, rowBytes: number, p0: number, pn: number): void {
  for (let j = 0; j < rowBytes; j++) {
    const c0 = 8 * j, nb = Math.min(8, C - c0), src = off + c0 * HW + p0;
    for (let i = 0; i < pn; i++) {
      let v = 0;
      for (let cc = 0, s = src + i; cc < nb; cc++, s += HW) v |= Number(!(x[s] >= 0)) << cc;
      xbytes[i * rowBytes + j] = v;
    }
  }
}
