/**
 * The CPU backend's one worker pool: a kernel call that is large enough is cut into chunks over
 * independent output ranges (images, channels, columns of a GEMM), and the calling thread and the
 * workers take chunks from a shared counter until none is left. Nothing above backends/ knows this
 * exists: kernels stay synchronous (the caller blocks in Atomics.wait until every chunk is done).
 *
 * Results are bit-identical for any thread count: a chunk computes a range of outputs in exactly the
 * order one thread would (no reduction is ever split across chunks), so who computes it does not matter.
 *
 * How a job travels: a worker runs the same kernel modules (thread-worker.ts imports jobs.ts, the table
 * of chunk functions by name); the job's arrays must live in SharedArrayBuffers. Tensor storage of the
 * cpu backend is shared memory when threads are on (`allocFloat32`), so usually nothing is copied; an
 * array that is not shared is staged through a shared scratch copy (`stage`), inputs copied in, outputs
 * copied back. The job (name, arrays, integer parameters, chunk count) goes to every worker through its
 * MessagePort; the worker wakes on the control array's sequence number and takes it with
 * receiveMessageOnPort, so a job costs one message and one notify.
 *
 * Settings: `setThreads(n)` (the CLI's --threads, or `Backend.threads(n)` for code above backends/),
 * else CPNAS_THREADS, else the machine's cores. Code that keeps cores busy itself (nas/ training
 * shards) sets 1 while it does, so the two never oversubscribe the cores. Workers are unref'd: an idle pool never keeps the process
 * alive, and `shutdownThreads()` stops it at once. A worker that stops answering (STALL_MS without
 * progress while it holds a chunk) is given up: the caller computes the missing chunks itself, the
 * pool is stopped, and the process continues on one thread. So is a worker that breaks (a job it does
 * not know, a chunk that throws); threadInfo().failure says why, and `npm run bench` fails loudly.
 *
 * Running from the TypeScript sources (vitest), a worker has no compiled file to load: it registers
 * a small module loader (ts-loader.ts) that transpiles the kernel sources with the `typescript` compiler
 * of the dev dependencies, which takes seconds, so there the default is one thread and only a test
 * that asks for more starts workers. A worker still loading takes no chunks: the caller computes them.
 * If no worker can start, every call runs on one thread. On a machine whose cores are busy with other
 * work, a call that the workers made slower than the calling thread alone would have been puts the
 * next few calls on the calling thread (`threadSettings.backoffCalls`, `coresLookBusy`); results do
 * not change.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { TS_LOADER_SOURCE } from './ts-loader.js';
import { setSimd, simdWanted } from './simd/simd.js';
import { gemmSums, setGemmSums, type GemmSums } from './sums.js';

/** Arrays a job may carry. */
export type JobArray = Float32Array | Int32Array;

/** A worker that holds a claimed chunk and makes no progress for this long is given up (a worker
 *  that fails reports it at once; this only catches one that hangs). */
const STALL_MS = 60_000;
/** Floats below which a tensor's storage stays an ordinary ArrayBuffer (small arrays never go to threads). */
const SHARED_MIN_FLOATS = 2048;

// control array slots
const SEQ = 0, NEXT = 1, DONE = 2, BROKEN = 3;
/** Chunks the workers have computed since the pool started (tests and benchmarks read it). */
const WORKER_CHUNKS = 4;
/** Workers that have loaded their program and wait for jobs. */
const READY = 5;

interface Pool {
  workers: Worker[];
  ports: MessagePort[];
  ctrl: Int32Array;
}

let threadsWanted = defaultThreads();
let pool: Pool | null = null;
/** True once starting the pool failed (or a worker was given up): calls run on one thread. */
let poolFailed = false;
/** Why the pool failed (threadInfo().failure), null while it has not. */
let poolFailure: string | null = null;
/** The job last handed to the workers: named when a worker breaks on it. */
let lastJob = '';

function fail(why: string): void {
  poolFailed = true;
  poolFailure = why;
}

function envThreads(): number | undefined {
  const env = typeof process !== 'undefined' ? process.env.CPNAS_THREADS : undefined;
  if (env === undefined || env === '') return undefined;
  const n = Math.floor(Number(env));
  return Number.isFinite(n) && n >= 1 ? n : undefined;
}

