/**
 * Data-parallel training steps: every batch is cut into two shards; the first runs on the main
 * network, the second on a replica, in a worker thread when one can be started (compiled builds), else
 * right after the first in the same thread. The two gradients are averaged (weighted by shard size)
 * before the optimizer step, so one step is still one step on the whole batch, except that BatchNorm
 * uses each shard's own statistics (ghost batch norm). The numbers are the same whether the replica
 * runs in a worker or in the main thread, so a run is reproducible from its seed on any machine, and
 * on two cores a training step takes little more than half the time.
 *
 * The replica's weights, BN statistics and class centers are copied from the main network before every
 * step through shared memory; whatever the replica changes in them (running statistics, centers) is
 * dropped, the main network's copies being the ones that count.
 */
import { CenterLoss } from '../binary/center-loss.js';
import { CpnasError, Random, Tensor, enableGrad, getBackend, noGrad } from '../core/index.js';
import { add, mul } from '../ops/arithmetic.js';
import { BatchNorm2d } from '../ops/layers.js';
import { crossEntropy } from '../ops/loss.js';
import type { Module } from '../ops/module.js';
import { distillationLoss } from './distill.js';
import { countCorrect } from './loop.js';
import { GenotypeNetwork } from './network.js';
import { startShardThread, type ShardThread } from './shard-thread.js';
import type { NetworkConfig } from './supernet.js';
import type { Genotype } from './types.js';

export type ShardPhase = 'parent' | 'child';

/** The loss settings a shard needs. */
export interface ShardLossSettings {
  theta: number;
  kd: number;
  kdTemperature: number;
}

/** What a replica is built from (plain data: it crosses to the worker thread). */
export interface ReplicaInit {
  genotype: Genotype;
  config: Omit<NetworkConfig, 'rng' | 'binary'>;
  loss: ShardLossSettings;
}

/** Per-shard numbers: the data loss (CE + center + KD, mean over the shard), its terms, and correct predictions. */
export interface ShardStats {
  data: number;
  ce: number;
  center: number;
  kd: number;
  correct: number;
}

/** Every array of a module's state, in a fixed order: parameters, then buffers. */
export function stateArrays(modules: Module[]): Float32Array[] {
  const out: Float32Array[] = [];
  for (const m of modules) {
    for (const [, p] of m.namedParameters()) out.push(p.data);
    for (const [, b] of m.namedBuffers()) out.push(b);
  }
  return out;
}

function totalLength(arrays: Float32Array[]): number {
  let n = 0;
  for (const a of arrays) n += a.length;
  return n;
}

function copyOut(arrays: Float32Array[], dst: Float32Array): void {
  let o = 0;
  for (const a of arrays) {
    dst.set(a, o);
    o += a.length;
  }
}

function copyIn(src: Float32Array, arrays: Float32Array[]): void {
  let o = 0;
  for (const a of arrays) {
    a.set(src.subarray(o, o + a.length));
    o += a.length;
  }
}

/**
 * The data loss of one shard (mean over its samples): cross-entropy, plus in the Child phase the center
 * loss and the distillation term. The CP loss depends on the weights only and is added once, by the
 * caller, on the main shard.
 */
export function shardDataLoss(
  phase: ShardPhase, net: GenotypeNetwork, parent: GenotypeNetwork, centers: CenterLoss,
  x: Tensor, y: Int32Array, s: ShardLossSettings,
): { loss: Tensor; logits: Tensor; stats: ShardStats } {
  if (phase === 'parent') {
    const logits = net.forward(x);
    const loss = crossEntropy(logits, y);
    const v = loss.item();
    return { loss, logits, stats: { data: v, ce: v, center: 0, kd: 0, correct: countCorrect(logits, y) } };
  }
  const { features, logits } = net.forwardFeatures(x);
  const ce = crossEntropy(logits, y);
  let loss = ce;
  let center = 0, kd = 0;
  if (s.theta > 0) {
    const l = centers.forward(features, y);
    center = l.item();
    loss = add(loss, l);
  }
  if (s.kd > 0) {
    // the Parent's prediction on the same images, a constant target (eval mode, no graph)
    const target = noGrad(() => parent.forward(x));
    const l = mul(distillationLoss(logits, target, s.kdTemperature), s.kd);
    kd = l.item();
    loss = add(loss, l);
  }
  return { loss, logits, stats: { data: loss.item(), ce: ce.item(), center, kd, correct: countCorrect(logits, y) } };
}

