/**
 * The bit-packed 1-bit convolution on the CPU: y = alpha[k] * (sign(x) conv sign(w)), zero padding,
 * computed with XOR and popcount on 32-bit words.
 *
 * Steps of one call (all of them timed work: the input's signs are packed here):
 * 1. pack the signs of x (NHWC bit layout, bitpack.ts) and gather each output position's receptive
 *    field into one dense row of bits (`im2colBits`): a binary matrix A [groups][M = N*P*Q][rowWords];
 * 2. lay the packed weights out as dense rows B [K][rowWords] (`denseWeightRows`); rows are padded
 *    with zero words to an even length;
 * 3. for every (position m, filter k): mism = Σ popcount(A_m XOR B_k) over the row, and
 *    dot = n - 2 * mism with n = R*S*C/groups. Taps in the zero padding are zero bits, which the
 *    dot counted as C/groups inputs of sign +1: `base` subtracts exactly that, so the result equals
 *    the float convolution of the signs (padded taps contribute 0);
 * 4. y = alpha[k] * dot, the only float arithmetic.
 *
 * The popcount is branch-free and carry-save: every 4 XOR words of one (position, filter) pair go
 * through three carry-save adders into the pair's running `ones` and `twos` planes; only the
 * weight-4 carry word is counted (SWAR, folded into two 16-bit lanes), and ones/twos are counted once
 * at the end (a last pair of words goes through one carry-save and one half adder). The register
 * block is 2 positions x 2 filters: 16 words loaded per 4-word step feed 4 accumulators (measured
 * against 2x4, 4x2, 3x3, 3x2, 4x1 and 3x1 blocks: V8 keeps this one in registers, and it is the
 * fastest on all three reference shapes). Scratch buffers grow and are reused: nothing is allocated
 * per call once warm.
 *
 * Two threads: when the machine has more than one core and a call is large enough, the positions are
 * cut into chunks that the calling thread and one worker thread take from a shared counter (work
 * stealing over SharedArrayBuffers; the caller blocks in Atomics.wait until every chunk is done, so
 * the call stays synchronous). See "two threads" below; CPNAS_XNOR_THREADS=1 turns it off.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { XnorConv2dGeometry } from '../backend.js';
import { denseRowBits, denseWeightRows, im2colBits, packInputSigns, packWeightSigns } from './bitpack.js';

/** Packs the signs of w[K, C/groups, R, S] (layout in bitpack.ts: [K][R][S][wordsPerTap]). */
export function packWeights(w: Float32Array, packed: Uint32Array, g: XnorConv2dGeometry): void {
  packWeightSigns(w, packed, g);
}

// ---- grow-only scratch (on SharedArrayBuffers, so that the worker thread can read them) ----------
let xbits: Uint32Array = new Uint32Array(0);
let cols: Int32Array = sharedI32(0);
let wrows: Int32Array = sharedI32(0);
let base: Int32Array = sharedI32(0);
let scales: Float32Array = new Float32Array(new SharedArrayBuffer(0));
let yShared: Float32Array = new Float32Array(new SharedArrayBuffer(0));
let tapCounts: Int32Array = new Int32Array(0);
/** Bumped whenever a shared buffer is replaced: the worker must be sent the new ones. */
let buffersVersion = 0;

function sharedI32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}
function growLength(have: number, need: number): number {
  return Math.max(need, Math.ceil(have * 1.5));
}
function growU32(buf: Uint32Array, n: number): Uint32Array {
  return buf.length >= n ? buf : new Uint32Array(growLength(buf.length, n));
}
function growI32(buf: Int32Array, n: number): Int32Array {
  return buf.length >= n ? buf : new Int32Array(growLength(buf.length, n));
}
function growSharedI32(buf: Int32Array, n: number): Int32Array {
  if (buf.length >= n) return buf;
  buffersVersion++;
  return sharedI32(growLength(buf.length, n));
}
function growSharedF32(buf: Float32Array, n: number): Float32Array {
  if (buf.length >= n) return buf;
  buffersVersion++;
  return new Float32Array(new SharedArrayBuffer(4 * growLength(buf.length, n)));
}

/** Words per dense row of A and B: ceil(R * S * C/groups / 32), rounded up to an even count. */
export function xnorRowWords(g: XnorConv2dGeometry): number {
  return ((denseRowBits(g) + 63) >>> 6) << 1;
}