function defaultThreads(): number {
  const env = envThreads();
  if (env !== undefined) return env;
  // from the TypeScript sources (tests) a worker must load the compiler first (seconds): one thread
  // unless asked for more
  return compiled() ? Math.max(1, availableParallelism()) : 1;
}

/** Threads that large kernel calls use (1: the calling thread only). */
export function getThreads(): number {
  return poolFailed ? 1 : threadsWanted;
}

/**
 * Sets the threads of large kernel calls (at least 1; more than the machine's cores is allowed but
 * rarely useful). Returns the previous setting. Going down to 1 keeps the workers asleep (so that a
 * caller may switch between 1 and n cheaply); any other change stops them, and the next large call
 * starts a pool of the new size.
 */
export function setThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setThreads: the thread count must be an integer >= 1, got ${n}`);
  const prev = threadsWanted;
  if (pool && n > 1 && pool.workers.length !== n - 1) shutdownThreads();
  threadsWanted = n;
  poolFailed = false;
  poolFailure = null;
  return prev;
}

/**
 * The threads in use, whether the worker pool runs, the chunks its workers have computed since it
 * started, and why the pool was given up (null while it has not: then every call runs on one thread
 * until setThreads is called again).
 */
export function threadInfo(): { threads: number; running: boolean; workerChunks: number; failure: string | null } {
  return { threads: getThreads(), running: pool !== null, workerChunks: pool ? Atomics.load(pool.ctrl, WORKER_CHUNKS) : 0, failure: poolFailure };
}

/**
 * Starts the pool if it is not running and waits (at most `timeoutMs`) until every worker has loaded
 * its program: benchmarks and tests call it so that their first calls already run on every thread.
 * Returns whether all of them are ready (false with one thread).
 */
export function waitForThreads(timeoutMs = 30_000): boolean {
  const p = getPool();
  if (!p) return false;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = Atomics.load(p.ctrl, READY);
    if (ready >= p.workers.length) return true;
    if (Atomics.load(p.ctrl, BROKEN) || Date.now() > deadline) return false;
    Atomics.wait(p.ctrl, READY, ready, Math.max(1, Math.min(100, deadline - Date.now())));
  }
}

/** Stops the workers (if any); a later large call starts them again. */
export function shutdownThreads(): void {
  if (!pool) return;
  Atomics.store(pool.ctrl, BROKEN, 1);
  Atomics.add(pool.ctrl, SEQ, 1);
  Atomics.notify(pool.ctrl, SEQ);
  for (const w of pool.workers) void w.terminate();
  for (const p of pool.ports) p.close();
  pool = null;
}

// ---- shared memory --------------------------------------------------------------------------------

export function isShared(a: JobArray): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}

/** The plain array of one value that fillShared copies from (this thread's; refilled on a new value). */
let fillSource = new Float32Array(4096);

/**
 * a[start, end) = value, as TypedArray.fill stores it. On shared memory by copying from a plain array
 * of the value: TypedArray.fill on a SharedArrayBuffer stores element by element (V8 keeps every store
 * to shared memory a relaxed atomic), while a copy moves words; measured on this project's 2-core
 * machine (Node 20): zeros, 16 arrays of 4 MB, 20 rounds, 0.83 ms against 0.49 ms per 4 MB; 262,144
 * floats of one value, 0.13-0.15 ms against 0.066 ms. Short runs and plain arrays use fill.
 */
export function fillShared(a: Float32Array, value: number, start = 0, end = a.length): Float32Array {
  if (end - start < 1024 || !isShared(a)) return a.fill(value, start, end);
  const src = fillSource;
  if (!Object.is(src[0], Math.fround(value))) src.fill(value);
  let i = start;
  for (; i + src.length <= end; i += src.length) a.set(src, i);
  if (i < end) a.set(src.subarray(0, end - i), i);
  return a;
}

/** `a` (shared memory) set to zeros (fillShared). Returns `a`. */
export function clearShared(a: Float32Array): Float32Array {
  return fillShared(a, 0);
}

/**
 * Storage for tensor data: shared memory when more than one thread may work on it (large arrays only),
 * else an ordinary array. Zero-filled either way, but for a released array handed out again with
 * `zeroed` false (the caller overwrites it whole: core/alloc.ts allocOutput).
 */
export function allocFloat32(n: number, zeroed = true): Float32Array {
  const shared = n >= SHARED_MIN_FLOATS && threadsWanted > 1 && !poolFailed;
  const kept = n >= SHARED_MIN_FLOATS ? released.get(n) : undefined;
  while (kept?.length) {
    const a = kept.pop() as Float32Array;
    releasedBytes -= a.byteLength;
    if (isShared(a) === shared) return !zeroed ? a : shared ? clearShared(a) : a.fill(0);
  }
  if (shared) return new Float32Array(new SharedArrayBuffer(4 * n));
  return new Float32Array(n);
}

/** Arrays handed back by releaseFloat32, by length (whole buffers only), and their bytes. */
const released = new Map<number, Float32Array[]>();
let releasedBytes = 0;

/** Switches of the storage reuse (core/alloc.ts). */
export const releaseSettings = {
  /** Bytes of released arrays kept for reuse at most (beyond it, a released array is left to the GC). */
  keepBytes: 256 * 2 ** 20,
};

/**
 * Keeps `a` (which nothing references any more) for allocFloat32 to hand out again, zero-filled: fresh
 * memory costs a page fault and a page clear per 4 KB on first touch (core/alloc.ts). Only large
 * arrays that own their whole buffer are kept, up to releaseSettings.keepBytes.
 */
export function releaseFloat32(a: Float32Array): void {
  if (a.length < SHARED_MIN_FLOATS || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return;
  if (releasedBytes + a.byteLength > releaseSettings.keepBytes) return;
  let list = released.get(a.length);
  if (!list) released.set(a.length, (list = []));
  list.push(a);
  releasedBytes += a.byteLength;
}

/**
 * Scratch of at least n floats that a kernel's chunks on every thread read or write: `buf` when it
 * serves, else a larger one, shared memory when threads are on (so `parallel` copies nothing).
 */
export function threadScratch(buf: Float32Array, n: number): Float32Array {
  const threads = getThreads() > 1;
  if (buf.length >= n && (!threads || isShared(buf))) return buf;
  return threads ? growShared(buf, n) : new Float32Array(Math.max(n, Math.ceil(buf.length * 1.5)));
}

/** A shared Float32Array of at least n floats, replacing `buf` when it is too small or not shared. */
export function growShared(buf: Float32Array, n: number): Float32Array {
  if (buf.length >= n && isShared(buf)) return buf;
  return new Float32Array(new SharedArrayBuffer(4 * Math.max(n, Math.ceil(buf.length * 1.5))));
}

/** Staging copies of arrays that are not shared, one grow-only buffer per argument position. */
const staging: SharedArrayBuffer[] = [];

function stage(a: JobArray, slot: number, copyIn: boolean): JobArray {
  const bytes = a.byteLength;
  let sab = staging[slot];
  if (!sab || sab.byteLength < bytes) sab = staging[slot] = new SharedArrayBuffer(Math.max(bytes, Math.ceil((sab?.byteLength ?? 0) * 1.5)));
  const view = a instanceof Float32Array ? new Float32Array(sab, 0, a.length) : new Int32Array(sab, 0, a.length);
  if (copyIn) view.set(a);
  return view;
}

// ---- the pool -----------------------------------------------------------------------------------------

/** The worker's entry: the compiled thread-worker.js beside this file, or the .ts source through the loader. */
function workerEntry(): { entry: string; loader: string | null; typescript: string | null } | null {
  const here = import.meta.url;
  if (!here.startsWith('file:')) return null;
  const js = new URL('./thread-worker.js', here);
  if (existsSync(fileURLToPath(js))) return { entry: js.href, loader: null, typescript: null };
  const ts = new URL('./thread-worker.ts', here);
  if (!existsSync(fileURLToPath(ts))) return null;
  try {
    const typescript = pathToFileURL(createRequire(here).resolve('typescript')).href;
    return { entry: ts.href, loader: 'data:text/javascript,' + encodeURIComponent(TS_LOADER_SOURCE), typescript };
  } catch {
    return null;
  }
}

/** Whether this module runs from a build (a compiled worker program exists beside it). */
function compiled(): boolean {
  const here = import.meta.url;
  return here.startsWith('file:') && existsSync(fileURLToPath(new URL('./thread-worker.js', here)));
}

/** Bootstrap of a worker (CommonJS, evaluated): registers the TypeScript loader if needed, then imports the entry. */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const { register } = require('node:module');
(async () => {
  if (workerData.loader) register(workerData.loader, { data: { typescript: workerData.typescript } });
  const mod = await import(workerData.entry);
  mod.serve(workerData.ctrl, workerData.port);
})().catch(() => {
  Atomics.store(workerData.ctrl, ${BROKEN}, 1);
  Atomics.notify(workerData.ctrl, ${DONE});
  Atomics.notify(workerData.ctrl, ${READY});
});
`;

