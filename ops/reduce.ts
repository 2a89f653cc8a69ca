/**
 * Reductions over axes: sum, mean, max. `axes` is one axis, a list, or undefined for all axes
 * (negative axes count from the end); `keepDims` keeps the reduced axes as size 1.
 */
import {
  allocFloat32, allocOutput, fillFloat32, Tensor, attach, check, getBackend, shapeStr, normalizeAxes, reducedShape, sizeOf, stridesOf, type Shape,
} from '../core/index.js';

export type Axes = number | readonly number[] | undefined;

/**
 * expandReduced where the axes are one run (a..b, in any order): x is [outer, red, inner] and g
 * [outer, inner], so every (o, r) block of `inner` values is a copy of g's row o (a fill where inner
 * is 1). A channel-group mean (the Bi-Real shortcut, [N, groups, C, H, W] over axis 1) then costs a
 * few block copies instead of a loop per row of W values. False (nothing written) for other axes.
 */
function expandRun(g: Float32Array, xShape: Shape, axes: readonly number[], out: Float32Array): boolean {
  const lo = Math.min(...axes), hi = Math.max(...axes);
  if (hi - lo + 1 !== new Set(axes).size) return false;
  let outer = 1, red = 1, inner = 1;
  xShape.forEach((d, i) => {
    if (i < lo) outer *= d;
    else if (i <= hi) red *= d;
    else inner *= d;
  });
  for (let o = 0; o < outer; o++) {
    if (inner === 1) {
      fillFloat32(out, g[o], o * red, (o + 1) * red);
      continue;
    }
    const row = g.subarray(o * inner, (o + 1) * inner);
    for (let r = 0; r < red; r++) out.set(row, (o * red + r) * inner);
  }
  return true;
}

/**
 * Broadcasts `g`, laid out as `x` reduced over `axes` (kept or not: same data), back to `xShape`:
 * the backward of every reduction.
 */
export function expandReduced(g: Float32Array, xShape: Shape, axes: readonly number[]): Float32Array {
  const n = sizeOf(xShape);
  const out = allocOutput(n); // every value is written below
  const rank = xShape.length;
  if (rank > 0 && axes.length > 0 && expandRun(g, xShape, axes, out)) return out;
  // strides of the reduced array viewed in x's rank (0 along the reduced axes)
  const kept = reducedShape(xShape, axes, true);
  const ks = stridesOf(kept);
  for (const a of axes) ks[a] = 0;
  if (rank === 0) { out[0] = g[0]; return out; }
  const inner = xShape[rank - 1], innerStride = ks[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let o = 0; o < n; o += inner) {
    if (innerStride === 0) fillFloat32(out, g[off], o, o + inner);
    else for (let j = 0; j < inner; j++) out[o + j] = g[off + j];
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      off += ks[d];
      if (idx[d] < xShape[d]) break;
      off -= ks[d] * xShape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Sum over `axes` (all by default). */
export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const ax = normalizeAxes('sum', axes, x.rank);
  const out = Tensor.zeros(reducedShape(x.shape, ax, keepDims));
  getBackend().sum(x.data, x.shape, ax, out.data);
  return attach(out, 'sum', [x], (g) => [expandReduced(g, x.shape, ax)]);
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const ax = normalizeAxes('mean', axes, x.rank);
  const out = Tensor.zeros(reducedShape(x.shape, ax, keepDims));
  let count = 1;
  for (const a of ax) count *= x.shape[a];
  const be = getBackend();
  be.sum(x.data, x.shape, ax, out.data);
  const scale = Float32Array.of(1 / count);
  be.binary('mul', out.data, out.shape, scale, [], out.data, out.shape);
  return attach(out, 'mean', [x], (g) => {
    const r = expandReduced(g, x.shape, ax);
    be.binary('mul', r, x.shape, scale, [], r, x.shape);
    return [r];
  });
}

/** Max over `axes` (all by default). The gradient goes to the first maximum of each group. */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const ax = normalizeAxes('max', axes, x.rank);
  for (const a of ax) {
    check(x.shape[a] > 0, 'max', () => `cannot take the max over axis ${a} of size 0 (x ${shapeStr(x.shape)})`);
  }
  const out = Tensor.zeros(reducedShape(x.shape, ax, keepDims));
  const argmax = new Int32Array(out.size);
  getBackend().max(x.data, x.shape, ax, out.data, argmax);
  return attach(out, 'max', [x], (g) => {
    const r = allocFloat32(x.size);
    for (let o = 0; o < argmax.length; o++) r[argmax[o]] += g[o];
    return [r];
  });
}
