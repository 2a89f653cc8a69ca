/**
 * One writer per run folder, and no run that diverges leaves anything non-finite behind:
 * - a second `--resume` of a folder in use (by a real second process) is refused naming its owner; the
 *   lock that a SIGKILLed run leaves is taken over on the next resume, saying so;
 * - `--lr 1e6` stops with an error naming the phase, the epoch and --lr, and saves no model and no
 *   checkpoint holding NaN/Inf; `eval` refuses a model holding them.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../ops/safetensors.js';
import { loadTree, type Tree } from '../../ops/state.js';
import { cpnas, expectCleanError, GENOTYPE, tempRoot, TINY, TINY_TRAIN } from './helpers.js';

const bin = resolve('dist/cli/cpnas.js');
const built = existsSync(bin);
const root = tempRoot('run-folder');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every float of every array in a tree is finite. */
function finiteTree(t: Tree): boolean {
  if (t instanceof Float32Array) return t.every(Number.isFinite);
  if (Array.isArray(t)) return t.every(finiteTree);
  if (t && typeof t === 'object' && !(t instanceof Uint32Array)) return Object.values(t).every(finiteTree);
  return true;
}

describe('one writer per run folder', () => {
  it.skipIf(!built)('a second resume of a folder in use is refused naming the owner; a killed owner\'s lock is taken over', async () => {
    const dir = join(root, 'two');
    const stop = new AbortController();
    const first = await cpnas(['search', ...TINY, '--no-train', '--out', dir], { signal: stop.signal, onStderr: (t) => t.includes('search: started') && stop.abort() });
    expect(first.code, first.stderr).toBe(130);

    // the owner: a real process resuming the folder
    const owner = spawn(process.execPath, [bin, 'search', '--resume', dir, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    await new Promise<void>((done, fail) => {
      owner.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        if (err.includes('resuming cp search')) done();
      });
      owner.on('exit', (code) => fail(new Error(`the owner ended (${code}) before it resumed: ${err}`)));
    });
    const second = await cpnas(['search', '--resume', dir, '--quiet']);
    const line = expectCleanError(second, 2, ['--resume', dir, 'in use', `pid ${owner.pid}`], { only: true });
    expect(line).toContain('one writer per run folder');

    // kill -9 the owner: its lock stays, and the next resume takes it over, saying so
    owner.kill('SIGKILL');
    await new Promise((done) => owner.on('exit', done));
    expect(existsSync(join(dir, '.cpnas-lock'))).toBe(true);
    const stop2 = new AbortController();
    const third = await cpnas(['search', '--resume', dir, '--quiet'], { signal: stop2.signal, onStderr: (t) => t.includes('search: started') && stop2.abort() });
    expect(third.stderr).toContain(`took over the lock of ${dir} left by \`search\` (pid ${owner.pid}`);
    expect(third.code, third.stderr).toBe(130);
    expect(existsSync(join(dir, '.cpnas-lock')), 'released at the end').toBe(false);
  });
});

