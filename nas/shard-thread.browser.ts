/** The browser's nas/shard-thread.ts: no second thread, so the work runs in the page's own thread. */
import type { ServiceThread, ServiceWorkerData, ShardThread } from './shard-thread.js';

export type { ServiceThread, ServiceWorkerData, ShardThread };

export function startShardThread(_url: URL, _workerData: unknown): ShardThread | null {
  return null;
}

export function startServiceThread(_url: URL, _data: unknown): ServiceThread | null {
  return null;
}

export function serveRequests(_wd: ServiceWorkerData, _handle: (request: unknown) => unknown): void {
  throw new Error('serveRequests: a page has no worker threads');
}
