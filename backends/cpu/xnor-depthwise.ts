/**
 * Bit-sliced 1-bit depthwise convolution (one input channel per filter, K = C = groups) for the
 * inference engine: 32 output pixels of one row at a time, in the bits of one 32-bit word.
 *
 * For a channel, the signs of its input plane become rows of bits (bit set = sign -1, bitpack.ts's
 * convention), one row per input row and per stride phase (a stride-2 row is split into its even and
 * odd columns, so that the 32 columns read by one tap for 32 consecutive outputs are 32 consecutive
 * bits), behind a 32-bit zero margin. For output row p and columns q0..q0+31, tap (r, s) is then one
 * word read at a fixed bit offset; XOR with the tap's weight sign (all ones where the weight is -1)
 * marks the mismatches, and an AND with the tap's valid mask drops the columns in the zero padding
 * (they contribute 0 to the float convolution, not ±1). The mismatch words of the R*S taps go through
 * a bit-sliced counter (five bit planes b0..b4, a ripple of AND/XOR per tap: 32 counts at once), so
 *
 *     dot[p, q] = valid[p, q] - 2 * mism[p, q]      (valid: the taps of (p, q) inside the plane)
 *
 * The planes are read back eight lanes at a time through a table that spreads a byte's bits to
 * nibbles, and the float value is written through the epilogue (xnor-epilogue.ts). Rows of taps that
 * fall in the padding are skipped. Up to 31 taps (5x5), padding and dilated reach up to 32 columns.
 *
 * With the SIMD kernels on (simd/simd.ts) a float-input, float-output call runs in WebAssembly
 * instead (simd/engine.wat `depthwise`): the signs as int8 rows, sixteen outputs summed at once over
 * the taps, and the same epilogue in float64: the same values (bit for bit, a NaN's sign aside).
 */
import type { Conv2dGeometry } from '../backend.js';
import { epilogueArgs, epilogueOf, epilogueParams, type PackedEpilogue } from './xnor-epilogue.js';
import { chunkRange, chunksFor, parallel, type JobArg, type JobArray } from './threads.js';
import { align16, simdEnabled, simdHeap } from './simd/simd.js';

/** SPREAD[v]: bit i of byte v moved to bit 4i (eight nibbles). */
const SPREAD = (() => {
  const t = new Int32Array(256);
  for (let v = 0; v < 256; v++) for (let i = 0; i < 8; i++) if ((v >>> i) & 1) t[v] |= 1 << (4 * i);
  return t;
})();

let rows = new Int32Array(0);
let validRows = new Int32Array(0);
let validWin = new Int32Array(0);
/** Per column tap s and chunk: the word of a row (phase included) and the bit offset its window starts at. */
let winWord = new Int32Array(0);
let winShift = new Int32Array(0);
let baseCount = new Int32Array(0);
/** 32 * baseCount: the row of `lut` for a position. */
let baseRow = new Int32Array(0);
/** The output of every (valid taps, mismatches) pair for the current channel: lut[32 * valid + m]. */
const lut = new Float64Array(32 * 32);
let tapMask = new Int32Array(0);
let tapPhase = new Int32Array(0);
let tapBit = new Int32Array(0);

/** Whether this kernel takes the convolution (else the general packed kernel does). */
export function xnorDepthwiseApplies(g: Conv2dGeometry): boolean {
  const { C, K, groups, R, S, padW, dilationW, strideW } = g;
  return groups === C && K === C && groups > 1 && R * S <= 31 && padW <= 32 && strideW <= 4 &&
    (S - 1) * dilationW - padW <= 32;
}

/**
 * y (through the epilogue) = the depthwise convolution of sign(x) with the weight signs of the
 * packed stream `signs` (bitpack.ts layout: filter k's R*S bits from bit k*R*S); alpha is in e.A.
 * `xBits` (instead of x): the input's signs already packed, in the plane layout of xnor-epilogue.ts.
 * With `e.bits` the output is sign bits by threshold, in the same layout. Large calls are cut into
 * chunks of channels for the threads of threads.ts (channels are independent: same values).
 */
