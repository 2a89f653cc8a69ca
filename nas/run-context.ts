/**
 * The run context: the one owner of a run folder while a search or a training stage runs in it.
 * Search, training and the ablation's runs all build one; it holds
 * - the folder's lock (one writer per run folder: a second search/train/--resume is refused, naming
 *   the owner; a lock left by a dead process is taken over, saying so);
 * - the checkpoint store (verified reads, fallback to the previous verified checkpoint, nas/checkpoint.ts);
 * - history.jsonl (appends, reconciled with the checkpoint on resume, nas/history.ts);
 * - the elapsed time carried across resumes, progress, the log and the abort signal;
 * - the run's identity: its settings and a fingerprint of its data, stored in every checkpoint, so a
 *   resume with other settings, another dataset, split or limit is refused instead of mixing two runs.
 * Strategies and the training stage describe their state as typed parts (nas/state-parts.ts) and save
 * or restore it through `save` / `restore`.
 */
import { CpnasError } from '../core/index.js';
import { getStorage, joinPath, type LockHandle, type Storage } from '../core/storage.js';
import type { Tree } from '../ops/state.js';
import { CheckpointStore } from './checkpoint.js';
import { HistoryLog, type HistoryMark } from './history.js';
import { NonFiniteState, loadParts, saveParts, type Parts } from './state-parts.js';
import type { HistoryRecord, LogCallback, NasDataset, ProgressCallback, ProgressEvent } from './types.js';

export interface RunContextOptions {
  /** The run folder. */
  outDir: string;
  /** What runs: names the lock's owner and the checkpoint folder (`checkpoints/<stage>`). */
  stage: 'search' | 'train';
  /** Folder of the checkpoints, relative to outDir. */
  checkpointDir: string;
  /** What must not change across a resume (settings, data fingerprint); compared as JSON. */
  identity: Record<string, unknown>;
  onProgress?: ProgressCallback;
  log?: LogCallback;
  signal?: AbortSignal;
}

/** What a checkpoint holds besides the parts. */
interface Envelope {
  identity: string;
  history: HistoryMark;
  elapsed: number;
  state: Tree;
}

export class RunContext {
  readonly storage: Storage;
  readonly dir: string;
  readonly log: LogCallback;
  readonly checkpoints: CheckpointStore;
  history: HistoryLog;
  private readonly identity: string;
  private elapsedBefore = 0;
  private readonly start = Date.now();
  private lockHandle: LockHandle | null;
  /** The round or epoch of the last progress event, named when the numbers diverge. */
  private lastRound: number | null = null;

  constructor(private readonly opts: RunContextOptions) {
    this.storage = getStorage();
    this.dir = opts.outDir;
    this.log = opts.log ?? (() => {});
    this.identity = JSON.stringify(opts.identity);
    this.lockHandle = this.storage.lock(opts.outDir, opts.stage);
    const dead = this.lockHandle.tookOver;
    if (dead) this.log(`took over the lock of ${opts.outDir} left by \`${dead.command}\` (pid ${dead.pid} on ${dead.host}, since ${dead.since}), whose process is gone`);
    this.checkpoints = new CheckpointStore(joinPath(opts.outDir, opts.checkpointDir), this.log);
    this.history = new HistoryLog(this.path('history.jsonl'));
  }

  path(name: string): string {
    return joinPath(this.dir, name);
  }

  /** Whether there is a checkpoint to resume from. */
  hasCheckpoint(): boolean {
    return this.checkpoints.exists();
  }

  /**
   * Resumes from the newest verified checkpoint: loads every part, checks the identity, reconciles
   * history.jsonl and carries the elapsed time. Returns false (nothing loaded) when there is none.
   */
  restore(parts: Parts): boolean {
    let env: Envelope | null = null;
    const loaded = this.checkpoints.load((value, file) => {
      env = envelope(value, file);
      if (env.identity !== this.identity) throw new IdentityError(file, env.identity, this.identity);
      loadParts(parts, env.state, file);
    });
    if (!loaded || !env) return false;
    const e: Envelope = env;
    this.history = HistoryLog.reconcile(this.path('history.jsonl'), e.history, loaded.file).log;
    this.elapsedBefore = e.elapsed;
    return true;
  }

