/**
 * Bit packing for the 1-bit convolution: signs become bits of Uint32Array words, packed along the
 * reduction dimension (input channels of one kernel tap).
 *
 * Bit convention: a bit is SET where the value is negative (sign -1) and CLEAR where it is >= 0
 * (sign +1, so sign(0) = +1 as everywhere in the project). With that choice the words of a padded
 * pixel and the unused high bits of a tap's last word are all zero in both operands, so they never
 * count as a mismatch: for ±1 vectors of n entries, `dot = n - 2 * popcount(a XOR w)`.
 *
 * Layouts (Cg = C / groups input channels per group, wpt = wordsPerTap = ceil(Cg / 32)):
 * - weights, `packWeightSigns`: [K][R][S][wpt]; channel c of tap (r, s) of filter k is bit (c & 31)
 *   of word ((k * R + r) * S + s) * wpt + (c >>> 5). One filter is a row of R * S * wpt words.
 * - input, `packInputSigns`: NHWC by group, [N][H][W][groups][wpt]: the wpt words of one pixel and
 *   one group are contiguous, channel c of group grp at bit (c & 31) of word (c >>> 5).
 * - dense rows, `im2colBits` and `denseWeightRows` (what the CPU kernel works on): the reduction
 *   vector of one output position (or one filter) as R * S * C/groups consecutive bits, tap-major and
 *   channel-minor, bit t * C/groups + c for channel c of tap t = r * S + s. No bits are wasted between
 *   taps, so small channel counts cost few words (3x3 with 16 channels: 144 bits, 5 words, where
 *   one word per tap would take 9). Rows of activations are [groups][N * P * Q][rowWords], rows of
 *   weights [K][rowWords]; `rowWords` >= ceil(bits / 32) pads a row with zero words. Padded taps are
 *   zero bits in the activation rows (the kernel corrects for them).
 *
 * Plain loops on typed arrays; nothing here allocates.
 */
import type { XnorConv2dGeometry } from '../backend.js';

/** Words needed for n sign bits. */
export function wordsFor(n: number): number {
  return (n + 31) >>> 5;
}

/** Branch-free population count of a 32-bit word (SWAR). */
export function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  v = (v + (v >>> 4)) & 0x0f0f0f0f;
  return Math.imul(v, 0x01010101) >>> 24;
}

/** Packs the signs of w[K, C/groups, R, S] into `packed` ([K][R][S][wpt], see the file comment). */
export function packWeightSigns(w: Float32Array, packed: Uint32Array, g: XnorConv2dGeometry): void {
  const { K, C, R, S, groups, wordsPerTap: wpt } = g;
  const Cg = C / groups, RS = R * S;
  packed.fill(0, 0, K * RS * wpt);
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < Cg; c++) {
      const bit = 1 << (c & 31), word = c >>> 5;
      const src = (k * Cg + c) * RS;
      for (let t = 0; t < RS; t++) {
        if (!(w[src + t] >= 0)) packed[(k * RS + t) * wpt + word] |= bit; // x < 0 or NaN: sign -1
      }
    }
  }
}

/** The inverse of `packWeightSigns`: ±1 values into w[K, C/groups, R, S] (for tests and debugging). */
export function unpackWeightSigns(packed: Uint32Array, w: Float32Array, g: XnorConv2dGeometry): void {
  const { K, C, R, S, groups, wordsPerTap: wpt } = g;
  const Cg = C / groups, RS = R * S;
  for (let k = 0; k < K; k++) for (let c = 0; c < Cg; c++) for (let t = 0; t < RS; t++) {
    const neg = (packed[(k * RS + t) * wpt + (c >>> 5)] >>> (c & 31)) & 1;
    w[(k * Cg + c) * RS + t] = neg ? -1 : 1;
  }
}

/**
 * Negative-sign bit of a float32 given its raw bits, branch-free, matching `x >= 0 ? +1 : -1`:
 * 1 for x < 0 and for NaN, 0 for +0, -0 and positive values.
 */
export function negBit(bits: number): number {
  const mag = bits & 0x7fffffff;
  // (mag + 0x7fffffff) >>> 31: mag != 0;  (0x7f800000 - mag) >>> 31: NaN
  return ((bits >>> 31) & ((mag + 0x7fffffff) >>> 31)) | ((0x7f800000 - mag) >>> 31);
}

/**
 * Packs the signs of x[N, C, H, W] into `out` ([N][H][W][groups][wpt], N * H * W * groups * wpt
 * words). `xBits` is x's Int32Array view (the float bits: the sign test is then arithmetic, free of
 * the mispredicted branches a float comparison costs on random signs). Each word gathers its 32
 * channels in a register, four pixels at a time.
 */
