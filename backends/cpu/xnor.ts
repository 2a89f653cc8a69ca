/**
 * The bit-packed 1-bit convolution on the CPU: y = alpha[k] * (sign(x) conv sign(w)), zero padding,
 * computed from XOR-and-popcount counts, without a float multiply-add.
 *
 * Steps of one call (all of them timed work: the input's signs are packed here):
 * 1. pack the signs of x (NHWC bit layout, bitpack.ts) and gather each output position's receptive
 *    field into one dense row of bits (`im2colBits`; `im2colDepthwise` for one channel per group):
 *    A [groups][M = N*P*Q][rowWords];
 * 2. cut the packed weight stream into one row of words per filter, aligned with A (`filterRows`): B;
 * 3. for every (position m, filter k): mism = popcount(A_m XOR B_k) over the row's n = R*S*C/groups
 *    bits, and dot = n - 2 * mism. Taps in the zero padding are zero bits, which the dot counted as
 *    C/groups inputs of sign +1: `base` subtracts exactly that, so the result equals the float
 *    convolution of the signs (padded taps contribute 0);
 * 4. y = alpha[k] * dot, the only float arithmetic.
 *
 * Step 3 counts with lookup tables rather than a popcount per word: JavaScript has no popcount
 * instruction, and a SWAR popcount with carry-save adders costs about 9 operations per 32-bit word
 * and filter. A byte of A takes one of 256 values, so for each byte position j of the row the kernel
 * tabulates popcount(v XOR B_k[j]) (0..8) for every value v and filter k, six filters to an entry in
 * 8-bit lanes of a float64 (Σ_i count_i * 256^i < 2^48: integers that float64 adds exactly):
 *
 *     mism(m, six filters) = Σ_j T_j[A_m[j]][k/6]      one load and one add per byte of A
 *
 * The tables depend on the weights only. They are built (`buildTables`) for 16 byte positions at a
 * time while every position goes through them, so their cost is spread over all N*P*Q positions.
 * Sixteen entries of lanes <= 8 sum to lanes <= 128: the lanes stay apart until they are widened
 * into 16-bit lanes of int32 counts (`c02`: filters 0 and 2 of the six, `c13`: 1 and 3, `c45`: 4
 * and 5), which hold rows of up to 65535 bits; longer rows are counted in segments. The last chunk
 * of a row writes y directly (`accumulate16ToY`); `finishUnit` does it for short and long rows.
 * Rows of at most 64 bits (3x3 depthwise filters are 9) are too short for tables to pay: there a
 * SWAR popcount per (position, filter) counts them (`narrowUnit`).
 *
 * Work units are (group, block of filters, block of positions); xnor-pool.ts spreads large calls
 * over two threads by units (the worker runs this file's kernel functions from their source text).
 * Scratch buffers grow and are reused: no large buffer is allocated per call once warm.
 */
import type { XnorConv2dGeometry } from '../backend.js';
import { denseRowBits, filterRows, im2colBits, im2colDepthwise, packInputSigns, packWeightSigns, popcountBits, wordsFor } from './bitpack.js';
import { MAX_CHUNKS, parallelWanted, runParallel } from './xnor-pool.js';

export { setXnorThreads, xnorThreadInfo } from './xnor-pool.js';

/** Packs the signs of w[K, C/groups, R, S] into the dense bit stream of bitpack.ts. */
export function packWeights(w: Float32Array, packed: Uint32Array, g: XnorConv2dGeometry): void {
  packWeightSigns(w, packed, g);
}

/** Calls below this many (position, filter, row word) triples stay on one thread: a worker wake-up costs ~0.1 ms. */
const PARALLEL_MIN_WORK = 1 << 20;