export function xnorConv2d(x: Float32Array, packedW: Uint32Array, alpha: Float32Array, y: Float32Array, g: XnorConv2dGeometry): void {
  const { N, H, W, K, groups, P, Q, wordsPerTap: wpt } = g;
  const PQ = P * Q, M = N * PQ, rowWords = xnorRowWords(g);

  xbits = growU32(xbits, N * H * W * groups * wpt);
  packInputSigns(new Int32Array(x.buffer, x.byteOffset, x.length), xbits, g);
  cols = growSharedI32(cols, groups * M * rowWords);
  im2colBits(xbits, cols, g, rowWords);

  wrows = growSharedI32(wrows, K * rowWords);
  denseWeightRows(packedW, wrows, g, rowWords);
  base = growSharedI32(base, PQ * K);
  fillBase(packedW, base, g);

  const Kg = K / groups;
  const pool = M * K * rowWords >= PARALLEL_MIN_WORDS ? getPool() : null; // XOR words of the call
  if (!pool) {
    xnorRows(cols, wrows, base, alpha, y, 0, M, M, K, Kg, groups, rowWords, PQ);
    return;
  }
  scales = growSharedF32(scales, K);
  scales.set(alpha.subarray(0, K));
  yShared = growSharedF32(yShared, M * K);
  runShared(pool, M, K, Kg, groups, rowWords, PQ);
  y.set(yShared.subarray(0, M * K));
}

/**
 * base[pq * K + k] = n - Σ over the taps of position pq that fall in the padding of
 * (C/groups - 2 * popcount(w[k, tap])): the dot of a zero (all +1) word with the filter's tap, which
 * the kernel counts and the float convolution does not. Positions with no padded tap get n.
 */
function fillBase(packedW: Uint32Array, out: Int32Array, g: XnorConv2dGeometry): void {
  const { C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q, wordsPerTap: wpt } = g;
  const Cg = C / groups, RS = R * S;
  out.fill(RS * Cg, 0, P * Q * K);
  if (padH === 0 && padW === 0) return;
  tapCounts = growI32(tapCounts, K * RS);
  for (let kt = 0; kt < K * RS; kt++) {
    let n = 0;
    for (let j = 0; j < wpt; j++) n += popcount32(packedW[kt * wpt + j]);
    tapCounts[kt] = Cg - 2 * n;
  }
  for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
    const row = (p * Q + q) * K;
    for (let r = 0; r < R; r++) {
      const h = p * strideH - padH + r * dilationH;
      for (let s = 0; s < S; s++) {
        const w = q * strideW - padW + s * dilationW;
        if (h >= 0 && h < H && w >= 0 && w < W) continue;
        const t = r * S + s;
        for (let k = 0; k < K; k++) out[row + k] -= tapCounts[k * RS + t];
      }
    }
  }
}

// ---- the kernel: self-contained functions (the worker thread runs their source text, so they may
// use nothing but each other and Math; popcount32 repeats bitpack.ts's for that reason) -------------

/** Branch-free population count of a 32-bit word (SWAR). */
function popcount32(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  v = (v + (v >>> 4)) & 0x0f0f0f0f;
  return Math.imul(v, 0x01010101) >>> 24;
}

/** popcount(ones) + 2 * popcount(twos), in one SWAR pass (nibbles <= 12, bytes <= 24). */
function planeCount(ones: number, twos: number): number {
  ones -= (ones >>> 1) & 0x55555555;
  twos -= (twos >>> 1) & 0x55555555;
  let v = (ones & 0x33333333) + ((ones >>> 2) & 0x33333333) + 2 * ((twos & 0x33333333) + ((twos >>> 2) & 0x33333333));
  v = (v & 0x0f0f0f0f) + ((v >>> 4) & 0x0f0f0f0f);
  v = (v & 0x00ff00ff) + ((v >>> 8) & 0x00ff00ff);
  return (v & 0xffff) + (v >>> 16);
}

/**
 * Positions m in [mBegin, mEnd) of every group against every filter of the group:
 * y[n, k, pq] = alpha[k] * (base[pq, k] - 2 * mism(m, k)), m = n * PQ + pq. Rows of A are
 * cols[(grp * M + m) * rowWords ...], rows of B wr[k * rowWords ...]; rowWords is even.
 */
