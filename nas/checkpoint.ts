/**
 * Checkpoints of a search or a training run: one tree (JSON + one blob, ops/state.ts) per save, under a
 * numbered name, and a `latest.json` pointer rewritten atomically after the save is complete. A run
 * killed at any moment leaves `latest.json` naming a whole checkpoint; older ones are removed after
 * the pointer moves.
 */
import { CpnasError, type Random } from '../core/index.js';
import { getStorage, joinPath as join } from '../core/storage.js';
import type { Module } from '../ops/module.js';
import type { Optimizer, OptimizerState } from '../ops/optim/optimizer.js';
import { loadTree, saveTree, type StateDict, type StateJson, type Tree } from '../ops/state.js';
import { readJson, writeJsonAtomic } from './io.js';

interface Pointer {
  file: string;
  seq: number;
  savedAt: string;
}

export class CheckpointStore {
  private seq = 0;

  constructor(readonly dir: string) {}

  private get pointerPath(): string {
    return join(this.dir, 'latest.json');
  }

  exists(): boolean {
    return getStorage().exists(this.pointerPath);
  }

  /** Saves a checkpoint and moves the pointer to it. */
  save(value: Tree): void {
    if (this.seq === 0 && this.exists()) this.seq = readJson<Pointer>(this.pointerPath, 'checkpoint').seq;
    const seq = ++this.seq;
    const file = `ckpt-${String(seq).padStart(6, '0')}`;
    saveTree(join(this.dir, file), value);
    writeJsonAtomic(this.pointerPath, { file, seq, savedAt: new Date().toISOString() } satisfies Pointer);
    for (const f of getStorage().list(this.dir)) {
      if (f.startsWith('ckpt-') && !f.startsWith(file + '.')) getStorage().remove(join(this.dir, f));
    }
  }

  /** The latest checkpoint, or null when there is none. */
  load(): Tree | null {
    if (!this.exists()) return null;
    const p = readJson<Pointer>(this.pointerPath, 'checkpoint');
    this.seq = p.seq;
    return loadTree(join(this.dir, p.file));
  }

  /** Removes every checkpoint of this store. */
  clear(): void {
    getStorage().remove(this.dir);
    this.seq = 0;
  }
}

/** A module's state as a tree (its JSON description and its blob viewed as 32-bit words). */
export function moduleToTree(m: Module): Tree {
  const s = m.stateDict();
  const words = new Uint32Array(s.blob.buffer, s.blob.byteOffset, s.blob.byteLength / 4);
  // the description is plain JSON made fresh by stateDict(): no copy needed
  return { json: s.json as unknown as Tree, words };
}

export function loadModuleFromTree(m: Module, t: Tree, what: string): void {
  const o = t as { json?: unknown; words?: unknown };
  if (!o || !(o.words instanceof Uint32Array) || !o.json) throw new CpnasError('checkpoint', `${what}: the saved module state is missing`);
  const state: StateDict = { json: o.json as StateJson, blob: new Uint8Array(o.words.buffer, o.words.byteOffset, o.words.byteLength) };
  m.loadStateDict(state);
}

export function optimizerToTree(o: Optimizer): Tree {
  return o.state() as unknown as Tree;
}

export function loadOptimizerFromTree(o: Optimizer, t: Tree): void {
  o.loadState(t as unknown as OptimizerState);
}

export function rngToTree(r: Random): Tree {
  // NaN (no spare normal) is kept by the tree encoding
  return r.getState();
}

export function loadRngFromTree(r: Random, t: Tree): void {
  r.setState(t as number[]);
}