describe('a folder left by a run killed right after making it', () => {
  it('holds only a stale lock: a fresh --out there takes it over, saying so', async () => {
    const dir = join(root, 'lone-lock');
    mkdirSync(dir);
    writeFileSync(join(dir, '.cpnas-lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: 'then', command: 'search' }));
    const stop = new AbortController();
    const r = await cpnas(['search', ...TINY, '--no-train', '--out', dir], { signal: stop.signal, onStderr: (t) => t.includes('search: started') && stop.abort() });
    expect(r.stderr).toContain('took over the lock');
    expect(r.code, r.stderr).toBe(130);
  });
});

describe('a diverging run stops and saves nothing non-finite', () => {
  it('train --lr 1e6 stops naming the phase, the epoch and --lr; no model, no checkpoint with NaN/Inf', async () => {
    const g = join(root, 'genotype.json');
    writeFileSync(g, JSON.stringify(GENOTYPE));
    const dir = join(root, 'lr');
    const r = await cpnas(['train', '--genotype', g, ...TINY_TRAIN, '--epochs', '2', '--lr', '1e6', '--out', dir]);
    const line = expectCleanError(r, 1, ['parent training', 'epoch 1', '--lr']);
    expect(line).toMatch(/became (non-finite|NaN|Infinity|-Infinity)/);
    expect(existsSync(join(dir, 'parent', 'model.safetensors'))).toBe(false);
    expect(existsSync(join(dir, 'child', 'model.safetensors'))).toBe(false);
    const ck = join(dir, 'checkpoints', 'train');
    for (const f of existsSync(ck) ? readdirSync(ck).filter((n) => /^ckpt-\d+\.json$/.test(n)) : []) {
      expect(finiteTree(loadTree(join(ck, f.replace(/\.json$/, ''))))).toBe(true);
    }
  });

  it('search --lr 1e6 stops with an error naming --lr; no checkpoint holds NaN/Inf', async () => {
    const dir = join(root, 'lr-search');
    const r = await cpnas(['search', ...TINY, '--no-train', '--lr', '1e6', '--out', dir]);
    expectCleanError(r, 1, ['search', '--lr']);
    const ck = join(dir, 'checkpoints', 'search');
    for (const f of existsSync(ck) ? readdirSync(ck).filter((n) => /^ckpt-\d+\.json$/.test(n)) : []) {
      expect(finiteTree(loadTree(join(ck, f.replace(/\.json$/, ''))))).toBe(true);
    }
  });

  it('eval refuses a model holding Inf (written behind the checks\' back, checksums made again)', async () => {
    const g = join(root, 'genotype2.json');
    writeFileSync(g, JSON.stringify(GENOTYPE));
    const dir = join(root, 'good');
    const ok = await cpnas(['train', '--genotype', g, ...TINY_TRAIN, '--epochs', '0.25', '--out', dir]);
    expect(ok.code, ok.stderr).toBe(0);
    const bad = join(root, 'bad');
    mkdirSync(bad);
    cpSync(dir, bad, { recursive: true });
    const file = join(bad, 'child', 'model.safetensors');
    const state = decodeSafetensors(readFileSync(file), file);
    const e = state.json.entries.find((x) => /runningVar$/.test(x.name) && x.dtype === 'f32')!;
    new Float32Array(state.blob.buffer, state.blob.byteOffset + e.offset, e.length).fill(Infinity);
    writeFileSync(file, encodeSafetensors(state)); // checksums made again
    const r = await cpnas(['eval', '--model', join(bad, 'child'), '--quiet']);
    expectCleanError(r, 1, ['model.safetensors', e.name, 'non-finite']);
  });
});

describe('sane bounds', () => {
  const cases: [string[], string, string][] = [
    [['--epochs', '1e9'], '--epochs', 'limit of 1000'],
    [['--cells', '1000000'], '--cells', 'limit of 64'],
    [['--channels', '100000'], '--channels', 'limit of 1024'],
    [['--train-cells', '500'], '--train-cells', 'limit of 64'],
    [['--T', '5000'], '--T', 'limit of 100'],
  ];
  for (const [flags, flag, says] of cases) {
    it(`search ${flags.join(' ')} is refused with the limit and the reason, pointing to --force`, async () => {
      const line = expectCleanError(await cpnas(['search', ...TINY, ...flags, '--out', join(root, 'never')]), 2, [flag, says, '--force'], { only: true });
      expect(line).toMatch(/\(.+\)/);
      expect(existsSync(join(root, 'never'))).toBe(false);
    });
  }

  it('--epochs 0 trains nothing and says so (no epoch records, models at their starting weights)', async () => {
    const g = join(root, 'genotype0.json');
    writeFileSync(g, JSON.stringify(GENOTYPE));
    const dir = join(root, 'zero');
    const r = await cpnas(['train', '--genotype', g, ...TINY_TRAIN, '--epochs', '0', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('parent: 0 epochs: not trained');
    expect(r.stderr).toContain('child: 0 epochs: not trained');
    const history = readFileSync(join(dir, 'history.jsonl'), 'utf8').trim();
    expect(history).toBe('');
  });
});
