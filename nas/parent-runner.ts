/**
 * CP-NAS's Parent beside its Child. Algorithm 1 trains both supernets on every sampled architecture,
 * and the two share nothing but the data, so the Parent's part of a sample (its training batches and
 * its validation accuracy A_P) runs on a second thread while this thread trains and measures the
 * Child: on two cores a sample takes about the time of the slower of the two instead of their sum.
 *
 * The Parent supernet and its optimizer stay this thread's (checkpoints and resume see them as
 * before): every request carries their state to the thread, and the answer brings the updated state
 * back. The thread runs the same operations on the same values in the same order (its kernels on one
 * core; results do not depend on the thread count), so a search reaches the same genotype with the
 * thread or without it. Where no thread can run (a web page, the TypeScript test runner, the gpu
 * backend, user-registered operations, --threads 1), the Parent's part runs here, after the Child's.
 */
import { Random, Tensor, getBackend, noGrad } from '../core/index.js';
import { crossEntropy } from '../ops/loss.js';
import type { Optimizer, OptimizerState } from '../ops/optim/optimizer.js';
import { countCorrect, makeOptimizer, optimizeStep } from './loop.js';
import { operationInfo } from './operations.js';
import { serveRequests, startServiceThread, type ServiceThread, type ServiceWorkerData } from './shard-thread.js';
import { stateArrays } from './shards.js';
import { Supernet, type NetworkConfig } from './supernet.js';
import type { EdgeKey } from './types.js';

/** A batch as plain arrays (it crosses to the thread). */
export interface PlainBatch {
  x: Float32Array;
  shape: number[];
  y: Int32Array;
}

/** What the thread builds its Parent from (plain data). */
export interface ParentInit {
  config: Omit<NetworkConfig, 'rng'>;
  primitives: string[];
  optimizer: 'sgd' | 'adam';
  hyper: { lr: number; momentum: number; weightDecay: number };
  gradClip: number;
  /** Names the search in error messages (`cp search`). */
  where: string;
  /** The validation batches A_P is measured on. */
  val: PlainBatch[];
}

interface SampleRequest {
  arch: { [edge: EdgeKey]: string };
  lr: number;
  batches: PlainBatch[];
  state: Float32Array[];
  optimizer: OptimizerState;
}

interface SampleAnswer {
  loss: number;
  A_P: number;
  state: Float32Array[];
  optimizer: OptimizerState;
}

/** Accuracy over fixed batches (as loop.ts's accuracyOf over a dataset's batches in order). */
function accuracyOfBatches(forward: (x: Tensor) => Tensor, batches: readonly PlainBatch[]): number {
  let correct = 0, count = 0;
  noGrad(() => {
    for (const b of batches) {
      correct += countCorrect(forward(new Tensor(b.x, b.shape)), b.y);
      count += b.y.length;
    }
  });
  return count ? correct / count : 0;
}

/**
 * The Parent's part of one sample: one optimizer step per batch on the sampled architecture, then its
 * accuracy A_P on the validation batches (BatchNorm on batch statistics, as the Child's). Returns the
 * summed loss and A_P.
 */
export function parentSample(
  net: Supernet, opt: Optimizer, arch: { [edge: EdgeKey]: string }, lr: number, batches: readonly PlainBatch[],
  init: Pick<ParentInit, 'gradClip' | 'where' | 'val'>,
): { loss: number; A_P: number } {
  const choice = net.choiceOf(arch);
  opt.lr = lr;
  net.train();
  let loss = 0;
  for (const b of batches) {
    loss += optimizeStep(opt, crossEntropy(net.forward(new Tensor(b.x, b.shape), choice), b.y), init.gradClip, init.where);
  }
  return { loss, A_P: accuracyOfBatches((x) => net.forward(x, choice), init.val) };
}

function loadArrays(dst: Float32Array[], src: Float32Array[], net: Supernet): void {
  dst.forEach((a, i) => a.set(src[i]));
  for (const p of net.parameters()) p.markChanged();
}

/** The thread's side (parent-worker.ts): a Parent of its own, loaded from every request. */
export function serveParent(wd: ServiceWorkerData): void {
  // this thread is the second core's work: its kernels stay on it
  getBackend().threads?.(1);
  const init = wd.data as ParentInit;
  const net = new Supernet({ ...init.config, rng: new Random(0) }, init.primitives);
  const opt = makeOptimizer(net.parameters(), init.optimizer, init.hyper);
  const arrays = stateArrays([net]);
  serveRequests(wd, (request) => {
    const r = request as SampleRequest;
    loadArrays(arrays, r.state, net);
    opt.loadState(r.optimizer);
    const out = parentSample(net, opt, r.arch, r.lr, r.batches, init);
    return { ...out, state: arrays, optimizer: opt.state() } satisfies SampleAnswer;
  });
}

/** Batches as plain copies (a dataset's batches reuse one buffer). */
export function plainBatches(batches: Iterable<{ x: Tensor; y: Int32Array }>): PlainBatch[] {
  const out: PlainBatch[] = [];
  // copied as each batch comes: the next one overwrites its buffer
  for (const b of batches) out.push({ x: b.x.data.slice(), shape: [...b.x.shape], y: b.y.slice() });
  return out;
}

/** Runs the Parent's part of each sample on a second thread when one can run (see the file comment). */
export class ParentRunner {
  private readonly thread: ServiceThread | null;
  private readonly arrays: Float32Array[];
  private pending: { arch: { [edge: EdgeKey]: string }; lr: number; batches: PlainBatch[] } | null = null;
  private savedThreads: number | undefined;

  constructor(private readonly net: Supernet, private readonly opt: Optimizer, private readonly init: ParentInit) {
    this.arrays = stateArrays([net]);
    const backend = getBackend();
    const useThread = backend.name === 'cpu' && (backend.threads?.() ?? 1) > 1 && init.primitives.every((op) => operationInfo(op).builtin);
    this.thread = useThread ? startServiceThread(new URL('./parent-worker.js', import.meta.url), init) : null;
  }

  /** Whether the Parent runs on a second thread. */
  get parallel(): boolean {
    return this.thread !== null;
  }

  /** Starts the Parent's part of a sample (on the thread at once; here at `finish`). */
  begin(arch: { [edge: EdgeKey]: string }, lr: number, batches: PlainBatch[]): void {
    this.pending = { arch, lr, batches };
    if (!this.thread) return;
    this.thread.send({ arch, lr, batches, state: this.arrays, optimizer: this.opt.state() } satisfies SampleRequest);
    // the thread keeps one core busy: this thread's kernels use the other, until `finish`
    this.savedThreads ??= getBackend().threads?.(1);
  }

  /** The Parent's summed loss and A_P; its supernet and optimizer hold the updated state. */
  finish(): { loss: number; A_P: number } {
    const p = this.pending;
    if (!p) throw new Error('ParentRunner.finish() without begin()');
    this.pending = null;
    if (!this.thread) return parentSample(this.net, this.opt, p.arch, p.lr, p.batches, this.init);
    try {
      const a = this.thread.receive(this.init.where) as SampleAnswer;
      loadArrays(this.arrays, a.state, this.net);
      this.opt.loadState(a.optimizer);
      return { loss: a.loss, A_P: a.A_P };
    } finally {
      this.restoreThreads();
    }
  }

  private restoreThreads(): void {
    if (this.savedThreads !== undefined) getBackend().threads?.(this.savedThreads);
    this.savedThreads = undefined;
  }

  close(): void {
    this.restoreThreads();
    this.thread?.close();
  }
}