// ---- grow-only scratch (SharedArrayBuffers where the worker thread reads them) --------------------
/** SharedArrayBuffer where there is one (a web page that is not cross-origin isolated has none). */
const SharedBuffer: typeof ArrayBuffer = typeof SharedArrayBuffer !== 'undefined' ? (SharedArrayBuffer as unknown as typeof ArrayBuffer) : ArrayBuffer;
let xbits: Uint32Array = new Uint32Array(0);
let cols: Int32Array = sharedI32(0);
let wrows: Int32Array = sharedI32(0);
let base: Int32Array = sharedI32(0);
let scales: Float32Array = new Float32Array(new SharedBuffer(0));
let yShared: Float32Array = new Float32Array(new SharedBuffer(0));
let tapCounts: Int32Array = new Int32Array(0);
/** The shared arrays as the worker sees them; a new object whenever one of them is replaced. */
let shared: KernelArrays | null = null;
/** The calling thread's arrays (alpha and y are the call's own, during a call) and scratch. */
const EMPTY_F32 = new Float32Array(0);
const local: KernelArrays = {
  colBytes: new Uint8Array(0), wBytes: new Uint8Array(0), cols, wrows, base, alpha: EMPTY_F32, y: EMPTY_F32,
};
const localScratch: Scratch = newScratch();

function sharedI32(n: number): Int32Array {
  return new Int32Array(new SharedBuffer(4 * n));
}
function growLength(have: number, need: number): number {
  return Math.max(need, Math.ceil(have * 1.5));
}
function growSharedI32(buf: Int32Array, n: number): Int32Array {
  if (buf.length >= n) return buf;
  shared = null;
  return sharedI32(growLength(buf.length, n));
}
function growSharedF32(buf: Float32Array, n: number): Float32Array {
  if (buf.length >= n) return buf;
  shared = null;
  return new Float32Array(new SharedBuffer(4 * growLength(buf.length, n)));
}

/**
 * A job's settings, the integers the worker receives, in this order: M, K, Kg, PQ, rowStride (bytes
 * between rows of A), rowBytes (bytes of a row that hold bits), KDg (table words of six filters per
 * group), kdPerUnit, kBlocks, mPerUnit, mBlocks (the units' blocks), unitsPerChunk, units.
 */
type JobParams = readonly number[];
const UNITS_PER_CHUNK = 11, UNITS = 12;

export function xnorConv2d(x: Float32Array, packedW: Uint32Array, alpha: Float32Array, y: Float32Array, g: XnorConv2dGeometry): void {
  const { N, H, W, K, groups, P, Q, wordsPerTap: wpt } = g;
  const PQ = P * Q, M = N * PQ, Kg = K / groups;
  const rowBits = denseRowBits(g), rowWords = wordsFor(rowBits), rowBytes = (rowBits + 7) >>> 3, KDg = Math.ceil(Kg / 6);

  cols = growSharedI32(cols, groups * M * rowWords);
  if (g.C === groups && rowWords === 1) {
    // depthwise: rows straight from x (xbits holds one channel's rows of bits at a time)
    const bitRowWords = (H + 2 * g.padH) * ((W + 2 * g.padW + 31) >>> 5);
    if (xbits.length < bitRowWords) xbits = new Uint32Array(growLength(xbits.length, bitRowWords));
    im2colDepthwise(x, cols, g, xbits);
  } else {
    if (xbits.length < N * H * W * groups * wpt) xbits = new Uint32Array(growLength(xbits.length, N * H * W * groups * wpt));
    packInputSigns(x, xbits, g);
    im2colBits(xbits, cols, g, rowWords);
  }
  wrows = growSharedI32(wrows, K * rowWords);
  filterRows(packedW, wrows, g, rowWords);
  base = growSharedI32(base, PQ * K);
  fillBase(packedW, base, g);

  const parallel = M * K * rowWords >= PARALLEL_MIN_WORK && parallelWanted();
  const params = plan(M, K, Kg, PQ, groups, 4 * rowWords, rowBytes, KDg, parallel ? 2 : 1);
  const chunks = Math.ceil(params[UNITS] / params[UNITS_PER_CHUNK]);
  if (parallel) {
    scales = growSharedF32(scales, K);
    scales.set(alpha.subarray(0, K));
    yShared = growSharedF32(yShared, M * K);
    const arrays = (shared ??= {
      colBytes: new Uint8Array(cols.buffer), wBytes: new Uint8Array(wrows.buffer), cols, wrows, base, alpha: scales, y: yShared,
    });
    const how = runParallel(kernelSource, arrays, params, chunks, (c) => runChunk(arrays, params, c, localScratch));
    if (how !== 'unavailable') {
      y.set(yShared.subarray(0, M * K));
      if (how === 'abandoned') dropShared(); // a stalled worker may still write into them
      return;
    }
  }
  if (local.colBytes.buffer !== cols.buffer) local.colBytes = new Uint8Array(cols.buffer);
  if (local.wBytes.buffer !== wrows.buffer) local.wBytes = new Uint8Array(wrows.buffer);
  local.cols = cols;
  local.wrows = wrows;
  local.base = base;
  local.alpha = alpha;
  local.y = y;
  for (let c = 0; c < chunks; c++) runChunk(local, params, c, localScratch);
  local.alpha = local.y = EMPTY_F32; // hold on to no caller's arrays between calls
}

