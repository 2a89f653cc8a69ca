/**
 * The CP-NAS Parent on a second thread (nas/parent-runner.ts): the compiled `cpnas` runs the Parent's
 * part of every sample on a worker thread with two kernel threads and in the same thread with
 * --threads 1; every sample's A_C, A_P and losses, and the genotype, are the same bits. The worker
 * needs the compiled files: skipped when the package has not been built.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plainBatches } from '../../nas/parent-runner.js';
import { Tensor } from '../../core/index.js';
import { tempDir } from '../cli/helpers.js';

const bin = resolve('dist/cli/cpnas.js');
const root = tempDir('cpnas-parent-thread-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function search(threads: number): { samples: unknown[]; genotype: string; log: string } {
  const out = join(root, `t${threads}`);
  const r = spawnSync(process.execPath, [bin, 'search', '--preset', 'tiny', '--no-train', '--quiet', '--threads', String(threads), '--out', out], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const samples = readFileSync(join(out, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    .filter((rec) => rec.type === 'sample')
    .map(({ A_C, A_P, z, childLoss, parentLoss, ops }) => ({ A_C, A_P, z, childLoss, parentLoss, ops }));
  return { samples, genotype: readFileSync(join(out, 'genotype.json'), 'utf8'), log: r.stdout + r.stderr };
}

describe('plainBatches', () => {
  it('copies each batch as it comes (a dataset reuses one buffer for all its batches)', () => {
    const buf = new Float32Array(4);
    function* reused() {
      for (let b = 0; b < 3; b++) {
        buf.fill(b);
        yield { x: new Tensor(buf, [1, 1, 2, 2]), y: Int32Array.of(b) };
      }
    }
    const got = plainBatches(reused());
    expect(got.map((b) => [b.x[0], b.y[0]])).toEqual([[0, 0], [1, 1], [2, 2]]);
    expect(got[0].shape).toEqual([1, 1, 2, 2]);
  });
});

describe.skipIf(!existsSync(bin))('the Parent on a second thread', () => {
  it('gives every sample and the genotype the same numbers as one thread', () => {
    const one = search(1), two = search(2);
    expect(two.log).toContain('the Parent trains on a second thread');
    expect(one.log).not.toContain('the Parent trains on a second thread');
    expect(two.samples.length).toBeGreaterThan(0);
    expect(two.samples).toEqual(one.samples);
    expect(two.genotype).toBe(one.genotype);
  }, 120_000);
});
