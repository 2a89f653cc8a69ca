/**
 * The file-system storage (core/storage.ts) for Node: the one writer of every file cpnas makes.
 *
 * A write goes to `.<name>.<pid>.<n>.tmp` beside the target; every byte count `writeSync` returns is
 * checked (a full disk returns short counts before it fails), the file is fsynced, renamed over the
 * target, and the folder is fsynced so that the rename itself survives a power cut. On any failure the
 * temporary file is removed and the error names the file and the cause (`disk full while writing
 * runs/x/checkpoints/search/ckpt-000002.json`): nothing is ever renamed into place short.
 *
 * A run folder's lock is `.cpnas-lock`, made with O_EXCL and holding the owner's pid, host, command
 * and start time. A lock whose process is gone (same host, pid not alive) is taken over; one on
 * another host cannot be checked and is refused like a live one.
 *
 * The fs functions are injectable so that tests can make a write come up short or fail midway.
 */
import * as nodeFs from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { CpnasError } from '../core/errors.js';
import { lockRefused, setStorage, type LockHandle, type LockOwner, type Storage } from '../core/storage.js';

/** The fs calls NodeStorage makes (a test replaces some of them). */
export interface FsCalls {
  openSync: typeof nodeFs.openSync;
  writeSync: (fd: number, buffer: Uint8Array, offset: number, length: number) => number;
  fsyncSync: typeof nodeFs.fsyncSync;
  closeSync: typeof nodeFs.closeSync;
  renameSync: typeof nodeFs.renameSync;
  unlinkSync: typeof nodeFs.unlinkSync;
  mkdirSync: typeof nodeFs.mkdirSync;
}

const realFs: FsCalls = {
  openSync: nodeFs.openSync,
  writeSync: (fd, buffer, offset, length) => nodeFs.writeSync(fd, buffer, offset, length),
  fsyncSync: nodeFs.fsyncSync,
  closeSync: nodeFs.closeSync,
  renameSync: nodeFs.renameSync,
  unlinkSync: nodeFs.unlinkSync,
  mkdirSync: nodeFs.mkdirSync,
};

export const LOCK_FILE = '.cpnas-lock';

