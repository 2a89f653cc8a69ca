/**
 * Movement ops: reshape, flatten, permute, transpose, slice, concat, pad. `reshape` and `flatten`
 * share the input's storage (a view, like PyTorch's); the others copy.
 */
import { allocFloat32, allocOutput, CpnasError, Tensor, attach, check, getBackend, shapeStr, sizeOf, stridesOf, type Shape } from '../core/index.js';

function normAxis(op: string, axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new CpnasError(op, `${what} ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}

/**
 * Copies the box of size `box` starting at `srcStart` in `src` (shape `srcShape`) to `dstStart` in
 * `dst` (shape `dstShape`). All shapes have the same rank; rows along the last axis copy in one go.
 */
function copyBox(
  src: Float32Array, srcShape: Shape, srcStart: readonly number[],
  dst: Float32Array, dstShape: Shape, dstStart: readonly number[], box: Shape,
): void {
  const rank = box.length;
  if (sizeOf(box) === 0) return;
  if (rank === 0) { dst[0] = src[0]; return; }
  const ss = stridesOf(srcShape), ds = stridesOf(dstShape);
  let so = 0, dof = 0;
  for (let d = 0; d < rank; d++) { so += srcStart[d] * ss[d]; dof += dstStart[d] * ds[d]; }
  // the trailing axes that the box covers whole in both tensors are contiguous: one row spans them
  // and the first axis before them (a channel range of NCHW copies as one block per image)
  let j = rank - 1, row = box[rank - 1];
  while (j > 0 && box[j] === srcShape[j] && box[j] === dstShape[j]) {
    j--;
    row *= box[j];
  }
  const outer = j; // axes [0, outer) are walked; axis `outer` is part of the row
  // walked axes d-1 and d step like one axis where d-1's strides are box[d] of d's in both tensors
  // (a crop of H then W of NCHW, DARTS's FactorizedReduce: N·C·H rows, one stride each)
  let merged = outer > 0 ? box[outer - 1] : 1;
  let first = outer - 1;
  while (first > 0 && ss[first - 1] === box[first] * ss[first] && ds[first - 1] === box[first] * ds[first]) {
    first--;
    merged *= box[first];
  }
  const be = getBackend();
  if (first <= 0 && be.copyRows) {
    // one walked axis (or none): rows at one stride in each tensor (a backend may spread them over threads)
    const step = outer > 0, sStride = step ? ss[outer - 1] : 0, dStride = step ? ds[outer - 1] : 0;
    be.copyRows(src, so, sStride, dst, dof, dStride, row, merged);
    return;
  }
  const idx = new Array<number>(Math.max(1, outer)).fill(0);
  const rows = sizeOf(box) / row;
  for (let r = 0; r < rows; r++) {
    if (row >= 64) dst.set(src.subarray(so, so + row), dof);
    else for (let i = 0; i < row; i++) dst[dof + i] = src[so + i];
    for (let d = outer - 1; d >= 0; d--) {
      idx[d]++;
      so += ss[d];
      dof += ds[d];
      if (idx[d] < box[d]) break;
      so -= ss[d] * box[d];
      dof -= ds[d] * box[d];
      idx[d] = 0;
    }
  }
}

/** The same values with a new shape; one dim may be -1 (inferred). Shares storage with `x`. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  let infer = -1, known = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === -1) {
      check(infer < 0, 'reshape', () => `only one dim may be -1 (x ${shapeStr(x.shape)}, shape ${shapeStr(shape)})`);
      infer = i;
    } else {
      check(Number.isInteger(d) && d >= 0, 'reshape', () => `invalid dim ${d} in shape ${shapeStr(shape)} (x ${shapeStr(x.shape)})`);
      known *= d;
    }
  }
  const out = [...shape];
  if (infer >= 0) {
    check(known > 0 && x.size % known === 0, 'reshape', () => `cannot infer the -1 dim: ${x.size} values do not split into ${shapeStr(shape)} (x ${shapeStr(x.shape)})`);
    out[infer] = x.size / known;
  } else {
    check(known === x.size, 'reshape', () => `x ${shapeStr(x.shape)} has ${x.size} values but shape ${shapeStr(shape)} needs ${known}`);
  }
  const y = new Tensor(x.data, out);
  return attach(y, 'reshape', [x], (g) => [g]);
}

/** Merges the dims from `startDim` to the last into one: [N, C, H, W] -> [N, C*H*W] by default. */
export function flatten(x: Tensor, startDim = 1): Tensor {
  const s = normAxis('flatten', startDim, x.rank, 'startDim');
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s))]);
}

/** Reorders the axes: output axis i is input axis perm[i]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const rank = x.rank;
  check(perm.length === rank, 'permute', () => `perm ${shapeStr(perm)} has ${perm.length} entries but x ${shapeStr(x.shape)} has rank ${rank}`);
  const p = perm.map((a) => normAxis('permute', a, rank));
  check(new Set(p).size === rank, 'permute', () => `perm ${shapeStr(perm)} repeats an axis (x ${shapeStr(x.shape)})`);
  const out = new Tensor(allocOutput(x.size), p.map((a) => x.shape[a]));
  permuteInto(x.data, x.shape, p, out.data);
  const inv = new Array<number>(rank);
  for (let i = 0; i < rank; i++) inv[p[i]] = i;
  return attach(out, 'permute', [x], (g) => {
    const r = allocOutput(x.size);
    permuteInto(g, out.shape, inv, r);
    return [r];
  });
}

function permuteInto(src: Float32Array, shape: Shape, perm: readonly number[], dst: Float32Array): void {
  const rank = shape.length;
  const n = src.length;
  if (n === 0) return;
  if (rank === 0) { dst[0] = src[0]; return; }
  const st = stridesOf(shape);
  const outShape = perm.map((a) => shape[a]);
  const ps = perm.map((a) => st[a]); // source stride of each output axis
  const inner = outShape[rank - 1], is = ps[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0, s = off; j < inner; j++, s += is) dst[o + j] = src[s];
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      off += ps[d];
      if (idx[d] < outShape[d]) break;
      off -= ps[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/** Swaps two axes (the last two by default). */
export function transpose(x: Tensor, d0 = -2, d1 = -1): Tensor {
  const a = normAxis('transpose', d0, x.rank), b = normAxis('transpose', d1, x.rank);
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/**
 * Elements start..end-1 along `axis` (negative start/end count from the end; end defaults to the
 * dim's size). Out-of-range bounds are an error, not clamped.
 */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const ax = normAxis('slice', axis, x.rank);
  const dim = x.shape[ax];
  const s = start < 0 ? start + dim : start;
  const e = end === undefined ? dim : end < 0 ? end + dim : end;
  check(Number.isInteger(s) && Number.isInteger(e) && s >= 0 && s <= e && e <= dim, 'slice',
    () => `range ${start}..${end ?? dim} is not inside axis ${ax} of size ${dim} (x ${shapeStr(x.shape)})`);
  const outShape = [...x.shape];
  outShape[ax] = e - s;
  const out = new Tensor(allocOutput(sizeOf(outShape)), outShape); // the box is the whole output
  const zero = new Array<number>(x.rank).fill(0);
  const at = zero.slice();
  at[ax] = s;
  copyBox(x.data, x.shape, at, out.data, outShape, zero, outShape);
  return attach(out, 'slice', [x], (g) => {
    const r = allocFloat32(x.size);
    copyBox(g, outShape, zero, r, x.shape, at, outShape);
    return [r];
  });
}

/** Joins tensors along `axis`; every other dim must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  check(tensors.length > 0, 'concat', () => 'needs at least one tensor');
  const first = tensors[0];
  const ax = normAxis('concat', axis, first.rank);
  const shapes = () => tensors.map((t) => shapeStr(t.shape)).join(', ');
  let total = 0;
  for (const t of tensors) {
    check(t.rank === first.rank, 'concat', () => `all tensors need rank ${first.rank}, got shapes ${shapes()}`);
    for (let d = 0; d < t.rank; d++) {
      check(d === ax || t.shape[d] === first.shape[d], 'concat',
        () => `dim ${d} differs (${t.shape[d]} vs ${first.shape[d]}) along a non-concatenated axis; shapes ${shapes()}, axis ${ax}`);
    }
    total += t.shape[ax];
  }
  const outShape = [...first.shape];
  outShape[ax] = total;
  const out = new Tensor(allocOutput(sizeOf(outShape)), outShape); // the boxes tile the output
  const zero = new Array<number>(first.rank).fill(0);
  const starts: number[] = [];
  let at = 0;
  for (const t of tensors) {
    const to = zero.slice();
    to[ax] = at;
    starts.push(at);
    copyBox(t.data, t.shape, zero, out.data, outShape, to, t.shape);
    at += t.shape[ax];
  }
  return attach(out, 'concat', [...tensors], (g) => tensors.map((t, i) => {
    if (!t.requiresGrad) return null;
    const r = allocOutput(t.size); // the box is the whole of t
    const from = zero.slice();
    from[ax] = starts[i];
    copyBox(g, outShape, from, r, t.shape, zero, t.shape);
    return r;
  }));
}

/**
 * Pads with a constant: `pads[i] = [before, after]`. With fewer pairs than dims, the pairs apply to
 * the trailing dims (`pad(x, [[1, 1], [1, 1]])` pads H and W of an NCHW tensor).
 */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  const rank = x.rank;
  check(pads.length <= rank, 'pad', () => `${pads.length} [before, after] pairs for x ${shapeStr(x.shape)} of rank ${rank}`);
  const lead = rank - pads.length;
  const before = new Array<number>(rank).fill(0);
  const outShape = [...x.shape];
  for (let i = 0; i < pads.length; i++) {
    const [b, a] = pads[i];
    check(Number.isInteger(b) && Number.isInteger(a) && b >= 0 && a >= 0, 'pad',
      () => `pads must be non-negative integers, got [${b},${a}] for dim ${lead + i} (x ${shapeStr(x.shape)})`);
    before[lead + i] = b;
    outShape[lead + i] += b + a;
  }
  const out = Tensor.full(outShape, value);
  const zero = new Array<number>(rank).fill(0);
  copyBox(x.data, x.shape, zero, out.data, outShape, before, x.shape);
  return attach(out, 'pad', [x], (g) => {
    const r = allocOutput(x.size); // the box is the whole of x
    copyBox(g, outShape, before, r, x.shape, zero, x.shape);
    return [r];
  });
}
