import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpnasError } from '../../core/errors.js';
import { MemoryStorage, basenameOf, dirnameOf, joinPath } from '../../core/storage.js';
import { LOCK_FILE, NodeStorage } from '../../node/storage.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'cpnas-storage-'));
const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('NodeStorage.write (durable, atomic)', () => {
  it('writes, replaces and leaves no temporary file', () => {
    const dir = fresh();
    const s = new NodeStorage();
    const p = join(dir, 'sub', 'a.json');
    s.write(p, 'one');
    s.write(p, new Uint8Array([116, 119, 111]));
    expect(readFileSync(p, 'utf8')).toBe('two');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['a.json']);
  });

  it('a write that comes up short on a full disk leaves the previous file intact and no temp file', () => {
    const dir = fresh();
    const p = join(dir, 'checkpoints', 'ckpt-000002.json');
    new NodeStorage().write(p, 'x'.repeat(200_000));
    // the disk accepts 61,440 bytes, then is full (what a 64 KiB tmpfs does)
    let accepted = 0;
    const full = new NodeStorage({
      writeSync: (_fd, _buf, _off, len) => {
        if (accepted >= 61_440) throw enospc();
        const n = Math.min(len, 61_440 - accepted, 4096);
        accepted += n;
        return n;
      },
    });
    let err: unknown;
    try { full.write(p, 'y'.repeat(200_000)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CpnasError);
    expect((err as Error).message).toBe(`write: disk full while writing ${p}`);
    expect(readFileSync(p, 'utf8')).toBe('x'.repeat(200_000));
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['ckpt-000002.json']);
  });

  it('a write call that returns 0 bytes is a full disk, not an endless loop', () => {
    const dir = fresh();
    const p = join(dir, 'a.bin');
    const s = new NodeStorage({ writeSync: () => 0 });
    expect(() => s.write(p, new Uint8Array(10))).toThrow(`disk full while writing ${p}`);
    expect(existsSync(p)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failing fsync or rename removes the temp file and names the file and the cause', () => {
    const dir = fresh();
    const p = join(dir, 'model.bin');
    new NodeStorage().write(p, 'old');
    const eio = () => { throw Object.assign(new Error('EIO'), { code: 'EIO' }); };
    expect(() => new NodeStorage({ fsyncSync: eio }).write(p, 'new')).toThrow(`input/output error while writing ${p}`);
    expect(() => new NodeStorage({ renameSync: () => { throw Object.assign(new Error('x'), { code: 'EDQUOT' }); } }).write(p, 'new'))
      .toThrow(`disk quota exceeded while writing ${p}`);
    expect(readFileSync(p, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['model.bin']);
  });

  // a real full file system: a 64 KiB tmpfs (needs root to mount; skipped where it cannot be mounted)
  const tmpfs = fresh();
  const mounted = process.platform === 'linux' && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', tmpfs]).status === 0;
  it.skipIf(!mounted)('on a full tmpfs a big write fails naming the file, the previous file stays whole, no temp file', () => {
    try {
      const s = new NodeStorage();
      const p = join(tmpfs, 'ckpt-000002.json');
      s.write(p, 'x'.repeat(20_000));
      expect(() => s.write(p, 'y'.repeat(200_000))).toThrow(`disk full while writing ${p}`);
      expect(readFileSync(p, 'utf8')).toBe('x'.repeat(20_000));
      expect(readdirSync(tmpfs)).toEqual(['ckpt-000002.json']);
    } finally {
      spawnSync('umount', [tmpfs]);
    }
  });

  it('a real full device: /dev/full refuses every byte', () => {
    // not a folder we can write temps in, so the error comes from making the temp file: still named
    const s = new NodeStorage();
    expect(() => s.write('/dev/full/x.json', 'a')).toThrow(/while writing \/dev\/full\/x.json/);
  });

  it('append names the file on failure', () => {
    const dir = fresh();
    const p = join(dir, 'history.jsonl');
    const s = new NodeStorage({ writeSync: (_fd, _b, _o, len) => Math.floor(len / 2) });
    expect(() => s.append(p, '{"a":1}\n')).toThrow(`disk full while appending to ${p}`);
  });
});

describe('NodeStorage.lock (one writer per run folder)', () => {
  it('a lock held by another live process is refused naming it; in one process locks nest; release frees it', () => {
    const dir = fresh();
    const s = new NodeStorage();
    const a = s.lock(dir, 'search');
    expect(a.tookOver).toBeNull();
    const inner = s.lock(dir, 'search'); // the engine's lock inside the CLI's
    inner.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    // another process (a second storage stands in for it: it holds no lock of its own there)
    const other = new NodeStorage();
    expect(() => other.lock(dir, 'train')).toThrow(new RegExp(`in use by \`search\` \\(pid ${process.pid} on host ${hostname()}`));
    a.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    other.lock(dir, 'train').release();
  });

  it('a lock left by a dead process is taken over, saying whose', () => {
    const dir = fresh();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: Number(dead), host: hostname(), since: '2020-01-01T00:00:00Z', command: 'search' }));
    const h = new NodeStorage().lock(dir, 'search');
    expect(h.tookOver).toMatchObject({ pid: Number(dead), command: 'search' });
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    h.release();
  });

  it('a lock of another host is refused (its process cannot be checked)', () => {
    const dir = fresh();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'elsewhere', since: 'x', command: 'train' }));
    expect(() => new NodeStorage().lock(dir, 'train')).toThrow(/pid 1 on host elsewhere/);
  });
});

describe('MemoryStorage and paths', () => {
  it('holds files, folders and locks', () => {
    const m = new MemoryStorage();
    m.write('run/a.json', '{}');
    m.append('run/h.jsonl', 'x\n');
    m.append('run/h.jsonl', 'y\n');
    m.write('run/ck/c.bin', new Uint8Array([1, 2]));
    expect(new TextDecoder().decode(m.read('run/h.jsonl')!)).toBe('x\ny\n');
    expect(m.list('run')).toEqual(['a.json', 'ck', 'h.jsonl']);
    expect(m.isFolder('run/ck')).toBe(true);
    expect(m.exists('run/ck/c.bin')).toBe(true);
    m.remove('run/ck');
    expect(m.exists('run/ck/c.bin')).toBe(false);
    expect(m.read('nope')).toBeNull();
    const l = m.lock('run', 'search');
    expect(m.isLocked('run')).toBe(true);
    l.release();
    expect(m.isLocked('run')).toBe(false);
    m.lockedBy('run', { pid: 7, host: 'tab', since: 'now', command: 'search' });
    expect(() => m.lock('run', 'train')).toThrow(CpnasError);
  });

  it('joins and splits paths', () => {
    expect(joinPath('a/', 'b', '', 'c.json')).toBe('a/b/c.json');
    expect(joinPath('/tmp', 'x')).toBe('/tmp/x');
    expect(dirnameOf('a/b/c.json')).toBe('a/b');
    expect(dirnameOf('c.json')).toBe('.');
    expect(dirnameOf('/c')).toBe('/');
    expect(basenameOf('a/b/c.json')).toBe('c.json');
  });
});
