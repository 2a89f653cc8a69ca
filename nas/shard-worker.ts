/** The worker thread of data-parallel training (shards.ts): serves the second shard of every step. */
import { workerData } from 'node:worker_threads';
import { serveShards, type ReplicaInit, type SharedBuffers } from './shards.js';

const data = workerData as { init: ReplicaInit; buffers: SharedBuffers; inputShape: number[] };
serveShards(data.init, data.buffers, data.inputShape);
