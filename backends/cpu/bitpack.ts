/**
 * Bit packing for the 1-bit convolution: signs become bits of Uint32Array words.
 *
 * Bit convention: a bit is SET where the value is negative (sign -1) and CLEAR where it is >= 0
 * (sign +1, so sign(0) = +1 as everywhere in the project; NaN counts as -1). With that choice the
 * words of a padded pixel and the unused high bits of a last word are all zero in both operands, so
 * they never count as a mismatch: for ±1 vectors of n entries, `dot = n - 2 * popcount(a XOR w)`.
 * Bit i of a packed array is bit (i & 31) of word (i >>> 5).
 *
 * Layouts (Cg = C / groups input channels per group, RS = R * S taps, wpt = wordsPerTap = ceil(Cg / 32)):
 * - weights, `packWeightSigns` (the stored format, what `packWeights` writes and every backend
 *   reads): one dense bit stream of all K * RS * Cg signs, filter-major, then tap (r, s), then
 *   channel: channel c of tap t = r * S + s of filter k is bit (k * RS + t) * Cg + c. Nothing pads
 *   filters or taps, so the stream takes ceil(K * RS * Cg / 32) words (`packedWeightWords`): 1/32 of
 *   the float weights' bytes, plus the unused part of the last word, for any channel count (a 3x3
 *   depthwise filter is 9 bits). One filter is the `rowBits = RS * Cg` bits from bit k * rowBits on.
 * - input, `packInputSigns`: NHWC by group, [N][H][W][groups][wpt]: the wpt words of one pixel and
 *   one group are contiguous, channel c of group grp at bit (c & 31) of word (c >>> 5).
 * - dense rows, `im2colBits` and, for depthwise convolutions, `im2colDepthwise` (what the CPU
 *   kernel reads): the reduction vector of one output position
 *   as rowBits consecutive bits in the order of a filter's bits in the stream (tap-major,
 *   channel-minor: bit t * Cg + c). Rows are [groups][N * P * Q][rowWords], `rowWords` >=
 *   ceil(rowBits / 32); padded taps and a row's tail are zero bits (the kernel corrects for the
 *   padded taps).
 * - filter rows, `filterRows` (the CPU kernel's view of the weights): one filter's rowBits bits per
 *   row of words, aligned with the dense rows of the input: the kernel reads both through byte
 *   views, so byte j of a filter row and byte j of an input row hold the same bits on any platform.
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

/** Bits of one filter (and of one dense row): the RS * C/groups signs of a receptive field. */
export function denseRowBits(g: XnorConv2dGeometry): number {
  return g.R * g.S * (g.C / g.groups);
}

/** The n <= 32 bits of `words` from bit `bit` on, as the low bits of a non-negative number (n < 32) or an int32. */
export function readBits(words: Uint32Array | Int32Array, bit: number, n: number): number {
  const wi = bit >>> 5, off = bit & 31;
  let v = words[wi] >>> off;
  if (off !== 0 && off + n > 32) v |= words[wi + 1] << (32 - off);
  return n >= 32 ? v | 0 : v & ((1 << n) - 1);
}

/** Number of set bits among the n bits of `words` from bit `bit` on. */
export function popcountBits(words: Uint32Array | Int32Array, bit: number, n: number): number {
  let count = 0;
  for (; n >= 32; n -= 32, bit += 32) count += popcount32(readBits(words, bit, 32));
  return n > 0 ? count + popcount32(readBits(words, bit, n)) : count;
}

/**
 * Packs the signs of w[K, C/groups, R, S] into the dense stream (see the file comment); writes the
 * first `packedWeightWords(g)` words of `packed` (the unused high bits of the last word are zero).
 */
export function packWeightSigns(w: Float32Array, packed: Uint32Array, g: XnorConv2dGeometry): void {
  const { K, R, S } = g;
  const Cg = g.C / g.groups, RS = R * S;
  packed.fill(0, 0, wordsFor(K * RS * Cg));
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < Cg; c++) {
      const src = (k * Cg + c) * RS;
      for (let t = 0, bit = k * RS * Cg + c; t < RS; t++, bit += Cg) {
        if (!(w[src + t] >= 0)) packed[bit >>> 5] |= 1 << (bit & 31); // w < 0 or NaN: sign -1
      }
    }
  }
}

/** The inverse of `packWeightSigns`: ±1 values into w[K, C/groups, R, S] (for tests and debugging). */
export function unpackWeightSigns(packed: Uint32Array, w: Float32Array, g: XnorConv2dGeometry): void {
  const { K, R, S } = g;
  const Cg = g.C / g.groups, RS = R * S;
  for (let k = 0; k < K; k++) for (let c = 0; c < Cg; c++) for (let t = 0; t < RS; t++) {
    const bit = (k * RS + t) * Cg + c;
    w[(k * Cg + c) * RS + t] = (packed[bit >>> 5] >>> (bit & 31)) & 1 ? -1 : 1;
  }
}

