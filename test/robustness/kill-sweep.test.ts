/**
 * The kill -9 sweep: SIGKILL at N random moments of a whole run (search, then training), each followed
 * by `--resume` to the end, every resumed run compared with an uninterrupted one (genotype, history,
 * models to the bit, accuracies, files). Too long for CI (kill.test.ts kills twice there); run it with
 *
 *   npm run build && CPNAS_KILL_SWEEP=20 nice -n 10 npx vitest run test/robustness/kill-sweep.test.ts
 *
 * (CPNAS_KILL_SEED picks the moments; the log lists them).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../../core/random.js';
import { BUDGET, expectSameRun, tempRoot } from './helpers.js';
import { built, killWhen } from './kill-helpers.js';

const N = Number(process.env.CPNAS_KILL_SWEEP ?? 0);
const root = tempRoot('kill-sweep');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!built || !(N > 0))(`SIGKILL at ${N} random moments, each resumed to the end`, () => {
  it('every resumed run equals the uninterrupted one', async () => {
    const reference = join(root, 'reference');
    const t0 = Date.now();
    const ref = await killWhen(['search', ...BUDGET, '--out', reference], reference, () => false);
    expect(ref.code, ref.stderr).toBe(0);
    const duration = Date.now() - t0;
    const rng = new Random(Number(process.env.CPNAS_KILL_SEED ?? 1));
    const lines: string[] = [];
    for (let i = 0; i < N; i++) {
      const dir = join(root, `run${i}`);
      const at = Math.round((0.03 + 0.94 * rng.next()) * duration);
      const start = Date.now();
      const killed = await killWhen(['search', ...BUDGET, '--out', dir], dir, () => Date.now() - start >= at);
      expect(killed.problems, `kill ${i}`).toEqual([]);
      // killed before run.json was written: there is no run to resume, the user starts it again
      const started = existsSync(join(dir, 'run.json'));
      const again = started ? ['search', '--resume', dir, '--quiet'] : ['search', ...BUDGET, '--out', dir];
      const resumed = killed.signal === 'SIGKILL' ? await killWhen(again, dir, () => false) : null;
      if (resumed) {
        expect(resumed.code, resumed.stderr).toBe(0);
        expect(resumed.problems).toEqual([]);
      }
      expectSameRun(dir, reference);
      const stage = !started && resumed ? 'nothing (killed before the run folder was made: started again)' : resumed?.stderr.includes('resuming the training') ? 'training' : resumed?.stderr.includes('resuming the search') ? 'search' : resumed ? 'start' : 'after the end';
      lines.push(`kill ${i + 1}: at ${(at / 1000).toFixed(2)} s of ${(duration / 1000).toFixed(2)} s -> resumed in ${stage}: identical`);
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(lines.join('\n'));
  }, 3_600_000);
});