export function xnorDepthwiseForward(x: Float32Array, signs: Uint32Array, y: Float32Array, g: Conv2dGeometry, e: PackedEpilogue, xBits: Int32Array | null = null): void {
  const work = g.N * g.C * g.P * g.Q * 4; // the bit-sliced taps cost little; the pack and epilogue per output do
  const nChunks = chunksFor(work, g.C);
  const args: JobArg[] = [
    { a: x }, { a: new Int32Array(signs.buffer, signs.byteOffset, signs.length) }, { a: y, inout: true }, { a: xBits ?? NO_BITS },
    ...epilogueArgs(e),
  ];
  const simd = !xBits && !e.bits && simdEnabled();
  const params = [g.N, g.C, g.H, g.W, g.R, g.S, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW, g.P, g.Q, xBits ? 1 : 0, simd ? 1 : 0, ...epilogueParams(e)];
  parallel('xnorDepthwise', xnorDepthwiseChunk, args, params, nChunks);
}

const NO_BITS = new Int32Array(0);

/** Chunk `chunk` of `nChunks` of a depthwise call: a range of channels. */
export function xnorDepthwiseChunk(arrays: JobArray[], params: number[], chunk: number, nChunks: number): void {
  const [N, C, H, W, R, S, strideH, strideW, padH, padW, dilationH, dilationW, P, Q, hasBits, simd] = params;
  const g: Conv2dGeometry = { N, C, H, W, K: C, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups: C, P, Q };
  const [c0, c1] = chunkRange(C, chunk, nChunks);
  const s32 = arrays[1] as Int32Array, signs = new Uint32Array(s32.buffer, s32.byteOffset, s32.length);
  const e = epilogueOf(arrays, 4, params, 16);
  if (simd && depthwiseChannelsSimd(arrays[0] as Float32Array, signs, arrays[2] as Float32Array, g, e, c0, c1)) return;
  depthwiseChannels(arrays[0] as Float32Array, signs, arrays[2] as Float32Array, g, e, hasBits ? (arrays[3] as Int32Array) : null, c0, c1);
}

/** Left margin of a sign row in the SIMD kernel (bytes): covers a padding of up to 32 columns. */
const SIMD_MARGIN = 32;

/**
 * Channels c0..c1 of every image through the SIMD kernel (float input and output): false where this
 * thread has no SIMD (the caller then runs the TypeScript kernel: the same values).
 */
function depthwiseChannelsSimd(x: Float32Array, signs: Uint32Array, y: Float32Array, g: Conv2dGeometry, e: PackedEpilogue, c0: number, c1: number): boolean {
  const { N, C, H, W, R, S, strideH: sh, strideW: sw, padH: ph, padW: pw, dilationH: dh, dilationW: dw, P, Q } = g;
  const nc = c1 - c0, HW = H * W, PQ = P * Q, RS = R * S;
  // per tap column t: its phase f and its index offset (t * dw - pw - f) / sw within a phase row
  const phase: number[] = [], shift: number[] = [];
  for (let t = 0; t < S; t++) {
    const f = (((t * dw - pw) % sw) + sw) % sw;
    phase.push(f);
    shift.push((t * dw - pw - f) / sw);
  }
  const Lp = align16(SIMD_MARGIN + Math.max(Q, Math.ceil(W / sw)) + 32 + Math.max(0, ...shift));
  const GEO = 0, X = 256, Y = align16(X + 4 * nc * HW + 64), RES = align16(Y + 4 * nc * PQ + 64), SP = align16(RES + 4 * nc * PQ + 64);
  const WM = align16(SP + (H + 1) * sw * Lp), A = align16(WM + nc * RS), B = A + align16(4 * nc), Rs = B + align16(4 * nc), end = Rs + align16(4 * nc);
  const h = simdHeap(end);
  if (!h) return false;
  const { f32, i32, u8, kernels } = h;
  i32.set([H, W, P, Q, R, S, sh, sw, ph, dh, Lp, SIMD_MARGIN], GEO >> 2);
  for (let t = 0; t < S; t++) {
    i32[(GEO >> 2) + 16 + t] = SIMD_MARGIN + shift[t];
    i32[(GEO >> 2) + 48 + t] = phase[t];
  }
  // a tap's mask byte: -1 where its weight sign is -1 (the kernel negates the input's sign there)
  for (let i = 0, bit = c0 * RS; i < nc * RS; i++, bit++) u8[WM + i] = -((signs[bit >>> 5] >>> (bit & 31)) & 1) & 255;
  f32.set(e.A.subarray(c0, c1), A >> 2);
  f32.set(e.B.subarray(c0, c1), B >> 2);
  if (e.resScale) f32.set(e.resScale.subarray(c0, c1), Rs >> 2);
  else f32.fill(1, Rs >> 2, (Rs >> 2) + nc);
  const res = e.res;
  for (let n = 0; n < N; n++) {
    const xo = (n * C + c0) * HW;
    f32.set(x.subarray(xo, xo + nc * HW), X >> 2);
    if (res) {
      const ro = (n * e.resChannels + e.resC0 + c0) * PQ;
      f32.set(res.subarray(ro, ro + nc * PQ), RES >> 2);
    }
    kernels.depthwise(X, Y, RES, SP, WM, A, B, Rs, GEO, nc, res ? 1 : 0);
    y.set(f32.subarray(Y >> 2, (Y >> 2) + nc * PQ), (n * e.yChannels + e.yC0 + c0) * PQ);
  }
  return true;
}

