/**
 * SIGKILL, the hardest stop, on the compiled `cpnas` (dist/cli/cpnas.js, built by `npm run build` or
 * `npm ci`; this test builds nothing and is skipped without it): the run is killed once in the search
 * and, after `--resume`, once in the training, while its folder is read every few milliseconds: every
 * JSON file must parse and the checkpoint that latest.json names must load whole. Resumed to the end,
 * it equals an uninterrupted run of the same binary with the same seed.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUDGET, expectSameRun, tempRoot } from './helpers.js';
import { bin, built, killWhen, seqOf } from './kill-helpers.js';

if (!built) console.warn(`skipping the SIGKILL test: ${bin} is missing (run \`npm run build\`)`);

const root = tempRoot('kill');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!built)('SIGKILL during the search, then during the training', () => {
  // the reference comes from the same binary, so that a dist/ older than the sources cannot differ
  const reference = join(root, 'reference');
  beforeAll(async () => {
    const r = await killWhen(['search', ...BUDGET, '--out', reference], reference, () => false);
    expect(r.code, r.stderr).toBe(0);
  });

  it('never shows a half-written file, and the resumed run equals an uninterrupted one', async () => {
    const dir = join(root, 'killed');
    const first = await killWhen(['search', ...BUDGET, '--out', dir], dir, () => seqOf(dir, 'search') >= 2);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    expect(first.problems).toEqual([]);
    expect(existsSync(join(dir, 'genotype.json'))).toBe(false);

    const second = await killWhen(['search', '--resume', dir, '--quiet'], dir, () => seqOf(dir, 'train') >= 1);
    expect(second.signal, second.stderr).toBe('SIGKILL');
    expect(second.problems).toEqual([]);
    expect(second.stderr).toContain('resuming the search');
    expect(existsSync(join(dir, 'genotype.json'))).toBe(true);
    expect(existsSync(join(dir, 'result.json'))).toBe(false);

    const last = await killWhen(['search', '--resume', dir, '--quiet'], dir, () => false);
    expect(last.code, last.stderr).toBe(0);
    expect(last.problems).toEqual([]);
    expect(last.stderr).toContain('resuming the training');
    expectSameRun(dir, reference);
  });
});