/**
 * Cuts the work into units: blocks of at most 11 table words (66 filters, 360 KB of tables) and
 * of positions whose counts stay within about 512 KB (at least 2048 positions, so that building the
 * tables costs little beside using them). With `minUnits` > 1 (two threads), blocks are halved until
 * there are that many units, filters first (which costs no extra table work).
 */
function plan(
  M: number, K: number, Kg: number, PQ: number, groups: number, rowStride: number, rowBytes: number, KDg: number,
  minUnits: number,
): JobParams {
  let kBlocks = Math.ceil(KDg / 11);
  let mBlocks = Math.ceil(M / Math.max(2048, Math.floor(43690 / Math.ceil(KDg / kBlocks))));
  while (groups * kBlocks * mBlocks < minUnits) {
    if (KDg / kBlocks > 3) kBlocks *= 2;
    else if (M / mBlocks >= 1024) mBlocks *= 2;
    else break;
  }
  const kdPerUnit = Math.ceil(KDg / kBlocks), mPerUnit = Math.ceil(M / mBlocks);
  kBlocks = Math.ceil(KDg / kdPerUnit);
  mBlocks = Math.ceil(M / mPerUnit);
  const n = groups * kBlocks * mBlocks;
  return [M, K, Kg, PQ, rowStride, rowBytes, KDg, kdPerUnit, kBlocks, mPerUnit, mBlocks, Math.ceil(n / MAX_CHUNKS), n];
}

function dropShared(): void {
  cols = sharedI32(0);
  wrows = sharedI32(0);
  base = sharedI32(0);
  scales = new Float32Array(new SharedBuffer(0));
  yShared = new Float32Array(new SharedBuffer(0));
  shared = null;
}

/**
 * base[k * PQ + pq] = n - Σ over the taps of position pq that fall in the padding of
 * (C/groups - 2 * popcount(w[k, tap])): the dot of a zero (all +1) tap with the filter's tap, which
 * the kernel counts and the float convolution does not. Positions with no padded tap get n.
 */
function fillBase(packedW: Uint32Array, out: Int32Array, g: XnorConv2dGeometry): void {
  const { C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q } = g;
  const Cg = C / groups, RS = R * S;
  out.fill(RS * Cg, 0, P * Q * K);
  if (padH === 0 && padW === 0) return;
  if (tapCounts.length < K * RS) tapCounts = new Int32Array(growLength(tapCounts.length, K * RS));
  for (let kt = 0; kt < K * RS; kt++) tapCounts[kt] = Cg - 2 * popcountBits(packedW, kt * Cg, Cg);
  const PQ = P * Q;
  for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
    const pq = p * Q + q;
    for (let r = 0; r < R; r++) {
      const h = p * strideH - padH + r * dilationH;
      for (let s = 0; s < S; s++) {
        const w = q * strideW - padW + s * dilationW;
        if (h >= 0 && h < H && w >= 0 && w < W) continue;
        const t = r * S + s;
        for (let k = 0; k < K; k++) out[k * PQ + pq] -= tapCounts[k * RS + t];
      }
    }
  }
}

// ---- the kernel: self-contained functions (the worker thread runs their source text, so they use
// nothing but each other and Math) ------------------------------------------------------------------

/** The arrays a unit reads and writes (SharedArrayBuffer-backed when the worker sees them). */
interface KernelArrays {
  /** The rows A, as bytes: row m of group grp starts at byte (grp * M + m) * rowStride. */
  colBytes: Uint8Array;
  /** The rows B, as bytes: row k starts at byte k * rowStride. */
  wBytes: Uint8Array;
  /** The same rows as words (for rows of one or two words, counted without tables). */
  cols: Int32Array;
  wrows: Int32Array;
  base: Int32Array;
  alpha: Float32Array;
  y: Float32Array;
}