/** The geometry the per-thread tables were last built for (they depend on nothing else). */
let builtFor = '';

function depthwiseChannels(x: Float32Array, signs: Uint32Array, y: Float32Array, g: Conv2dGeometry, e: PackedEpilogue, xBits: Int32Array | null, c0: number, c1: number): void {
  const { N, C, H, W, R, S, strideH: sh, strideW: sw, padH: ph, padW: pw, dilationH: dh, P, Q } = g;
  const RS = R * S, PQ = P * Q, HW = H * W;
  const perPhase = Math.ceil(W / sw);
  const rowWords = ((64 + Math.max(perPhase, Q) + Math.ceil(((S - 1) * g.dilationW) / sw) + 31) >>> 5) + 2;
  const chunks = (Q + 31) >>> 5;
  if (rows.length < H * sw * rowWords) rows = new Int32Array(H * sw * rowWords);
  const key = `${H},${W},${R},${S},${sh},${sw},${ph},${pw},${dh},${g.dilationW}`;
  if (key !== builtFor) {
    buildGeometry(g, rowWords, chunks);
    builtFor = key;
  }

  const { A, B, res, resScale } = e, ob = e.bits, RWo = chunks, RWi = (W + 31) >>> 5;
  for (let c = c0; c < c1; c++) {
    // per channel: the taps' weight signs and the output table
    for (let t = 0, bit = c * RS; t < RS; t++, bit++) tapMask[t] = -((signs[bit >>> 5] >>> (bit & 31)) & 1);
    const a = A[c], b = B[c], r2 = resScale ? resScale[c] : 1, td = ob ? ob.dir[c] : 0, tv = ob ? ob.val[c] : 0;
    if (!ob) for (let bc = 0; bc <= RS; bc++) for (let m = 0; m <= bc; m++) lut[32 * bc + m] = a * (bc - 2 * m) + b;
    for (let n = 0; n < N; n++) {
      if (xBits) unpackPlaneBits(xBits, (n * C + c) * H * RWi, H, W, RWi, sw, rowWords);
      else packPlane(x, (n * C + c) * HW, H, W, sw, rowWords);
      const bo = (n * C + c) * P * RWo;
      const yo = (n * e.yChannels + e.yC0 + c) * PQ, ro = (n * e.resChannels + e.resC0 + c) * PQ;
      for (let p = 0; p < P; p++) {
        for (let ci = 0; ci < chunks; ci++) {
          let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0;
          if (R === 3 && S === 3) {
            // 3x3: the nine mismatch words through a carry-save adder tree (29 operations for 32 counts)
            const w0 = ci, w1 = chunks + ci, w2 = 2 * chunks + ci;
            let v0 = 0, v1 = 0, v2 = 0, v3 = 0, v4 = 0, v5 = 0, v6 = 0, v7 = 0, v8 = 0;
            let h = p * sh - ph;
            if (h >= 0 && h < H) {
              const rb = h * sw * rowWords;
              v0 = tapWord(rb, w0, 0); v1 = tapWord(rb, w1, 1); v2 = tapWord(rb, w2, 2);
            }
            h += dh;
            if (h >= 0 && h < H) {
              const rb = h * sw * rowWords;
              v3 = tapWord(rb, w0, 3); v4 = tapWord(rb, w1, 4); v5 = tapWord(rb, w2, 5);
            }
            h += dh;
            if (h >= 0 && h < H) {
              const rb = h * sw * rowWords;
              v6 = tapWord(rb, w0, 6); v7 = tapWord(rb, w1, 7); v8 = tapWord(rb, w2, 8);
            }
            const x01 = v0 ^ v1, s1 = x01 ^ v2, c1 = (v0 & v1) | (v2 & x01);
            const x34 = v3 ^ v4, s2 = x34 ^ v5, c2 = (v3 & v4) | (v5 & x34);
            const x67 = v6 ^ v7, s3 = x67 ^ v8, c3 = (v6 & v7) | (v8 & x67);
            const y12 = s1 ^ s2, c4 = (s1 & s2) | (s3 & y12);
            b0 = y12 ^ s3;
            const z12 = c1 ^ c2, t = z12 ^ c3, c5 = (c1 & c2) | (c3 & z12);
            b1 = t ^ c4;
            const c6 = t & c4;
            b2 = c5 ^ c6;
            b3 = c5 & c6;
          } else {
            for (let r = 0; r < R; r++) {
              const h = p * sh - ph + r * dh;
              if (h < 0 || h >= H) continue;
              const rb = h * sw * rowWords;
              for (let s = 0; s < S; s++) {
                let v = tapWord(rb, s * chunks + ci, r * S + s);
                // ripple-carry add of the 32 one-bit mismatches into the counter's bit planes
                let t2 = b0 & v; b0 ^= v; v = t2;
                t2 = b1 & v; b1 ^= v; v = t2;
                t2 = b2 & v; b2 ^= v; v = t2;
                t2 = b3 & v; b3 ^= v; b4 ^= t2;
              }
            }
          }
          const q0 = 32 * ci, qn = Math.min(32, Q - q0), o = p * Q + q0;
          if (ob) { // sign bits of the next layer: dir * dot < val, lane by lane into one word
            let word = 0;
            for (let j = 0; j < 4 && 8 * j < qn; j++) {
              const sh8 = 8 * j;
              const nib = SPREAD[(b0 >>> sh8) & 255] | (SPREAD[(b1 >>> sh8) & 255] << 1) |
                (SPREAD[(b2 >>> sh8) & 255] << 2) | (SPREAD[(b3 >>> sh8) & 255] << 3);
              const hi = (b4 >>> sh8) & 255;
              for (let l = 0, ln = Math.min(8, qn - sh8); l < ln; l++) {
                const m = ((nib >>> (4 * l)) & 15) | (((hi >>> l) & 1) << 4);
                word |= Number(td * (baseCount[o + sh8 + l] - 2 * m) < tv) << (sh8 + l);
              }
            }
            ob.out[bo + p * RWo + ci] = word;
            continue;
          }
          for (let j = 0; j < 4 && 8 * j < qn; j++) {
            const sh8 = 8 * j;
            const nib = SPREAD[(b0 >>> sh8) & 255] | (SPREAD[(b1 >>> sh8) & 255] << 1) |
              (SPREAD[(b2 >>> sh8) & 255] << 2) | (SPREAD[(b3 >>> sh8) & 255] << 3);
            const hi = (b4 >>> sh8) & 255;
            // y = a * (valid - 2m) + b, from the channel's table of every (valid, m)
            const ln = Math.min(8, qn - sh8), pq0 = o + sh8;
            if (res) {
              for (let l = 0; l < ln; l++) {
                const pq = pq0 + l;
                y[yo + pq] = lut[baseRow[pq] + (((nib >>> (4 * l)) & 15) | (((hi >>> l) & 1) << 4))] + r2 * res[ro + pq];
              }
            } else {
              for (let l = 0; l < ln; l++) {
                const pq = pq0 + l;
                y[yo + pq] = lut[baseRow[pq] + (((nib >>> (4 * l)) & 15) | (((hi >>> l) & 1) << 4))];
              }
            }
          }
        }
      }
    }
  }
}

