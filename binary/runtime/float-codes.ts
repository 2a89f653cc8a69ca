/**
 * The lossy float storages of a Child file (format.ts, `cpnas export --floats f16|q8`): how a float32
 * array becomes fewer bytes and how the reader widens it back to float32.
 *
 * - f16: IEEE half floats, rounded to nearest even (2 bytes a value).
 * - q8: 8-bit codes on one affine grid per array, v = lo + q·step with q in 0..255 and lo, step
 *   float32 (1 byte a value): linear ("asymmetric", min/max) quantization as in Jacob et al., CVPR
 *   2018, "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only
 *   Inference", and TensorFlow Lite's per-tensor scheme, with float32 (not integer) zero point lo.
 *   lo is the array's least value, step = (max − lo)/255 as a float32, and each value takes the code
 *   whose grid point is nearest, so every decoded value lies within step/2 of its original (up to the
 *   float32 rounding of the grid point). A constant array is its one value (step 0, no codes).
 *
 * An array that does not fit a storage (a value outside the half range; any NaN or ±Infinity for q8)
 * stays float32: exact, never clipped.
 */

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);

/** The half-float bits of v, rounded to nearest even; null when v is outside the half range (or NaN). */
export function toHalfBits(v: number): number | null {
  f32[0] = v;
  const x = u32[0], sign = (x >>> 16) & 0x8000, exp = (x >>> 23) & 0xff, man = x & 0x7fffff;
  if (exp === 0xff) return null; // Inf, NaN
  const e = exp - 127 + 15;
  if (e >= 31) return null;
  if (e <= 0) { // subnormal half (or zero)
    if (e < -10) return sign;
    const m = man | 0x800000, shift = 14 - e, half = m >>> shift, rest = m & ((1 << shift) - 1), mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (man >>> 13), rest = man & 0x1fff;
  const rounded = half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0);
  return rounded >= 0x7c00 ? null : sign | rounded;
}

/** The value of half-float bits h. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >>> 10) & 0x1f, man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 31) return man ? NaN : sign * Infinity;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

/** The half bits of every value of a, or null when one does not fit. */
export function halfArray(a: Float32Array): Uint16Array | null {
  const out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const h = toHalfBits(a[i]);
    if (h === null) return null;
    out[i] = h;
  }
  return out;
}

/**
 * The shortest decimal text of the float32 value v that reads back as v through Math.fround: how a
 * q8 grid's lo and step are written in the file's JSON (0.1, not 0.10000000149011612). Nine
 * significant digits always suffice for a float32.
 */
export function float32Text(v: number): number {
  for (let p = 1; p <= 9; p++) {
    const x = Number(v.toPrecision(p));
    if (Math.fround(x) === v) return x;
  }
  return v;
}

/** An array as q8: its codes (none when step is 0), and the grid lo + q·step. */
export interface Q8Array {
  codes: Uint8Array;
  lo: number;
  step: number;
}

/** The value of code q on the grid (lo, step), as the reader computes it: a float32. */
export const fromQ8 = (lo: number, step: number, q: number): number => Math.fround(lo + q * step);

/** a as q8 (see the file comment), or null when a holds a NaN or an infinity, or its range is too narrow for a float32 step. */
export function quantizeQ8(a: Float32Array): Q8Array | null {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isFinite(v)) return null;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (a.length === 0) return { codes: new Uint8Array(0), lo: 0, step: 0 };
  if (lo === hi) return { codes: new Uint8Array(0), lo, step: 0 };
  const step = Math.fround((hi - lo) / 255);
  if (step === 0) return null; // a range of a few subnormals: no float32 step spans it
  const codes = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    let q = Math.min(255, Math.max(0, Math.round((v - lo) / step)));
    // the grid points are rounded to float32: a neighbour's can be the nearer one
    if (q > 0 && Math.abs(fromQ8(lo, step, q - 1) - v) < Math.abs(fromQ8(lo, step, q) - v)) q--;
    else if (q < 255 && Math.abs(fromQ8(lo, step, q + 1) - v) < Math.abs(fromQ8(lo, step, q) - v)) q++;
    codes[i] = q;
  }
  return { codes, lo, step };
}