function xnorRows(
  cols: Int32Array, wr: Int32Array, base: Int32Array, alpha: Float32Array, y: Float32Array,
  mBegin: number, mEnd: number, M: number, K: number, Kg: number, groups: number, rowWords: number, PQ: number,
): void {
  // 16-bit lanes of the weight-4 count take 16 per 4-word group: flush before 4096 groups
  const CHUNK = 4092 * 4;
  const KB = Kg - Kg % 2, L4 = rowWords & ~3;
  for (let grp = 0; grp < groups; grp++) {
    const aOff = grp * M * rowWords, k0 = grp * Kg;
    let m = mBegin;
    for (; m + 1 < mEnd; m += 2) {
      const a0 = aOff + (m + 0) * rowWords, n0 = ((m + 0) / PQ) | 0, pq0 = m + 0 - n0 * PQ;
      const y0 = n0 * K * PQ + pq0, c0 = pq0 * K;
      const a1 = aOff + (m + 1) * rowWords, n1 = ((m + 1) / PQ) | 0, pq1 = m + 1 - n1 * PQ;
      const y1 = n1 * K * PQ + pq1, c1 = pq1 * K;
      for (let kk = 0; kk < KB; kk += 2) {
        const k = k0 + kk;
        const b0 = k * rowWords, b1 = b0 + rowWords;
        // per (position i, filter j): ones/twos carry-save planes and the count of weight-4 carries
        let o00 = 0, o01 = 0, o10 = 0, o11 = 0;
        let t00 = 0, t01 = 0, t10 = 0, t11 = 0;
        let n00 = 0, n01 = 0, n10 = 0, n11 = 0;
        for (let l0 = 0; l0 < L4; l0 += CHUNK) {
          const lEnd = l0 + CHUNK < L4 ? l0 + CHUNK : L4;
          let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
          let p = 0, q = 0, u = 0, c = 0, d = 0, e = 0;
          for (let l = l0; l < lEnd; l += 4) {
            const x00 = cols[a0 + l], x01 = cols[a0 + l + 1], x02 = cols[a0 + l + 2], x03 = cols[a0 + l + 3];
            const x10 = cols[a1 + l], x11 = cols[a1 + l + 1], x12 = cols[a1 + l + 2], x13 = cols[a1 + l + 3];
            const w00 = wr[b0 + l], w01 = wr[b0 + l + 1], w02 = wr[b0 + l + 2], w03 = wr[b0 + l + 3];
            const w10 = wr[b1 + l], w11 = wr[b1 + l + 1], w12 = wr[b1 + l + 2], w13 = wr[b1 + l + 3];
            p = x00 ^ w00; q = x01 ^ w01; u = o00 ^ p; c = (o00 & p) | (u & q); o00 = u ^ q;
            p = x02 ^ w02; q = x03 ^ w03; u = o00 ^ p; d = (o00 & p) | (u & q); o00 = u ^ q;
            u = t00 ^ c; e = (t00 & c) | (u & d); t00 = u ^ d;
            e -= (e >>> 1) & 0x55555555; e = (e & 0x33333333) + ((e >>> 2) & 0x33333333);
            e = (e + (e >>> 4)) & 0x0f0f0f0f; s00 += (e + (e >>> 8)) & 0x00ff00ff;
            p = x00 ^ w10; q = x01 ^ w11; u = o01 ^ p; c = (o01 & p) | (u & q); o01 = u ^ q;
            p = x02 ^ w12; q = x03 ^ w13; u = o01 ^ p; d = (o01 & p) | (u & q); o01 = u ^ q;
            u = t01 ^ c; e = (t01 & c) | (u & d); t01 = u ^ d;
            e -= (e >>> 1) & 0x55555555; e = (e & 0x33333333) + ((e >>> 2) & 0x33333333);
            e = (e + (e >>> 4)) & 0x0f0f0f0f; s01 += (e + (e >>> 8)) & 0x00ff00ff;
            p = x10 ^ w00; q = x11 ^ w01; u = o10 ^ p; c = (o10 & p) | (u & q); o10 = u ^ q;
            p = x12 ^ w02; q = x13 ^ w03; u = o10 ^ p; d = (o10 & p) | (u & q); o10 = u ^ q;
            u = t10 ^ c; e = (t10 & c) | (u & d); t10 = u ^ d;
            e -= (e >>> 1) & 0x55555555; e = (e & 0x33333333) + ((e >>> 2) & 0x33333333);
            e = (e + (e >>> 4)) & 0x0f0f0f0f; s10 += (e + (e >>> 8)) & 0x00ff00ff;
            p = x10 ^ w10; q = x11 ^ w11; u = o11 ^ p; c = (o11 & p) | (u & q); o11 = u ^ q;
            p = x12 ^ w12; q = x13 ^ w13; u = o11 ^ p; d = (o11 & p) | (u & q); o11 = u ^ q;
            u = t11 ^ c; e = (t11 & c) | (u & d); t11 = u ^ d;
            e -= (e >>> 1) & 0x55555555; e = (e & 0x33333333) + ((e >>> 2) & 0x33333333);
            e = (e + (e >>> 4)) & 0x0f0f0f0f; s11 += (e + (e >>> 8)) & 0x00ff00ff;
          }
          n00 += (s00 & 0xffff) + (s00 >>> 16);
          n01 += (s01 & 0xffff) + (s01 >>> 16);
          n10 += (s10 & 0xffff) + (s10 >>> 16);
          n11 += (s11 & 0xffff) + (s11 >>> 16);
        }
        if (L4 < rowWords) {
          // the last two words: a carry-save adder into ones, a half adder into twos
          const l = L4;
          let p = 0, q = 0, u = 0, c = 0, e = 0;
          const x00 = cols[a0 + l], x01 = cols[a0 + l + 1], x10 = cols[a1 + l], x11 = cols[a1 + l + 1];
          const w00 = wr[b0 + l], w01 = wr[b0 + l + 1];
          const w10 = wr[b1 + l], w11 = wr[b1 + l + 1];
          p = x00 ^ w00; q = x01 ^ w01; u = o00 ^ p; c = (o00 & p) | (u & q); o00 = u ^ q;
          e = t00 & c; t00 ^= c; n00 += popcount32(e);
          p = x00 ^ w10; q = x01 ^ w11; u = o01 ^ p; c = (o01 & p) | (u & q); o01 = u ^ q;
          e = t01 & c; t01 ^= c; n01 += popcount32(e);
          p = x10 ^ w00; q = x11 ^ w01; u = o10 ^ p; c = (o10 & p) | (u & q); o10 = u ^ q;
          e = t10 & c; t10 ^= c; n10 += popcount32(e);
          p = x10 ^ w10; q = x11 ^ w11; u = o11 ^ p; c = (o11 & p) | (u & q); o11 = u ^ q;
          e = t11 & c; t11 ^= c; n11 += popcount32(e);
        }
        // mism = 4 * (weight-4 carries) + 2 * popcount(twos) + popcount(ones); dot = base - 2 * mism
        y[y0 + k * PQ] = alpha[k] * (base[c0 + k] - 2 * (4 * n00 + planeCount(o00, t00)));
        y[y0 + (k + 1) * PQ] = alpha[k + 1] * (base[c0 + k + 1] - 2 * (4 * n01 + planeCount(o01, t01)));
        y[y1 + k * PQ] = alpha[k] * (base[c1 + k] - 2 * (4 * n10 + planeCount(o10, t10)));
        y[y1 + (k + 1) * PQ] = alpha[k + 1] * (base[c1 + k + 1] - 2 * (4 * n11 + planeCount(o11, t11)));
      }
      // filters left over when Kg is not a multiple of 2
      for (let k = k0 + KB; k < k0 + Kg; k++) {
        y[y0 + k * PQ] = alpha[k] * (base[c0 + k] - 2 * rowMismatch(cols, a0, wr, k * rowWords, rowWords));
        y[y1 + k * PQ] = alpha[k] * (base[c1 + k] - 2 * rowMismatch(cols, a1, wr, k * rowWords, rowWords));
      }
    }
    // the last position when the range has an odd count
    for (; m < mEnd; m++) {
      const a = aOff + m * rowWords, n = (m / PQ) | 0, pq = m - n * PQ;
      for (let k = k0; k < k0 + Kg; k++) {
        y[n * K * PQ + k * PQ + pq] = alpha[k] * (base[pq * K + k] - 2 * rowMismatch(cols, a, wr, k * rowWords, rowWords));
      }
    }
  }
}

