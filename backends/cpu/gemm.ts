/**
 * Float GEMM in plain TypeScript: C (M x N) += A (M x K) · B (K x N), cache-blocked and register-tiled
 * in the way of BLIS / GotoBLAS.
 *
 *   for jc (NC columns of B):
 *     for pc (KC deep):        pack B[pc.., jc..] into NR-wide strips       (stays in L2)
 *       for ic (MC rows of A):  pack A[ic.., pc..] into MR-tall strips      (stays in L2)
 *         for every MR x NR tile: the micro-kernel, kc multiply-adds per cell, in locals
 *
 * A strip of R "lanes" (rows of A or columns of B) packed over kc is stored k-major: value (lane l, k)
 * at `k * R + l`, so the micro-kernel reads both operands sequentially. Strips are zero-padded to R
 * lanes; edge tiles are computed into a small tile and copied. Packing goes through a `PanelSource`,
 * so a convolution can pack straight from the image (im2col inside the packing, see im2col.ts) and a
 * transposed operand is just other strides.
 *
 * The micro-kernel's 16 accumulators are float64 locals (V8 keeps them in registers), and panels are
 * packed as float64 so the kernel converts nothing (about 5% faster than float32 panels). Larger
 * tiles spill in V8 and are no faster (measured on this 2-core AMD EPYC: 4x4 ~ 3x4 > 4x8, 8x4, 6x4).
 * The packing buffer is one module-level constant reused by every call; nothing is allocated per
 * tile. Typical rate on one core: 5.5-6 GFLOP/s (matmul 512^3 in ~45 ms). Each thread of threads.ts
 * has its own copy of this module, so its own packing buffer.
 *
 * With the SIMD kernels on (simd/simd.ts), a packed block's tiles go through simd/float.wat
 * `gemmBlock` instead: the same float64 sums in the same order, two lanes at a time, and the same
 * single rounding into C (the block of C is copied into WebAssembly memory and back, row by row). The
 * packing buffer then lives in that module's memory, which never grows; the values are the same.
 *
 * With float32 sums (sums.ts, a named switch; float64 is the default) the tiles go through
 * `gemmBlockF32` (kernel4x4F32 without SIMD): four float32 lanes, 4x8 tiles. Its A block is the
 * packed one narrowed to float32; B is read from its rows as they are where its lanes are contiguous
 * (stageRows: a 1x1 convolution's image, a row-major matmul operand), else packed and narrowed too.
 */
import { chunkRange, chunksFor, parallel, type JobArray } from './threads.js';
import { simdFixedInstance, simdWanted } from './simd/simd.js';
import { gemmSums } from './sums.js';

/** Rows of A per micro-tile. */
export const MR = 4;
/** Columns of B per micro-tile. */
export const NR = 4;
/** Depth of one packed block (A block MC x KC and B strips KC x NR). */
const KC = 256;
/** Rows of A per packed block. */
const MC = 64;
/** Columns of B per packed block: KC x NC doubles = 1 MiB, about the size of one core's L2. */
const NC = 512;

/**
 * Something that can pack a panel of one GEMM operand: lanes [lane0, lane0 + lanes) over depth
 * [k0, k0 + kc), written as strips of R lanes starting at dst[dstOff] (strip t at dstOff + t*kc*R,
 * value (lane, k) at + (k - k0) * R + lane % R), lanes past `lanes` zero-filled up to a multiple of R.
 */
export interface PanelSource {
  pack(dst: Float64Array, dstOff: number, R: number, lane0: number, lanes: number, k0: number, kc: number): void;
}

/** An operand stored as a strided matrix: value(lane, k) = data[offset + lane*laneStride + k*kStride]. */
export class StridedPanel implements PanelSource {
  data: Float32Array = new Float32Array(0);
  offset = 0;
  laneStride = 0;
  kStride = 0;

  set(data: Float32Array, offset: number, laneStride: number, kStride: number): this {
    this.data = data;
    this.offset = offset;
    this.laneStride = laneStride;
    this.kStride = kStride;
    return this;
  }

