/**
 * Ctrl-C and resume, in-process (the AbortSignal main() receives from cli/cpnas.ts): one run folder is
 * stopped four times (after the first sampled architecture, at a round boundary, inside the Parent's
 * training and inside the Child's) and resumed each time. Each stop exits 130 naming the resume command
 * and leaves only whole files; the finished run equals an uninterrupted one with the same seed: the
 * same genotype, history (timings aside), models to the bit and accuracies. (kill.test.ts does the
 * same with SIGKILL on the compiled binary.)
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BUDGET, brokenFiles, cpnas, expectSameRun, listFiles, tempRoot } from './helpers.js';

const root = tempRoot('interrupt');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const reference = join(root, 'reference');
beforeAll(async () => {
  const r = await cpnas(['search', ...BUDGET, '--out', reference]);
  expect(r.code, r.stderr).toBe(0);
});

/** Runs until `trigger` appears on stderr, then stops as Ctrl-C does; returns the captured run. */
async function runUntil(argv: string[], trigger: string) {
  const stop = new AbortController();
  return cpnas(argv, { signal: stop.signal, onStderr: (text) => text.includes(trigger) && stop.abort() });
}

it('Ctrl-C: four interruptions and resumes end where an uninterrupted run ends', async () => {
  const dir = join(root, 'interrupted');
  const resume = ['search', '--resume', dir, '--quiet'];
  const stops: [string[], string][] = [
    [['search', ...BUDGET, '--out', dir], 'search: started'], // after the first architecture's checkpoint
    [resume, 'round 1:'], // the first abandonment round has just been saved
    [resume, 'parent epoch 1/2'], // inside the Parent's training
    [resume, 'child epoch 1/2'], // inside the Child's training
  ];
  const seen: string[] = [];
  for (const [argv, trigger] of stops) {
    const r = await runUntil(argv, trigger);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr.trim().split('\n').pop()).toBe(`cpnas search: interrupted. The last checkpoint is safe in ${dir}. Continue with: cpnas search --resume ${dir}`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(brokenFiles(dir)).toEqual([]);
    expect(listFiles(dir)).not.toContain('result.json');
    seen.push(...listFiles(dir));
  }
  expect(seen, 'the stops fell in both stages').toContain('checkpoints/train/latest.json');

  const last = await cpnas(resume);
  expect(last.code, last.stderr).toBe(0);
  expect(last.stderr).toContain('resuming the training');
  expectSameRun(dir, reference);
});