/** Σ popcount(A_row XOR B_row), word by word: the edges of the blocked loop. */
function rowMismatch(cols: Int32Array, a: number, wr: Int32Array, b: number, rowWords: number): number {
  let mism = 0;
  for (let l = 0; l < rowWords; l++) mism += popcount32(cols[a + l] ^ wr[b + l]);
  return mism;
}

// ---- two threads ------------------------------------------------------------------------------------
//
// The calling thread and one worker take chunks of positions from a shared counter. The counter holds
// (job tag << 16) | next chunk, and a chunk is claimed by compare-and-swap only while the tag is the
// current job's: a worker that wakes late can never take a chunk of a later job with stale settings.
// The caller returns once every chunk is done; the worker never holds a chunk of a finished job.
// If the worker stops making progress (it died, or the machine starves it) the caller computes the
// chunks still missing itself, and the pool is switched off for the rest of the process.

/** Calls below this many XOR words stay on one thread: a worker wake-up costs ~0.1 ms. */
const PARALLEL_MIN_WORDS = 1 << 20;
/** At most this many chunks per call (enough to balance two threads, few enough to stay cheap). */
const MAX_CHUNKS = 64;
/** No progress from the worker for this long: it is considered dead. */
const STALL_MS = 2000;

// slots of the control array
const SEQ = 0, NEXT = 1, DONE = 2, BROKEN = 3, P_M = 4, P_K = 5, P_KG = 6, P_GROUPS = 7, P_ROW = 8, P_PQ = 9, P_CHUNK = 10, P_NCHUNKS = 11;
/** Chunks the worker has computed since it started (for tests and the bench). */
const WORKER_CHUNKS = 12;

