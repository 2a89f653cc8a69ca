/**
 * Where files go: the small storage interface through which everything the package writes or reads
 * back (models, checkpoints, run folders, reports) passes, so that core/, ops/, binary/ and nas/ import
 * no Node built-in and bundle for a browser. Paths are strings with `/` separators.
 *
 * Implementations:
 * - `MemoryStorage` (here): a map of paths to bytes, for tests and web pages;
 * - `NodeStorage` (node/storage.ts): the file system, with durable writes (every byte checked, file and
 *   folder fsynced, renamed into place, the temporary file removed on any failure) and lock files.
 * The Node entry points (the package's index.ts, the CLI) install a NodeStorage with `setStorage`.
 */
import { CpnasError } from './errors.js';

/** Who holds a run folder's lock. */
export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  /** What runs there (`search`, `train`...). */
  command: string;
}

/** A held lock: release it when the run ends; `tookOver` names a dead owner whose lock was taken over. */
export interface LockHandle {
  readonly path: string;
  readonly tookOver: LockOwner | null;
  release(): void;
}

export interface Storage {
  /** The bytes of a file, or null when there is no such file. */
  read(path: string): Uint8Array | null;
  /**
   * Replaces a file as a whole: afterwards it holds all of `data` or, after a failure (a full disk), its
   * previous content. Missing parent folders are made. Errors name the file and the cause.
   */
  write(path: string, data: Uint8Array | string): void;
  /** Appends text to a file in one write (a history line), making it if needed. */
  append(path: string, text: string): void;
  exists(path: string): boolean;
  isFolder(path: string): boolean;
  /** Names (not paths) of the entries of a folder, sorted; [] when there is no such folder. */
  list(dir: string): string[];
  /** Removes a file or a whole folder; nothing when absent. */
  remove(path: string): void;
  /**
   * Takes the one-writer lock of folder `dir` for `command`. A lock held by a live owner is refused with
   * a CpnasError naming it; one left by a dead process is taken over (see `tookOver`).
   */
  lock(dir: string, command: string): LockHandle;
}

// ---- paths ------------------------------------------------------------------------------------

/** Joins path parts with `/`, dropping empty parts and duplicate separators (`a/`, `b` -> `a/b`). */
export function joinPath(...parts: string[]): string {
  const kept = parts.filter((p) => p !== '');
  if (kept.length === 0) return '';
  const joined = kept.join('/').replace(/[\\/]+/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

/** The folder part of a path (`a/b/c.json` -> `a/b`; `c.json` -> `.`). */
export function dirnameOf(path: string): string {
  const p = path.replace(/[\\/]+$/, '');
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  if (i < 0) return '.';
  return i === 0 ? p.slice(0, 1) : p.slice(0, i);
}

/** The last part of a path (`a/b/c.json` -> `c.json`). */
export function basenameOf(path: string): string {
  const p = path.replace(/[\\/]+$/, '');
  return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
}

// ---- the storage in use ---------------------------------------------------------------------

let current: Storage | null = null;

/** Installs the storage every later read and write goes through; returns the previous one. */
export function setStorage(s: Storage | null): Storage | null {
  const prev = current;
  current = s;
  return prev;
}

/** The storage in use; throws when none was installed (a browser page must pass a MemoryStorage). */
export function getStorage(): Storage {
  if (!current) {
    throw new CpnasError('storage', 'no storage is set: import cpnas (Node, which installs the file system) or call setStorage(new MemoryStorage())');
  }
  return current;
}

// ---- in memory --------------------------------------------------------------------------------

function norm(path: string): string {
  const p = joinPath(path);
  return p.startsWith('./') ? p.slice(2) : p;
}

/** Files held in a Map: the storage of tests and web pages. Writes are atomic by construction. */
export class MemoryStorage implements Storage {
  readonly files = new Map<string, Uint8Array>();
  private readonly locks = new Map<string, number>();
  private readonly foreign = new Map<string, LockOwner>();
  private readonly encoder = new TextEncoder();

  read(path: string): Uint8Array | null {
    const b = this.files.get(norm(path));
    return b ? b.slice() : null;
  }

  write(path: string, data: Uint8Array | string): void {
    const p = norm(path);
    if (this.isFolder(p)) throw new CpnasError('write', `cannot write ${path}: it is a folder`);
    this.files.set(p, typeof data === 'string' ? this.encoder.encode(data) : data.slice());
  }

  append(path: string, text: string): void {
    const p = norm(path);
    const old = this.files.get(p) ?? new Uint8Array(0);
    const add = this.encoder.encode(text);
    const out = new Uint8Array(old.length + add.length);
    out.set(old);
    out.set(add, old.length);
    this.files.set(p, out);
  }

  exists(path: string): boolean {
    return this.files.has(norm(path)) || this.isFolder(path);
  }

  isFolder(path: string): boolean {
    const prefix = norm(path) + '/';
    for (const k of this.files.keys()) if (k.startsWith(prefix)) return true;
    return false;
  }

  list(dir: string): string[] {
    const prefix = norm(dir) === '.' || norm(dir) === '' ? '' : norm(dir) + '/';
    const names = new Set<string>();
    for (const k of this.files.keys()) if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]);
    return [...names].sort();
  }

  remove(path: string): void {
    const p = norm(path);
    this.files.delete(p);
    for (const k of [...this.files.keys()]) if (k.startsWith(p + '/')) this.files.delete(k);
  }

  /**
   * Locks nest within one storage (the CLI's lock around the engine's); `lockedBy` lets a test stand
   * in for another process holding the folder.
   */
  lock(dir: string, command: string): LockHandle {
    const p = norm(dir);
    const other = this.foreign.get(p);
    if (other) throw lockRefused(dir, other);
    this.locks.set(p, (this.locks.get(p) ?? 0) + 1);
    let released = false;
    return {
      path: p, tookOver: null,
      release: () => {
        if (released) return;
        released = true;
        const n = (this.locks.get(p) ?? 1) - 1;
        if (n > 0) this.locks.set(p, n);
        else this.locks.delete(p);
      },
    };
  }

  /** Marks `dir` as locked by another owner (for tests of a refused second writer). */
  lockedBy(dir: string, owner: LockOwner | null): void {
    if (owner) this.foreign.set(norm(dir), owner);
    else this.foreign.delete(norm(dir));
  }

  /** Whether this storage holds the lock of `dir`. */
  isLocked(dir: string): boolean {
    return this.locks.has(norm(dir));
  }
}

/** The error of a lock held by a live owner (shared by the implementations). */
export function lockRefused(dir: string, owner: LockOwner): CpnasError {
  return new CpnasError('lock', `${dir} is in use by \`${owner.command}\` (pid ${owner.pid} on host ${owner.host}, since ${owner.since}): one writer per run folder; wait for it to finish or stop it`);
}