/**
 * Per-thread buffers: the tables; the counts of a unit in 16-bit lanes, [position][filter word]
 * (c02: filters 0 and 2 of the word, c13: 1 and 3, c45: 4 and 5); 32-bit counts of long rows; offsets.
 */
interface Scratch {
  tab: Float64Array;
  c02: Int32Array;
  c13: Int32Array;
  c45: Int32Array;
  wide: Int32Array;
  off: Int32Array;
}

function newScratch(): Scratch {
  const none = new Int32Array(0);
  return { tab: new Float64Array(0), c02: none, c13: none, c45: none, wide: none, off: new Int32Array(16) };
}

/** The source text the worker runs: these functions as written. */
function kernelSource(): string {
  return [runChunk, newScratch, xnorUnit, narrowUnit, buildTables, accumulate16, accumulate16ToY, accumulateTail, drainCounts, finishUnit]
    .map(String).join('\n');
}

/** Units [c * unitsPerChunk, ...) of a job; `sc` starts out as an empty object in the worker. */
function runChunk(a: KernelArrays, p: JobParams, c: number, sc: Scratch): void {
  if (sc.off === undefined) Object.assign(sc, newScratch());
  const per = p[11], u0 = c * per, u1 = Math.min(p[12], u0 + per); // unitsPerChunk, units
  for (let u = u0; u < u1; u++) xnorUnit(a, p, u, sc);
}

/** One unit: the filters of one block of one group against one block of positions, written to y. */
function xnorUnit(a: KernelArrays, p: JobParams, u: number, sc: Scratch): void {
  const [M, , Kg, , rowStride, rowBytes, KDg, kdPer, kBlocks, mPer, mBlocks] = p;
  const perGroup = kBlocks * mBlocks, grp = (u / perGroup) | 0, rest = u - grp * perGroup;
  const kb = (rest / mBlocks) | 0, mb = rest - kb * mBlocks;
  const kd0 = kb * kdPer, kdn = Math.min(kdPer, KDg - kd0), m0 = mb * mPer, mn = Math.min(mPer, M - m0);
  const kFirst = 6 * kd0, kn = Math.min(6 * kdn, Kg - kFirst); // filters of the unit, within the group
  if (rowStride <= 8) return narrowUnit(a, p, grp * Kg + kFirst, kn, grp * M + m0, m0, mn);
  if (sc.tab.length < 16 * 256 * kdn) sc.tab = new Float64Array(16 * 256 * kdPer);
  if (sc.c02.length < mn * kdn) {
    sc.c02 = new Int32Array(mPer * kdPer);
    sc.c13 = new Int32Array(mPer * kdPer);
    sc.c45 = new Int32Array(mPer * kdPer);
  }
  // 16-bit lanes hold 65535 mismatches: longer rows are counted in segments of 8176 bytes
  const SEG = 8176, segments = Math.ceil(rowBytes / SEG);
  if (segments > 1 && sc.wide.length < 6 * mn * kdn) sc.wide = new Int32Array(6 * mPer * kdPer);
  const aOff = (grp * M + m0) * rowStride, wOff = (grp * Kg + kFirst) * rowStride;
  // with one segment and a row of 16 bytes or more, the last chunk is a full one that writes y itself
  const fused = segments === 1 && rowBytes >= 16, k0 = grp * Kg + kFirst;
  for (let s0 = 0; s0 < rowBytes; s0 += SEG) {
    const sEnd = Math.min(rowBytes, s0 + SEG), odd = (sEnd - s0) % 16;
    sc.c02.fill(0, 0, mn * kdn);
    sc.c13.fill(0, 0, mn * kdn);
    sc.c45.fill(0, 0, mn * kdn);
    if (odd > 0) { // the odd bytes first, so that the last chunk is a full one
      buildTables(a.wBytes, wOff + s0, rowStride, kn, kdn, odd, sc.tab);
      accumulateTail(a.colBytes, aOff + s0, rowStride, odd, mn, sc.tab, kdn, sc.c02, sc.c13, sc.c45, sc.off);
    }
    for (let j0 = s0 + odd; j0 < sEnd; j0 += 16) {
      buildTables(a.wBytes, wOff + j0, rowStride, kn, kdn, 16, sc.tab);
      if (fused && j0 + 16 === sEnd) {
        accumulate16ToY(a.colBytes, aOff + j0, rowStride, mn, sc.tab, kdn, sc.c02, sc.c13, sc.c45, a, p, k0, kn, m0);
      } else {
        accumulate16(a.colBytes, aOff + j0, rowStride, mn, sc.tab, kdn, sc.c02, sc.c13, sc.c45);
      }
    }
    if (segments > 1) drainCounts(sc.c02, sc.c13, sc.c45, sc.wide, mn * kdn, s0 === 0);
  }
  if (!fused) finishUnit(a, p, k0, kn, m0, mn, kdn, sc.c02, sc.c13, sc.c45, segments > 1 ? sc.wide : null);
}

