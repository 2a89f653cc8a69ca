/**
 * Starting the second training thread of nas/shards.ts: a Node worker thread running the compiled
 * shard-worker.js. Kept apart so that a browser bundle swaps in shard-thread.browser.ts (no thread:
 * the replica runs in the same thread, with the same numbers).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** What ShardRunner needs of the thread. */
export interface ShardThread {
  unref(): void;
  terminate(): unknown;
}

/** Starts `url` as a worker thread with `workerData`; null when the compiled file is not there. */
export function startShardThread(url: URL, workerData: unknown): ShardThread | null {
  // the worker needs the compiled file (under a TypeScript test runner there is none)
  if (url.protocol !== 'file:' || !existsSync(fileURLToPath(url))) return null;
  return new Worker(url, { workerData });
}
