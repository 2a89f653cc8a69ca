/**
 * The browser build's stand-in for threads.ts (examples/browser/build.mjs swaps a file for its
 * `.browser.ts` sibling): a page has no node:worker_threads, so every kernel call runs its chunks on the
 * calling thread, in the same order, giving the same values as one thread under Node. Same exports as
 * threads.ts (test/browser/imports.test.ts checks it); the web page runs the search in a Web Worker, so
 * the page itself stays responsive.
 */

/** Arrays a job may carry. */
export type JobArray = Float32Array | Int32Array;

/** What a chunk function receives: the job's arrays and integer parameters, and its chunk range. */
export type ChunkFn = (arrays: JobArray[], params: number[], chunk: number, nChunks: number) => void;

/** Marks an argument of `parallel` (written / read-and-written; unused here: nothing is staged). */
export interface JobArg {
  a: JobArray;
  out?: boolean;
  inout?: boolean;
}

/** Always 1 in a page. */
export function getThreads(): number {
  return 1;
}

/** Accepts the same values as under Node; a page keeps one thread. Returns the previous setting (1). */
export function setThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setThreads: the thread count must be an integer >= 1, got ${n}`);
  return 1;
}

export function threadInfo(): { threads: number; running: boolean; workerChunks: number; failure: string | null } {
  return { threads: 1, running: false, workerChunks: 0, failure: null };
}

/** No pool to wait for. */
export function waitForThreads(_timeoutMs = 30_000): boolean {
  return false;
}

export function shutdownThreads(): void {}

export function isShared(a: JobArray): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
}

/** Zero-filled ordinary storage (no thread reads it; nothing is reused, so `zeroed` changes nothing). */
export function allocFloat32(n: number, _zeroed = true): Float32Array {
  return new Float32Array(n);
}

/** Keeps nothing in a page (same export as threads.ts). */
export function releaseFloat32(_a: Float32Array): void {}

/** a[start, end) = value (a page has no shared memory here: a plain fill). */
export function fillShared(a: Float32Array, value: number, start = 0, end = a.length): Float32Array {
  return a.fill(value, start, end);
}

/** Zeros `a` (a page has no shared memory here: a plain fill). */
export function clearShared(a: Float32Array): Float32Array {
  return a.fill(0);
}

/** Same export as threads.ts (nothing is kept here). */
export const releaseSettings = { keepBytes: 0 };

/** Scratch of at least n floats (ordinary memory: one thread needs no sharing). */
export function threadScratch(buf: Float32Array, n: number): Float32Array {
  return growShared(buf, n);
}

/** A Float32Array of at least n floats (ordinary memory: one thread needs no sharing). */
export function growShared(buf: Float32Array, n: number): Float32Array {
  return buf.length >= n ? buf : new Float32Array(Math.max(n, Math.ceil(buf.length * 1.5)));
}

/** Runs chunks 0..nChunks-1 on this thread, in order. */
export function parallel(_name: string, fn: ChunkFn, args: JobArg[], params: number[], nChunks: number): void {
  const arrays = args.map((x) => x.a);
  for (let c = 0; c < nChunks; c++) fn(arrays, params, c, nChunks);
}

/** Kept for code that reads or sets them; one thread never splits a call. */
export const threadSettings = {
  minWork: 1 << 19,
  backoffCalls: 8,
  wakeMs: 2,
  spinMs: 1,
};

/** Same export as threads.ts: polls ctrl[slot] while `waiting(value)` holds, for at most `ms` ms. */
export function spinWhile(ctrl: Int32Array, slot: number, waiting: (v: number) => boolean, ms: number): number {
  let v = Atomics.load(ctrl, slot);
  const end = performance.now() + ms;
  while (ms > 0 && waiting(v) && performance.now() <= end) v = Atomics.load(ctrl, slot);
  return v;
}

/** No pool: no timing ever says to back off. */
export function coresLookBusy(_mine: number, _nChunks: number, _mineMs: number, _totalMs: number): boolean {
  return false;
}

export function chunksFor(_work: number, _units: number): number {
  return 1;
}

export function chunkCount(_units: number, _minUnits = 1): number {
  return 1;
}

/** [start, end) of chunk c when `units` are cut into nChunks near-equal ranges, each a multiple of `align` but the last. */
export function chunkRange(units: number, c: number, nChunks: number, align = 1): [number, number] {
  const blocks = Math.ceil(units / align);
  const b0 = Math.floor((blocks * c) / nChunks), b1 = Math.floor((blocks * (c + 1)) / nChunks);
  return [Math.min(units, b0 * align), Math.min(units, b1 * align)];
}

/** The worker side of the pool does not exist in a page. */
export function serveJobs(): never {
  throw new Error('serveJobs: the browser build has no worker threads');
}
