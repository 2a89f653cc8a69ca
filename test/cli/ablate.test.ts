/** `cpnas ablate` as an experiment bench: sweeps, matched budgets, --plan / --collect round trip, resume. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveSearchSettings } from '../../nas/settings.js';
import { checkWellFormed } from '../nas/report-xml.js';
import { fakeEngine } from './fake-engine.js';
import { cli, tempDir } from './helpers.js';

const root = tempDir();
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `exp${n++}`);

describe('cpnas ablate grid', () => {
  it('sweeps a numeric flag given as a list, for the strategies that read it, with matched budgets', async () => {
    const engine = fakeEngine();
    const out = fresh();
    const r = await cli(['ablate', '--preset', 'tiny', '--strategies', 'cp,darts', '--beta', '0,2', '--seeds', '2', '--out', out, '--quiet'], { engine });
    expect(r.code, r.stderr).toBe(0);
    const baseBeta = resolveSearchSettings({}).beta; // darts does not read beta: it keeps the default
    expect(engine.calls.search.map((c) => [c.settings.strategy, c.settings.beta, c.settings.seed])).toEqual([
      ['cp', 0, 0], ['cp', 0, 1], ['cp', 2, 0], ['cp', 2, 1], ['darts', baseBeta, 0], ['darts', baseBeta, 1],
    ]);
    // every run is given the images cp draws (the fake data set is small: one batch an epoch, so all are capped at it)
    const exp = JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8'));
    const cpImages = exp.runs[0].budget.target;
    expect(cpImages).toBeGreaterThan(0);
    for (const run of exp.runs) expect(run.budget.target, run.id).toBe(cpImages);
    const md = readFileSync(join(out, 'ablation.md'), 'utf8');
    expect(md).toContain('matched by training images');
    expect(md).toContain('| cp       | beta=0');
    expect(md).toContain('reference');
    const html = readFileSync(join(out, 'ablation.html'), 'utf8');
    expect(checkWellFormed(html, 'html')).toEqual([]);
    expect(html).toContain('against beta');
    expect(html).toContain('Search seconds');
  });

  it('--plan writes independent commands and a Slurm script; running them and --collect gives the table', async () => {
    const out = fresh();
    const planned = fakeEngine();
    const r = await cli(['ablate', '--preset', 'tiny', '--strategies', 'cp,random', '--seeds', '2', '--plan', '--out', out, '--quiet', '--cli', 'cpnas'], { engine: planned });
    expect(r.code, r.stderr).toBe(0);
    expect(planned.calls.search).toHaveLength(0); // nothing ran
    const commands = readFileSync(join(out, 'plan', 'commands.txt'), 'utf8').trim().split('\n');
    expect(commands).toHaveLength(4);
    expect(readFileSync(join(out, 'plan', 'slurm.sh'), 'utf8')).toContain('#SBATCH --array=0-3');

    // before any run: the table says what is missing
    const early = await cli(['ablate', '--collect', out]);
    expect(early.code, early.stderr).toBe(0);
    expect(early.stdout).toContain('0 of 4 runs finished');

    // the cluster runs the commands (in any order, one of them twice)
    const worker = fakeEngine();
    for (const c of [commands[3], commands[0], commands[2], commands[1], commands[0]]) {
      const argv = c.split(' ').slice(1); // drop the cli name
      const rr = await cli(argv, { engine: worker });
      expect(rr.code, rr.stderr).toBe(0);
    }
    expect(worker.calls.search).toHaveLength(4);
    const col = await cli(['ablate', '--collect', out]);
    expect(col.code, col.stderr).toBe(0);
    expect(col.stdout).toContain('4 of 4 runs finished');
    expect(col.stdout).toContain('81.50 ± 0.71'); // child 0.81, 0.82 over seeds 0, 1
    const json = JSON.parse(readFileSync(join(out, 'ablation.json'), 'utf8'));
    expect(json.rows.map((x: { strategy: string }) => x.strategy)).toEqual(['cp', 'random']);
    expect(json.rows[1].vsReference.mean).toBeCloseTo(0, 12);
    for (const f of ['ablation.md', 'ablation.csv', 'ablation.html']) expect(existsSync(join(out, f)), f).toBe(true);

    // resuming the finished experiment runs nothing again
    const again = fakeEngine();
    const res = await cli(['ablate', '--resume', out, '--quiet'], { engine: again });
    expect(res.code, res.stderr).toBe(0);
    expect(again.calls.search).toHaveLength(0);
  });

  it('--match seconds measures every strategy in a pilot search and states the seconds per image', async () => {
    const engine = fakeEngine();
    const out = fresh();
    const r = await cli(['ablate', '--preset', 'tiny', '--strategies', 'cp,darts,random', '--seeds', '1', '--match', 'seconds', '--out', out, '--quiet'], { engine });
    expect(r.code, r.stderr).toBe(0);
    // two pilots (random trains nothing), then the three runs
    expect(engine.calls.search.map((c) => c.outDir.includes('pilot'))).toEqual([true, true, false, false, false]);
    const exp = JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8'));
    expect(Object.keys(exp.secondsPerImage)).toEqual(['cp', 'darts']);
    expect(readFileSync(join(out, 'ablation.md'), 'utf8')).toContain('matched by search seconds');
  });

  it('refuses a list it cannot sweep and a --collect folder that is no experiment, naming the flag', async () => {
    const a = await cli(['ablate', '--preset', 'tiny', '--beta', '1,1', '--out', fresh()], { engine: fakeEngine() });
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--beta');
    const b = await cli(['ablate', '--preset', 'tiny', '--lr', '0.1,0.2', '--out', fresh()], { engine: fakeEngine() });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--lr.*sets 3 settings/);
    const c = await cli(['ablate', '--collect', root]);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--collect.*not a cpnas experiment folder/);
    const d = await cli(['ablate', '--preset', 'tiny', '--strategies', 'cp,random', '--reference', 'darts', '--out', fresh()], { engine: fakeEngine() });
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('--reference');
  });
});
