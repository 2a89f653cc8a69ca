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
 */
import type { PackedEpilogue } from './xnor-epilogue.js';

/** The tables of one layer's weights (built once, kept with the plan). */
export interface PointwiseTables {
  C: number;
  K: number;
  rowBytes: number;
  /** Table words per table row: ceil(K / 4). */
  KQ: number;
  tab: Int32Array;
}

export function xnorPointwiseApplies(C: number): boolean {
  return C <= 255;
}

/** Builds the tables from the packed weight stream (bitpack.ts: filter k's C bits from bit k*C). */
export function pointwiseTables(signs: Uint32Array, C: number, K: number): PointwiseTables {
  const rowBytes = (C + 7) >>> 3, KQ = (K + 3) >>> 2;
  const tab = new Int32Array(rowBytes * 256 * KQ);
  for (let k = 0; k < K; k++) {
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
  return { C, K, rowBytes, KQ, tab };
}

const BLOCK = 64;
let xbytes = new Uint8Array(0);
let counts = new Int32Array(0);
let lut = new Float64Array(0);

/**
 * y (through the epilogue) = the 1x1 convolution of sign(x[N, C, H, W]) with the tabulated weight
 * signs. `xBits` (instead of x): the input's signs already packed in the plane layout of
 * xnor-epilogue.ts; with `e.bits` the output is sign bits by threshold in that layout.
 */
export function xnorPointwiseForward(
  x: Float32Array, t: PointwiseTables, y: Float32Array, N: number, H: number, W: number, e: PackedEpilogue, xBits: Int32Array | null = null,
): void {
  const { C, K, rowBytes, KQ, tab } = t, HW = H * W, RW = (W + 31) >>> 5, ob = e.bits;
  if (ob) ob.out.fill(0, 0, N * K * H * RW);
  if (xbytes.length < HW * rowBytes) xbytes = new Uint8Array(HW * rowBytes);
  if (counts.length < BLOCK * KQ) counts = new Int32Array(BLOCK * KQ);
  const { A, B, res, resScale } = e;
  // the output of every mismatch count m of filter k: lut[k * (C + 1) + m] = A[k] * (C - 2m) + B[k]
  if (!ob) {
    if (lut.length < K * (C + 1)) lut = new Float64Array(K * (C + 1));
    for (let k = 0; k < K; k++) for (let m = 0; m <= C; m++) lut[k * (C + 1) + m] = A[k] * (C - 2 * m) + B[k];
  }
  for (let n = 0; n < N; n++) {
    if (xBits) unpackPixelBits(xBits, n * C * H * RW, C, H, W, rowBytes);
    else packPixels(x, n * C * HW, C, HW, rowBytes);
    for (let i0 = 0; i0 < HW; i0 += BLOCK) {
      const bn = Math.min(BLOCK, HW - i0);
      counts.fill(0, 0, bn * KQ);
      for (let ii = 0; ii < bn; ii++) {
        const xb = (i0 + ii) * rowBytes, co = ii * KQ;
        for (let j = 0; j < rowBytes; j++) {
          const to = (j * 256 + xbytes[xb + j]) * KQ;
          for (let kq = 0; kq < KQ; kq++) counts[co + kq] += tab[to + kq];
        }
      }
      if (ob) { // sign bits of the next layer: dir * dot < val
        for (let k = 0; k < K; k++) {
          const d = ob.dir[k], v = ob.val[k], lane = 8 * (k & 3), kq = k >>> 2, plane = (n * K + k) * H;
          for (let ii = 0, h = ((i0 / W) | 0), w = i0 - h * W; ii < bn; ii++) {
            const m = (counts[ii * KQ + kq] >>> lane) & 255;
            if (d * (C - 2 * m) < v) ob.out[(plane + h) * RW + (w >>> 5)] |= 1 << (w & 31);
            if (++w === W) { w = 0; h++; }
          }
        }
        continue;
      }
      for (let k = 0; k < K; k++) {
        const lane = 8 * (k & 3), kq = k >>> 2, lo = k * (C + 1);
        const yo = (n * e.yChannels + e.yC0 + k) * HW + i0;
        if (res) {
          const r = resScale ? resScale[k] : 1, ro = (n * e.resChannels + e.resC0 + k) * HW + i0;
          for (let ii = 0, ci = kq; ii < bn; ii++, ci += KQ) y[yo + ii] = lut[lo + ((counts[ci] >>> lane) & 255)] + r * res[ro + ii];
        } else {
          for (let ii = 0, ci = kq; ii < bn; ii++, ci += KQ) y[yo + ii] = lut[lo + ((counts[ci] >>> lane) & 255)];
        }
      }
    }
  }
}

/** `packPixels` from planes of sign bits ([C][H][RW] words of one image from `off`). */
function unpackPixelBits(bits: Int32Array, off: number, C: number, H: number, W: number, rowBytes: number): void {
  const RW = (W + 31) >>> 5;
  xbytes.fill(0, 0, H * W * rowBytes);
  for (let c = 0; c < C; c++) {
    const j = c >>> 3, sh = c & 7;
    for (let h = 0; h < H; h++) {
      for (let wj = 0; wj < RW; wj++) {
        const v = bits[off + (c * H + h) * RW + wj];
        if (v === 0) continue;
        for (let b = 0, w = wj * 32; b < 32 && w < W; b++, w++) xbytes[(h * W + w) * rowBytes + j] |= ((v >>> b) & 1) << sh;
      }
    }
  }
}

/** Sign bits of one image's pixels, channel-minor: byte j of pixel i holds channels 8j..8j+7. */
function packPixels(x: Float32Array, off: number, C: number, HW: number, rowBytes: number): void {
  for (let j = 0; j < rowBytes; j++) {
    const c0 = 8 * j, nb = Math.min(8, C - c0), src = off + c0 * HW;
    for (let i = 0; i < HW; i++) {
      let v = 0;
      for (let cc = 0, s = src + i; cc < nb; cc++, s += HW) v |= Number(!(x[s] >= 0)) << cc;
      xbytes[i * rowBytes + j] = v;
    }
  }
}