export function packInputSigns(xBits: Int32Array, out: Uint32Array, g: XnorConv2dGeometry): void {
  const { N, C, H, W, groups, wordsPerTap: wpt } = g;
  const Cg = C / groups, HW = H * W, pixWords = groups * wpt, HW4 = HW & ~3;
  for (let n = 0; n < N; n++) {
    for (let grp = 0; grp < groups; grp++) {
      for (let j = 0; j < wpt; j++) {
        const c0 = grp * Cg + j * 32, cn = Math.min(32, Cg - j * 32);
        const chan = (n * C + c0) * HW;
        let o = n * HW * pixWords + grp * wpt + j;
        for (let i = 0; i < HW4; i += 4, o += 4 * pixWords) {
          let v0 = 0, v1 = 0, v2 = 0, v3 = 0;
          for (let cc = 0, src = chan + i; cc < cn; cc++, src += HW) {
            v0 |= negBit(xBits[src]) << cc;
            v1 |= negBit(xBits[src + 1]) << cc;
            v2 |= negBit(xBits[src + 2]) << cc;
            v3 |= negBit(xBits[src + 3]) << cc;
          }
          out[o] = v0;
          out[o + pixWords] = v1;
          out[o + 2 * pixWords] = v2;
          out[o + 3 * pixWords] = v3;
        }
        for (let i = HW4; i < HW; i++, o += pixWords) {
          let v = 0;
          for (let cc = 0, src = chan + i; cc < cn; cc++, src += HW) v |= negBit(xBits[src]) << cc;
          out[o] = v;
        }
      }
    }
  }
}

/**
 * ORs the `nbits` low bits of `v` (its higher bits are zero) into `row` at bit `cursor` (bit i of the
 * row is bit i & 31 of word row[base + (i >>> 5)]); the words must start out zero.
 */
function appendBits(row: Int32Array | Uint32Array, base: number, cursor: number, v: number, nbits: number): void {
  const wi = base + (cursor >>> 5), off = cursor & 31;
  if (off === 0) {
    row[wi] |= v;
  } else {
    row[wi] |= v << off;
    if (off + nbits > 32) row[wi + 1] |= v >>> (32 - off);
  }
}

/** Bits of one dense row: the R * S * C/groups signs of a receptive field. */
export function denseRowBits(g: XnorConv2dGeometry): number {
  return g.R * g.S * (g.C / g.groups);
}

/**
 * Gathers, for every group and output position m = (n * P + p) * Q + q, the signs of its receptive
 * field into one dense row of `rowWords` words of `cols` ([groups][N * P * Q][rowWords]): tap-major,
 * channel-minor, bit t * C/groups + c for channel c of tap t = r * S + s, with no gaps between taps
 * (a 3x3 depthwise field is 9 bits of one word). Taps in the zero padding and the row's tail are
 * zero bits (the kernel corrects for the padded taps).
 */
export function im2colBits(xb: Uint32Array, cols: Int32Array | Uint32Array, g: XnorConv2dGeometry, rowWords: number): void {
  const { N, C, H, W, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q, wordsPerTap: wpt } = g;
  const Cg = C / groups, pixWords = groups * wpt, M = N * P * Q;
  cols.fill(0, 0, groups * M * rowWords);
  // tap by tap, one output row at a time: the inner loops run over q with fixed bit offsets
  for (let n = 0; n < N; n++) {
    for (let p = 0; p < P; p++) {
      for (let r = 0; r < R; r++) {
        const h = p * strideH - padH + r * dilationH;
        if (h < 0 || h >= H) continue; // a padded row of taps: zero bits
        for (let s = 0; s < S; s++) {
          // output columns q whose tap (r, s) reads a real pixel: 0 <= q * strideW - padW + s * dilationW < W
          const shift = padW - s * dilationW;
          const qLo = shift > 0 ? Math.ceil(shift / strideW) : 0;
          const qHi = Math.min(Q, Math.floor((W - 1 + shift) / strideW) + 1);
          if (qLo >= qHi) continue;
          const pix0 = (n * H + h) * W + qLo * strideW - shift;
          for (let grp = 0; grp < groups; grp++) {
            const rowBase = (grp * M + (n * P + p) * Q) * rowWords;
            for (let j = 0; j < wpt; j++) {
              const cursor = (r * S + s) * Cg + 32 * j, nbits = Math.min(32, Cg - 32 * j);
              const off = cursor & 31, step = strideW * pixWords;
              let src = pix0 * pixWords + grp * wpt + j, o = rowBase + qLo * rowWords + (cursor >>> 5);
              if (off === 0) {
                for (let q = qLo; q < qHi; q++, src += step, o += rowWords) cols[o] |= xb[src];
              } else if (off + nbits <= 32) {
                for (let q = qLo; q < qHi; q++, src += step, o += rowWords) cols[o] |= xb[src] << off;
              } else {
                const back = 32 - off;
                for (let q = qLo; q < qHi; q++, src += step, o += rowWords) {
                  const v = xb[src];
                  cols[o] |= v << off;
                  cols[o + 1] |= v >>> back;
                }
              }
            }
          }
        }
      }
    }
  }
}

/**
 * Weight rows in the dense layout of `im2colBits` from packed weights ([K][R][S][wpt]): row k of
 * `rows` ([K][rowWords]) holds filter k's R * S * C/groups sign bits, tap-major, without gaps.
 */
export function denseWeightRows(packed: Uint32Array, rows: Int32Array | Uint32Array, g: XnorConv2dGeometry, rowWords: number): void {
  const { K, C, R, S, groups, wordsPerTap: wpt } = g;
  const Cg = C / groups, RS = R * S, lastBits = Cg - 32 * (wpt - 1);
  rows.fill(0, 0, K * rowWords);
  for (let k = 0; k < K; k++) {
    let cursor = 0;
    for (let t = 0; t < RS; t++) {
      const src = (k * RS + t) * wpt;
      for (let j = 0; j < wpt - 1; j++, cursor += 32) appendBits(rows, k * rowWords, cursor, packed[src + j], 32);
      appendBits(rows, k * rowWords, cursor, packed[src + wpt - 1], lastBits);
      cursor += lastBits;
    }
  }
}
