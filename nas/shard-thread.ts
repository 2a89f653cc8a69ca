/**
 * The second threads of nas/: Node worker threads running compiled files of this folder. Kept apart so
 * that a browser bundle swaps in shard-thread.browser.ts (no thread: the work runs in the same
 * thread, with the same numbers).
 *
 * - `startShardThread`: the data-parallel training replica (shards.ts), fed through shared memory.
 * - `startServiceThread`: a thread that answers requests one at a time (the CP-NAS Parent of
 *   parent-runner.ts): `send` posts a request, `receive` blocks this thread until the answer is there.
 *   Requests and answers are structured-cloned (typed arrays are copied), so neither side sees the
 *   other's memory.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { CpnasError } from '../core/index.js';

/** What ShardRunner needs of the thread. */
export interface ShardThread {
  unref(): void;
  terminate(): unknown;
}

/** The compiled worker file exists (under a TypeScript test runner there is none). */
function compiled(url: URL): boolean {
  return url.protocol === 'file:' && existsSync(fileURLToPath(url));
}

/** Starts `url` as a worker thread with `workerData`; null when the compiled file is not there. */
export function startShardThread(url: URL, workerData: unknown): ShardThread | null {
  if (!compiled(url)) return null;
  return new Worker(url, { workerData });
}

/** A thread answering one request at a time (see the file comment). */
export interface ServiceThread {
  send(request: unknown): void;
  /** Blocks until the answer of the last request arrives; throws when the thread died or stalled. */
  receive(what: string, timeoutMs?: number): unknown;
  close(): void;
}

/** What the worker side receives in `workerData`: its port and signal, beside the caller's data. */
export interface ServiceWorkerData {
  port: MessagePort;
  /** Int32Array view [answers posted] over a SharedArrayBuffer. */
  signal: SharedArrayBuffer;
  data: unknown;
}

/** Starts `url` as a service thread (its file calls `serveRequests`); null when it cannot run. */
export function startServiceThread(url: URL, data: unknown): ServiceThread | null {
  if (!compiled(url)) return null;
  const { port1, port2 } = new MessageChannel();
  const signal = new SharedArrayBuffer(8);
  const flags = new Int32Array(signal);
  let failure: string | null = null;
  const worker = new Worker(url, { workerData: { port: port2, signal, data } satisfies ServiceWorkerData, transferList: [port2] });
  worker.on('error', (e) => {
    failure = String((e as Error)?.stack ?? e);
    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 0);
  });
  worker.unref();
  port1.unref();
  let sent = 0;
  return {
    send(request) {
      sent++;
      port1.postMessage(request);
    },
    receive(what, timeoutMs = 30 * 60 * 1000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (Atomics.load(flags, 0) >= sent) {
          const m = receiveMessageOnPort(port1);
          if (m) {
            const answer = m.message as { error?: string; where?: string; value?: unknown };
            // a CpnasError of the thread (a non-finite loss, say) reaches the user as it was thrown
            if (answer.where !== undefined) throw new CpnasError(answer.where, (answer.error ?? '').slice(answer.where.length + 2));
            if (answer.error !== undefined) throw new Error(`${what}: the second thread failed: ${answer.error}`);
            return answer.value;
          }
        }
        if (Atomics.load(flags, 1) === 1) throw new Error(`${what}: the second thread stopped: ${failure ?? 'unknown error'}`);
        if (Date.now() > deadline) throw new Error(`${what}: the second thread stopped answering`);
        Atomics.wait(flags, 0, Atomics.load(flags, 0), 50);
      }
    },
    close() {
      port1.close();
      void worker.terminate();
    },
  };
}

/** The worker side of `startServiceThread`: answers every request with `handle`'s value or error. */
export function serveRequests(wd: ServiceWorkerData, handle: (request: unknown) => unknown): void {
  const flags = new Int32Array(wd.signal);
  wd.port.on('message', (request: unknown) => {
    let answer: { value?: unknown; error?: string; where?: string };
    try {
      answer = { value: handle(request) };
    } catch (e) {
      answer = e instanceof CpnasError ? { error: e.message, where: e.where } : { error: String((e as Error)?.stack ?? e) };
    }
    wd.port.postMessage(answer);
    Atomics.add(flags, 0, 1);
    Atomics.notify(flags, 0);
  });
}