interface Pool {
  worker: Worker;
  port: MessagePort;
  ctrl: Int32Array;
  /** doneFlags[c] = 1 once chunk c of the current job is written. */
  doneFlags: Int32Array;
  sentVersion: number;
}

let pool: Pool | null | undefined; // undefined: not tried yet; null: one thread
let threadsWanted = defaultThreads();

function defaultThreads(): number {
  const env = typeof process !== 'undefined' ? process.env.CPNAS_XNOR_THREADS : undefined;
  if (env !== undefined && env !== '') return Math.max(1, Math.floor(Number(env)) || 1);
  return Math.min(2, availableParallelism());
}

/** Threads in use for large calls (1 or 2) and the chunks the worker has computed so far. */
export function xnorThreadInfo(): { threads: number; workerChunks: number } {
  if (pool) return { threads: 2, workerChunks: Atomics.load(pool.ctrl, WORKER_CHUNKS) };
  // not started yet: the first large call starts it
  return { threads: threadsWanted >= 2 && pool === undefined ? 2 : 1, workerChunks: 0 };
}

/** Sets how many threads large xnorConv2d calls use (1 or 2); returns the previous setting. */
export function setXnorThreads(n: number): number {
  const prev = threadsWanted;
  threadsWanted = n >= 2 ? 2 : 1;
  if (threadsWanted === 1) stopPool();
  else if (pool === null) pool = undefined; // try again
  return prev;
}

function stopPool(): void {
  if (pool) {
    Atomics.store(pool.ctrl, BROKEN, 1);
    void pool.worker.terminate();
  }
  pool = threadsWanted >= 2 ? undefined : null;
}

/** The worker's source: the kernel functions above, as written, and a job loop. */
function workerSource(): string {
  return [
    "'use strict';",
    "const { workerData, receiveMessageOnPort } = require('node:worker_threads');",
    popcount32.toString(), planeCount.toString(), rowMismatch.toString(), xnorRows.toString(),
    `const [SEQ, NEXT, DONE, BROKEN, P_M, P_K, P_KG, P_GROUPS, P_ROW, P_PQ, P_CHUNK, P_NCHUNKS, WORKER_CHUNKS] = [${[SEQ, NEXT, DONE, BROKEN, P_M, P_K, P_KG, P_GROUPS, P_ROW, P_PQ, P_CHUNK, P_NCHUNKS, WORKER_CHUNKS].join(', ')}];`,
    `const { ctrl, doneFlags, port } = workerData;
let bufs = null, seen = Atomics.load(ctrl, SEQ);
try {
  for (;;) {
    Atomics.wait(ctrl, SEQ, seen);
    seen = Atomics.load(ctrl, SEQ);
    if (Atomics.load(ctrl, BROKEN)) break;
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) bufs = m.message;
    const tag = seen & 0x7fff;
    const M = ctrl[P_M], K = ctrl[P_K], Kg = ctrl[P_KG], groups = ctrl[P_GROUPS], rowWords = ctrl[P_ROW];
    const PQ = ctrl[P_PQ], chunk = ctrl[P_CHUNK], nChunks = ctrl[P_NCHUNKS];
    for (;;) {
      const v = Atomics.load(ctrl, NEXT);
      if ((v >>> 16) !== tag || (v & 0xffff) >= nChunks) break;
      if (Atomics.compareExchange(ctrl, NEXT, v, v + 1) !== v) continue;
      const c = v & 0xffff, m0 = c * chunk;
      xnorRows(bufs.cols, bufs.wrows, bufs.base, bufs.scales, bufs.y, m0, Math.min(M, m0 + chunk), M, K, Kg, groups, rowWords, PQ);
      Atomics.store(doneFlags, c, 1);
      Atomics.add(ctrl, WORKER_CHUNKS, 1);
      Atomics.add(ctrl, DONE, 1);
      Atomics.notify(ctrl, DONE);
    }
  }
} catch (e) {
  Atomics.store(ctrl, BROKEN, 1);
  Atomics.notify(ctrl, DONE);
}`,
  ].join('\n');
}