/** The second shard's network: Parent and Child replicas and the center loss, fed through shared arrays. */
export class Replica {
  readonly parent: GenotypeNetwork;
  readonly child: GenotypeNetwork;
  readonly centers: CenterLoss;
  private readonly childState: Float32Array[];
  private readonly parentState: Float32Array[];

  constructor(readonly init: ReplicaInit) {
    const cfg = { ...init.config, rng: new Random(0) };
    this.parent = new GenotypeNetwork(init.genotype, { ...cfg, binary: false });
    this.child = new GenotypeNetwork(init.genotype, { ...cfg, binary: true });
    this.centers = new CenterLoss(init.config.numClasses, this.child.classifier.inFeatures, { theta: init.loss.theta });
    this.parentState = stateArrays([this.parent]);
    this.childState = stateArrays([this.child, this.centers]);
    this.parent.eval();
  }

  /** Sizes of the shared regions: [parent state, child state (with centers), largest gradient]. */
  sizes(): { parent: number; child: number; grad: number } {
    return {
      parent: totalLength(this.parentState),
      child: totalLength(this.childState),
      grad: Math.max(this.parent.numParameters(), this.child.numParameters()),
    };
  }

  /** Loads the Parent (the fixed teacher of the Child phase, or the network of the Parent phase). */
  loadParent(src: Float32Array): void {
    copyIn(src, this.parentState);
    for (const p of this.parent.parameters()) p.markChanged();
  }

  loadChild(src: Float32Array): void {
    copyIn(src, this.childState);
    for (const p of this.child.parameters()) p.markChanged();
  }

  /** Forward and backward on one shard; the gradient (parameters in order, zeros where none) goes to `grads`. */
  step(phase: ShardPhase, x: Tensor, y: Int32Array, frozenBn: boolean, dropPathProb: number, dropSeed: number, grads: Float32Array): ShardStats {
    const net = phase === 'parent' ? this.parent : this.child;
    net.train();
    this.centers.train();
    for (const m of net.modules()) if (m instanceof BatchNorm2d) m.training = !frozenBn;
    net.dropPathProb = dropPathProb;
    net.dropRng = new Random(dropSeed);
    const params = net.parameters();
    for (const p of params) p.grad = null;
    const out = enableGrad(() => shardDataLoss(phase, net, this.parent, this.centers, x, y, this.init.loss));
    out.loss.backward();
    let o = 0;
    for (const p of params) {
      if (p.grad) grads.set(p.grad.data, o);
      else grads.fill(0, o, o + p.size);
      o += p.size;
    }
    if (phase === 'parent') this.parent.eval();
    return out.stats;
  }
}

// ---- shared memory layout ---------------------------------------------------------------------------

const CTRL = { request: 0, done: 1, command: 2, n: 3, phase: 4, frozen: 5, error: 6, dropSeed: 7 } as const;
export const COMMAND = { step: 1, loadParent: 2, exit: 3 } as const;
const ERROR_BYTES = 2048;

export interface SharedBuffers {
  ctrl: SharedArrayBuffer;
  parent: SharedArrayBuffer;
  child: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  x: SharedArrayBuffer;
  y: SharedArrayBuffer;
  /** [dropPathProb, then the ShardStats of the last step: data, ce, center, kd, correct] */
  numbers: SharedArrayBuffer;
  error: SharedArrayBuffer;
}

export function viewsOf(b: SharedBuffers) {
  return {
    ctrl: new Int32Array(b.ctrl),
    parent: new Float32Array(b.parent),
    child: new Float32Array(b.child),
    grads: new Float32Array(b.grads),
    x: new Float32Array(b.x),
    y: new Int32Array(b.y),
    numbers: new Float64Array(b.numbers),
    error: new Uint8Array(b.error),
  };
}

