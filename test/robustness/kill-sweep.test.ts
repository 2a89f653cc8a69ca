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
import { built, killWhen, seqOf } from './kill-helpers.js';

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
    // the moments: in the search or in the training (half each), after a random checkpoint of that stage
    // plus a random delay of up to 0.5 s, so that kills fall anywhere inside the work, not in data loading
    const seqs = { search: seqOf(reference, 'search'), train: seqOf(reference, 'train') };
    const lines: string[] = [];
    for (let i = 0; i < N; i++) {
      const dir = join(root, `run${i}`);
      const stage = rng.next() < 0.5 ? 'search' : 'train';
      const after = 1 + Math.floor(rng.next() * seqs[stage]); // 1..the stage's last checkpoint
      const delay = Math.round(rng.next() * 500);
      let since = 0;
      const when = () => {
        if (seqOf(dir, stage) < after) return false;
        since ||= Date.now();
        return Date.now() - since >= delay;
      };
      const start = Date.now();
      const killed = await killWhen(['search', ...BUDGET, '--out', dir], dir, when);
      const at = Date.now() - start;
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
      const where = !started ? 'nothing (killed before the run folder was made: started again)'
        : resumed?.stderr.includes('resuming the training') ? 'training' : resumed?.stderr.includes('resuming the search') ? 'search'
          : resumed?.stderr.includes('training already finished') ? 'the reports (training finished)' : 'the search, from its start (no checkpoint yet)';
      lines.push(`kill ${i + 1}: ${stage} checkpoint ${after} + ${delay} ms (${(at / 1000).toFixed(2)} s of ${(duration / 1000).toFixed(2)} s) -> ${resumed ? `resumed in ${where}` : 'finished first'}: identical`);
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(lines.join('\n'));
  }, 3_600_000);
});