/** The worker pool (one worker), started on first use; null when one thread is wanted or start fails. */
function getPool(): Pool | null {
  if (pool !== undefined) return pool;
  pool = null;
  if (threadsWanted < 2) return null;
  try {
    const ctrl = sharedI32(16), doneFlags = sharedI32(MAX_CHUNKS);
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(workerSource(), { eval: true, workerData: { ctrl, doneFlags, port: port2 }, transferList: [port2] });
    worker.unref();
    port1.unref();
    // an error in the worker is seen by the caller through BROKEN; keep the process alive regardless
    worker.on('error', () => Atomics.store(ctrl, BROKEN, 1));
    pool = { worker, port: port1, ctrl, doneFlags, sentVersion: -1 };
  } catch {
    pool = null;
  }
  return pool;
}

/** One call on two threads: the caller works through chunks too, then waits for the worker's. */
function runShared(p: Pool, M: number, K: number, Kg: number, groups: number, rowWords: number, PQ: number): void {
  const { ctrl, doneFlags } = p;
  if (p.sentVersion !== buffersVersion) {
    p.port.postMessage({ cols, wrows, base, scales, y: yShared });
    p.sentVersion = buffersVersion;
  }
  const chunk = Math.max(2, Math.ceil(M / MAX_CHUNKS / 2) * 2);
  const nChunks = Math.ceil(M / chunk);
  ctrl[P_M] = M; ctrl[P_K] = K; ctrl[P_KG] = Kg; ctrl[P_GROUPS] = groups; ctrl[P_ROW] = rowWords;
  ctrl[P_PQ] = PQ; ctrl[P_CHUNK] = chunk; ctrl[P_NCHUNKS] = nChunks;
  doneFlags.fill(0, 0, nChunks);
  Atomics.store(ctrl, DONE, 0);
  const seq = (Atomics.load(ctrl, SEQ) + 1) & 0x7fff;
  Atomics.store(ctrl, NEXT, seq << 16); // claims of earlier jobs fail from here on
  Atomics.store(ctrl, SEQ, seq);
  Atomics.notify(ctrl, SEQ);

  for (;;) {
    const v = Atomics.load(ctrl, NEXT);
    if ((v & 0xffff) >= nChunks) break;
    if (Atomics.compareExchange(ctrl, NEXT, v, v + 1) !== v) continue;
    const c = v & 0xffff, m0 = c * chunk;
    xnorRows(cols, wrows, base, scales, yShared, m0, Math.min(M, m0 + chunk), M, K, Kg, groups, rowWords, PQ);
    Atomics.store(doneFlags, c, 1);
    Atomics.add(ctrl, DONE, 1);
  }
  // wait for the worker's chunks; if it stalls or broke, finish them here and stop using it
  let last = Atomics.load(ctrl, DONE), since = Date.now();
  while (last < nChunks) {
    if (Atomics.load(ctrl, BROKEN) || Date.now() - since > STALL_MS) {
      for (let c = 0; c < nChunks; c++) {
        if (Atomics.load(doneFlags, c)) continue;
        const m0 = c * chunk;
        xnorRows(cols, wrows, base, scales, yShared, m0, Math.min(M, m0 + chunk), M, K, Kg, groups, rowWords, PQ);
      }
      threadsWanted = 1;
      stopPool();
      return;
    }
    Atomics.wait(ctrl, DONE, last, 50);
    const now = Atomics.load(ctrl, DONE);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}
