/** The worker thread of `cpnas`: runs main() and sends its output to the main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { sharedFlagSignal } from './interrupt.js';
import { main } from './main.js';

export interface WorkerInit {
  argv: string[];
  flag: SharedArrayBuffer;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  columns?: number;
  /** The script the user started (process.argv[1] of the main thread), for the hints it prints. */
  script?: string;
}

export type WorkerMessage = { stream: 'stdout' | 'stderr'; text: string } | { exit: number };

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('cli/worker.js must run in a worker thread (started by cli/cpnas.js)');
const send = (msg: WorkerMessage) => port.postMessage(msg);

const code = await main(init.argv, {
  stdout: { write: (text: string) => send({ stream: 'stdout', text }), isTTY: init.stdoutTTY, columns: init.columns },
  stderr: { write: (text: string) => send({ stream: 'stderr', text }), isTTY: init.stderrTTY, columns: init.columns },
  signal: sharedFlagSignal(init.flag),
  script: init.script,
});
send({ exit: code });
