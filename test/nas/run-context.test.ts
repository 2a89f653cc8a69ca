/**
 * The run context over the in-memory storage (as a web page runs it): a search runs, is interrupted
 * and resumes to the same genotype with no file system at all; a damaged newest checkpoint falls back
 * to the previous verified one, saying so; history.jsonl is reconciled with the checkpoint; a
 * checkpoint of other settings is refused; the folder's lock refuses a second writer.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CpnasError } from '../../core/errors.js';
import { MemoryStorage, getStorage, setStorage, type Storage } from '../../core/storage.js';
import { HistoryLog, historyChecksum } from '../../nas/history.js';
import { readJsonl } from '../../nas/io.js';
import { RunContext } from '../../nas/run-context.js';
import { runSearch } from '../../nas/search.js';
import { jsonPart, int } from '../../nas/state-parts.js';
import type { HistoryRecord } from '../../nas/types.js';
import { FEW, tiny, tinySplits } from './tiny.js';

let prev: Storage | null = null;
let mem: MemoryStorage;
beforeEach(() => {
  mem = new MemoryStorage();
  prev = setStorage(mem);
});
afterEach(() => void setStorage(prev));

const splits = tinySplits();
const text = (p: string) => new TextDecoder().decode(mem.read(p)!);

describe('a search in memory', () => {
  it('runs, stops, resumes to the same genotype and history; no file system involved', () => {
    const settings = tiny({ strategy: 'cp', primitives: FEW });
    const whole = runSearch({ settings, data: splits, outDir: 'runs/a' });
    expect(mem.exists('runs/a/genotype.json')).toBe(true);
    expect(getStorage()).toBe(mem);

    const stop = new AbortController();
    let n = 0;
    expect(() => runSearch({ settings, data: splits, outDir: 'runs/b', signal: stop.signal, onProgress: (e) => { if (e.checkpoint && ++n === 3) stop.abort(); } }))
      .toThrow(/aborted/);
    expect(mem.isLocked('runs/b'), 'the lock is released when the run stops').toBe(false);
    const logs: string[] = [];
    const resumed = runSearch({ settings, data: splits, outDir: 'runs/b', resume: true, log: (l) => logs.push(l) });
    expect(logs.some((l) => l.startsWith('resuming cp search'))).toBe(true);
    expect(resumed.genotype).toEqual(whole.genotype);
    const strip = (h: HistoryRecord[]) => h.map((r) => ({ ...r, seconds: 0, searchSeconds: 0 }));
    expect(strip(readJsonl(('runs/b/history.jsonl')))).toEqual(strip(readJsonl('runs/a/history.jsonl')));
  });

  it('a damaged newest checkpoint falls back to the previous verified one, saying so, and still ends the same', () => {
    const settings = tiny({ strategy: 'cp', primitives: FEW });
    const whole = runSearch({ settings, data: splits, outDir: 'runs/a' });
    const stop = new AbortController();
    let n = 0;
    expect(() => runSearch({ settings, data: splits, outDir: 'runs/c', signal: stop.signal, onProgress: (e) => { if (e.checkpoint && ++n === 4) stop.abort(); } })).toThrow();
    const ck = mem.list('runs/c/checkpoints/search').filter((f) => f.endsWith('.bin'));
    expect(ck.length).toBe(2); // the two newest are kept
    const newest = `runs/c/checkpoints/search/${ck[1]}`;
    const b = mem.read(newest)!;
    b[b.length >> 1] ^= 0xff;
    mem.write(newest, b);
    const logs: string[] = [];
    const out = runSearch({ settings, data: splits, outDir: 'runs/c', resume: true, log: (l) => logs.push(l) });
    expect(logs.join('\n')).toMatch(/ckpt-(\d+)\.bin does not match .*checksum differs.*falling back to the previous verified checkpoint runs\/c\/checkpoints\/search\/ckpt-\d+/s);
    expect(out.genotype).toEqual(whole.genotype);
  });

  it('a checkpoint made with other settings is refused naming what differs', () => {
    const stop = new AbortController();
    expect(() => runSearch({ settings: tiny({ strategy: 'cp', primitives: FEW }), data: splits, outDir: 'runs/d', signal: stop.signal, onProgress: (e) => e.checkpoint && stop.abort() })).toThrow();
    mem.remove('runs/d/search-settings.json'); // the checkpoint's own copy of the identity is what refuses
    expect(() => runSearch({ settings: tiny({ strategy: 'cp', primitives: FEW, seed: 8 }), data: splits, outDir: 'runs/d', resume: true }))
      .toThrow(/other settings or data: settings\.seed \(\d+ in the checkpoint, 8 now\)/);
  });

  it('a second writer of a folder in use is refused naming the owner', () => {
    mem.lockedBy('runs/e', { pid: 4242, host: 'other-tab', since: 'now', command: 'search' });
    expect(() => runSearch({ settings: tiny({ strategy: 'random' }), data: splits, outDir: 'runs/e' })).toThrow(/in use by `search` \(pid 4242 on host other-tab/);
  });
});

describe('history.jsonl against a checkpoint', () => {
  const recs = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'round', round: i } as unknown as HistoryRecord));
  const write = (rs: HistoryRecord[], extra = '') => mem.write('h.jsonl', rs.map((r) => JSON.stringify(r) + '\n').join('') + extra);
  const mark = { length: 3, checksum: historyChecksum(recs(3)) };

  it('later records and a torn last line are cut back to the checkpoint', () => {
    write(recs(5), '{"type":"rou');
    const { log, cut } = HistoryLog.reconcile('h.jsonl', mark, 'ckpt');
    expect(cut).toBe(2);
    expect(log.records).toEqual(recs(3));
    expect(text('h.jsonl')).toBe(recs(3).map((r) => JSON.stringify(r) + '\n').join(''));
  });

  it('fewer records, a line dropped, duplicated or edited are refused naming the file', () => {
    write(recs(2));
    expect(() => HistoryLog.reconcile('h.jsonl', mark, 'ckpt')).toThrow(/h\.jsonl holds 2 records but ckpt counts 3/);
    write([recs(3)[0], recs(3)[0], recs(3)[1], recs(3)[2]]);
    expect(() => HistoryLog.reconcile('h.jsonl', mark, 'ckpt')).toThrow(/differs from the history/);
    write([recs(3)[0], recs(3)[2], recs(3)[2], recs(3)[2]]);
    expect(() => HistoryLog.reconcile('h.jsonl', mark, 'ckpt')).toThrow(CpnasError);
  });
});

describe('RunContext', () => {
  it('restores typed parts and refuses a part of the wrong shape, falling back to an older checkpoint', () => {
    let v = 0;
    const parts = { v: jsonPart(() => v, (x) => { v = x; }, (x, w) => int(x, w)) };
    const run = new RunContext({ outDir: 'r', stage: 'search', checkpointDir: 'ck', identity: { a: 1 } });
    v = 5;
    run.save(parts);
    v = 6;
    run.save(parts);
    run.close();
    // an edited newest checkpoint fails its checksum: the previous one (v = 5) is restored
    const j = 'r/ck/ckpt-000002.json';
    mem.write(j, text(j).replace('6', '7'));
    v = 0;
    const logs: string[] = [];
    const again = new RunContext({ outDir: 'r', stage: 'search', checkpointDir: 'ck', identity: { a: 1 }, log: (l) => logs.push(l) });
    expect(again.restore(parts)).toBe(true);
    expect(v).toBe(5);
    expect(logs[0]).toMatch(/ckpt-000002\.json fails its checksum.*falling back/);
    again.close();
  });
});
