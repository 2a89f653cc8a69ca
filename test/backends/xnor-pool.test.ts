/**
 * The worker pool of the XNOR kernel (backends/cpu/xnor-pool.ts) with a kernel of its own: both
 * threads take chunks, and a worker that stalls is let go with every chunk still computed.
 */
import { describe, expect, it } from 'vitest';
import { runParallel, setXnorThreads, xnorThreadInfo } from '../../backends/cpu/xnor-pool.js';

/** The worker's kernel: out[c] = params[0] * (c + 1), unless params[1] says to hang (a stalled worker). */
function kernelSource(): string {
  return `function runChunk(shared, params, c, scratch) {
    if (params[1] === 1) for (;;) {}
    shared.out[c] = params[0] * (c + 1);
  }`;
}

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describe('xnor worker pool', () => {
  it('runs chunks on both threads, then lets a stalled worker go and finishes its chunks', async () => {
    setXnorThreads(2);
    const shared = { out: new Int32Array(new SharedArrayBuffer(4 * 64)) };
    const local = (scale: number) => (c: number) => {
      pause(5); // slow enough that the worker claims chunks too
      shared.out[c] = scale * (c + 1);
    };
    expect(runParallel(kernelSource, shared, [3, 0], 64, local(3))).toBe('parallel'); // starts the worker
    await new Promise((r) => setTimeout(r, 200));
    shared.out.fill(0);
    expect(runParallel(kernelSource, shared, [5, 0], 64, local(5))).toBe('parallel');
    expect(Array.from(shared.out)).toEqual(Array.from({ length: 64 }, (_, c) => 5 * (c + 1)));
    expect(xnorThreadInfo()).toEqual({ threads: 2, workerChunks: expect.any(Number) });
    expect(xnorThreadInfo().workerChunks).toBeGreaterThan(0);

    // another kernel does not get this worker
    expect(runParallel(() => 'function runChunk() {}', shared, [1, 0], 4, () => {})).toBe('unavailable');

    // the worker hangs inside its first chunk: after the stall timeout the caller computes it
    shared.out.fill(0);
    const t0 = Date.now();
    expect(runParallel(kernelSource, shared, [7, 1], 64, local(7))).toBe('abandoned');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(Array.from(shared.out)).toEqual(Array.from({ length: 64 }, (_, c) => 7 * (c + 1)));
    expect(xnorThreadInfo().threads).toBe(1);
    expect(runParallel(kernelSource, shared, [1, 0], 4, local(1))).toBe('unavailable');
  });
});