/**
 * A unit of rows of one or two words (depthwise and other small convolutions: up to 64 bits), where
 * a SWAR popcount per (position, filter) costs less than the tables: y for filters k0..k0+kn-1 and
 * positions m0..m0+mn-1, whose rows of A start at row `row0`.
 */
function narrowUnit(a: KernelArrays, p: JobParams, k0: number, kn: number, row0: number, m0: number, mn: number): void {
  const [, K, , PQ, rowStride] = p, { cols, wrows, base, alpha, y } = a, rw = rowStride >>> 2;
  const n0 = (m0 / PQ) | 0;
  let pq = m0 - n0 * PQ, yb = n0 * K * PQ;
  for (let m = 0, r = row0 * rw; m < mn; m++, r += rw) {
    const x0 = cols[r], x1 = rw > 1 ? cols[r + 1] : 0;
    for (let k = k0, kp = k0 * PQ + pq; k < k0 + kn; k++, kp += PQ) {
      let v = x0 ^ wrows[k * rw], u = rw > 1 ? x1 ^ wrows[k * rw + 1] : 0;
      v -= (v >>> 1) & 0x55555555;
      u -= (u >>> 1) & 0x55555555;
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333) + (u & 0x33333333) + ((u >>> 2) & 0x33333333); // nibbles <= 8
      v = (v & 0x0f0f0f0f) + ((v >>> 4) & 0x0f0f0f0f);
      const mism = Math.imul(v, 0x01010101) >>> 24;
      y[yb + kp] = alpha[k] * (base[kp] - 2 * mism);
    }
    if (++pq === PQ) {
      pq = 0;
      yb += K * PQ;
    }
  }
}

/**
 * Tables for byte positions j0..j0+jn-1 and the unit's kn filters, six to an entry:
 * tab[(jj * 256 + v) * kdn + kd] = Σ_i popcount(v XOR byte of filter 6kd + i) * 256^i, an integer
 * below 2^48, exact in a float64 (`src`: byte j0 of the unit's first filter row; rows `stride` bytes apart).
 * Built from the popcounts of the weight bytes (v = 0) and per-bit deltas d_b (+1 in a lane whose
 * weight bit b is 0: setting input bit b adds a mismatch; -1 where it is 1): eight entries per low
 * nibble from one sum of the high nibble's deltas. Lanes stay within 0..8 and float64 sums of these
 * integers are exact, so nothing carries across lanes.
 */
