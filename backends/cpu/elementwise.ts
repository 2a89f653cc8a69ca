/** Elementwise kernels: unary maps, activation gradients and broadcasting binary maps. Large unary
 *  maps, gradients and same-shape or scalar binary maps are cut into index ranges for the threads of
 *  threads.ts. With the SIMD kernels on, ReLU, sign, the activation gradients and the four arithmetic maps
 *  run in WebAssembly (simd/stream.wat through stream.ts): the same bits. */
import type { BinaryOp, GradOp, UnaryOp } from '../backend.js';
import { chunkRange, chunksFor, parallel, type JobArray } from './threads.js';
import { simdEnabled } from './simd/simd.js';
import { streamSimd } from './stream.js';

const UNARY_OPS: readonly UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'abs', 'relu', 'sigmoid', 'tanh', 'sign', 'square', 'reciprocal'];
const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min'];
/** Elements per chunk at least (a chunk is memory traffic: smaller ones cost more to hand out than to do). */
const MIN_CHUNK = 1 << 14;

export function unary(op: UnaryOp, x: Float32Array, out: Float32Array): void {
  const n = x.length;
  // a pass over memory: worth a second thread only when long (the work counted as 8 per element)
  const nChunks = chunksFor(8 * n, Math.ceil(n / MIN_CHUNK));
  if (nChunks < 2) return unaryRange(op, x, out, 0, n);
  parallel('unary', unaryChunk, [{ a: x }, { a: out, out: true }], [UNARY_OPS.indexOf(op)], nChunks);
}

export function unaryChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const [x, out] = arrays as Float32Array[];
  const [i0, i1] = chunkRange(x.length, c, nChunks, 16);
  unaryRange(UNARY_OPS[params[0]], x, out, i0, i1);
}

function unaryRange(op: UnaryOp, x: Float32Array, out: Float32Array, i0: number, n: number): void {
  switch (op) {
    case 'neg': for (let i = i0; i < n; i++) out[i] = -x[i]; return;
    case 'exp': for (let i = i0; i < n; i++) out[i] = Math.exp(x[i]); return;
    case 'log': for (let i = i0; i < n; i++) out[i] = Math.log(x[i]); return;
    case 'sqrt': for (let i = i0; i < n; i++) out[i] = Math.sqrt(x[i]); return;
    case 'abs': for (let i = i0; i < n; i++) out[i] = Math.abs(x[i]); return;
    case 'relu': {
      if (n - i0 >= 64 && simdEnabled() && streamSimd([x], out, i0, n, (k, [xa], ya, m) => k.reluBits(xa, ya, m))) return;
      // on the bits, without a branch (a test of the sign mispredicts about every other activation):
      // a value with its sign bit set (negative, -0) becomes +0, the others (NaN too, as PyTorch) stay
      const xi = int32View(x), oi = int32View(out);
      for (let i = i0; i < n; i++) { const v = xi[i]; oi[i] = v & ~(v >> 31); }
      return;
    }
    case 'sigmoid': for (let i = i0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i])); return;
    case 'tanh': for (let i = i0; i < n; i++) out[i] = Math.tanh(x[i]); return;
    // sign(0) = +1: a binarized value is always +-1, never 0; NaN gives -1 (bitpack.ts's convention).
    // Number(!(x >= 0)) compiles to a flag read, without a branch
    case 'sign':
      if (n - i0 >= 64 && simdEnabled() && streamSimd([x], out, i0, n, (k, [xa], ya, m) => k.signF32(xa, ya, m))) return;
      for (let i = i0; i < n; i++) out[i] = 1 - 2 * Number(!(x[i] >= 0));
      return;
    case 'square': for (let i = i0; i < n; i++) { const v = x[i]; out[i] = v * v; } return;
    case 'reciprocal': for (let i = i0; i < n; i++) out[i] = 1 / x[i]; return;
  }
}

const GRAD_OPS: readonly GradOp[] = ['relu', 'clip', 'approxSign'];
/** The bits of 1.0f: |v| < 1 exactly where (bits(v) & 0x7fffffff) < ONE_BITS (NaN is above). */
const ONE_BITS = 0x3f800000;

