/**
 * A second thread for the XNOR-popcount convolution (xnor.ts): a large call is cut into chunks that
 * the calling thread and one worker thread take from a shared counter (work stealing over
 * SharedArrayBuffers). The caller blocks in Atomics.wait until every chunk is done, so the kernel
 * stays synchronous, as the Backend interface wants.
 *
 * The worker runs a kernel given as source text (`kernelSource` must define
 * `function runChunk(shared, params, chunk, scratch)`, using nothing but its own helpers and Math):
 * `shared` is the object of SharedArrayBuffer-backed arrays last handed to `runParallel`, `params`
 * the job's integers, `scratch` an object of the worker's own that runChunk may keep buffers in.
 *
 * Robustness:
 * - the counter holds (job tag << 16) | next chunk and a chunk is claimed by compare-and-swap only
 *   while the tag is the current job's, so a worker that wakes late never takes a chunk of a later
 *   job with stale settings;
 * - if the worker stops making progress (it died, or the machine starves it) the caller computes the
 *   chunks still missing itself and the pool is switched off (until `setXnorThreads(2)`);
 *   `runParallel` then returns 'abandoned' and the caller must not reuse the shared arrays (a
 *   stalled worker may still write into them);
 * - when the other core is busy (the machine is shared), a worker that gets little CPU time makes
 *   the caller wait for its chunks, or takes none: a call where the worker took no chunk, or that
 *   took longer than the caller's own pace would have taken alone, makes the next BACKOFF_CALLS
 *   calls run on one thread, and then two are tried again;
 * - the worker and its port are unref'd: they never keep the process alive.
 *
 * One worker at most (the machines this targets have two cores); `setXnorThreads(1)` or
 * CPNAS_XNOR_THREADS=1 keeps every call on the calling thread.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';

/** Chunks per job at most (the done flags are preallocated). */
export const MAX_CHUNKS = 256;
/** Integers per job at most. */
const MAX_PARAMS = 32;
/** No progress from the worker for this long: it is considered dead. */
const STALL_MS = 2000;
/** Calls kept on one thread after a call that two threads made slower. */
const BACKOFF_CALLS = 8;

// slots of the control array
const SEQ = 0, NEXT = 1, DONE = 2, BROKEN = 3, NCHUNKS = 4, NPARAMS = 5;
/** Chunks the worker has computed since it started (for tests and the bench). */
const WORKER_CHUNKS = 6;
const PARAMS = 8;

interface Pool {
  worker: Worker;
  port: MessagePort;
  ctrl: Int32Array;
  /** doneFlags[c] = 1 once chunk c of the current job is written. */
  doneFlags: Int32Array;
  /** The shared-arrays object the worker holds now. */
  sent: object | null;
  /** The kernel the worker runs (one per process: the first one asked for). */
  kernel: () => string;
}

let pool: Pool | null | undefined; // undefined: not tried yet; null: one thread
let threadsWanted = defaultThreads();
/** Calls still to run on one thread (see BACKOFF_CALLS). */
let backoff = 0;

function defaultThreads(): number {
  const env = typeof process !== 'undefined' ? process.env.CPNAS_XNOR_THREADS : undefined;
  if (env !== undefined && env !== '') return Math.max(1, Math.floor(Number(env)) || 1);
  return Math.min(2, availableParallelism());
}

/** Threads that large calls use (1 or 2) and the chunks the worker has computed so far. */
export function xnorThreadInfo(): { threads: number; workerChunks: number } {
  if (pool) return { threads: 2, workerChunks: Atomics.load(pool.ctrl, WORKER_CHUNKS) };
  // not started yet: the first large call starts it
  return { threads: threadsWanted >= 2 && pool === undefined ? 2 : 1, workerChunks: 0 };
}

/** Sets how many threads large xnorConv2d calls use (1 or 2); returns the previous setting. */
export function setXnorThreads(n: number): number {
  const prev = threadsWanted;
  threadsWanted = n >= 2 ? 2 : 1;
  if (threadsWanted === 1) stopPool();
  else if (pool === null) pool = undefined; // try again
  return prev;
}

/** Whether this call may use a second thread (the pool may still have to start). */
export function parallelWanted(): boolean {
  if (threadsWanted < 2 || pool === null) return false;
  if (backoff > 0) {
    backoff--;
    return false;
  }
  return true;
}

function stopPool(): void {
  if (pool) {
    Atomics.store(pool.ctrl, BROKEN, 1);
    Atomics.notify(pool.ctrl, SEQ);
    void pool.worker.terminate();
  }
  pool = threadsWanted >= 2 ? undefined : null;
}