function buildTables(wb: Uint8Array, src: number, stride: number, kn: number, kdn: number, jn: number, tab: Float64Array): void {
  const HI = 4294967296; // 2^32: lanes 4 and 5 sit above the low word's four
  for (let jj = 0; jj < jn; jj++) {
    const t0 = jj * 256 * kdn;
    for (let kd = 0; kd < kdn; kd++) {
      // byte jj of filters 6kd .. 6kd+5 (zero past the unit's last): lanes 0-3 in w, 4-5 in x
      let w = 0, x = 0;
      for (let i = 0, f = 6 * kd, s = src + jj + f * stride; i < 6 && f + i < kn; i++, s += stride) {
        if (i < 4) w |= wb[s] << (8 * i);
        else x |= wb[s] << (8 * (i - 4));
      }
      let bw = w - ((w >>> 1) & 0x55555555);
      bw = (bw & 0x33333333) + ((bw >>> 2) & 0x33333333);
      bw = (bw + (bw >>> 4)) & 0x0f0f0f0f;
      let bx = x - ((x >>> 1) & 0x5555);
      bx = (bx & 0x3333) + ((bx >>> 2) & 0x3333);
      bx = (bx + (bx >>> 4)) & 0x0f0f;
      const b = bw + bx * HI;
      const d0 = 0x01010101 - 2 * (w & 0x01010101) + (0x0101 - 2 * (x & 0x0101)) * HI;
      const d1 = 0x01010101 - 2 * ((w >>> 1) & 0x01010101) + (0x0101 - 2 * ((x >>> 1) & 0x0101)) * HI;
      const d2 = 0x01010101 - 2 * ((w >>> 2) & 0x01010101) + (0x0101 - 2 * ((x >>> 2) & 0x0101)) * HI;
      const d3 = 0x01010101 - 2 * ((w >>> 3) & 0x01010101) + (0x0101 - 2 * ((x >>> 3) & 0x0101)) * HI;
      const d4 = 0x01010101 - 2 * ((w >>> 4) & 0x01010101) + (0x0101 - 2 * ((x >>> 4) & 0x0101)) * HI;
      const d5 = 0x01010101 - 2 * ((w >>> 5) & 0x01010101) + (0x0101 - 2 * ((x >>> 5) & 0x0101)) * HI;
      const d6 = 0x01010101 - 2 * ((w >>> 6) & 0x01010101) + (0x0101 - 2 * ((x >>> 6) & 0x0101)) * HI;
      const d7 = 0x01010101 - 2 * ((w >>> 7) & 0x01010101) + (0x0101 - 2 * ((x >>> 7) & 0x0101)) * HI;
      for (let h = 0, t = t0 + kd; h < 16; h++, t += 16 * kdn) {
        const v0 = b + (h & 1 ? d4 : 0) + (h & 2 ? d5 : 0) + (h & 4 ? d6 : 0) + (h & 8 ? d7 : 0);
        const v1 = v0 + d0, v2 = v0 + d1, v3 = v2 + d0, v4 = v0 + d2, v5 = v4 + d0, v6 = v4 + d1, v7 = v6 + d0;
        tab[t] = v0; tab[t + kdn] = v1; tab[t + 2 * kdn] = v2; tab[t + 3 * kdn] = v3;
        tab[t + 4 * kdn] = v4; tab[t + 5 * kdn] = v5; tab[t + 6 * kdn] = v6; tab[t + 7 * kdn] = v7;
        tab[t + 8 * kdn] = v0 + d3; tab[t + 9 * kdn] = v1 + d3; tab[t + 10 * kdn] = v2 + d3; tab[t + 11 * kdn] = v3 + d3;
        tab[t + 12 * kdn] = v4 + d3; tab[t + 13 * kdn] = v5 + d3; tab[t + 14 * kdn] = v6 + d3; tab[t + 15 * kdn] = v7 + d3;
      }
    }
  }
}

/**
 * Sixteen byte positions of mn rows of A (from byte `ab`, `stride` bytes apart) through the tables
 * into the 16-bit lane counts: sixteen entries of lanes <= 8 sum to lanes <= 128, still exact bytes.
 */
function accumulate16(
  A: Uint8Array, ab: number, stride: number, mn: number, tab: Float64Array, kdn: number,
  c02: Int32Array, c13: Int32Array, c45: Int32Array,
): void {
  kdn &= 63; // a no-op (kdn <= 11) that bounds the table indices for the compiler: no overflow checks
  const T = 256 * kdn;
  for (let m = 0, c = 0; m < mn; m++, ab += stride, c += kdn) {
    const o0 = A[ab] * kdn, o1 = T + A[ab + 1] * kdn, o2 = 2 * T + A[ab + 2] * kdn, o3 = 3 * T + A[ab + 3] * kdn;
    const o4 = 4 * T + A[ab + 4] * kdn, o5 = 5 * T + A[ab + 5] * kdn, o6 = 6 * T + A[ab + 6] * kdn, o7 = 7 * T + A[ab + 7] * kdn;
    const o8 = 8 * T + A[ab + 8] * kdn, o9 = 9 * T + A[ab + 9] * kdn, o10 = 10 * T + A[ab + 10] * kdn, o11 = 11 * T + A[ab + 11] * kdn;
    const o12 = 12 * T + A[ab + 12] * kdn, o13 = 13 * T + A[ab + 13] * kdn, o14 = 14 * T + A[ab + 14] * kdn, o15 = 15 * T + A[ab + 15] * kdn;
    for (let kd = 0; kd < kdn; kd++) {
      // a tree of adds: float64 adds are slow to chain
      const v = (((tab[o0 + kd] + tab[o1 + kd]) + (tab[o2 + kd] + tab[o3 + kd])) + ((tab[o4 + kd] + tab[o5 + kd]) + (tab[o6 + kd] + tab[o7 + kd]))) +
        (((tab[o8 + kd] + tab[o9 + kd]) + (tab[o10 + kd] + tab[o11 + kd])) + ((tab[o12 + kd] + tab[o13 + kd]) + (tab[o14 + kd] + tab[o15 + kd])));
      const l = v | 0, h = (v * 2.3283064365386963e-10) | 0; // lanes 0-3 (the low 32 bits), lanes 4-5
      c02[c + kd] += l & 0x00ff00ff;
      c13[c + kd] += (l >>> 8) & 0x00ff00ff;
      c45[c + kd] += (h & 0xff) | ((h & 0xff00) << 8);
    }
  }
}

