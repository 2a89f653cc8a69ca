/** The program of a kernel worker thread (threads.ts starts it): serves jobs from the chunk table of jobs.ts. */
import type { MessagePort } from 'node:worker_threads';
import { CHUNK_FUNCTIONS } from './jobs.js';
import { serveJobs } from './threads.js';

export function serve(ctrl: Int32Array, port: MessagePort): void {
  serveJobs(ctrl, port, CHUNK_FUNCTIONS);
}