/** The worker's program: the kernel's source and a job loop. */
function workerProgram(kernelSource: string): string {
  return `'use strict';
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
${kernelSource}
const [SEQ, NEXT, DONE, BROKEN, NCHUNKS, NPARAMS, WORKER_CHUNKS, PARAMS] = [${[SEQ, NEXT, DONE, BROKEN, NCHUNKS, NPARAMS, WORKER_CHUNKS, PARAMS].join(', ')}];
const { ctrl, doneFlags, port } = workerData;
const scratch = {};
let shared = null, seen = Atomics.load(ctrl, SEQ);
try {
  for (;;) {
    Atomics.wait(ctrl, SEQ, seen);
    seen = Atomics.load(ctrl, SEQ);
    if (Atomics.load(ctrl, BROKEN)) break;
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) shared = m.message;
    const tag = seen & 0x7fff, nChunks = ctrl[NCHUNKS];
    const params = Array.from(ctrl.subarray(PARAMS, PARAMS + ctrl[NPARAMS]));
    for (;;) {
      const v = Atomics.load(ctrl, NEXT);
      if ((v >>> 16) !== tag || (v & 0xffff) >= nChunks) break;
      if (Atomics.compareExchange(ctrl, NEXT, v, v + 1) !== v) continue;
      const c = v & 0xffff;
      runChunk(shared, params, c, scratch);
      Atomics.store(doneFlags, c, 1);
      Atomics.add(ctrl, WORKER_CHUNKS, 1);
      Atomics.add(ctrl, DONE, 1);
      Atomics.notify(ctrl, DONE);
    }
  }
} catch (e) {
  Atomics.store(ctrl, BROKEN, 1);
  Atomics.notify(ctrl, DONE);
}`;
}

/** The pool (one worker running `kernelSource`), started on first use; null when one thread is wanted or start fails. */
function getPool(kernelSource: () => string): Pool | null {
  if (pool !== undefined) return pool;
  pool = null;
  if (threadsWanted < 2) return null;
  try {
    const ctrl = new Int32Array(new SharedArrayBuffer(4 * (PARAMS + MAX_PARAMS)));
    const doneFlags = new Int32Array(new SharedArrayBuffer(4 * MAX_CHUNKS));
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(workerProgram(kernelSource()), {
      eval: true, workerData: { ctrl, doneFlags, port: port2 }, transferList: [port2],
    });
    worker.unref();
    port1.unref();
    // an error in the worker reaches the caller through BROKEN; never let it end the process
    worker.on('error', () => Atomics.store(ctrl, BROKEN, 1));
    pool = { worker, port: port1, ctrl, doneFlags, sent: null, kernel: kernelSource };
  } catch {
    pool = null;
  }
  return pool;
}

/**
 * Runs chunks 0..nChunks-1 of a job on two threads: `runLocal(c)` here, the kernel's `runChunk` in the
 * worker (which must compute the same thing into `shared`). `shared` is posted to the worker when it
 * is not the object sent last (keep one object while its arrays stay the same). Returns
 * - 'parallel': every chunk is done;
 * - 'abandoned': every chunk is done, but the worker stalled and was let go: `shared` must not be
 *   used again, and later calls run on one thread;
 * - 'unavailable': nothing was run (one thread wanted, the worker could not start, another kernel
 *   owns the worker, or the job is too large for the control arrays).
 */
export function runParallel(
  kernelSource: () => string, shared: object, params: readonly number[], nChunks: number, runLocal: (c: number) => void,
): 'parallel' | 'abandoned' | 'unavailable' {
  const p = getPool(kernelSource);
  if (!p || p.kernel !== kernelSource || nChunks > MAX_CHUNKS || nChunks > 0xffff || params.length > MAX_PARAMS) return 'unavailable';
  const { ctrl, doneFlags } = p;
  if (p.sent !== shared) {
    p.port.postMessage(shared);
    p.sent = shared;
  }
  ctrl[NCHUNKS] = nChunks;
  ctrl[NPARAMS] = params.length;
  for (let i = 0; i < params.length; i++) ctrl[PARAMS + i] = params[i];
  doneFlags.fill(0, 0, nChunks);
  Atomics.store(ctrl, DONE, 0);
  const seq = (Atomics.load(ctrl, SEQ) + 1) & 0x7fff;
  Atomics.store(ctrl, NEXT, seq << 16); // claims of earlier jobs fail from here on
  Atomics.store(ctrl, SEQ, seq);
  Atomics.notify(ctrl, SEQ);

  const t0 = performance.now();
  let mine = 0;
  for (;;) {
    const v = Atomics.load(ctrl, NEXT);
    if ((v & 0xffff) >= nChunks) break;
    if (Atomics.compareExchange(ctrl, NEXT, v, v + 1) !== v) continue;
    const c = v & 0xffff;
    runLocal(c);
    mine++;
    Atomics.store(doneFlags, c, 1);
    Atomics.add(ctrl, DONE, 1);
  }
  const t1 = performance.now();
  // wait for the worker's chunks; if it stalls or broke, finish them here and stop using it
  let last = Atomics.load(ctrl, DONE), since = Date.now();
  while (last < nChunks) {
    if (Atomics.load(ctrl, BROKEN) || Date.now() - since > STALL_MS) {
      for (let c = 0; c < nChunks; c++) if (!Atomics.load(doneFlags, c)) runLocal(c);
      threadsWanted = 1;
      stopPool();
      return 'abandoned';
    }
    Atomics.wait(ctrl, DONE, last, 50);
    const now = Atomics.load(ctrl, DONE);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  // the worker took no chunk, or the call was slower than this thread alone at its own pace: the
  // other core is busy, so stay on one thread for a while (splitting the work costs a little)
  if (mine === nChunks || performance.now() - t0 > ((t1 - t0) * nChunks) / mine) backoff = BACKOFF_CALLS;
  return 'parallel';
}