/**
 * The last chunk of a row, as accumulate16, but the counts go straight into y (the work of
 * `finishUnit`, without a pass of its own): y[n, k, pq] = alpha[k] * (base[k, pq] - 2 * mism) for
 * the unit's kn filters from k0 and positions m0..m0+mn-1.
 */
function accumulate16ToY(
  A: Uint8Array, ab: number, stride: number, mn: number, tab: Float64Array, kdn: number,
  c02: Int32Array, c13: Int32Array, c45: Int32Array, a: KernelArrays, p: JobParams, k0: number, kn: number, m0: number,
): void {
  kdn &= 63;
  const T = 256 * kdn, [, K, , PQ] = p, { base, alpha, y } = a;
  // table words whose six filters all exist, and the filters of a last word that has fewer
  const kdFull = (kn / 6) | 0, rest = kn - 6 * kdFull;
  const n0 = (m0 / PQ) | 0;
  let pq = m0 - n0 * PQ, yb = n0 * K * PQ;
  for (let m = 0, c = 0; m < mn; m++, ab += stride, c += kdn) {
    const o0 = A[ab] * kdn, o1 = T + A[ab + 1] * kdn, o2 = 2 * T + A[ab + 2] * kdn, o3 = 3 * T + A[ab + 3] * kdn;
    const o4 = 4 * T + A[ab + 4] * kdn, o5 = 5 * T + A[ab + 5] * kdn, o6 = 6 * T + A[ab + 6] * kdn, o7 = 7 * T + A[ab + 7] * kdn;
    const o8 = 8 * T + A[ab + 8] * kdn, o9 = 9 * T + A[ab + 9] * kdn, o10 = 10 * T + A[ab + 10] * kdn, o11 = 11 * T + A[ab + 11] * kdn;
    const o12 = 12 * T + A[ab + 12] * kdn, o13 = 13 * T + A[ab + 13] * kdn, o14 = 14 * T + A[ab + 14] * kdn, o15 = 15 * T + A[ab + 15] * kdn;
    for (let kd = 0, k = k0, kp = k0 * PQ + pq; kd < kdn; kd++, k += 6, kp += 6 * PQ) {
      const v = (((tab[o0 + kd] + tab[o1 + kd]) + (tab[o2 + kd] + tab[o3 + kd])) + ((tab[o4 + kd] + tab[o5 + kd]) + (tab[o6 + kd] + tab[o7 + kd]))) +
        (((tab[o8 + kd] + tab[o9 + kd]) + (tab[o10 + kd] + tab[o11 + kd])) + ((tab[o12 + kd] + tab[o13 + kd]) + (tab[o14 + kd] + tab[o15 + kd])));
      const l = v | 0, h = (v * 2.3283064365386963e-10) | 0;
      const x02 = c02[c + kd] + (l & 0x00ff00ff), x13 = c13[c + kd] + ((l >>> 8) & 0x00ff00ff);
      const x45 = c45[c + kd] + ((h & 0xff) | ((h & 0xff00) << 8));
      const lanes = kd < kdFull ? 6 : rest;
      y[yb + kp] = alpha[k] * (base[kp] - 2 * (x02 & 0xffff));
      if (lanes > 1) y[yb + kp + PQ] = alpha[k + 1] * (base[kp + PQ] - 2 * (x13 & 0xffff));
      if (lanes > 2) y[yb + kp + 2 * PQ] = alpha[k + 2] * (base[kp + 2 * PQ] - 2 * (x02 >>> 16));
      if (lanes > 3) y[yb + kp + 3 * PQ] = alpha[k + 3] * (base[kp + 3 * PQ] - 2 * (x13 >>> 16));
      if (lanes > 4) y[yb + kp + 4 * PQ] = alpha[k + 4] * (base[kp + 4 * PQ] - 2 * (x45 & 0xffff));
      if (lanes > 5) y[yb + kp + 5 * PQ] = alpha[k + 5] * (base[kp + 5 * PQ] - 2 * (x45 >>> 16));
    }
    if (++pq === PQ) {
      pq = 0;
      yb += K * PQ;
    }
  }
}