/**
 * The mismatch word of one tap for one chunk: the input window (row base `rb`, window `wi` =
 * s * chunks + ci) XOR the tap's weight sign, AND the window's valid mask. The shift is branch-free:
 * (next << 1) << (31 - off) is zero when off is 0.
 */
/** Per-thread tables of a geometry: valid masks, window words and shifts per column tap, valid taps per output. */
function buildGeometry(g: Conv2dGeometry, rowWords: number, chunks: number): void {
  const { H, W, R, S, strideH: sh, strideW: sw, padH: ph, padW: pw, dilationH: dh, dilationW: dw, P, Q } = g;
  const RS = R * S, PQ = P * Q;
  if (validRows.length < sw * rowWords) validRows = new Int32Array(sw * rowWords);
  if (validWin.length < S * chunks) {
    validWin = new Int32Array(S * chunks);
    winWord = new Int32Array(S * chunks);
    winShift = new Int32Array(S * chunks);
  }
  if (baseCount.length < PQ) {
    baseCount = new Int32Array(PQ);
    baseRow = new Int32Array(PQ);
  }
  if (tapMask.length < RS) tapMask = new Int32Array(RS);
  if (tapPhase.length < S) { tapPhase = new Int32Array(S); tapBit = new Int32Array(S); }

  // geometry only: per column tap s, its phase and bit offset; valid masks; valid taps per output
  validRows.fill(0, 0, sw * rowWords);
  for (let c = 0; c < W; c++) {
    const f = c % sw, i = (c - f) / sw + 32;
    validRows[f * rowWords + (i >>> 5)] |= 1 << (i & 31);
  }
  for (let s = 0; s < S; s++) {
    const ee = s * dw - pw, f = ((ee % sw) + sw) % sw;
    tapPhase[s] = f;
    tapBit[s] = 32 + (ee - f) / sw;
    for (let ci = 0; ci < chunks; ci++) {
      const bit = tapBit[s] + 32 * ci;
      validWin[s * chunks + ci] = readWindow(validRows, f * rowWords, bit);
      winWord[s * chunks + ci] = f * rowWords + (bit >>> 5);
      winShift[s * chunks + ci] = bit & 31;
    }
  }
  for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
    let n = 0;
    for (let r = 0; r < R; r++) {
      const h = p * sh - ph + r * dh;
      if (h < 0 || h >= H) continue;
      for (let s = 0; s < S; s++) {
        const c = q * sw - pw + s * dw;
        if (c >= 0 && c < W) n++;
      }
    }
    baseCount[p * Q + q] = n;
    baseRow[p * Q + q] = 32 * n;
  }

}