/** The worker's loop (shard-worker.ts): waits for a command, runs it, reports. */
export function serveShards(init: ReplicaInit, buffers: SharedBuffers, inputShape: number[]): void {
  // this thread is the second core's work: its kernels stay on it
  getBackend().threads?.(1);
  const v = viewsOf(buffers);
  const replica = new Replica(init);
  let seen = 0;
  for (;;) {
    Atomics.wait(v.ctrl, CTRL.request, seen);
    seen = Atomics.load(v.ctrl, CTRL.request);
    const command = v.ctrl[CTRL.command];
    if (command === COMMAND.exit) return;
    try {
      if (command === COMMAND.loadParent) replica.loadParent(v.parent);
      else if (command === COMMAND.step) runStep(replica, v, inputShape);
    } catch (e) {
      const text = new TextEncoder().encode(String((e as Error).stack ?? e).slice(0, ERROR_BYTES - 1));
      v.error.fill(0);
      v.error.set(text.subarray(0, ERROR_BYTES - 1));
      Atomics.store(v.ctrl, CTRL.error, 1);
    }
    Atomics.store(v.ctrl, CTRL.done, seen);
    Atomics.notify(v.ctrl, CTRL.done);
  }
}

function runStep(replica: Replica, v: ReturnType<typeof viewsOf>, inputShape: number[]): void {
  const n = v.ctrl[CTRL.n];
  const phase: ShardPhase = v.ctrl[CTRL.phase] === 0 ? 'parent' : 'child';
  if (phase === 'parent') replica.loadParent(v.parent);
  else replica.loadChild(v.child);
  const per = inputShape[0] * inputShape[1] * inputShape[2];
  const x = new Tensor(v.x.slice(0, n * per), [n, ...inputShape]);
  const y = v.y.slice(0, n);
  const s = replica.step(phase, x, y, v.ctrl[CTRL.frozen] === 1, v.numbers[0], v.ctrl[CTRL.dropSeed] >>> 0, v.grads);
  v.numbers.set([s.data, s.ce, s.center, s.kd, s.correct], 1);
}

// ---- the main thread's side ----------------------------------------------------------------------------

/**
 * Runs the second shard of every step, on a worker thread when possible. `begin` hands the shard over
 * (the worker starts at once), `finish` waits for it and returns its gradient and numbers.
 */
export class ShardRunner {
  private readonly v: ReturnType<typeof viewsOf>;
  private readonly buffers: SharedBuffers;
  private readonly worker: ShardThread | null;
  /** The in-thread replica when no worker runs. */
  private readonly local: Replica | null;
  private seq = 0;
  private pending: { phase: ShardPhase; n: number; frozen: boolean; dropProb: number; dropSeed: number } | null = null;
  /** The backend's kernel threads before `begin` set 1 (while the worker keeps the other core busy). */
  private savedThreads: number | undefined;

  /** Whether the second shard runs in parallel (a worker thread) or after the first (same thread). */
  readonly parallel: boolean;

  constructor(private readonly init: ReplicaInit, private readonly inputShape: number[], maxShard: number, useWorker: boolean) {
    const probe = new Replica(init);
    const sizes = probe.sizes();
    const per = inputShape[0] * inputShape[1] * inputShape[2];
    const sab = (bytes: number) => new SharedArrayBuffer(Math.max(4, bytes));
    this.buffers = {
      ctrl: sab(16 * 4), parent: sab(sizes.parent * 4), child: sab(sizes.child * 4), grads: sab(sizes.grad * 4),
      x: sab(maxShard * per * 4), y: sab(maxShard * 4), numbers: sab(8 * 8), error: sab(ERROR_BYTES),
    };
    this.v = viewsOf(this.buffers);
    // the worker runs the cpu backend (a gpu context belongs to this thread), and needs the compiled
    // file (shard-thread.ts); otherwise the same numbers come from one thread
    this.worker = useWorker && getBackend().name === 'cpu'
      ? startShardThread(new URL('./shard-worker.js', import.meta.url), { init, buffers: this.buffers, inputShape })
      : null;
    this.worker?.unref();
    this.local = this.worker ? null : probe;
    this.parallel = this.worker !== null;
  }

