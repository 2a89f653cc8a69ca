/**
 * Storage for tensor data: `allocFloat32(n)` asks the active backend (a backend may hand out memory
 * its kernels work in best, e.g. the cpu backend's shared memory for its threads) and falls back to a
 * plain zero-filled Float32Array. Ops allocate their outputs and gradients through it.
 *
 * `releaseFloat32(a)` hands storage that nothing references any more back to the backend, which may
 * give it out again (zero-filled) instead of fresh memory: a fresh array costs the operating system a
 * page fault and a page clear per 4 KB on first touch, and on this project's 2-core machine a Parent
 * train step spent about a fifth of its CPU time there on 2 threads (`perf`: clear_page, page faults).
 * Only autograd releases, and only gradients it allocated itself and has consumed (autograd.ts).
 * `storageSettings.reuseGradients = false` turns that off (the values never depend on it).
 */
import { getBackend } from '../backends/registry.js';

export const storageSettings = {
  /** Autograd hands its consumed gradients back for reuse (see the header). */
  reuseGradients: true,
};

/** Arrays allocated while a backward pass tracks them (autograd.ts), else null. */
let tracked: WeakSet<Float32Array> | null = null;

export function allocFloat32(n: number): Float32Array {
  const b = getBackend();
  const a = b.allocFloat32 ? b.allocFloat32(n) : new Float32Array(n);
  tracked?.add(a);
  return a;
}

/**
 * Storage for n floats that the caller overwrites whole before anything reads it: the output of a
 * backend kernel (every kernel writes its whole output, backends/backend.ts). A reused array is handed
 * out as it was, not zero-filled first: zeroing the arrays a Parent train step reuses took about 5 %
 * of its main thread on 2 threads. Fresh memory is zero-filled as ever.
 */
export function allocOutput(n: number): Float32Array {
  const b = getBackend();
  const a = b.allocFloat32 ? b.allocFloat32(n, false) : new Float32Array(n);
  tracked?.add(a);
  return a;
}

/**
 * a[start, end) = value, as TypedArray.fill. Shared memory (the cpu backend's storage on threads)
 * goes to the backend's `fill`: TypedArray.fill on a SharedArrayBuffer stores element by element (V8
 * keeps every store to shared memory a relaxed atomic), and the cpu backend copies from a plain array
 * of the value instead, on its threads for a long run (262,144 floats: 0.13-0.15 ms to fill, 0.066 ms
 * to copy on one thread of the project's 2-core machine, Node 20). Returns `a`.
 */
export function fillFloat32(a: Float32Array, value: number, start = 0, end = a.length): Float32Array {
  // (a page that is not cross-origin isolated has no SharedArrayBuffer at all)
  const shared = typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
  const be = getBackend();
  if (end - start < 1024 || !shared || !be.fill) return a.fill(value, start, end);
  be.fill(a, value, start, end);
  return a;
}

/** Storage nothing references any more, for the backend to reuse (a no-op where it keeps none). */
export function releaseFloat32(a: Float32Array): void {
  getBackend().releaseFloat32?.(a);
}

/** Records every array allocFloat32 hands out into `set` (null: stops); returns the previous set. */
export function trackAllocations(set: WeakSet<Float32Array> | null): WeakSet<Float32Array> | null {
  const prev = tracked;
  tracked = set;
  return prev;
}
