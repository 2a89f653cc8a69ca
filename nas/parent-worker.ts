/** The worker thread of the CP-NAS search (parent-runner.ts): trains and measures the Parent of every sample. */
import { workerData } from 'node:worker_threads';
import { serveParent } from './parent-runner.js';
import type { ServiceWorkerData } from './shard-thread.js';

serveParent(workerData as ServiceWorkerData);
