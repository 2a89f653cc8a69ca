/**
 * Elementwise work through the WebAssembly kernels of simd/stream.wat: values i0..i1 of the arrays in
 * blocks of SEG values (64 KB an array), each block copied into this thread's WebAssembly memory, run,
 * and copied back. The copies run at memory speed and a block stays in cache between them, where a
 * plain JavaScript loop over a Float32Array costs several ns a value (measured on this project's
 * 2-core machine: 3.6 ns an add, against 0.3 ns for copy, SIMD add, copy).
 */
import { simdHeap, type SimdKernels } from './simd/simd.js';

/** Values per array in one block (64 KB of float32): what every streaming SIMD caller copies at a time. */
export const SEG = 16384;
/** n rounded up to a multiple of 4 (the kernels' lanes). */
export const round4 = (n: number): number => (n + 3) & ~3;

/**
 * Runs `kernel(kernels, inputs' addresses, output's address, n)` over [i0, i1) in blocks (n: the
 * block's length rounded up to 4; the regions have room). An input of one value is a scalar: copied
 * once, at its region's start. The output may be one of the inputs (each block is read before it is
 * written). False, with nothing written, where this thread has no SIMD: the caller's loop runs.
 */
export function streamSimd(
  ins: readonly Float32Array[], out: Float32Array, i0: number, i1: number,
  kernel: (k: SimdKernels, inAt: number[], outAt: number, n: number) => void,
): boolean {
  const h = simdHeap(4 * SEG * (ins.length + 1));
  if (!h) return false;
  const { f32, kernels } = h;
  const at = ins.map((_, j) => 4 * SEG * j), outAt = 4 * SEG * ins.length;
  ins.forEach((a, j) => { if (a.length === 1) f32[at[j] >> 2] = a[0]; });
  for (let b = i0; b < i1; b += SEG) {
    const len = Math.min(SEG, i1 - b);
    ins.forEach((a, j) => { if (a.length !== 1) f32.set(a.subarray(b, b + len), at[j] >> 2); });
    kernel(kernels, at, outAt, round4(len));
    out.set(f32.subarray(outAt >> 2, (outAt >> 2) + len), b);
  }
  return true;
}

/**
 * y = x * scale[c] + shift[c] in float64 (then ReLU where `relu`) over planes q0..q1 of [*, C, HW]
 * (plane q is channel q % C), through simd/stream.wat `affine`, blocks of whole planes (each at a
 * stride of HW rounded up to 4): false where this thread has no SIMD.
 */
export function affinePlanesSimd(
  x: Float32Array, y: Float32Array, scale: ArrayLike<number>, shift: ArrayLike<number>, C: number, HW: number, relu: number, q0: number, q1: number,
): boolean {
  const HWs = round4(HW), per = Math.max(1, Math.floor(SEG / HWs)), Y = per * HWs, S = 2 * Y;
  const h = simdHeap(4 * S + 16 * per);
  if (!h) return false;
  const { f32, f64, kernels } = h;
  for (let b0 = q0; b0 < q1; b0 += per) {
    const b1 = Math.min(q1, b0 + per);
    if (HWs === HW) f32.set(x.subarray(b0 * HW, b1 * HW), 0);
    for (let q = b0; q < b1; q++) {
      if (HWs !== HW) f32.set(x.subarray(q * HW, (q + 1) * HW), (q - b0) * HWs);
      const c = q % C;
      f64[(S >> 1) + q - b0] = scale[c];
      f64[(S >> 1) + per + q - b0] = shift[c];
    }
    kernels.affine(0, 4 * Y, 4 * S, 4 * S + 8 * per, b1 - b0, HWs, relu);
    if (HWs === HW) y.set(f32.subarray(Y, Y + (b1 - b0) * HW), b0 * HW);
    else for (let q = b0; q < b1; q++) y.set(f32.subarray(Y + (q - b0) * HWs, Y + (q - b0) * HWs + HW), q * HW);
  }
  return true;
}
