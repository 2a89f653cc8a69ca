/**
 * `--resume DIR` with a folder that is missing, not a run, or damaged: run.json edited or cut off, a
 * checkpoint blob truncated, its JSON cut off, the latest.json pointer garbled, history.jsonl torn or
 * corrupted. Each gives one line naming --resume or the damaged file (and how to start the stage over),
 * never a stack trace; nothing in the folder is made worse; a torn last history line is no damage at
 * all; and the temporary files of a killed write are cleared.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedRunChecksum } from '../../cli/pipeline.js';
import { brokenFiles, cpnas, expectCleanError, listFiles, tempRoot, TINY } from './helpers.js';

const root = tempRoot('resume');
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A search stopped (as by Ctrl-C) after its first checkpoint. */
let partial = '';
beforeAll(async () => {
  partial = join(root, 'partial');
  const stop = new AbortController();
  const r = await cpnas(['search', ...TINY, '--no-train', '--out', partial], {
    signal: stop.signal,
    onStderr: (text) => text.includes('search: started') && stop.abort(), // the first progress line follows the first checkpoint
  });
  expect(r.code, r.stderr).toBe(130);
  expect(existsSync(join(partial, 'checkpoints/search/latest.json'))).toBe(true);
  expect(existsSync(join(partial, 'genotype.json'))).toBe(false);
});

/** A copy of the partial run folder with one change. */
function damaged(change: (dir: string) => void): string {
  const dir = join(root, `case${n++}`);
  cpSync(partial, dir, { recursive: true });
  change(dir);
  return dir;
}
const checkpointFile = (dir: string, ext: 'json' | 'bin') => {
  const ck = join(dir, 'checkpoints/search');
  const pointer = JSON.parse(readFileSync(join(ck, 'latest.json'), 'utf8')) as { file: string };
  return join(ck, `${pointer.file}.${ext}`);
};
/** Edits run.json; with `resign` its checksum is made again, so that the checks behind it are reached. */
const editRunJson = (dir: string, fn: (doc: { command: string; config: Record<string, any> }) => void, resign = true) => {
  const p = join(dir, 'run.json');
  const doc = JSON.parse(readFileSync(p, 'utf8'));
  if (resign) delete doc.checksum;
  fn(doc);
  if (resign) doc.checksum = storedRunChecksum(doc);
  writeFileSync(p, JSON.stringify(doc));
};