function getPool(): Pool | null {
  if (poolFailed || threadsWanted < 2) return null;
  if (pool) return pool;
  const entry = workerEntry();
  if (!entry) {
    fail('no worker program to start (neither thread-worker.js nor its TypeScript source with the compiler)');
    return null;
  }
  try {
    const ctrl = new Int32Array(new SharedArrayBuffer(32));
    const workers: Worker[] = [], ports: MessagePort[] = [];
    for (let i = 1; i < threadsWanted; i++) {
      const { port1, port2 } = new MessageChannel();
      const w = new Worker(BOOTSTRAP, {
        eval: true, workerData: { ...entry, ctrl, port: port2 }, transferList: [port2],
        // the workers never print; an error reaches the caller through BROKEN
        stdout: false, stderr: false,
      });
      w.unref();
      port1.unref();
      w.on('error', () => { Atomics.store(ctrl, BROKEN, 1); Atomics.notify(ctrl, DONE); });
      workers.push(w);
      ports.push(port1);
    }
    pool = { workers, ports, ctrl };
  } catch (err) {
    fail(`the workers could not start: ${err instanceof Error ? err.message : String(err)}`);
    pool = null;
  }
  return pool;
}

interface Job {
  name: string;
  arrays: JobArray[];
  params: number[];
  nChunks: number;
  tag: number;
  /** The caller's SIMD switch (simd/simd.ts): a worker follows it for the job. */
  simd: boolean;
  /** The caller's GEMM sums (sums.ts): a worker follows it for the job. */
  sums: GemmSums;
  /** threadSettings.spinMs of the caller: how long the worker polls for the next job after this one. */
  spinMs: number;
}

