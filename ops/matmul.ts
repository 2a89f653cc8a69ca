/**
 * Matrix products: `matmul` (2-D, or batched over leading dims that broadcast NumPy-style) and
 * `linear` (x · wᵀ + b, the fully connected layer). Forward and backward side by side; the kernel is
 * the backend's batched matmul, whose transpose flags spare every explicit transpose.
 */
import { allocFloat32, Tensor, attach, check, checkTensor, getBackend, shapeStr, sizeOf, type Shape } from '../core/index.js';

/**
 * For every batch of the output, the flat batch index it reads in an operand whose batch dims
 * broadcast to `outBatch` (aligned at the right, size-1 dims repeated).
 */
function batchIndices(batch: Shape, outBatch: Shape): Int32Array {
  const count = sizeOf(outBatch);
  const idx = new Int32Array(count);
  const lead = outBatch.length - batch.length;
  const coord = new Array<number>(outBatch.length).fill(0);
  for (let o = 0; o < count; o++) {
    let f = 0;
    for (let d = 0; d < batch.length; d++) f = f * batch[d] + (batch[d] === 1 ? 0 : coord[lead + d]);
    idx[o] = f;
    for (let d = outBatch.length - 1; d >= 0; d--) {
      if (++coord[d] < outBatch[d]) break;
      coord[d] = 0;
    }
  }
  return idx;
}

/** The element stride between consecutive batches when `idx` is 0, 1, 2, ... or all 0; else -1. */
function uniformStride(idx: Int32Array, matSize: number): number {
  let all0 = true, iota = true;
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] !== 0) all0 = false;
    if (idx[i] !== i) iota = false;
  }
  return all0 ? 0 : iota ? matSize : -1;
}

/**
 * out[o] = op(A[aIdx[o]]) · op(B[bIdx[o]]) for every output batch o: one backend call when the indices
 * are regular, one call per batch otherwise. A is M x K (K x M when transA), B is K x N (N x K when transB).
 */
function batchedProduct(
  a: Float32Array, aIdx: Int32Array, b: Float32Array, bIdx: Int32Array, out: Float32Array,
  M: number, K: number, N: number, transA: boolean, transB: boolean,
): void {
  const be = getBackend();
  const count = aIdx.length, aSize = M * K, bSize = K * N, oSize = M * N;
  const sa = uniformStride(aIdx, aSize), sb = uniformStride(bIdx, bSize);
  if (sa === aSize && sb === 0 && !transA && count > 1) {
    // a stack of A's times one B: a single product with the batches stacked as rows
    be.matmul(a, b, out, 1, count * M, K, N, false, transB, 0, 0);
  } else if (sa >= 0 && sb >= 0) {
    be.matmul(a, b, out, count, M, K, N, transA, transB, sa, sb);
  } else {
    for (let o = 0; o < count; o++) {
      be.matmul(
        a.subarray(aIdx[o] * aSize, (aIdx[o] + 1) * aSize), b.subarray(bIdx[o] * bSize, (bIdx[o] + 1) * bSize),
        out.subarray(o * oSize, (o + 1) * oSize), 1, M, K, N, transA, transB, 0, 0,
      );
    }
  }
}

/** Sums the per-output-batch gradients `full` into an operand's own batches (undoing broadcasting). */
function reduceBatches(full: Float32Array, idx: Int32Array, batches: number, matSize: number): Float32Array {
  if (idx.length === batches && uniformStride(idx, matSize) === matSize) return full;
  const out = allocFloat32(batches * matSize);
  for (let o = 0; o < idx.length; o++) {
    const src = o * matSize, dst = idx[o] * matSize;
    for (let i = 0; i < matSize; i++) out[dst + i] += full[src + i];
  }
  return out;
}