export function activationGrad(op: GradOp, x: Float32Array, g: Float32Array, out: Float32Array): void {
  const n = out.length;
  const nChunks = chunksFor(8 * n, Math.ceil(n / MIN_CHUNK));
  if (nChunks < 2) return gradRange(op, x, g, out, 0, n);
  parallel('activationGrad', activationGradChunk, [{ a: x }, { a: g }, { a: out, out: true }], [GRAD_OPS.indexOf(op)], nChunks);
}

export function activationGradChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const [x, g, out] = arrays as Float32Array[];
  const [i0, i1] = chunkRange(out.length, c, nChunks, 16);
  gradRange(GRAD_OPS[params[0]], x, g, out, i0, i1);
}

/**
 * The masks work on the bits, without a branch (a test of the sign or of |x| mispredicts about every
 * other activation): all ones where the gradient passes, zero elsewhere.
 */
function gradRange(op: GradOp, x: Float32Array, g: Float32Array, out: Float32Array, i0: number, n: number): void {
  const code = GRAD_OPS.indexOf(op);
  if (n - i0 >= 64 && simdEnabled() && streamSimd([x, g], out, i0, n, (k, [xa, ga], ya, m) => k.gradMask(code, xa, ga, ya, m))) return;
  const xi = int32View(x), gi = int32View(g), oi = int32View(out);
  switch (op) {
    case 'relu': // x > 0: x's bits a positive int32
      for (let i = i0; i < n; i++) { const v = xi[i]; oi[i] = gi[i] & (((0 - v) | 0) >> 31) & ~(v >> 31); }
      return;
    case 'clip': // |x| <= 1
      for (let i = i0; i < n; i++) oi[i] = gi[i] & (((xi[i] & 0x7fffffff) - ONE_BITS - 1) >> 31);
      return;
    case 'approxSign': // g (2 - 2|x|), then +0 where |x| >= 1 (or NaN)
      for (let i = i0; i < n; i++) {
        out[i] = g[i] * (2 - 2 * Math.abs(x[i]));
        oi[i] &= ((xi[i] & 0x7fffffff) - ONE_BITS) >> 31;
      }
      return;
  }
}

/** The same memory as int32 (float bit patterns). */
function int32View(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
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
  if (a.length === n && (b.length === n || b.length === 1)) {
    const nChunks = chunksFor(8 * n, Math.ceil(n / MIN_CHUNK));
    if (nChunks < 2) return binaryRange(op, a, b, out, 0, n);
    parallel('binary', binaryChunk, [{ a }, { a: b }, { a: out, out: true }], [BINARY_OPS.indexOf(op)], nChunks);
    return;
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

export function binaryChunk(arrays: JobArray[], params: number[], c: number, nChunks: number): void {
  const [a, b, out] = arrays as Float32Array[];
  const [i0, i1] = chunkRange(out.length, c, nChunks, 16);
  binaryRange(BINARY_OPS[params[0]], a, b, out, i0, i1);
}

/** out[i] = a[i] (op) b[i] (or b[0] when b is a scalar) for i in [i0, n). */
function binaryRange(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, i0: number, n: number): void {
  const code = BINARY_OPS.indexOf(op);
  if (code < 4 && n - i0 >= 64 && simdEnabled()
    && streamSimd([a, b], out, i0, n, (k, [aa, ba], ya, m) => k.mapF32(code, aa, ba, ya, m, b.length === 1 ? 1 : 0))) return;
  if (b.length === a.length) {
    switch (op) {
      case 'add': for (let i = i0; i < n; i++) out[i] = a[i] + b[i]; return;
      case 'sub': for (let i = i0; i < n; i++) out[i] = a[i] - b[i]; return;
      case 'mul': for (let i = i0; i < n; i++) out[i] = a[i] * b[i]; return;
      case 'div': for (let i = i0; i < n; i++) out[i] = a[i] / b[i]; return;
      default: for (let i = i0; i < n; i++) out[i] = apply(op, a[i], b[i]); return;
    }
  }
  const s = b[0];
  switch (op) {
    case 'add': for (let i = i0; i < n; i++) out[i] = a[i] + s; return;
    case 'sub': for (let i = i0; i < n; i++) out[i] = a[i] - s; return;
    case 'mul': for (let i = i0; i < n; i++) out[i] = a[i] * s; return;
    case 'div': for (let i = i0; i < n; i++) out[i] = a[i] / s; return;
    default: for (let i = i0; i < n; i++) out[i] = apply(op, a[i], s); return;
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