  pack(dst: Float64Array, dstOff: number, R: number, lane0: number, lanes: number, k0: number, kc: number): void {
    const src = this.data, ls = this.laneStride, ks = this.kStride;
    if (R === 4 && dst === P && lanes * kc >= 256 && (ls === 1 || ks === 1) && simd && simdWanted()) {
      // SIMD: the panel's rows (ls 1) or lanes (ks 1) staged by plain copies, then widened and
      // interleaved by simd/float.wat packPanel: the same doubles in the same places
      const at = this.offset + lane0 * ls + k0 * ks;
      // rows of `len` values, `rows` of them, `stride` apart in src
      const [rows, len, stride] = ls === 1 ? [kc, lanes, ks] : [lanes, kc, ls];
      const span = (rows - 1) * stride + len;
      if (span <= 2 * rows * len && span <= stage.length) {
        // one copy of the span (the gaps between the rows too): cheaper than a copy call per row
        stage.set(src.subarray(at, at + span), 0);
        simd.kernels.packPanel(STAGE_AT, stride, ls === 1 ? 0 : 1, 8 * dstOff, kc, lanes);
        return;
      }
      for (let r = 0; r < rows; r++) stage.set(src.subarray(at + r * stride, at + r * stride + len), r * len);
      simd.kernels.packPanel(STAGE_AT, len, ls === 1 ? 0 : 1, 8 * dstOff, kc, lanes);
      return;
    }
    let l0 = 0;
    if (R === 4) {
      // whole strips: one pass over k writing 4 lanes at a time
      for (; l0 + 4 <= lanes; l0 += 4) {
        let d = dstOff + l0 * kc;
        const s0 = this.offset + (lane0 + l0) * ls + k0 * ks;
        if (ls === 1) {
          for (let k = 0, s = s0; k < kc; k++, d += 4, s += ks) {
            dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]; dst[d + 3] = src[s + 3];
          }
        } else {
          for (let k = 0, s = s0; k < kc; k++, d += 4, s += ks) {
            dst[d] = src[s]; dst[d + 1] = src[s + ls]; dst[d + 2] = src[s + 2 * ls]; dst[d + 3] = src[s + 3 * ls];
          }
        }
      }
    }
    // the remaining lanes one at a time, zero-padded to a whole strip
    const padded = Math.ceil(lanes / R) * R;
    for (let l = l0; l < padded; l++) {
      const lr = l % R;
      let d = dstOff + (l - lr) * kc + lr;
      if (l >= lanes) {
        for (let k = 0; k < kc; k++, d += R) dst[d] = 0;
        continue;
      }
      let s = this.offset + (lane0 + l) * ls + k0 * ks;
      if (ks === 1) for (let k = 0; k < kc; k++, d += R) dst[d] = src[s + k];
      else for (let k = 0; k < kc; k++, d += R, s += ks) dst[d] = src[s];
    }
  }
}

// ---- scratch ---------------------------------------------------------------------------------------

/** Packed A block followed by the packed B block: one fixed module-level array (1.2 MB). Because it
 *  is a constant, the optimizing compiler hoists its map, base and length out of the micro-kernel's
 *  loop (measured: 5.8 vs 5.0 GFLOP/s for the same kernel reading a parameter). */
const B_OFF = Math.ceil(MC / MR) * MR * KC;
const P_LEN = B_OFF + Math.ceil(NC / NR) * NR * KC;
/** The SIMD kernel's instance: P, then the block of C (MC x NC float32), a 128-byte edge tile, and
 *  the staging area of a panel being packed (KC x NC float32, the larger panel). */
const C_BLOCK_AT = 8 * P_LEN, TILE_AT = C_BLOCK_AT + 4 * MC * NC, STAGE_AT = TILE_AT + 128;
/** The float32 copy of P for the float32 sums (sums.ts): A block at P32_AT, B block 4 * B_OFF after. */
const P32_AT = STAGE_AT + 4 * KC * NC;
const simd = simdFixedInstance(P32_AT + 4 * P_LEN);
const P = simd ? new Float64Array(simd.buffer, 0, P_LEN) : new Float64Array(P_LEN);
const cBlock = simd ? new Float32Array(simd.buffer, C_BLOCK_AT, MC * NC) : new Float32Array(0);
const stage = simd ? new Float32Array(simd.buffer, STAGE_AT, KC * NC) : new Float32Array(0);
/** B's rows as float32 (stageRows), for the float32 sums: in P's B region, which they leave unused. */
const bRows = simd ? new Float32Array(simd.buffer, 8 * B_OFF, 2 * KC * NC) : new Float32Array(0);
/** An MR x NR tile for the edges of C, float64 like the micro-kernel's accumulators: an edge cell is
 *  then rounded exactly as an inner one (C + sum, once), so a value of C never depends on where the
 *  tiles fall, and a GEMM cut into column ranges (threads.ts) gives the same bits as one call. */
