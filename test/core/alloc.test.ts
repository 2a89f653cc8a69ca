/**
 * Tensor storage helpers (core/alloc.ts): fillFloat32 fills as TypedArray.fill does, on plain and on
 * shared memory; allocOutput may hand a released array out as it was, allocFloat32 always zero-filled.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { allocFloat32, allocOutput, fillFloat32, getBackend, releaseFloat32 } from '../../core/index.js';
import { getThreads, isShared, setThreads } from '../../backends/cpu/threads.js';

const initialThreads = getThreads();
afterEach(() => setThreads(initialThreads));

describe('fillFloat32', () => {
  it('writes what TypedArray.fill writes, on plain and shared arrays, for any range and value', () => {
    const values = fc.oneof(fc.constantFrom(0, -0, NaN, Infinity, 1.5), fc.double({ noNaN: true }));
    fc.assert(fc.property(fc.integer({ min: 0, max: 20_000 }), fc.nat(), fc.nat(), fc.array(values, { minLength: 1, maxLength: 3 }), fc.boolean(),
      (n, a, b, fills, shared) => {
        const start = n === 0 ? 0 : a % (n + 1), end = start + (n === 0 ? 0 : b % (n - start + 1));
        const got = shared ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float32Array(n);
        const want = new Float32Array(n);
        for (let i = 0; i < n; i++) got[i] = want[i] = i; // something to overwrite, and to keep
        for (const v of fills) { // several values in a row: the copy source follows the value
          expect(fillFloat32(got, v, start, end)).toBe(got);
          want.fill(v, start, end);
          expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
        }
      }), { numRuns: 60 });
  });
});

describe('fillFloat32 in a page without SharedArrayBuffer', () => {
  it('fills plain arrays (a page that is not cross-origin isolated has no SharedArrayBuffer global)', () => {
    vi.stubGlobal('SharedArrayBuffer', undefined);
    try {
      const a = new Float32Array(5000);
      expect(fillFloat32(a, 2.5, 10, 4990)).toBe(a);
      expect(a[9]).toBe(0);
      expect(a[10]).toBe(2.5);
      expect(a[4989]).toBe(2.5);
      expect(a[4990]).toBe(0);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('allocOutput', () => {
  it('may hand a released array out as it was; allocFloat32 always hands out zeros', () => {
    expect(getBackend().name).toBe('cpu');
    setThreads(2); // shared storage, as the kernels' threads use
    const n = 4096;
    const a = allocFloat32(n);
    expect(isShared(a)).toBe(true);
    a.fill(7);
    releaseFloat32(a);
    const b = allocOutput(n);
    expect(b).toBe(a);
    expect(b[0]).toBe(7);
    releaseFloat32(b);
    const c = allocFloat32(n);
    expect(c).toBe(a);
    expect(c.every((v) => v === 0)).toBe(true);
    // fresh storage is zero-filled either way
    expect(allocOutput(n + 1).every((v) => v === 0)).toBe(true);
  });
});
