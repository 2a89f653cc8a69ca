/** Elementwise kernels: unary maps and broadcasting binary maps. */
import type { BinaryOp, UnaryOp } from '../backend.js';

export function unary(op: UnaryOp, x: Float32Array, out: Float32Array): void {
  const n = x.length;
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) out[i] = -x[i]; return;
    case 'exp': for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]); return;
    case 'log': for (let i = 0; i < n; i++) out[i] = Math.log(x[i]); return;
    case 'sqrt': for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]); return;
    case 'abs': for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]); return;
    case 'relu': for (let i = 0; i < n; i++) { const v = x[i]; out[i] = v > 0 ? v : 0; } return;
    case 'sigmoid': for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i])); return;
    case 'tanh': for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]); return;
    // sign(0) = +1: a binarized value is always +-1, never 0
    case 'sign': for (let i = 0; i < n; i++) out[i] = x[i] >= 0 ? 1 : -1; return;
    case 'square': for (let i = 0; i < n; i++) { const v = x[i]; out[i] = v * v; } return;
    case 'reciprocal': for (let i = 0; i < n; i++) out[i] = 1 / x[i]; return;
  }
}

function apply(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return a / b;
    case 'pow': return Math.pow(a, b);
    case 'max': return a > b ? a : b;
    case 'min': return a < b ? a : b;
  }
}

/** Fast loops for the common same-shape and scalar cases; a strided walk for general broadcasting. */
export function binary(
  op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
  out: Float32Array, outShape: readonly number[],
): void {
  const n = out.length;
  if (a.length === n && b.length === n) {
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; return;
      case 'sub': for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; return;
      case 'mul': for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; return;
      case 'div': for (let i = 0; i < n; i++) out[i] = a[i] / b[i]; return;
      default: for (let i = 0; i < n; i++) out[i] = apply(op, a[i], b[i]); return;
    }
  }
  if (b.length === 1 && a.length === n) {
    const s = b[0];
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) out[i] = a[i] + s; return;
      case 'sub': for (let i = 0; i < n; i++) out[i] = a[i] - s; return;
      case 'mul': for (let i = 0; i < n; i++) out[i] = a[i] * s; return;
      case 'div': for (let i = 0; i < n; i++) out[i] = a[i] / s; return;
      default: for (let i = 0; i < n; i++) out[i] = apply(op, a[i], s); return;
    }
  }
  // general case: walk the output with per-input strides (0 on broadcast dims); the innermost
  // dimension runs as a tight loop
  const rank = outShape.length;
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const inner = rank === 0 ? 1 : outShape[rank - 1];
  const ia = rank === 0 ? 0 : sa[rank - 1];
  const ib = rank === 0 ? 0 : sb[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let offA = 0, offB = 0;
  for (let o = 0; o < n; o += inner) {
    let pa = offA, pb = offB;
    for (let j = 0; j < inner; j++, pa += ia, pb += ib) out[o + j] = apply(op, a[pa], b[pb]);
    // advance the multi-index over the outer dims
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      offA += sa[d];
      offB += sb[d];
      if (idx[d] < outShape[d]) break;
      offA -= sa[d] * outShape[d];
      offB -= sb[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/** Strides of `shape` viewed as broadcast to `outShape` (0 where broadcast). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const st = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = rank - shape.length + i;
    st[d] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return st;
}