const edgeTile = new Float64Array(MR * NR);

// ---- the blocked product ---------------------------------------------------------------------------

/**
 * C[cOff + i*ldc + j] (+)= sum_k A(i, k) · B(k, j) for i < M, j < N, with A's lanes its rows and B's
 * lanes its columns. `accumulate` false overwrites C.
 */
export function gemm(
  M: number, N: number, K: number, a: PanelSource, b: PanelSource,
  C: Float32Array, cOff: number, ldc: number, accumulate: boolean,
): void {
  if (M <= 0 || N <= 0) return;
  const kernels = K > 0 && simd && simdWanted() ? simd.kernels : null;
  const f32 = gemmSums() === 'float32';
  const kernel = f32 ? kernel4x4F32 : kernel4x4; // the TypeScript tiles' (without SIMD)
  // float32 sums read B's rows as they are when its lanes are contiguous (a 1x1 convolution's image or
  // gradient, a row-major matmul operand): one copy in, no packing (stageRows)
  const rowsB = kernels !== null && f32 && b instanceof StridedPanel && b.laneStride === 1;
  // the SIMD path starts a block of C at zero in WebAssembly memory instead (below)
  if (!accumulate && !kernels) for (let i = 0; i < M; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + N);
  if (K <= 0) return;
  // split K into near-equal blocks no deeper than KC
  const kBlocks = Math.ceil(K / KC);
  const kStep = Math.ceil(K / kBlocks);
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += kStep) {
      const kc = Math.min(kStep, K - pc);
      let bAt = P32_AT + 4 * B_OFF, bJ = 16 * kc, bK = 16;
      if (rowsB) {
        bAt = 8 * B_OFF;
        bJ = 16;
        bK = 4 * stageRows(b as StridedPanel, jc, nc, pc, kc);
      } else {
        b.pack(P, B_OFF, NR, jc, nc, pc, kc);
        if (kernels && f32) kernels.narrowF64(8 * B_OFF, bAt, Math.ceil(nc / NR) * NR * kc);
      }
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        a.pack(P, 0, MR, ic, mc, pc, kc);
        if (kernels && f32) kernels.narrowF64(0, P32_AT, Math.ceil(mc / MR) * MR * kc);
        if (kernels) {
          // the block of C in, summed into, and out: rows of C are one span when the block is whole
          // rows; the first depth block of an overwriting product starts from zeros (C + sum with C = 0,
          // as the loop path's filled C), which skips a fill of C and a copy (with few channels, K of
          // 16 say, those passes cost as much as the sums)
          const at = cOff + ic * ldc + jc, whole = nc === ldc;
          if (!accumulate && pc === 0) cBlock.fill(0, 0, mc * nc);
          else if (whole) cBlock.set(C.subarray(at, at + mc * nc));
          else copyRows(C, at, ldc, cBlock, 0, nc, mc, nc);
          if (f32) kernels.gemmBlockF32(P32_AT, bAt, bJ, bK, kc, mc, nc, C_BLOCK_AT, nc, TILE_AT);
          else kernels.gemmBlock(0, 8 * B_OFF, kc, mc, nc, C_BLOCK_AT, nc, TILE_AT);
          if (whole) C.set(cBlock.subarray(0, mc * nc), at);
          else copyRows(cBlock, 0, nc, C, at, ldc, mc, nc);
          continue;
        }
        for (let jr = 0; jr < nc; jr += NR) {
          const bo = B_OFF + jr * kc;
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const ao = ir * kc;
            const mr = Math.min(MR, mc - ir);
            const co = cOff + (ic + ir) * ldc + jc + jr;
            if (mr === MR && nr === NR) {
              kernel(ao, bo, kc, C, co, ldc);
            } else {
              edgeTile.fill(0);
              kernel(ao, bo, kc, edgeTile, 0, NR);
              for (let i = 0; i < mr; i++) for (let j = 0; j < nr; j++) C[co + i * ldc + j] += edgeTile[i * NR + j];
            }
          }
        }
      }
    }
  }
}

