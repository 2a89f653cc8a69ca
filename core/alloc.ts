/**
 * Storage for tensor data: `allocFloat32(n)` asks the active backend (a backend may hand out memory
 * its kernels work in best, e.g. the cpu backend's shared memory for its threads) and falls back to a
 * plain zero-filled Float32Array. Ops allocate their outputs and gradients through it.
 */
import { getBackend } from '../backends/registry.js';

export function allocFloat32(n: number): Float32Array {
  const b = getBackend();
  return b.allocFloat32 ? b.allocFloat32(n) : new Float32Array(n);
}
