/**
 * SIGKILL, the hardest stop, on the compiled `cpnas` (dist/cli/cpnas.js, built by `npm run build` or
 * `npm ci`; this test builds nothing and is skipped without it): the run is killed once in the search
 * and, after `--resume`, once in the training, while its folder is read every few milliseconds: every
 * JSON file must parse and the checkpoint that latest.json names must load whole. Resumed to the end,
 * it equals an uninterrupted run of the same binary with the same seed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTree } from '../../ops/state.js';
import { BUDGET, brokenFiles, expectSameRun, tempRoot } from './helpers.js';

const bin = resolve('dist/cli/cpnas.js');
const built = existsSync(bin);
if (!built) console.warn(`skipping the SIGKILL test: ${bin} is missing (run \`npm run build\`)`);

const root = tempRoot('kill');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Problems seen while watching a run folder: files not whole, or a checkpoint pointer naming a broken checkpoint. */
function inspect(dir: string, problems: string[]): void {
  problems.push(...brokenFiles(dir));
  for (const stage of ['search', 'train']) {
    const ck = join(dir, 'checkpoints', stage);
    let pointer: { file: string };
    try {
      pointer = JSON.parse(readFileSync(join(ck, 'latest.json'), 'utf8'));
    } catch {
      continue; // none yet (a torn pointer is reported by brokenFiles)
    }
    try {
      loadTree(join(ck, pointer.file));
    } catch (e) {
      // the pointer may move on and the old checkpoint be removed between the two reads
      if (!/ENOENT/.test((e as Error).message)) problems.push(`${stage} checkpoint ${pointer.file}: ${(e as Error).message}`);
    }
  }
}

/** Starts `cpnas argv`, watches `dir`, and kills the process with SIGKILL once `when()` holds (never: `() => false`). */
async function killWhen(argv: string[], dir: string, when: () => boolean): Promise<{ signal: NodeJS.Signals | null; code: number | null; problems: string[]; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr += s));
  let exit: { signal: NodeJS.Signals | null; code: number | null } | null = null;
  const exited = new Promise<void>((done) => child.on('exit', (code, signal) => {
    exit = { code, signal };
    done();
  }));
  const problems: string[] = [];
  while (!exit) {
    inspect(dir, problems);
    if (when()) child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 5));
  }
  await exited;
  inspect(dir, problems);
  return { ...(exit as unknown as { signal: NodeJS.Signals | null; code: number | null }), problems, stderr };
}

const seqOf = (dir: string, stage: string): number => {
  try {
    return (JSON.parse(readFileSync(join(dir, 'checkpoints', stage, 'latest.json'), 'utf8')) as { seq: number }).seq;
  } catch {
    return 0;
  }
};

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