function tapWord(rb: number, wi: number, t: number): number {
  const i = rb + winWord[wi], off = winShift[wi];
  const v = (rows[i] >>> off) | ((rows[i + 1] << 1) << (31 - off));
  return (v ^ tapMask[t]) & validWin[wi];
}

/** 32 bits of a row from bit `bit` on (rows hold a zero margin, so `bit` >= 0). */
function readWindow(a: Int32Array, rowBase: number, bit: number): number {
  const i = rowBase + (bit >>> 5), off = bit & 31;
  return off === 0 ? a[i] : (a[i] >>> off) | (a[i + 1] << (32 - off));
}

/** `packPlane` from a plane already packed ([H][RW] words, bit w & 31 of word w >>> 5). */
function unpackPlaneBits(bits: Int32Array, off: number, H: number, W: number, RW: number, sw: number, rowWords: number): void {
  rows.fill(0, 0, H * sw * rowWords);
  if (sw === 1) {
    for (let h = 0; h < H; h++) for (let j = 0; j < RW; j++) rows[h * rowWords + 1 + j] = bits[off + h * RW + j];
    return;
  }
  for (let h = 0; h < H; h++) {
    for (let c = 0; c < W; c++) {
      if (((bits[off + h * RW + (c >>> 5)] >>> (c & 31)) & 1) === 0) continue;
      const f = c % sw, i = (c - f) / sw + 32, d = (h * sw + f) * rowWords + (i >>> 5);
      rows[d] |= 1 << (i & 31);
    }
  }
}

/** The sign bits of one H x W plane into `rows` (per input row, per stride phase, behind a 32-bit margin). */
function packPlane(x: Float32Array, off: number, H: number, W: number, sw: number, rowWords: number): void {
  rows.fill(0, 0, H * sw * rowWords);
  if (sw === 1) {
    for (let h = 0; h < H; h++) {
      const src = off + h * W, dst = h * rowWords + 1;
      for (let c0 = 0; c0 < W; c0 += 32) {
        let v = 0;
        for (let c = c0, end = Math.min(W, c0 + 32); c < end; c++) v |= Number(!(x[src + c] >= 0)) << (c - c0);
        rows[dst + (c0 >>> 5)] = v;
      }
    }
    return;
  }
  for (let h = 0; h < H; h++) {
    const src = off + h * W;
    for (let c = 0; c < W; c++) {
      if (x[src + c] >= 0) continue;
      const f = c % sw, i = (c - f) / sw + 32, d = (h * sw + f) * rowWords + (i >>> 5);
      rows[d] |= 1 << (i & 31);
    }
  }
}
