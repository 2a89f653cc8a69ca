/** Shapes, strides and NumPy broadcasting. */
import { CpnasError, shapeStr } from './errors.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-contiguous) strides. */
export function stridesOf(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i];
  }
  return st;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy broadcasting: align at the right; each pair of dims must be equal or one of them 1. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new CpnasError(op, `shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast (dim ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalizes axes (negative counts from the end), sorted and unique; undefined means all axes. */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = new Set<number>();
  for (const a of list) {
    const ax = a < 0 ? a + rank : a;
    if (!Number.isInteger(ax) || ax < 0 || ax >= rank) {
      throw new CpnasError(op, `axis ${a} is out of range for a tensor of rank ${rank}`);
    }
    out.add(ax);
  }
  return [...out].sort((x, y) => x - y);
}

/** The shape after reducing `axes`, with or without the reduced dims kept as 1. */
export function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      if (keepDims) out.push(1);
    } else out.push(shape[i]);
  }
  return out;
}

/** The most values one tensor may hold (2^31 - 1 floats, 8 GiB): larger shapes are refused by name. */
export const MAX_TENSOR_SIZE = 2 ** 31 - 1;

export function assertValidShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape)) throw new CpnasError(op, `a shape must be an array of sizes, got ${shape === null ? 'null' : typeof shape}`);
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new CpnasError(op, `invalid shape ${shapeStr(shape)}`);
    size *= d;
  }
  if (size > MAX_TENSOR_SIZE) {
    throw new CpnasError(op, `shape ${shapeStr(shape)} holds ${size.toExponential(2)} values, more than one tensor may hold (${MAX_TENSOR_SIZE}, 8 GiB of floats)`);
  }
}

/** A zeroed Float32Array of n values; a failed allocation (out of memory) is a CpnasError naming the shape. */
export function allocFloats(op: string, shape: Shape, alloc: (n: number) => Float32Array = (n) => new Float32Array(n)): Float32Array {
  assertValidShape(op, shape);
  const n = sizeOf(shape);
  try {
    return alloc(n);
  } catch (e) {
    if (e instanceof RangeError) throw new CpnasError(op, `cannot allocate ${n} floats (${(n * 4 / 2 ** 30).toFixed(2)} GiB) for shape ${shapeStr(shape)}: out of memory`);
    throw e;
  }
}