/** A person's words for an errno code. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOSPC': return 'disk full';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'EROFS': return 'read-only file system';
    case 'EACCES': case 'EPERM': return 'no permission';
    case 'EIO': return 'input/output error';
    case 'ENOTDIR': return 'a part of the path is a file, not a folder';
    case 'EISDIR': return 'it is a folder';
    case 'EMFILE': case 'ENFILE': return 'too many open files';
    case 'ENAMETOOLONG': return 'the name is too long';
    default: return code ?? (e as Error)?.message ?? String(e);
  }
}

let tmpCounter = 0;

export class NodeStorage implements Storage {
  private readonly fs: FsCalls;
  private readonly encoder = new TextEncoder();

  constructor(calls: Partial<FsCalls> = {}) {
    this.fs = { ...realFs, ...calls };
  }

  read(path: string): Uint8Array | null {
    try {
      return nodeFs.readFileSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      throw new CpnasError('read', `${describeFsError(e)} while reading ${path}`);
    }
  }

  write(path: string, data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? this.encoder.encode(data) : data;
    const dir = dirname(path);
    const tmp = join(dir, `.${basename(path)}.${process.pid}.${tmpCounter++}.tmp`);
    let fd = -1;
    let made = false;
    try {
      this.fs.mkdirSync(dir, { recursive: true });
      fd = this.fs.openSync(tmp, 'wx');
      made = true;
      for (let off = 0; off < bytes.length;) {
        const n = this.fs.writeSync(fd, bytes, off, bytes.length - off);
        // a full disk may first accept part of a write; 0 bytes written is a full disk too
        if (!(n > 0)) throw Object.assign(new Error(`short write (${off} of ${bytes.length} bytes)`), { code: 'ENOSPC' });
        off += n;
      }
      this.fs.fsyncSync(fd);
      this.fs.closeSync(fd);
      fd = -1;
      this.fs.renameSync(tmp, path);
      made = false;
      this.syncFolder(dir);
    } catch (e) {
      if (fd >= 0) try { this.fs.closeSync(fd); } catch { /* already failing */ }
      if (made) try { this.fs.unlinkSync(tmp); } catch { /* already gone */ }
      if (e instanceof CpnasError) throw e;
      throw new CpnasError('write', `${describeFsError(e)} while writing ${path}`);
    }
  }

  /** fsync of the folder, so that the rename is on disk; skipped where folders cannot be fsynced. */
  private syncFolder(dir: string): void {
    let fd = -1;
    try {
      fd = this.fs.openSync(dir, 'r');
      this.fs.fsyncSync(fd);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw e;
    } finally {
      if (fd >= 0) this.fs.closeSync(fd);
    }
  }

  append(path: string, text: string): void {
    const bytes = this.encoder.encode(text);
    let fd = -1;
    try {
      this.fs.mkdirSync(dirname(path), { recursive: true });
      fd = this.fs.openSync(path, 'a');
      const n = this.fs.writeSync(fd, bytes, 0, bytes.length);
      // a torn append leaves a partial last line, which readers refuse or cut back (nas/history.ts)
      if (n !== bytes.length) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
      this.fs.fsyncSync(fd);
    } catch (e) {
      throw new CpnasError('write', `${describeFsError(e)} while appending to ${path}`);
    } finally {
      if (fd >= 0) try { this.fs.closeSync(fd); } catch { /* nothing more to do */ }
    }
  }

  exists(path: string): boolean {
    return nodeFs.existsSync(path);
  }

  isFolder(path: string): boolean {
    try {
      return nodeFs.statSync(path).isDirectory();
    } catch {
      return false;
    }
  }

  list(dir: string): string[] {
    try {
      return nodeFs.readdirSync(dir).sort();
    } catch {
      return [];
    }
  }

  remove(path: string): void {
    try {
      nodeFs.rmSync(path, { recursive: true, force: true });
    } catch (e) {
      throw new CpnasError('write', `${describeFsError(e)} while removing ${path}`);
    }
  }

  /** Locks this process holds, by lock path: taking one again nests (the CLI around the engine's). */
  private readonly held = new Map<string, { count: number; release: () => void }>();

  lock(dir: string, command: string): LockHandle {
    const path = resolve(dir, LOCK_FILE);
    const mine = this.held.get(path);
    if (mine) {
      mine.count++;
      let released = false;
      return { path, tookOver: null, release: () => { if (!released) { released = true; this.unhold(path); } } };
    }
    const handle = this.takeLock(dir, path, command);
    this.held.set(path, { count: 1, release: handle.release });
    let released = false;
    return { path, tookOver: handle.tookOver, release: () => { if (!released) { released = true; this.unhold(path); } } };
  }

  private unhold(path: string): void {
    const h = this.held.get(path);
    if (!h) return;
    if (--h.count === 0) {
      this.held.delete(path);
      h.release();
    }
  }

  private takeLock(dir: string, path: string, command: string): LockHandle {
    const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command };
    let tookOver: LockOwner | null = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      let fd = -1;
      try {
        this.fs.mkdirSync(dir, { recursive: true });
        fd = this.fs.openSync(path, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new CpnasError('lock', `${describeFsError(e)} while making the lock ${path}`);
        const owner = readOwner(path);
        if (owner && (owner.host !== me.host || isAlive(owner.pid))) throw lockRefused(dir, owner);
        if (!owner && Date.now() - mtimeMs(path) < 5000) {
          throw new CpnasError('lock', `${dir} is being locked by another process right now (${path}); try again in a moment`);
        }
        // the owner's process is gone (or the lock was cut short by a kill while it was made)
        tookOver = owner ?? { pid: -1, host: me.host, since: '?', command: '?' };
        try { nodeFs.unlinkSync(path); } catch { /* another process took it over first */ }
        continue;
      }
      try {
        const bytes = this.encoder.encode(JSON.stringify(me) + '\n');
        if (this.fs.writeSync(fd, bytes, 0, bytes.length) !== bytes.length) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
        this.fs.fsyncSync(fd);
      } catch (e) {
        try { this.fs.unlinkSync(path); } catch { /* gone */ }
        throw new CpnasError('lock', `${describeFsError(e)} while writing the lock ${path}`);
      } finally {
        this.fs.closeSync(fd);
      }
      return {
        path, tookOver,
        release: () => {
          const owner = readOwner(path);
          if (owner && owner.pid === me.pid && owner.host === me.host && owner.since === me.since) {
            try { nodeFs.unlinkSync(path); } catch { /* already gone */ }
          }
        },
      };
    }
    throw new CpnasError('lock', `could not take the lock ${path}: other processes keep taking it`);
  }
}

function mtimeMs(path: string): number {
  try {
    return nodeFs.statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function readOwner(path: string): LockOwner | null {
  try {
    const o = JSON.parse(nodeFs.readFileSync(path, 'utf8')) as LockOwner;
    return o && typeof o.pid === 'number' && typeof o.host === 'string' ? o : null;
  } catch {
    return null;
  }
}

/** Whether a process with this pid runs on this machine (EPERM: it runs, under another user). */
function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Installs a NodeStorage as the storage of the package (what the Node entry points do on import). */
export function useNodeStorage(calls: Partial<FsCalls> = {}): NodeStorage {
  const s = new NodeStorage(calls);
  setStorage(s);
  return s;
}