/** The next chunk of job `tag`, or -1 when none is left (or a later job has started). */
function claim(ctrl: Int32Array, tag: number, nChunks: number): number {
  for (;;) {
    const v = Atomics.load(ctrl, NEXT);
    if (v >>> 16 !== tag || (v & 0xffff) >= nChunks) return -1;
    if (Atomics.compareExchange(ctrl, NEXT, v, v + 1) === v) return v & 0xffff;
  }
}

/** What a chunk function receives: the job's arrays and integer parameters, and its chunk range. */
export type ChunkFn = (arrays: JobArray[], params: number[], chunk: number, nChunks: number) => void;

/** Marks an argument of `parallel`: `out` arrays are written by the chunks (copied back if staged). */
export interface JobArg {
  a: JobArray;
  /** Written by the job (never read before written). */
  out?: boolean;
  /** Read and written (e.g. an output that is accumulated into). */
  inout?: boolean;
}

/**
 * Runs chunks 0..nChunks-1 of job `name` (`fn` here, the same function by name in the workers) over the
 * pool, or all of them on this thread when the pool is off or the job is small (`nChunks` < 2). `fn`
 * must write disjoint outputs per chunk and the same values whichever thread runs it.
 */
export function parallel(name: string, fn: ChunkFn, args: JobArg[], params: number[], nChunks: number): void {
  let p = nChunks >= 2 ? getPool() : null;
  if (p && Atomics.load(p.ctrl, BROKEN)) {
    // a worker broke after an earlier job whose chunks this thread all took itself (so that call
    // never waited and saw it): give the pool up now rather than post jobs nobody serves
    shutdownThreads();
    fail(`a worker stopped at or after job '${lastJob}'`);
    p = null;
  }
  if (p && backoff > 0) {
    backoff--;
    p = null;
  }
  if (!p) {
    const arrays = args.map((x) => x.a);
    for (let c = 0; c < nChunks; c++) fn(arrays, params, c, nChunks);
    return;
  }
  const arrays = args.map((x, i) => (isShared(x.a) ? x.a : stage(x.a, i, !x.out || !!x.inout)));
  const { ctrl } = p;
  // a job's chunks are claimed as (tag << 16) | chunk: a worker still finishing the previous job can
  // never take a chunk of this one
  const tag = (Atomics.load(ctrl, SEQ) + 1) & 0x7fff;
  Atomics.store(ctrl, DONE, 0);
  Atomics.store(ctrl, NEXT, tag << 16);
  const job: Job = { name, arrays, params, nChunks, tag, simd: simdWanted(), sums: gemmSums(), spinMs: threadSettings.spinMs };
  lastJob = name;
  for (const port of p.ports) port.postMessage(job);
  Atomics.store(ctrl, SEQ, tag);
  Atomics.notify(ctrl, SEQ);
  // this thread takes chunks like any worker
  const t0 = performance.now();
  let mine = 0;
  for (let c = claim(ctrl, tag, nChunks); c >= 0; c = claim(ctrl, tag, nChunks)) {
    fn(arrays, params, c, nChunks);
    Atomics.add(ctrl, DONE, 1);
    mine++;
  }
  const t1 = performance.now();
  // wait for the chunks the workers took
  let last = spinWhile(ctrl, DONE, (v) => v < nChunks, threadSettings.spinMs), since = Date.now();
  while (last < nChunks) {
    if (Atomics.load(ctrl, BROKEN) || Date.now() - since > STALL_MS) {
      giveUp(fn, arrays, params, nChunks, Atomics.load(ctrl, BROKEN) ? `a worker broke in job '${name}'` : `a worker stalled in job '${name}'`);
      break;
    }
    Atomics.wait(ctrl, DONE, last, 100);
    const now = Atomics.load(ctrl, DONE);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
  if (coresLookBusy(mine, nChunks, t1 - t0, performance.now() - t0)) backoff = threadSettings.backoffCalls;
  args.forEach((x, i) => { if ((x.out || x.inout) && arrays[i] !== x.a) (x.a as Float32Array).set(arrays[i] as Float32Array); });
}

/**
 * A worker broke or stalled: stop the pool for good and compute the whole job on this thread. (Every
 * chunk function overwrites its outputs, so recomputing chunks a worker may have done is harmless;
 * stopped workers write nothing more.)
 */
function giveUp(fn: ChunkFn, arrays: JobArray[], params: number[], nChunks: number, why: string): void {
  shutdownThreads();
  fail(why);
  for (let c = 0; c < nChunks; c++) fn(arrays, params, c, nChunks);
}

/**
 * Whether a call's timing says the other cores are busy (a shared machine), so that the next calls
 * should stay on this thread (threadSettings.backoffCalls): the workers took no chunk although this
 * thread worked long enough for a worker to wake (`wakeMs`), or the call took clearly longer (a
 * quarter) than this thread alone would have at its own pace. `mine` of `nChunks` chunks ran here in
 * `mineMs`; the call took `totalMs`. A short call that this thread finished before a worker woke says
 * nothing about the machine: counting it (as before) put 8 later calls, large ones too, on one thread
 * after every short elementwise op (bench dwconv_m.fwd_bwd: about 60 % of its 2-thread calls).
 */
export function coresLookBusy(mine: number, nChunks: number, mineMs: number, totalMs: number): boolean {
  if (mine >= nChunks) return mineMs > threadSettings.wakeMs;
  return mine > 0 && totalMs > threadSettings.wakeMs && totalMs > (1.25 * mineMs * nChunks) / mine;
}

/** Switches of the pool (tests set minWork to 0 so that every call is split). */
export const threadSettings = {
  /** Calls with less work than this (multiply-adds, or values read) stay on the calling thread: waking
   *  a worker costs about 0.05 ms, some 250k multiply-adds. */
  minWork: 1 << 19,
  /** After a call that the workers made slower than this thread alone (they took no chunk, or held one
   *  while the scheduler kept them off a core), this many calls run on the calling thread only. */
  backoffCalls: 8,
  /** Time (ms) a sleeping worker surely needs at most to wake and claim a chunk on an idle core (measured
   *  here: under 0.3 ms for 49 of 52 wakes): a call shorter than this says nothing about busy cores. */
  wakeMs: 2,
  /** How long (ms) a worker polls for the next job before it sleeps, and the caller for the workers'
   *  last chunks before it sleeps (spinWhile); 0 sleeps at once. */
  spinMs: 1,
};

/**
 * Polls ctrl[slot] while `waiting(value)` holds, for at most `ms` milliseconds; returns the last value
 * read. A thread asleep in Atomics.wait takes a futex wake, and on this VM an idle virtual core often
 * needs 0.1-0.5 ms to be scheduled again, longer than a chunk of a small kernel: so a worker polls for
 * the next job for a while before it sleeps, and the caller polls for the workers' last chunks (as
 * OpenMP runtimes spin before they block: GOMP_SPINCOUNT, KMP_BLOCKTIME).
 */
export function spinWhile(ctrl: Int32Array, slot: number, waiting: (v: number) => boolean, ms: number): number {
  let v = Atomics.load(ctrl, slot);
  if (ms <= 0 || !waiting(v)) return v;
  const end = performance.now() + ms;
  for (let i = 0; waiting(v); i++) {
    if ((i & 63) === 63 && performance.now() > end) break;
    v = Atomics.load(ctrl, slot);
  }
  return v;
}

/** Calls still to run on the calling thread only (see threadSettings.backoffCalls). */
let backoff = 0;

/** Chunks for `units` independent pieces of a call with `work` multiply-adds: 1 when too small to share. */
export function chunksFor(work: number, units: number): number {
  return work >= threadSettings.minWork && getThreads() > 1 ? chunkCount(units) : 1;
}

/** How many chunks to cut `units` independent units of work into: a few per thread, none smaller than `minUnits`. */
export function chunkCount(units: number, minUnits = 1): number {
  const t = getThreads();
  if (t < 2) return 1;
  return Math.max(1, Math.min(units, 4 * t, Math.floor(units / Math.max(1, minUnits))));
}

/** [start, end) of chunk c when `units` are cut into nChunks near-equal ranges, each a multiple of `align` but the last. */
export function chunkRange(units: number, c: number, nChunks: number, align = 1): [number, number] {
  const blocks = Math.ceil(units / align);
  const b0 = Math.floor((blocks * c) / nChunks), b1 = Math.floor((blocks * (c + 1)) / nChunks);
  return [Math.min(units, b0 * align), Math.min(units, b1 * align)];
}

/** The worker side of the pool (thread-worker.ts): waits for jobs and runs chunks of them. */
export function serveJobs(ctrl: Int32Array, port: MessagePort, table: Record<string, ChunkFn>): void {
  const { receiveMessageOnPort } = requireWorkerThreads();
  let seen = 0, spinMs = 0;
  Atomics.add(ctrl, READY, 1);
  Atomics.notify(ctrl, READY);
  for (;;) {
    if (spinWhile(ctrl, SEQ, (v) => v === seen, spinMs) === seen) Atomics.wait(ctrl, SEQ, seen);
    seen = Atomics.load(ctrl, SEQ);
    if (Atomics.load(ctrl, BROKEN)) return;
    let job: Job | null = null;
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) job = m.message as Job;
    if (!job) continue;
    const fn = table[job.name];
    if (!fn) {
      Atomics.store(ctrl, BROKEN, 1);
      Atomics.notify(ctrl, DONE);
      return;
    }
    setSimd(job.simd);
    setGemmSums(job.sums);
    spinMs = job.spinMs;
    try {
      for (let c = claim(ctrl, job.tag, job.nChunks); c >= 0; c = claim(ctrl, job.tag, job.nChunks)) {
        fn(job.arrays, job.params, c, job.nChunks);
        Atomics.add(ctrl, WORKER_CHUNKS, 1);
        Atomics.add(ctrl, DONE, 1);
        Atomics.notify(ctrl, DONE);
      }
    } catch {
      // the caller sees BROKEN at once, computes the job itself and stops the pool
      Atomics.store(ctrl, BROKEN, 1);
      Atomics.notify(ctrl, DONE);
      return;
    }
  }
}

function requireWorkerThreads(): typeof import('node:worker_threads') {
  return createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
}
