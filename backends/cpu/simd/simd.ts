/**
 * The WebAssembly SIMD kernels of the CPU backend (the .wat files of this folder, assembled into module.ts): loading,
 * the switch, and the thread's private memory they work in.
 *
 * A SIMD kernel is an option of a TypeScript kernel, never a replacement: it computes the same values
 * in the same order (float64 arithmetic, rounded to float32 where the TypeScript kernel stores), so
 * outputs are bit-identical with the switch on or off (a NaN is a NaN, its sign and payload aside),
 * and the TypeScript kernel stays the reference.
 * The calling kernel copies its operands into this thread's WebAssembly memory, runs the kernel there
 * and copies the result out (whole planes: TypedArray.set, a memory copy).
 *
 * The switch: `setSimd(false)` (the CLI's --simd off), else CPNAS_SIMD (0, off, false or no: off),
 * else on wherever the engine validates the module (Node 20 and current browsers do; elsewhere the
 * TypeScript kernels run).
 * Each thread of threads.ts instantiates its own copy on first use; a job carries the caller's switch
 * to the workers (threads.ts).
 */
import { KERNELS_WASM_BASE64 } from './module.js';

export interface SimdKernels {
  packPixelWords(x: number, xw: number, C: number, HWs: number): void;
  pointwise(xw: number, wts: number, C: number, K: number, HWs: number, A: number, B: number, R: number, res: number, y: number, hasRes: number): void;
  maxPool(X: number, Y: number, T: number, geo: number, planes: number): void;
  gemmBlock(pa: number, pb: number, kc: number, mc: number, nc: number, cb: number, ldcb: number, tile: number): void;
  gemmBlockF32(pa: number, pb: number, bJ: number, bK: number, kc: number, mc: number, nc: number, cb: number, ldcb: number, tile: number): void;
  narrowF64(src: number, dst: number, n: number): void;
  dwCorrelate(plane: number, Wp: number, taps: number, offs: number, T: number, P: number, Q: number, out: number, zeroFirst: number, accumulate: number, wide: number): void;
  dwFilterGrad(plane: number, Wp: number, sh: number, sw: number, dy: number, P: number, Q: number, offs: number, T: number, acc: number, wide: number, planeN: number): void;
  maxPoolArg(X: number, Y: number, A: number, geo: number, planes: number, base: number): void;
  padPlane(raw: number, H: number, W: number, plane: number, Hp: number, Wp: number, ph: number, pw: number): void;
  packPanel(src: number, ld: number, laneMajor: number, dst: number, kc: number, lanes: number): void;
  mapF32(op: number, a: number, b: number, y: number, n: number, scalar: number): void;
  reluBits(x: number, y: number, n: number): void;
  signF32(x: number, y: number, n: number): void;
  gradMask(op: number, x: number, g: number, y: number, n: number): void;
  avgPool(X: number, Y: number, geo: number, planes: number): void;
  addF32(a: number, b: number, y: number, n: number): void;
  groupMean(x: number, gs: number, groups: number, inv: number, y: number, n: number): void;
  affine(x: number, y: number, scale: number, shift: number, planes: number, HWs: number, relu: number): void;
  bnSum(x: number, planes: number, HW: number, acc: number, mean: number, sq: number): void;
  bnGradSums(g: number, x: number, planes: number, HW: number, acc: number, coef: number): void;
  bnGradX(g: number, x: number, y: number, planes: number, HW: number, coef: number, count: number, batchStats: number): void;
  depthwise(X: number, Y: number, RES: number, SP: number, WM: number, A: number, B: number, R: number, geo: number, nc: number, hasRes: number): void;
}

/** `bytes` rounded up to a multiple of 16: where the callers lay out their regions (v128 alignment). */
export function align16(bytes: number): number {
  return (bytes + 15) & ~15;
}

/** A thread's instance: its exports and views of its memory (replaced when the memory grows). */
export interface SimdHeap {
  kernels: SimdKernels;
  f32: Float32Array;
  i32: Int32Array;
  u8: Uint8Array;
  f64: Float64Array;
}

/** The part of the WebAssembly API used here (the project's type libraries do not declare it). */
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

let wanted: boolean = envSimd() ?? true;
let heap: SimdHeap | null = null;
let memory: WasmMemory | null = null;
/** True once instantiating failed here (no SIMD in this engine): the TypeScript kernels run. */
let unavailable = false;

function envSimd(): boolean | undefined {
  const env = typeof process !== 'undefined' ? process.env?.CPNAS_SIMD : undefined;
  if (env === undefined || env === '') return undefined;
  return !['0', 'off', 'false', 'no'].includes(env.toLowerCase());
}

/** Turns the SIMD kernels on or off for this process (the next kernel call on). */
export function setSimd(on: boolean): void {
  wanted = on;
}

/** The switch as set (whether or not this engine has SIMD). */
export function simdWanted(): boolean {
  return wanted;
}

/** Whether kernel calls made now use the SIMD kernels (switched on and available here). */
export function simdEnabled(): boolean {
  return wanted && instance() !== null;
}

/** A new instance of the module and its own memory, or null where this engine has no SIMD. */
function instantiate(): { kernels: SimdKernels; memory: WasmMemory } | null {
  if (unavailable) return null;
  try {
    const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0));
    // compiled synchronously: a browser refuses that for large modules on its main thread (the search
    // runs in a Web Worker there); any failure leaves the TypeScript kernels
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    return { kernels: inst.exports as unknown as SimdKernels, memory: inst.exports.memory as WasmMemory };
  } catch {
    unavailable = true;
    return null;
  }
}

function instance(): SimdHeap | null {
  if (heap) return heap;
  const made = instantiate();
  if (!made) return null;
  memory = made.memory;
  heap = { kernels: made.kernels, f32: new Float32Array(memory.buffer), i32: new Int32Array(memory.buffer), u8: new Uint8Array(memory.buffer), f64: new Float64Array(memory.buffer) };
  return heap;
}

/**
 * An instance of its own with `bytes` of memory that never grows, so that views of it stay valid for
 * good (gemm.ts keeps its packing buffer there), or null where this engine has no SIMD. Made whatever
 * the switch says; the caller asks `simdWanted()` at each call.
 */
export function simdFixedInstance(bytes: number): { kernels: SimdKernels; buffer: ArrayBuffer } | null {
  const made = instantiate();
  if (!made) return null;
  const have = made.memory.buffer.byteLength;
  if (bytes > have) made.memory.grow(Math.ceil((bytes - have) / 65536));
  return { kernels: made.kernels, buffer: made.memory.buffer };
}

/**
 * This thread's instance with at least `bytes` bytes of memory, or null where SIMD is off, unavailable,
 * or the memory cannot grow that far (the caller then runs its TypeScript kernel: the same values).
 * Views taken before a call to this may be stale (the memory may have grown): take them after.
 */
export function simdHeap(bytes: number): SimdHeap | null {
  if (!wanted) return null;
  const h = instance();
  if (!h || !memory) return null;
  const have = memory.buffer.byteLength;
  if (bytes > have) {
    try {
      memory.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return null; // past what a 32-bit WebAssembly memory holds (4 GiB), or out of memory: the TypeScript kernel runs
    }
    h.f32 = new Float32Array(memory.buffer);
    h.i32 = new Int32Array(memory.buffer);
    h.u8 = new Uint8Array(memory.buffer);
    h.f64 = new Float64Array(memory.buffer);
  }
  return h;
}
