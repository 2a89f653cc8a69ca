/**
 * Checkpoints of a search or a training run: one tree (JSON + one blob, ops/state.ts) per save, under a
 * numbered name, and a `latest.json` pointer rewritten after the save is complete. The newest two
 * checkpoints are kept, so a damaged newest one still leaves a verified one to fall back to.
 *
 * Everything read back is verified: the tree's JSON and blob carry checksums (ops/state.ts), the
 * pointer carries a checksum of its own and must name a checkpoint file. When the pointer or the
 * checkpoint it names fails, loading falls back to the newest older checkpoint that verifies and says
 * so; when none does, it throws naming the file and why.
 */
import { CpnasError } from '../core/index.js';
import { getStorage, joinPath as join } from '../core/storage.js';
import { checksum, loadTree, saveTree, type Tree } from '../ops/state.js';
import { readJson, writeJsonAtomic } from './io.js';

interface Pointer {
  file: string;
  seq: number;
  savedAt: string;
  /** Checksum of the pointer's other fields, as JSON. */
  checksum: string;
}

const NAME = /^ckpt-(\d{6,})$/;
const KEEP = 2;

const pointerSum = (p: Omit<Pointer, 'checksum'>) => checksum(new TextEncoder().encode(JSON.stringify({ file: p.file, seq: p.seq, savedAt: p.savedAt })));

/** A loaded checkpoint: its tree, its file name, and the reason a newer one was passed over. */
export interface LoadedCheckpoint {
  value: Tree;
  file: string;
  fellBack: string | null;
}

export class CheckpointStore {
  private seq = 0;

  constructor(readonly dir: string, private readonly log: (line: string) => void = () => {}) {}

  get pointerPath(): string {
    return join(this.dir, 'latest.json');
  }

  /** Whether this store holds anything to resume from (a pointer or a checkpoint file). */
  exists(): boolean {
    return getStorage().exists(this.pointerPath) || this.files().length > 0;
  }

  /** Checkpoint names in the folder, newest first. */
  private files(): { name: string; seq: number }[] {
    const out: { name: string; seq: number }[] = [];
    for (const f of getStorage().list(this.dir)) {
      const m = /^(ckpt-\d{6,})\.json$/.exec(f);
      if (m) out.push({ name: m[1], seq: Number(NAME.exec(m[1])![1]) });
    }
    return out.sort((a, b) => b.seq - a.seq);
  }

  /** Saves a checkpoint, moves the pointer to it, and removes all but the newest KEEP. */
  save(value: Tree): void {
    if (this.seq === 0) this.seq = this.files()[0]?.seq ?? 0;
    const seq = ++this.seq;
    const file = `ckpt-${String(seq).padStart(6, '0')}`;
    saveTree(join(this.dir, file), value);
    const p = { file, seq, savedAt: new Date().toISOString() };
    writeJsonAtomic(this.pointerPath, { ...p, checksum: pointerSum(p) } satisfies Pointer);
    const keep = new Set(this.files().slice(0, KEEP).map((f) => f.name));
    keep.add(file);
    for (const f of getStorage().list(this.dir)) {
      const m = /^(ckpt-\d{6,})\./.exec(f);
      if (m && !keep.has(m[1])) getStorage().remove(join(this.dir, f));
    }
  }

  /** Reads and checks latest.json: the file it names, or why it cannot be trusted. */
  private pointer(): { file: string } | { error: string } {
    let p: Partial<Pointer>;
    try {
      p = readJson<Partial<Pointer>>(this.pointerPath, 'checkpoint');
    } catch (e) {
      return { error: (e as Error).message.replace(/^checkpoint: /, '') };
    }
    if (!p || typeof p !== 'object' || typeof p.file !== 'string' || !NAME.test(p.file) || !Number.isInteger(p.seq) || typeof p.savedAt !== 'string') {
      return { error: `${this.pointerPath} does not name a checkpoint (expected {"file": "ckpt-NNNNNN", "seq", "savedAt", "checksum"})` };
    }
    if (p.checksum !== pointerSum(p as Pointer)) return { error: `${this.pointerPath} fails its checksum (edited or damaged)` };
    return { file: p.file };
  }

  /**
   * The newest checkpoint that verifies, or null when the store is empty. `check` may refuse a tree
   * (throwing), which also moves on to an older one.
   */
  load(check: (value: Tree, file: string) => void = () => {}): LoadedCheckpoint | null {
    if (!this.exists()) return null;
    const ptr = this.pointer();
    const candidates = this.files().map((f) => f.name);
    const errors: string[] = [];
    if ('file' in ptr) {
      // the pointer's checkpoint first, then older ones
      const i = candidates.indexOf(ptr.file);
      if (i < 0) errors.push(`${join(this.dir, ptr.file)}.json, named by ${this.pointerPath}, is missing`);
      else candidates.splice(0, i); // never one newer than the pointer: a save cut short before the pointer moved
    } else {
      errors.push(ptr.error);
    }
    for (const name of candidates) {
      try {
        const value = loadTree(join(this.dir, name));
        check(value, `${join(this.dir, name)}.json`);
        const fellBack = errors.length ? errors.join('; ') : null;
        if (fellBack) this.log(`${fellBack}: falling back to the previous verified checkpoint ${join(this.dir, name)}`);
        this.seq = Number(NAME.exec(name)![1]);
        return { value, file: `${join(this.dir, name)}.json`, fellBack };
      } catch (e) {
        // a checkpoint of other settings ('resume') is refused outright, never passed over
        if (!(e instanceof CpnasError) || e.where === 'resume') throw e;
        errors.push(e.message.replace(/^[a-zA-Z ]+: /, ''));
      }
    }
    throw new CpnasError('checkpoint', `no verified checkpoint in ${this.dir}: ${errors.join('; ')}`);
  }

  /** Removes every checkpoint of this store. */
  clear(): void {
    getStorage().remove(this.dir);
    this.seq = 0;
  }
}