  private signal(command: number): void {
    this.v.ctrl[CTRL.command] = command;
    Atomics.store(this.v.ctrl, CTRL.request, ++this.seq);
    Atomics.notify(this.v.ctrl, CTRL.request);
  }

  private wait(): void {
    const deadline = Date.now() + 30 * 60 * 1000;
    while (Atomics.load(this.v.ctrl, CTRL.done) !== this.seq) {
      Atomics.wait(this.v.ctrl, CTRL.done, this.seq - 1, 1000);
      if (Date.now() > deadline) throw new CpnasError('training', 'the second training thread stopped answering');
    }
    if (Atomics.load(this.v.ctrl, CTRL.error) === 1) {
      const text = new TextDecoder().decode(this.v.error).replace(/\0+$/, '');
      throw new CpnasError('training', `the second training thread failed: ${text}`);
    }
  }

  /** Gives the replica the trained Parent (the Child phase's teacher). */
  loadParent(parent: GenotypeNetwork): void {
    copyOut(stateArrays([parent]), this.v.parent);
    if (this.local) this.local.loadParent(this.v.parent);
    else {
      this.signal(COMMAND.loadParent);
      this.wait();
    }
  }

  /** Starts the second shard: the network's current state and the shard's images go to the replica. */
  begin(phase: ShardPhase, net: GenotypeNetwork, centers: CenterLoss, x: Float32Array, y: Int32Array, n: number, frozen: boolean, dropSeed: number): void {
    if (phase === 'parent') copyOut(stateArrays([net]), this.v.parent);
    else copyOut(stateArrays([net, centers]), this.v.child);
    this.v.x.set(x);
    this.v.y.set(y);
    this.pending = { phase, n, frozen, dropProb: net.dropPathProb, dropSeed };
    if (this.worker) {
      this.v.ctrl[CTRL.n] = n;
      this.v.ctrl[CTRL.phase] = phase === 'parent' ? 0 : 1;
      this.v.ctrl[CTRL.frozen] = frozen ? 1 : 0;
      this.v.ctrl[CTRL.dropSeed] = dropSeed | 0;
      this.v.numbers[0] = net.dropPathProb;
      this.signal(COMMAND.step);
      // the worker now keeps one core busy: this thread's kernels use one too, until `finish`
      this.savedThreads ??= getBackend().threads?.(1);
    }
  }

  private restoreThreads(): void {
    if (this.savedThreads !== undefined) getBackend().threads?.(this.savedThreads);
    this.savedThreads = undefined;
  }

  /** Waits for the second shard; its gradient is in `gradients` (parameters in order). */
  finish(): { gradients: Float32Array; stats: ShardStats } {
    const p = this.pending;
    if (!p) throw new CpnasError('training', 'finish() without begin()');
    this.pending = null;
    if (this.local) {
      if (p.phase === 'parent') this.local.loadParent(this.v.parent);
      else this.local.loadChild(this.v.child);
      const per = this.inputShape[0] * this.inputShape[1] * this.inputShape[2];
      const x = new Tensor(this.v.x.slice(0, p.n * per), [p.n, ...this.inputShape]);
      const stats = this.local.step(p.phase, x, this.v.y.slice(0, p.n), p.frozen, p.dropProb, p.dropSeed >>> 0, this.v.grads);
      return { gradients: this.v.grads, stats };
    }
    try {
      this.wait();
    } finally {
      this.restoreThreads();
    }
    const [data, ce, center, kd, correct] = this.v.numbers.subarray(1, 6);
    return { gradients: this.v.grads, stats: { data, ce, center, kd, correct } };
  }

  close(): void {
    this.restoreThreads();
    if (this.worker) {
      this.signal(COMMAND.exit);
      void this.worker.terminate();
    }
  }
}