/** The same for jn < 16 byte positions (a row's odd bytes). */
function accumulateTail(
  A: Uint8Array, ab: number, stride: number, jn: number, mn: number, tab: Float64Array, kdn: number,
  c02: Int32Array, c13: Int32Array, c45: Int32Array, off: Int32Array,
): void {
  for (let m = 0, c = 0; m < mn; m++, ab += stride, c += kdn) {
    for (let jj = 0; jj < jn; jj++) off[jj] = (jj * 256 + A[ab + jj]) * kdn;
    for (let kd = 0; kd < kdn; kd++) {
      let v = 0;
      for (let jj = 0; jj < jn; jj++) v += tab[off[jj] + kd];
      const l = v | 0, h = (v * 2.3283064365386963e-10) | 0;
      c02[c + kd] += l & 0x00ff00ff;
      c13[c + kd] += (l >>> 8) & 0x00ff00ff;
      c45[c + kd] += (h & 0xff) | ((h & 0xff00) << 8);
    }
  }
}

/** Adds a segment's 16-bit lane counts into 32-bit counts, six per filter word (filters 0..5). */
function drainCounts(c02: Int32Array, c13: Int32Array, c45: Int32Array, wide: Int32Array, n: number, first: boolean): void {
  if (first) wide.fill(0, 0, 6 * n);
  for (let i = 0; i < n; i++) {
    const a = c02[i], b = c13[i], e = c45[i];
    wide[6 * i] += a & 0xffff;
    wide[6 * i + 1] += b & 0xffff;
    wide[6 * i + 2] += a >>> 16;
    wide[6 * i + 3] += b >>> 16;
    wide[6 * i + 4] += e & 0xffff;
    wide[6 * i + 5] += e >>> 16;
  }
}

/**
 * y[n, k, pq] = alpha[k] * (base[k, pq] - 2 * mism) for the unit's kn filters from k0 and positions
 * m0..m0+mn-1; mismatches from the 16-bit lanes, or from `wide`. Blocks of 32 positions (their
 * counts stay in the L1 cache), one filter at a time (sequential through y and base).
 */
function finishUnit(
  a: KernelArrays, p: JobParams, k0: number, kn: number, m0: number, mn: number, kdn: number,
  c02: Int32Array, c13: Int32Array, c45: Int32Array, wide: Int32Array | null,
): void {
  const [, K, , PQ] = p, { base, alpha, y } = a;
  for (let mb = 0; mb < mn; mb += 32) {
    const mEnd = Math.min(mn, mb + 32), n0 = ((m0 + mb) / PQ) | 0, pq0 = m0 + mb - n0 * PQ;
    for (let kd = 0, f0 = 0; f0 < kn; kd++, f0 += 6) {
      for (let i = 0; i < 6 && f0 + i < kn; i++) {
        const k = k0 + f0 + i, ak = alpha[k], bk = k * PQ;
        const src = i >= 4 ? c45 : (i & 1) === 1 ? c13 : c02, shift = i === 2 || i === 3 || i === 5 ? 16 : 0;
        let pq = pq0, yb = n0 * K * PQ + bk;
        for (let c = mb * kdn + kd, cEnd = mEnd * kdn; c < cEnd; c += kdn) {
          const mism = wide === null ? (src[c] >>> shift) & 0xffff : wide[6 * c + i];
          y[yb + pq] = ak * (base[bk + pq] - 2 * mism);
          if (++pq === PQ) {
            pq = 0;
            yb += K * PQ;
          }
        }
      }
    }
  }
}