/**
 * B's rows k0..k0+kc, columns lane0..lane0+nc, copied as float32 into the B region of P (bRows), for
 * gemmBlockF32 to read as they are; returns their row stride in floats. One copy of the whole span
 * (the gaps between the rows too) where that is at most twice the rows, else a copy per row, packed.
 * The kernel reads up to 7 floats past a row's last column (lanes of edge tiles it then drops): the
 * region is followed by more of the module's memory, and what it reads there is never used.
 */
function stageRows(b: StridedPanel, lane0: number, nc: number, k0: number, kc: number): number {
  const src = b.data, ks = b.kStride, at = b.offset + lane0 + k0 * ks;
  const span = (kc - 1) * ks + nc;
  if (span <= 2 * kc * nc) {
    bRows.set(src.subarray(at, at + span), 0);
    return ks;
  }
  for (let k = 0; k < kc; k++) bRows.set(src.subarray(at + k * ks, at + k * ks + nc), k * nc);
  return nc;
}

/**
 * `rows` rows of `len` floats from src (row stride ls) to dst (row stride ld): long rows by `set`,
 * short ones (the last column block of a product, a narrow C) by a loop, which makes no view object
 * per row.
 */
function copyRows(src: Float32Array, so: number, ls: number, dst: Float32Array, d: number, ld: number, rows: number, len: number): void {
  if (len >= 256) {
    for (let i = 0; i < rows; i++, so += ls, d += ld) dst.set(src.subarray(so, so + len), d);
    return;
  }
  for (let i = 0; i < rows; i++, so += ls, d += ld) for (let j = 0; j < len; j++) dst[d + j] = src[so + j];
}

/**
 * The 4x4 micro-kernel: C[co.., 4x4 with row stride ldc] += A strip (4 x kc) · B strip (kc x 4),
 * both read from the packed buffer P (at ao and bo).
 */
function kernel4x4(ao: number, bo: number, kc: number, C: Float32Array | Float64Array, co: number, ldc: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = P[ao], a1 = P[ao + 1], a2 = P[ao + 2], a3 = P[ao + 3];
    let b = P[bo];
    c00 += a0 * b; c10 += a1 * b; c20 += a2 * b; c30 += a3 * b;
    b = P[bo + 1];
    c01 += a0 * b; c11 += a1 * b; c21 += a2 * b; c31 += a3 * b;
    b = P[bo + 2];
    c02 += a0 * b; c12 += a1 * b; c22 += a2 * b; c32 += a3 * b;
    b = P[bo + 3];
    c03 += a0 * b; c13 += a1 * b; c23 += a2 * b; c33 += a3 * b;
    ao += 4;
    bo += 4;
  }
  C[co] += c00; C[co + 1] += c01; C[co + 2] += c02; C[co + 3] += c03;
  co += ldc;
  C[co] += c10; C[co + 1] += c11; C[co + 2] += c12; C[co + 3] += c13;
  co += ldc;
  C[co] += c20; C[co + 1] += c21; C[co + 2] += c22; C[co + 3] += c23;
  co += ldc;
  C[co] += c30; C[co + 1] += c31; C[co + 2] += c32; C[co + 3] += c33;
}

/**
 * kernel4x4 with float32 sums (sums.ts 'float32'): each product and each addition rounded to float32
 * (Math.fround), in k order; then C += sum, which a Float32Array store rounds once: float32 arithmetic
 * exactly (a float64 operation on float32 values rounded to float32 gives the float32 operation's
 * result), so the bits of simd/float.wat gemmBlockF32.
 */