/** The folder's files and their bytes, to check that a refused resume changed nothing. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(listFiles(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
}

describe('--resume of something that is not a run folder: exit 2, one line naming --resume', () => {
  const cases: [string, () => string, string][] = [
    ['a missing folder', () => join(root, 'nowhere'), 'does not exist'],
    ['a file', () => {
      const p = join(root, 'a-file');
      writeFileSync(p, 'x');
      return p;
    }, 'is a file'],
    ['an empty folder', () => damaged((d) => { for (const f of readdirSync(d)) rmSync(join(d, f), { recursive: true }); }), 'not a cpnas'],
  ];
  for (const [what, dir, says] of cases) {
    for (const command of ['search', 'train', 'ablate']) {
      it(`${command}: ${what}`, async () => {
        const line = expectCleanError(await cpnas([command, '--resume', dir(), '--quiet']), 2, ['--resume'], { only: true });
        expect(line).toContain(says);
      });
    }
  }

  it('a search folder given to train --resume points to search --resume', async () => {
    const line = expectCleanError(await cpnas(['train', '--resume', partial, '--quiet']), 2, ['--resume', `cpnas search --resume ${partial}`], { only: true });
    expect(line).toContain('is a search run');
  });

  it('a budget flag beside --resume is refused, naming it', async () => {
    expectCleanError(await cpnas(['search', '--resume', partial, '--epochs', '3']), 2, ['--epochs', 'resum'], { only: true });
  });
});

describe('a damaged or edited run.json: exit 2, naming --resume and run.json, folder untouched', () => {
  const cases: [string, (dir: string) => void, string][] = [
    ['cut off', (d) => truncateSync(join(d, 'run.json'), 40), 'not valid JSON'],
    ['empty', (d) => writeFileSync(join(d, 'run.json'), ''), 'not valid JSON'],
    ['an array', (d) => writeFileSync(join(d, 'run.json'), '[]'), 'not a run description'],
    ['another command', (d) => editRunJson(d, (r) => void (r.command = 'eval')), 'not a run description'],
    ['no config', (d) => editRunJson(d, (r) => void delete (r as Record<string, unknown>).config), 'config'],
    ['an empty config', (d) => editRunJson(d, (r) => void (r.config = {})), 'config.preset'],
    ['an unknown dataset', (d) => editRunJson(d, (r) => void (r.config.dataset = 'imagenet')), 'imagenet'],
    ['a negative seed', (d) => editRunJson(d, (r) => void (r.config.seed = -1)), 'config.seed'],
    ['a bad search setting', (d) => editRunJson(d, (r) => void (r.config.search.T = -3)), 'T must be'],
    ['search settings missing', (d) => editRunJson(d, (r) => void delete r.config.search), 'config.search'],
    ['a bad train setting', (d) => editRunJson(d, (r) => void (r.config.train.batchSize = 0)), 'batchSize'],
    ['an unknown primitive', (d) => editRunJson(d, (r) => void r.config.search.primitives.push('conv_9x9')), 'conv_9x9'],
    // the run's identity cannot be changed by editing the file
    ['the seed changed', (d) => editRunJson(d, (r) => void (r.config.seed += 1), false), 'fails its checksum'],
    ['the dataset changed', (d) => editRunJson(d, (r) => void (r.config.dataset = 'digits'), false), 'fails its checksum'],
    ['the checksum removed', (d) => editRunJson(d, (r) => void delete (r as Record<string, unknown>).checksum, false), 'carries no checksum'],
  ];
  for (const [what, change, says] of cases) {
    it(what, async () => {
      const dir = damaged(change);
      const before = snapshot(dir);
      const line = expectCleanError(await cpnas(['search', '--resume', dir, '--quiet']), 2, ['--resume', 'run.json'], { only: true });
      expect(line).toContain(says);
      expect(snapshot(dir)).toEqual(before);
    });
  }
});

describe('a damaged checkpoint: exit 1, naming the file and how to start the stage over; folder untouched', () => {
  const cases: [string, (dir: string) => void, string[]][] = [
    ['a truncated blob', (d) => truncateSync(checkpointFile(d, 'bin'), 1000), ['.bin', 'delete that folder']],
    ['an empty blob', (d) => writeFileSync(checkpointFile(d, 'bin'), ''), ['.bin', 'delete that folder']],
    ['a missing blob', (d) => rmSync(checkpointFile(d, 'bin')), ['.bin', 'delete that folder']],
    ['a cut-off checkpoint JSON', (d) => truncateSync(checkpointFile(d, 'json'), 500), ['.json', 'not valid JSON', 'delete that folder']],
    ['a garbled latest.json and no checkpoint left', (d) => {
      writeFileSync(join(d, 'checkpoints/search/latest.json'), '{"fi');
      rmSync(checkpointFile(partial, 'json').replace(partial, d));
    }, ['latest.json', 'delete that folder']],
    ['a checkpoint JSON with one value edited (its checksum fails)', (d) => {
      const p = checkpointFile(d, 'json');
      writeFileSync(p, readFileSync(p, 'utf8').replace(/"elapsed":([0-9.]+)/, '"elapsed":1$1'));
    }, ['.json', 'fails its checksum', 'delete that folder']],
    ['a history.jsonl with a garbage line before good ones', (d) => {
      const p = join(d, 'history.jsonl');
      writeFileSync(p, `garbage\n${readFileSync(p, 'utf8')}`);
    }, ['history.jsonl', 'line 1', 'delete that folder']],
    ['a search-settings.json cut off', (d) => truncateSync(join(d, 'search-settings.json'), 10), ['search-settings.json', 'delete that folder']],
  ];
  for (const [what, change, names] of cases) {
    it(what, async () => {
      const dir = damaged(change);
      const before = snapshot(dir);
      const r = await cpnas(['search', '--resume', dir, '--quiet']);
      expectCleanError(r, 1, names);
      expect(snapshot(dir), 'a refused resume changes nothing').toEqual(before);
    });
  }

  // a pointer that cannot be trusted while the checkpoint it should name is whole: resumed from the
  // newest verified checkpoint, saying why
  const fallbacks: [string, string, string][] = [
    ['a latest.json without a file name', '{}', 'does not name a checkpoint'],
    ['a garbled latest.json', '{"fi', 'not valid JSON'],
    ['a latest.json naming a missing checkpoint', '{"file":"ckpt-000099","seq":99,"savedAt":"x","checksum":"0"}', 'fails its checksum'],
  ];
  for (const [what, text, says] of fallbacks) {
    it(`${what}: falls back to the verified checkpoint, saying so`, async () => {
      const dir = damaged((d) => writeFileSync(join(d, 'checkpoints/search/latest.json'), text));
      const stop = new AbortController();
      const r = await cpnas(['search', '--resume', dir, '--quiet'], { signal: stop.signal, onStderr: (t) => t.includes('search: started') && stop.abort() });
      expect(r.stderr).toContain(says);
      expect(r.stderr).toMatch(/falling back to the previous verified checkpoint .*ckpt-000001/);
      expect(r.stderr).toContain('resuming cp search');
    });
  }
});

describe('what a kill leaves behind resumes cleanly', () => {
  it('a torn last history line and stale temporary files: the search finishes, every file whole, no temp file left', async () => {
    const dir = damaged((d) => {
      writeFileSync(join(d, 'history.jsonl'), `${readFileSync(join(d, 'history.jsonl'), 'utf8')}{"type":"sample","rou`);
      writeFileSync(join(d, 'checkpoints/search/.ckpt-000002.bin.4242.7.tmp'), 'half a blob');
      writeFileSync(join(d, `.${4242}.${Date.now()}.0.tmp`), '{"half":');
    });
    const r = await cpnas(['search', '--resume', dir, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('resuming cp search');
    expect(brokenFiles(dir)).toEqual([]);
    expect(listFiles(dir).filter((f) => f.split('/').pop()!.startsWith('.'))).toEqual([]);
    const history = readFileSync(join(dir, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    // 3 + 2 sampled architectures over 2 rounds, then the genotype: none lost, none twice
    expect(history.map((h) => h.type)).toEqual(['sample', 'sample', 'sample', 'round', 'sample', 'sample', 'round', 'genotype']);
  });

  // a history.jsonl lacking records the checkpoint counts (emptied, deleted, a line dropped) or holding
  // others (a line duplicated or edited) is refused: resuming would lose or repeat the run's history
  const histories: [string, (d: string) => void, string][] = [
    ['emptied', (d) => writeFileSync(join(d, 'history.jsonl'), ''), 'holds 0 records'],
    ['deleted', (d) => rmSync(join(d, 'history.jsonl')), 'holds 0 records'],
    ['a line edited', (d) => {
      const p = join(d, 'history.jsonl');
      writeFileSync(p, readFileSync(p, 'utf8').replace(/"A_C":[0-9.]+/, '"A_C":0.99'));
    }, 'differs from the history'],
  ];
  for (const [what, change, says] of histories) {
    it(`a history.jsonl ${what} is refused, naming it`, async () => {
      const dir = damaged(change);
      const before = snapshot(dir);
      const r = await cpnas(['search', '--resume', dir, '--quiet']);
      expectCleanError(r, 1, ['history.jsonl', says]);
      expect(snapshot(dir)).toEqual(before);
    });
  }

  // with resume and a checkpoint but no search-settings.json, the checkpoint (which carries the
  // settings) is checked and the search resumes; never a silent restart
  it('a missing search-settings.json does not throw the checkpoint away', async () => {
    const dir = damaged((d) => rmSync(join(d, 'search-settings.json')));
    const stop = new AbortController(); // stopped after its first architecture: the start is what matters
    const r = await cpnas(['search', '--resume', dir, '--quiet'], { signal: stop.signal, onStderr: (t) => t.includes('search: started') && stop.abort() });
    // either resumed from the checkpoint, or refused naming the file; never a silent restart
    expect(r.stderr).toMatch(/resuming cp search/);
    expect(r.stderr).toMatch(/search-settings\.json is missing/);
  });
});
