/**
 * The demo page: starts the search in a Web Worker (worker.ts), shows its progress and log, draws the
 * searched cells, and stops it on request (terminating the worker). The state is mirrored on
 * `document.body.dataset.state` (idle, running, done, stopped, failed) and `window.cpnasDemo`, which
 * the browser test reads.
 */
import type { DemoOptions, DemoResult } from './search.js';

type State = 'idle' | 'running' | 'done' | 'stopped' | 'failed';
interface DemoWindow { cpnasDemo: { state: State; result: DemoResult | null; error: string | null; steps: number; backend: string } }

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const startBtn = $<HTMLButtonElement>('start');
const stopBtn = $<HTMLButtonElement>('stop');
const bar = $('bar').firstElementChild as HTMLDivElement;
const status = $('status');
const log = $('log');
const demo: DemoWindow['cpnasDemo'] = { state: 'idle', result: null, error: null, steps: 0, backend: '' };
(window as unknown as DemoWindow).cpnasDemo = demo;
let worker: Worker | null = null;
let started = 0;

function setState(state: State, text: string, cls = ''): void {
  demo.state = state;
  document.body.dataset.state = state;
  status.className = cls;
  status.textContent = text;
  startBtn.disabled = state === 'running';
  stopBtn.disabled = state !== 'running';
}

function addLog(line: string): void {
  log.textContent += `${line}\n`;
  log.scrollTop = log.scrollHeight;
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function start(): void {
  const opts: DemoOptions = { seed: Math.max(0, Math.floor(Number($<HTMLInputElement>('seed').value) || 0)), backend: $<HTMLSelectElement>('backend').value as 'cpu' | 'gpu' };
  if (opts.backend === 'gpu') opts.gpuMode = 'gpu'; // the best gpu.js mode that is not its CPU emulation
  // ?primitives=a,b,c&cells=N: a smaller search (the test uses it)
  const query = new URLSearchParams(location.search);
  if (query.get('primitives')) opts.primitives = query.get('primitives')!.split(',');
  if (query.get('cells')) opts.cells = Number(query.get('cells'));
  log.textContent = '';
  $('cells').innerHTML = '';
  $('genotype').textContent = '';
  $('result-title').hidden = true;
  bar.style.width = '0';
  Object.assign(demo, { result: null, error: null, steps: 0, backend: opts.backend });
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  started = performance.now();
  setState('running', `Searching on the ${opts.backend === 'gpu' ? 'GPU (gpu.js WebGL)' : 'CPU'} with seed ${opts.seed}…`);
  worker.onmessage = (e: MessageEvent) => {
    const msg = e.data as { type: string; ev?: { done: number; total: number; label: string }; line?: string; result?: DemoResult; message?: string };
    if (msg.type === 'progress' && msg.ev) {
      const { done, total, label } = msg.ev;
      demo.steps = done;
      const frac = total > 0 ? done / total : 0;
      bar.style.width = `${(100 * frac).toFixed(1)}%`;
      const elapsed = (performance.now() - started) / 1000;
      const eta = done > 0 && done < total ? `  ETA ${clock((elapsed * (total - done)) / done)}` : '';
      status.textContent = `${done}/${total}${eta}  ${label}`;
    } else if (msg.type === 'log' && msg.line) {
      addLog(msg.line);
    } else if (msg.type === 'done' && msg.result) {
      const r = msg.result;
      demo.result = r;
      worker?.terminate();
      worker = null;
      bar.style.width = '100%';
      $('result-title').hidden = false;
      $('cells').innerHTML = r.normalSvg + r.reduceSvg;
      $('genotype').textContent = `genotype (cp, seed ${opts.seed}):\n${r.text}`;
      setState('done', `Done in ${r.searchSeconds.toFixed(1)} s on ${r.backend}: ${r.rounds.length} rounds, one operation left per edge.`, 'done');
    } else if (msg.type === 'error') {
      demo.error = msg.message ?? 'unknown error';
      worker?.terminate();
      worker = null;
      setState('failed', `Failed: ${demo.error}`, 'stopped');
    }
  };
  worker.onerror = (e) => {
    demo.error = e.message;
    worker?.terminate();
    worker = null;
    setState('failed', `Failed: ${e.message}`, 'stopped');
  };
  worker.postMessage(opts);
}

function stop(): void {
  if (!worker) return;
  worker.terminate();
  worker = null;
  setState('stopped', `Stopped after ${demo.steps} steps (${((performance.now() - started) / 1000).toFixed(1)} s).`, 'stopped');
}

startBtn.addEventListener('click', start);
stopBtn.addEventListener('click', stop);
setState('idle', 'Ready: choose a backend and a seed, then Search.');