/**
 * Matrix product of a [..., M, K] and b [..., K, N] -> [..., M, N]; the leading (batch) dims broadcast
 * against each other.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor('matmul', 'a', a);
  checkTensor('matmul', 'b', b);
  const shapes = (): string => `(${shapeStr(a.shape)} vs ${shapeStr(b.shape)})`;
  check(a.rank >= 2, 'matmul', () => `a must have at least 2 dims [..., M, K], got rank ${a.rank} ${shapes()}`);
  check(b.rank >= 2, 'matmul', () => `b must have at least 2 dims [..., K, N], got rank ${b.rank} ${shapes()}`);
  const M = a.shape[a.rank - 2], K = a.shape[a.rank - 1], K2 = b.shape[b.rank - 2], N = b.shape[b.rank - 1];
  check(K === K2, 'matmul', () => `a has ${K} columns but b has ${K2} rows ${shapes()}`);
  const aBatch = a.shape.slice(0, -2), bBatch = b.shape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const outBatch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = aBatch[aBatch.length - rank + i] ?? 1, db = bBatch[bBatch.length - rank + i] ?? 1;
    check(da === db || da === 1 || db === 1, 'matmul',
      () => `batch dims ${shapeStr(aBatch)} and ${shapeStr(bBatch)} do not broadcast ${shapes()}`);
    outBatch.push(da === 1 ? db : da);
  }
  const aIdx = batchIndices(aBatch, outBatch), bIdx = batchIndices(bBatch, outBatch);
  const out = Tensor.zeros([...outBatch, M, N]);
  batchedProduct(a.data, aIdx, b.data, bIdx, out.data, M, K, N, false, false);

  return attach(out, 'matmul', [a, b], (g) => {
    const count = aIdx.length;
    let da: Float32Array | null = null, db: Float32Array | null = null;
    if (a.requiresGrad) {
      // dA = dC · Bᵀ
      const full = allocFloat32(count * M * K);
      batchedProduct(g, iota(count), b.data, bIdx, full, M, N, K, false, true);
      da = reduceBatches(full, aIdx, sizeOf(aBatch), M * K);
    }
    if (b.requiresGrad) {
      const bCount = sizeOf(bBatch);
      if (bCount === 1 && uniformStride(aIdx, M * K) === M * K && count > 1) {
        // one B shared by a stack of A's: dB = Σ_o A[o]ᵀ · dC[o], one product over the stacked rows
        db = new Float32Array(K * N);
        getBackend().matmul(a.data, g, db, 1, K, count * M, N, true, false, 0, 0);
      } else {
        // dB = Aᵀ · dC
        const full = allocFloat32(count * K * N);
        batchedProduct(a.data, aIdx, g, iota(count), full, K, M, N, true, false);
        db = reduceBatches(full, bIdx, bCount, K * N);
      }
    }
    return [da, db];
  });
}

function iota(n: number): Int32Array {
  const r = new Int32Array(n);
  for (let i = 0; i < n; i++) r[i] = i;
  return r;
}

/**
 * The fully connected layer: y = x · wᵀ + b for x [..., in], w [out, in], b [out] (optional);
 * y is [..., out].
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  checkTensor('linear', 'x', x);
  checkTensor('linear', 'weight', w);
  const shapes = (): string => `(${shapeStr(x.shape)} vs ${shapeStr(w.shape)})`;
  check(w.rank === 2, 'linear', () => `weight must be 2-D [out,in], got rank ${w.rank} ${shapes()}`);
  check(x.rank >= 1, 'linear', () => `input must have a feature dim [..., in], got a scalar ${shapes()}`);
  const [outF, inF] = w.shape;
  const xin = x.shape[x.rank - 1];
  check(xin === inF, 'linear', () => `input has ${xin} features, weight expects ${inF} ${shapes()}`);
  if (b) {
    check(b.rank === 1 && b.shape[0] === outF, 'linear',
      () => `bias must have shape [${outF}], got ${shapeStr(b.shape)} ${shapes()}`);
  }
  const rows = inF === 0 ? sizeOf(x.shape.slice(0, -1)) : x.size / inF;
  const y = Tensor.zeros([...x.shape.slice(0, -1), outF]);
  getBackend().matmul(x.data, w.data, y.data, 1, rows, inF, outF, false, true, 0, 0);
  if (b) {
    const bd = b.data, yd = y.data;
    for (let r = 0; r < rows; r++) for (let j = 0; j < outF; j++) yd[r * outF + j] += bd[j];
  }

  const parents = b ? [x, w, b] : [x, w];
  return attach(y, 'linear', parents, (g) => {
    const be = getBackend();
    let dx: Float32Array | null = null, dw: Float32Array | null = null, db: Float32Array | null = null;
    if (x.requiresGrad) {
      // dx = dy · w
      dx = allocFloat32(x.size);
      be.matmul(g, w.data, dx, 1, rows, outF, inF, false, false, 0, 0);
    }
    if (w.requiresGrad) {
      // dw = dyᵀ · x
      dw = allocFloat32(w.size);
      be.matmul(g, x.data, dw, 1, outF, rows, inF, true, false, 0, 0);
    }
    if (b?.requiresGrad) {
      db = new Float32Array(outF);
      for (let r = 0; r < rows; r++) for (let j = 0; j < outF; j++) db[j] += g[r * outF + j];
    }
    return b ? [dx, dw, db] : [dx, dw];
  });
}