  /** Saves the parts as the newest checkpoint, with the history position and the elapsed time. */
  save(parts: Parts): void {
    let state: Tree;
    try {
      state = saveParts(parts);
    } catch (e) {
      if (!(e instanceof NonFiniteState)) throw e;
      // never a checkpoint of a diverged run: the last good one stays
      const at = this.lastRound !== null ? ` (${this.opts.stage === 'search' ? 'round' : 'epoch'} ${this.lastRound})` : '';
      throw new CpnasError(this.opts.stage === 'search' ? 'search' : 'training',
        `the numbers diverged${at}: ${e.detail}; nothing was saved (lower --lr${this.opts.stage === 'train' ? ', --lambda or --theta' : ''})`);
    }
    const env: { [k: string]: Tree } = {
      identity: this.identity,
      history: { length: this.history.mark().length, checksum: this.history.mark().checksum },
      elapsed: this.elapsed(),
      state,
    };
    this.checkpoints.save(env);
  }

  record(rec: HistoryRecord): void {
    this.history.record(rec);
  }

  /** Seconds spent in this stage, earlier runs of it included. */
  elapsed(): number {
    return this.elapsedBefore + (Date.now() - this.start) / 1000;
  }

  get secondsBefore(): number {
    return this.elapsedBefore;
  }

  progress(ev: ProgressEvent): void {
    if (ev.round !== undefined) this.lastRound = ev.round;
    this.opts.onProgress?.(ev);
  }

  /** Throws when the run was aborted (called between units of work, after a checkpoint). */
  checkAbort(): void {
    if (this.opts.signal?.aborted) {
      throw new CpnasError(this.opts.stage === 'search' ? 'search' : 'training', 'aborted (the last checkpoint is kept: run again with resume to continue)');
    }
  }

  /** Releases the lock (the run is over, or failed). */
  close(): void {
    this.lockHandle?.release();
    this.lockHandle = null;
  }
}

/** Runs `fn` with a context, releasing the lock however it ends. */
export function withRunContext<T>(opts: RunContextOptions, fn: (run: RunContext) => T): T {
  const run = new RunContext(opts);
  try {
    return fn(run);
  } finally {
    run.close();
  }
}

/** A checkpoint made with other settings or data: refused, never a fallback. */
class IdentityError extends CpnasError {
  constructor(file: string, saved: string, now: string) {
    super('resume', `${file} was saved by a run with other settings or data: ${identityDiff(saved, now)}; resume with the run's own settings, or start a new run`);
  }
}

function identityDiff(savedText: string, nowText: string): string {
  const saved = JSON.parse(savedText) as Record<string, unknown>, now = JSON.parse(nowText) as Record<string, unknown>;
  const diffs: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
    } else {
      diffs.push(`${path} (${JSON.stringify(a)} in the checkpoint, ${JSON.stringify(b)} now)`);
    }
  };
  walk(saved, now, '');
  return diffs.slice(0, 4).join('; ') + (diffs.length > 4 ? `; and ${diffs.length - 4} more` : '');
}

function envelope(value: Tree, file: string): Envelope {
  const o = value as { [k: string]: Tree } | null;
  const h = o && typeof o === 'object' && !Array.isArray(o) && !ArrayBuffer.isView(o) ? (o.history as { [k: string]: Tree } | null) : null;
  if (!o || typeof o.identity !== 'string' || typeof o.elapsed !== 'number' || !h || typeof h !== 'object'
    || typeof h.length !== 'number' || typeof h.checksum !== 'string' || !('state' in o)) {
    throw new CpnasError('checkpoint', `${file} is not a checkpoint of this version of cpnas (no identity, history mark or state)`);
  }
  return { identity: o.identity, history: { length: h.length, checksum: h.checksum }, elapsed: o.elapsed, state: o.state };
}

/**
 * A fingerprint of a split: its size, image shape, classes, every label and a sample of the pixels,
 * so that a resume on another dataset, split (seed) or limit is told apart.
 */
export function dataFingerprint(ds: NasDataset): string {
  let h = 0x811c9dc5;
  const mix = (x: number) => { h = Math.imul(h ^ (x >>> 0), 0x01000193); };
  mix(ds.length);
  for (const d of ds.shape) mix(d);
  for (const b of ds.batches(256, { shuffle: false })) {
    for (let i = 0; i < b.y.length; i++) mix(b.y[i]);
    const words = new Uint32Array(b.x.data.buffer, b.x.data.byteOffset, b.x.data.length);
    for (let i = 0; i < words.length; i += 17) mix(words[i]);
  }
  return `${ds.length}x[${ds.shape.join(',')}]:${ds.classNames.length}:${(h >>> 0).toString(16).padStart(8, '0')}`;
}