function kernel4x4F32(ao: number, bo: number, kc: number, C: Float32Array | Float64Array, co: number, ldc: number): void {
  const f = Math.fround;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = P[ao], a1 = P[ao + 1], a2 = P[ao + 2], a3 = P[ao + 3];
    let b = P[bo];
    c00 = f(c00 + f(a0 * b)); c10 = f(c10 + f(a1 * b)); c20 = f(c20 + f(a2 * b)); c30 = f(c30 + f(a3 * b));
    b = P[bo + 1];
    c01 = f(c01 + f(a0 * b)); c11 = f(c11 + f(a1 * b)); c21 = f(c21 + f(a2 * b)); c31 = f(c31 + f(a3 * b));
    b = P[bo + 2];
    c02 = f(c02 + f(a0 * b)); c12 = f(c12 + f(a1 * b)); c22 = f(c22 + f(a2 * b)); c32 = f(c32 + f(a3 * b));
    b = P[bo + 3];
    c03 = f(c03 + f(a0 * b)); c13 = f(c13 + f(a1 * b)); c23 = f(c23 + f(a2 * b)); c33 = f(c33 + f(a3 * b));
    ao += 4;
    bo += 4;
  }
  C[co] += c00; C[co + 1] += c01; C[co + 2] += c02; C[co + 3] += c03;
  co += ldc;
  C[co] += c10; C[co + 1] += c11; C[co + 2] += c12; C[co + 3] += c13;
  co += ldc;
  C[co] += c20; C[co + 1] += c21; C[co + 2] += c22; C[co + 3] += c23;
  co += ldc;
  C[co] += c30; C[co + 1] += c31; C[co + 2] += c32; C[co + 3] += c33;
}

// ---- the backend's matmul ------------------------------------------------------------------------

const panelA = new StridedPanel();
const panelB = new StridedPanel();

/** Columns of the narrowest chunk of a matmul split by columns (see matmul). */
const MIN_CHUNK_COLUMNS = 256;

/**
 * Batched matrix product (see Backend.matmul): out[b] = op(A[b]) · op(B[b]), A stored K x M when
 * `transA`, B stored N x K when `transB`; batch strides of 0 broadcast one matrix. Large products are
 * cut into chunks of whole batch entries, or of column ranges (multiples of NR, at least
 * MIN_CHUNK_COLUMNS) when the batch is smaller than the chunks wanted.
 */
export function matmul(
  a: Float32Array, b: Float32Array, out: Float32Array,
  batch: number, M: number, K: number, N: number,
  transA: boolean, transB: boolean, aBatchStride: number, bBatchStride: number,
): void {
  const params = [batch, M, K, N, transA ? 1 : 0, transB ? 1 : 0, aBatchStride, bBatchStride, 0];
  let nChunks = 1;
  const want = chunksFor(batch * M * K * N, Math.max(batch, Math.ceil(N / NR)));
  if (want > 1) {
    if (batch >= want) nChunks = want;
    else {
      // chunks are column ranges, each of at least MIN_CHUNK_COLUMNS: every chunk packs all of A
      // again, which costs about as much as the products of 64 columns (a 512^3 product took 11.3 ms
      // in one chunk and 16.4 ms in 8, computed one after the other on one thread)
      params[8] = 1;
      nChunks = Math.min(want, Math.max(1, Math.floor(N / MIN_CHUNK_COLUMNS)));
    }
  }
  parallel('matmul', matmulChunk, [{ a }, { a: b }, { a: out, out: true }], params, nChunks);
}

/** One chunk of `matmul`: a range of batch entries (params[8] = 0) or of columns of every entry (1). */
export function matmulChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const [a, b, out] = arrays as Float32Array[];
  const [batch, M, K, N, tA, tB, aBatchStride, bBatchStride, byColumns] = params;
  const transA = tA === 1, transB = tB === 1;
  const [b0, b1] = byColumns ? [0, batch] : chunkRange(batch, c, nChunks);
  const [j0, j1] = byColumns ? chunkRange(N, c, nChunks, NR) : [0, N];
  for (let bt = b0; bt < b1; bt++) {
    // A's lanes are its rows (i), B's lanes its columns (j)
    panelA.set(a, bt * aBatchStride, transA ? 1 : K, transA ? M : 1);
    panelB.set(b, bt * bBatchStride + j0 * (transB ? K : 1), transB ? K : 1, transB ? 1 : N);
    gemm(M, j1 - j0, K, panelA, panelB, out, bt * M * N + j0, N, false);
  }
}
