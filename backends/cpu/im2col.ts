/**
 * im2col without the column matrix: panel sources that pack a convolution's input straight into the
 * GEMM's packed layout (gemm.ts), and col2im for strided data gradients.
 *
 * For one image and one group, the column matrix `col` has a row per (c, r, s) (input channel of the
 * group, kernel row, kernel column) and a column per output position (p, q):
 *
 *     col[(c, r, s), (p, q)] = x[c, p*strideH - padH + r*dilationH, q*strideW - padW + s*dilationW]
 *
 * (0 outside the image). The forward pass multiplies W (K x CRS) by col; the filter gradient multiplies
 * dY (K x PQ) by colᵀ. The group's channels are first copied into a zero-bordered buffer (skipped
 * when there is no padding), after which every entry of col is one load with no test:
 *
 *     col[k, j] = xpad[rowOffset[k] + colOffset[j]]
 *     rowOffset[(c, r, s)] = c*Hp*Wp + r*dilationH*Wp + s*dilationW,   colOffset[(p, q)] = p*strideH*Wp + q*strideW
 */
import type { Conv2dGeometry } from '../backend.js';
import type { PanelSource } from './gemm.js';

/** First q with 0 <= q*stride + off (at most Q). */
export function qStart(off: number, stride: number, Q: number): number {
  return off >= 0 ? 0 : Math.min(Math.ceil(-off / stride), Q);
}

/** One past the last q with q*stride + off < size, at least `lo` and at most Q. */
export function qEnd(off: number, stride: number, size: number, Q: number, lo: number): number {
  const hi = size - off <= 0 ? 0 : Math.ceil((size - off) / stride);
  return Math.min(Math.max(hi, lo), Q);
}

// ---- the padded input and the offset tables (module scratch, grown on demand) -----------------------

let padBuf = new Float32Array(0);
let rowOffsets = new Int32Array(0);
let colOffsets = new Int32Array(0);

/**
 * The source of col for one geometry: `load` points it at one image and group. Tables are built by
 * the constructor-like `prepare`, once per kernel call.
 */
export class Im2col {
  /** Where col's entries are read: the padded buffer, or x itself when there is no padding. */
  src: Float32Array = padBuf;
  base = 0;
  rows: Int32Array = rowOffsets;
  cols: Int32Array = colOffsets;
  private g!: Conv2dGeometry;
  private padded = false;
  private Hp = 0;
  private Wp = 0;

  prepare(g: Conv2dGeometry): this {
    const { C, H, W, R, S, padH, padW, dilationH, dilationW, strideH, strideW, groups, P, Q } = g;
    const Cg = C / groups;
    this.g = g;
    this.padded = padH > 0 || padW > 0;
    const Hp = H + 2 * padH, Wp = W + 2 * padW;
    this.Hp = Hp;
    this.Wp = Wp;
    const CRS = Cg * R * S, PQ = P * Q;
    if (rowOffsets.length < CRS) rowOffsets = new Int32Array(CRS);
    if (colOffsets.length < PQ) colOffsets = new Int32Array(PQ);
    let k = 0;
    for (let c = 0; c < Cg; c++) {
      for (let r = 0; r < R; r++) {
        for (let s = 0; s < S; s++) rowOffsets[k++] = c * Hp * Wp + r * dilationH * Wp + s * dilationW;
      }
    }
    let j = 0;
    for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) colOffsets[j++] = p * strideH * Wp + q * strideW;
    if (this.padded) {
      const n = Cg * Hp * Wp;
      if (padBuf.length < n) padBuf = new Float32Array(n);
      else padBuf.fill(0, 0, n);
    }
    this.rows = rowOffsets;
    this.cols = colOffsets;
    this.src = padBuf;
    return this;
  }

  /** Points col at the group whose channel 0 starts at x[xOff] (copies it into the padded buffer). */
  load(x: Float32Array, xOff: number): void {
    if (!this.padded) {
      this.src = x;
      this.base = xOff;
      return;
    }
    const { C, H, W, padH, padW, groups } = this.g;
    const Cg = C / groups, Hp = this.Hp, Wp = this.Wp, buf = padBuf;
    for (let c = 0; c < Cg; c++) {
      for (let h = 0; h < H; h++) {
        const from = xOff + (c * H + h) * W, to = (c * Hp + h + padH) * Wp + padW;
        for (let w = 0; w < W; w++) buf[to + w] = x[from + w];
      }
    }
    this.src = buf;
    this.base = 0;
  }
}

