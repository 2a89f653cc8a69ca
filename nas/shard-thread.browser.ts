/** The browser's nas/shard-thread.ts: no second thread, so the replica runs in the page's own thread. */
import type { ShardThread } from './shard-thread.js';

export type { ShardThread };

export function startShardThread(_url: URL, _workerData: unknown): ShardThread | null {
  return null;
}
