#!/usr/bin/env node
/**
 * The `cpnas` command. The work runs in a worker thread (cli/worker.ts) so that this thread stays free
 * to answer Ctrl-C while the engine computes: the first Ctrl-C asks the running stage to stop after its
 * current checkpoint (the run folder stays resumable with `--resume DIR`, exit code 130); a second one
 * quits at once, which the atomic checkpoint files also survive. SIGTERM (`kill`, `timeout`, a job
 * scheduler) is answered the same way. CPNAS_NO_WORKER=1 runs everything in this thread instead (Ctrl-C
 * then waits for the engine to yield).
 */
import { Worker } from 'node:worker_threads';
import { raiseFlag } from './interrupt.js';
import { main } from './main.js';
import type { WorkerInit, WorkerMessage } from './worker.js';

const argv = process.argv.slice(2);
let interrupts = 0;
let stop: () => void = () => {};
const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
  interrupts++;
  if (interrupts === 1) {
    const again = signal === 'SIGINT' ? 'Ctrl-C again' : 'signal again';
    process.stderr.write(`\nStopping after the current checkpoint (${again} to quit at once)...\n`);
    stop();
  } else {
    process.exit(130);
  }
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

if (process.env.CPNAS_NO_WORKER === '1') {
  const controller = new AbortController();
  stop = () => controller.abort();
  const code = await main(argv, { stdout: process.stdout, stderr: process.stderr, signal: controller.signal, script: process.argv[1] });
  process.exit(code);
} else {
  const flag = new SharedArrayBuffer(4);
  stop = () => raiseFlag(flag);
  const init: WorkerInit = {
    argv, flag, stdoutTTY: Boolean(process.stdout.isTTY), stderrTTY: Boolean(process.stderr.isTTY), columns: process.stderr.columns,
    script: process.argv[1],
  };
  let code: number | null = null;
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
  worker.on('message', (msg: WorkerMessage) => {
    if ('exit' in msg) code = msg.exit;
    else (msg.stream === 'stdout' ? process.stdout : process.stderr).write(msg.text);
  });
  worker.on('error', (e) => {
    process.stderr.write(`cpnas: internal error: ${e.message}${process.env.CPNAS_DEBUG === '1' && e.stack ? `\n${e.stack}` : ''}\n`);
    code = 1;
  });
  worker.on('exit', () => process.exit(code ?? 1));
}