/** The B operand of the forward GEMM: lanes are output positions (p, q), depth is (c, r, s). */
export class Im2colPanel implements PanelSource {
  constructor(private readonly col: Im2col) {}

  pack(dst: Float64Array, dstOff: number, R: number, lane0: number, lanes: number, k0: number, kc: number): void {
    const { src, base, rows, cols } = this.col;
    let t = 0;
    if (R === 4) {
      for (; t + 4 <= lanes; t += 4) {
        const j = lane0 + t;
        const b0 = base + cols[j], b1 = base + cols[j + 1], b2 = base + cols[j + 2], b3 = base + cols[j + 3];
        let d = dstOff + t * kc;
        for (let k = k0; k < k0 + kc; k++, d += 4) {
          const o = rows[k];
          dst[d] = src[o + b0];
          dst[d + 1] = src[o + b1];
          dst[d + 2] = src[o + b2];
          dst[d + 3] = src[o + b3];
        }
      }
    }
    // the remaining lanes one at a time, zero-padded to a whole strip
    const padded = Math.ceil(lanes / R) * R;
    for (let l = t; l < padded; l++) {
      const lr = l % R;
      let d = dstOff + (l - lr) * kc + lr;
      if (l >= lanes) {
        for (let k = 0; k < kc; k++, d += R) dst[d] = 0;
        continue;
      }
      const b = base + cols[lane0 + l];
      for (let k = k0; k < k0 + kc; k++, d += R) dst[d] = src[rows[k] + b];
    }
  }
}

/** The B operand of the filter-gradient GEMM (colᵀ): lanes are (c, r, s), depth is output positions. */
export class Im2colTransposedPanel implements PanelSource {
  constructor(private readonly col: Im2col) {}

  pack(dst: Float64Array, dstOff: number, R: number, lane0: number, lanes: number, k0: number, kc: number): void {
    const { src, base, rows, cols } = this.col;
    let t = 0;
    if (R === 4) {
      for (; t + 4 <= lanes; t += 4) {
        const l = lane0 + t;
        const o0 = base + rows[l], o1 = base + rows[l + 1], o2 = base + rows[l + 2], o3 = base + rows[l + 3];
        let d = dstOff + t * kc;
        for (let k = k0; k < k0 + kc; k++, d += 4) {
          const b = cols[k];
          dst[d] = src[o0 + b];
          dst[d + 1] = src[o1 + b];
          dst[d + 2] = src[o2 + b];
          dst[d + 3] = src[o3 + b];
        }
      }
    }
    const padded = Math.ceil(lanes / R) * R;
    for (let l = t; l < padded; l++) {
      const lr = l % R;
      let d = dstOff + (l - lr) * kc + lr;
      if (l >= lanes) {
        for (let k = 0; k < kc; k++, d += R) dst[d] = 0;
        continue;
      }
      const o = base + rows[lane0 + l];
      for (let k = k0; k < k0 + kc; k++, d += R) dst[d] = src[o + cols[k]];
    }
  }
}

/**
 * col2im: dx[c, h, w] += dcol[(c, r, s), (p, q)] for every position the kernel tap (r, s) of output
 * (p, q) reads; `dcol` is CRS x PQ (one group of one image), `dxOff` the group's channel 0 in dx.
 */
export function col2imAdd(dcol: Float32Array, dx: Float32Array, dxOff: number, Cg: number, g: Conv2dGeometry): void {
  const { H, W, R: KR, S, strideH, strideW, padH, padW, dilationH, dilationW, P, Q } = g;
  const HW = H * W, PQ = P * Q;
  let o = 0;
  for (let c = 0; c < Cg; c++) {
    const xc = dxOff + c * HW;
    for (let r = 0; r < KR; r++) {
      for (let s = 0; s < S; s++, o += PQ) {
        const wOff = s * dilationW - padW;
        const qlo = qStart(wOff, strideW, Q), qhi = qEnd(wOff, strideW, W, Q, qlo);
        for (let p = 0; p < P; p++) {
          const h = p * strideH - padH + r * dilationH;
          if (h < 0 || h >= H) continue;
          const row = xc + h * W + wOff, src = o + p * Q;
          for (let q = qlo; q < qhi; q++) dx[row + q * strideW] += dcol[src + q];
        }
      }
    }
  }
}