/**
 * The packed sign of a value: 1 for x < 0 and for NaN (sign -1), 0 for +0, -0 and positive values.
 * V8 compiles the comparison to a flag read, without a branch (a branch would be mispredicted half
 * the time on random signs).
 */
export function negBit(x: number): number {
  return Number(!(x >= 0));
}

/**
 * Packs the signs of x[N, C, H, W] into `out` ([N][H][W][groups][wpt], N * H * W * groups * wpt
 * words). Each word gathers its 32 channels in a register, four pixels at a time.
 */
export function packInputSigns(x: Float32Array, out: Uint32Array, g: XnorConv2dGeometry): void {
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
            v0 |= negBit(x[src]) << cc;
            v1 |= negBit(x[src + 1]) << cc;
            v2 |= negBit(x[src + 2]) << cc;
            v3 |= negBit(x[src + 3]) << cc;
          }
          out[o] = v0;
          out[o + pixWords] = v1;
          out[o + 2 * pixWords] = v2;
          out[o + 3 * pixWords] = v3;
        }
        for (let i = HW4; i < HW; i++, o += pixWords) {
          let v = 0;
          for (let cc = 0, src = chan + i; cc < cn; cc++, src += HW) v |= negBit(x[src]) << cc;
          out[o] = v;
        }
      }
    }
  }
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
 * The dense rows of `im2colBits` for one input channel per group (depthwise convolutions) with R * S
 * <= 32 (one word per row), straight from x. Each image row of a channel becomes a row of bits in
 * `bitRows` (ceil((W + 2 padW) / 32) words per row, (H + 2 padH) rows: the zero padding is zero
 * bits all round), and tap (r, s) of output (p, q) is then bit q * strideW + s * dilationW of bit
 * row p * strideH + r * dilationH (S adjacent bits at once without dilation).
 */
export function im2colDepthwise(x: Float32Array, cols: Int32Array | Uint32Array, g: XnorConv2dGeometry, bitRows: Uint32Array): void {
  const { N, C, H, W, R, S, strideH, strideW, padH, padW, dilationH, dilationW, P, Q } = g;
  const M = N * P * Q, bw = (W + 2 * padW + 31) >>> 5;
  const run = dilationW === 1 ? S : 1, mask = run === 32 ? -1 : (1 << run) - 1;
  bitRows.fill(0, 0, (H + 2 * padH) * bw);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let h = 0, src = (n * C + c) * H * W; h < H; h++, src += W) {
        const row = (h + padH) * bw;
        let v = 0;
        for (let w = 0, b = padW; w < W; w++, b++) {
          v |= negBit(x[src + w]) << (b & 31);
          if ((b & 31) === 31) {
            bitRows[row + (b >>> 5)] = v;
            v = 0;
          }
        }
        if (((W + padW) & 31) !== 0) bitRows[row + ((W + padW) >>> 5)] = v; // the last, partial word
      }
      for (let p = 0, o = c * M + n * P * Q; p < P; p++) {
        for (let q = 0; q < Q; q++, o++) {
          let v = 0;
          if (bw === 1 && run === S) {
            // the common case: one word per bit row, a kernel row's S taps adjacent
            for (let r = 0, h = p * strideH; r < R; r++, h += dilationH) v |= ((bitRows[h] >>> (q * strideW)) & mask) << (r * S);
          } else {
            for (let r = 0, h = p * strideH; r < R; r++, h += dilationH) {
              for (let s = 0; s < S; s += run) {
                const b = h * bw * 32 + q * strideW + s * dilationW, off = b & 31, wi = b >>> 5;
                let t = bitRows[wi] >>> off;
                if (off + run > 32) t |= bitRows[wi + 1] << (32 - off);
                v |= (t & mask) << (r * S + s);
              }
            }
          }
          cols[o] = v;
        }
      }
    }
  }
}

/**
 * The filters as rows of words, as the CPU kernel reads them: row k of `rows` ([K][rowWords],
 * rowWords >= ceil(rowBits / 32)) holds bits [k * rowBits, (k + 1) * rowBits) of the packed stream
 * from its bit 0 on, then zero bits: the layout of `im2colBits`'s rows, so that a filter row and an
 * input row line up word for word (and byte for byte).
 */
export function filterRows(packed: Uint32Array, rows: Int32Array | Uint32Array, g: XnorConv2dGeometry, rowWords: number): void {
  const K = g.K, rowBits = denseRowBits(g);
  rows.fill(0, 0, K * rowWords);
  for (let k = 0; k < K; k++) {
    for (let bit = 0, o = k * rowWords; bit < rowBits; bit += 32, o++) {
      rows[o] = readBits(packed, k * rowBits + bit, Math.min(32, rowBits - bit));
    }
  }
}
