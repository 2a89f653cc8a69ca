import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAKE_GENOTYPE, fakeEngine } from './fake-engine.js';
import { checkWellFormed } from '../nas/report-xml.js';
import { cli, tempDir } from './helpers.js';

const root = tempDir();
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `run${n++}`);

/** One line on stderr, naming `flag`, no stack trace. */
function expectUsageError(r: { code: number; stderr: string; stdout: string }, flag: string): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toContain(flag);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
}

describe('cpnas help', () => {
  it('prints the commands, and each command its flags', async () => {
    const top = await cli([]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Commands:');
    for (const c of ['search', 'train', 'eval', 'export', 'ablate']) {
      const r = await cli([c, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`cpnas ${c}`);
      expect(r.stdout).toContain('--quiet');
    }
    expect((await cli(['help', 'ablate'])).stdout).toContain('--strategies');
    expect((await cli(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('refuses an unknown command with a suggestion', async () => {
    const r = await cli(['serch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('did you mean "search"');
  });
});

describe('bad input: exit 2, one clear line naming the flag', () => {
  const badGenotype = join(root, 'bad-genotype.json');
  const notJson = join(root, 'not-json.json');
  const noneGenotype = join(root, 'none-genotype.json');
  writeFileSync(badGenotype, JSON.stringify({ normal: [] }));
  writeFileSync(notJson, '{ normal: ');
  writeFileSync(noneGenotype, JSON.stringify({ ...FAKE_GENOTYPE, normal: [['none', 0], ...FAKE_GENOTYPE.normal.slice(1)] }));
  const notARun = join(root, 'not-a-run');
  mkdirSync(notARun, { recursive: true });

  const cases: [string[], string][] = [
    [['search', '--epochs', '-1'], '--epochs'],
    [['search', '--dataset', 'imagenet'], '--dataset'],
    [['search', '--seed', 'abc'], '--seed'],
    [['search', '--data', '/no/such/folder'], '--data'],
    [['search', '--bogus'], '--bogus'],
    [['search', '--preset', 'huge'], '--preset'],
    [['search', '--strategy', 'evolution'], '--strategy'],
    [['search', '--backend', 'tpu'], '--backend'],
    [['search', '--T', '0'], '--T'],
    [['search', '--beta', '-0.5'], '--beta'],
    [['search', '--sample-fraction', '1.5'], '--sample-fraction'],
    [['search', '--seed'], '--seed'],
    [['search', 'digits'], 'digits'],
    [['search', '--resume', '/no/such/run'], '--resume'],
    [['search', '--resume', notARun], '--resume'],
    [['search', '--preset', 'tiny', '--dataset', 'cifar10', '--out', join(root, 'never-made')], '--dataset'],
    [['train'], '--genotype'],
    [['train', '--genotype', '/no/such/genotype.json'], '--genotype'],
    [['train', '--genotype', badGenotype], '--genotype'],
    [['train', '--genotype', notJson], '--genotype'],
    [['train', '--genotype', noneGenotype], '--genotype'],
    [['train', '--genotype', root], '--genotype'],
    [['train', '--genotype', 'darts_v9'], '--genotype'],
    [['search', '--preset', 'tiny', '--threads', '0'], '--threads'],
    [['search', '--preset', 'tiny', '--threads', 'two'], '--threads'],
    [['search', '--preset', 'tiny', '--simd', 'yes'], '--simd'],
    [['eval'], '--model'],
    [['eval', '--model', '/no/such/model'], '--model'],
    [['eval', '--model', notARun], '--dataset'],
    [['ablate', '--strategies', 'cp,foo'], '--strategies'],
    [['ablate', '--strategies', 'cp,cp'], '--strategies'],
    [['ablate', '--seeds', '0'], '--seeds'],
    [['ablate', '--strategy', 'cp'], '--strategy'],
  ];
  for (const [argv, flag] of cases) {
    it(`cpnas ${argv.join(' ')}`, async () => {
      const engine = fakeEngine();
      expectUsageError(await cli(argv, { engine }), flag);
      expect(engine.calls.search).toHaveLength(0);
      expect(engine.calls.train).toHaveLength(0);
    });
  }

  it('prints the stack trace only with --verbose or CPNAS_DEBUG=1', async () => {
    const plain = await cli(['search', '--epochs', '-1'], { engine: fakeEngine() });
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const verbose = await cli(['search', '--epochs', '-1', '--verbose'], { engine: fakeEngine() });
    expect(verbose.code).toBe(2);
    expect(verbose.stderr).toMatch(/\n\s+at /);
    const env = await cli(['search', '--epochs', '-1'], { engine: fakeEngine(), env: { CPNAS_DEBUG: '1' } });
    expect(env.stderr).toMatch(/\n\s+at /);
  });

  it('reports an engine failure in one line with exit 1', async () => {
    const engine = fakeEngine();
    engine.trainError = new TypeError('boom');
    const r = await cli(['search', '--preset', 'tiny', '--out', fresh(), '--quiet'], { engine });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('internal error: boom (run with --verbose or CPNAS_DEBUG=1 for the stack trace)');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('cpnas search', () => {
  it('searches, trains, writes every file of the run folder and prints the results', async () => {
    const engine = fakeEngine();
    const out = fresh();
    const r = await cli(['search', '--preset', 'tiny', '--out', out, '--seed', '4'], { engine });
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['run.json', 'genotype.json', 'history.jsonl', 'result.json', 'cell-normal.svg', 'cell-reduce.svg', 'report.html']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result.child.testAccuracy).toBeCloseTo(0.85);
    expect(result.seed).toBe(4);
    expect(checkWellFormed(readFileSync(join(out, 'cell-normal.svg'), 'utf8'))).toEqual([]);
    expect(checkWellFormed(readFileSync(join(out, 'report.html'), 'utf8'), 'html')).toEqual([]);
    // what the engine was given
    expect(engine.calls.backend).toEqual([{ name: 'cpu', mode: undefined, sums: 'float64' }]);
    expect(engine.calls.load[0]).toMatchObject({ name: 'synthetic', options: { imageSize: 8, seed: 4, limit: { train: 256, val: 64, test: 64 } } });
    expect(engine.calls.search[0]).toMatchObject({ outDir: out, resume: false });
    expect(engine.calls.search[0].settings).toMatchObject({ strategy: 'cp', seed: 4, cells: 3 });
    expect(engine.calls.train[0]).toMatchObject({ outDir: out, resume: false, searchSeconds: 1.5, dataset: 'synthetic' });
    expect(engine.calls.train[0].genotype).toEqual(FAKE_GENOTYPE);
    // the printout
    expect(r.stdout).toMatch(/Child \(1-bit W\/A\)\s+85\.00 %/);
    expect(r.stdout).toMatch(/Parent \(full precision\)\s+94\.00 %/);
    expect(r.stdout).toContain('OPs');
    expect(r.stdout).toContain('size');
    expect(r.stdout).toContain('Time: search 1.50 s, training 2.50 s');
    expect(r.stdout).toContain('normal: 2 <- sep_conv_3x3(0), skip_connect(1)');
    expect(r.stdout).toContain('report.html');
    expect(r.stdout).toContain('cell-normal.svg');
  });

  it('--no-train stops after the search and still writes the reports', async () => {
    const engine = fakeEngine();
    const out = fresh();
    const r = await cli(['search', '--preset', 'tiny', '--out', out, '--no-train', '--quiet'], { engine });
    expect(r.code, r.stderr).toBe(0);
    expect(engine.calls.train).toHaveLength(0);
    expect(existsSync(join(out, 'result.json'))).toBe(false);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(r.stdout).toContain('no training stage');
  });

  it('refuses an --out folder that already holds a run, pointing to --resume', async () => {
    const out = fresh();
    expect((await cli(['search', '--preset', 'tiny', '--out', out, '--no-train', '--quiet'], { engine: fakeEngine() })).code).toBe(0);
    const again = await cli(['search', '--preset', 'tiny', '--out', out], { engine: fakeEngine() });
    expectUsageError(again, '--out');
    expect(again.stderr).toContain(`cpnas search --resume ${out}`);
  });

  it('Ctrl-C: exits 130 after the checkpoint, says how to resume, and --resume finishes the run', async () => {
    const engine = fakeEngine();
    const controller = new AbortController();
    engine.onRound = (round) => { if (round === 2) controller.abort(); };
    const out = fresh();
    const r = await cli(['search', '--preset', 'tiny', '--out', out, '--quiet'], { engine, signal: controller.signal });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(`cpnas search: interrupted. The last checkpoint is safe in ${out}. Continue with: cpnas search --resume ${out}`);
    expect(existsSync(join(out, 'result.json'))).toBe(false);

    const resumed = fakeEngine();
    const flagsRefused = await cli(['search', '--resume', out, '--epochs', '3'], { engine: resumed });
    expectUsageError(flagsRefused, '--epochs');
    const r2 = await cli(['search', '--resume', out, '--quiet'], { engine: resumed });
    expect(r2.code, r2.stderr).toBe(0);
    expect(resumed.calls.search[0]).toMatchObject({ resume: true });
    expect(resumed.calls.search[0].settings).toEqual(engine.calls.search[0].settings);
    expect(existsSync(join(out, 'result.json'))).toBe(true);
    const rounds = readFileSync(join(out, 'history.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"round"'));
    expect(rounds).toHaveLength(3);

    // a finished run resumes to its summary without running anything again
    const done = fakeEngine();
    const r3 = await cli(['search', '--resume', out, '--quiet'], { engine: done });
    expect(r3.code).toBe(0);
    expect(done.calls.search).toHaveLength(0);
    expect(done.calls.train).toHaveLength(0);
    expect(r3.stdout).toMatch(/Child \(1-bit W\/A\)/);
  });

  it('a data error is the user\'s: exit 2 naming the flag, and no run folder is left', async () => {
    const out = fresh();
    const r = await cli(['search', '--preset', 'cifar-small', '--out', out], { engine: fakeEngine() });
    expectUsageError(r, '--dataset');
    expect(r.stderr).toContain('CIFAR-10');
    expect(existsSync(out)).toBe(false);
    expectUsageError(await cli(['ablate', '--preset', 'cifar-small', '--out', out], { engine: fakeEngine() }), '--dataset');
    expect(existsSync(out)).toBe(false);
  });
});

describe('progress display', () => {
  it('redraws one line with \\r on a terminal', async () => {
    const r = await cli(['search', '--preset', 'tiny', '--out', fresh(), '--no-train'], { engine: fakeEngine(), tty: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('\r');
    expect(r.stderr).toMatch(/search \[#+\.*\]\s+\d+%/);
    expect(r.stderr).toContain('done in');
  });

  it('prints a plain line per round when not a terminal, and nothing redrawn', async () => {
    const r = await cli(['search', '--preset', 'tiny', '--out', fresh()], { engine: fakeEngine() });
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr.match(/^search: \d+% .*round \d\/3/gm)).toHaveLength(3);
    expect(r.stderr).toMatch(/^Parent: started/m);
    expect(r.stderr).toMatch(/^Child: 100% 2\/2/m);
  });

  it('--quiet gives plain lines even on a terminal', async () => {
    const r = await cli(['search', '--preset', 'tiny', '--out', fresh(), '--quiet', '--no-train'], { engine: fakeEngine(), tty: true });
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).toMatch(/^search: 100%/m);
  });
});

describe('cpnas train and eval', () => {
  it('trains a genotype file into a run folder, then evaluates it', async () => {
    const g = join(root, 'genotype.json');
    writeFileSync(g, JSON.stringify(FAKE_GENOTYPE));
    const engine = fakeEngine();
    const out = fresh();
    const r = await cli(['train', '--genotype', g, '--preset', 'tiny', '--epochs', '2', '--out', out, '--quiet'], { engine });
    expect(r.code, r.stderr).toBe(0);
    expect(engine.calls.search).toHaveLength(0);
    expect(engine.calls.train[0].settings).toMatchObject({ parentEpochs: 2, childEpochs: 2 });
    expect(engine.calls.train[0].searchSettings).toBeUndefined();
    for (const f of ['genotype.json', 'result.json', 'report.html', 'cell-reduce.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(r.stdout).toContain('Test accuracy:');

    // a published genotype by name
    const named = fakeEngine();
    const r3 = await cli(['train', '--genotype', 'darts_v2', '--preset', 'tiny', '--out', fresh(), '--quiet'], { engine: named });
    expect(r3.code, r3.stderr).toBe(0);
    expect(named.calls.train[0].genotype.normal[7]).toEqual(['dil_conv_3x3', 2]);

    // --threads reaches the backend (results do not depend on it, so it is no run setting)
    const threaded = fakeEngine();
    const r4 = await cli(['train', '--genotype', 'darts_v1', '--preset', 'tiny', '--threads', '3', '--out', fresh(), '--quiet'], { engine: threaded });
    expect(r4.code, r4.stderr).toBe(0);
    expect(threaded.calls.backend).toEqual([{ name: 'cpu', mode: undefined, threads: 3, sums: 'float64' }]);
    // and --simd (the same values either way)
    const plain = fakeEngine();
    const r5 = await cli(['train', '--genotype', 'darts_v1', '--preset', 'tiny', '--simd', 'off', '--out', fresh(), '--quiet'], { engine: plain });
    expect(r5.code, r5.stderr).toBe(0);
    expect(plain.calls.backend).toEqual([{ name: 'cpu', mode: undefined, simd: false, sums: 'float64' }]);
    // --sums changes the values: it reaches the backend and is a run setting (run.json), kept on resume
    const f32 = fakeEngine(), f32Out = fresh();
    const r6 = await cli(['train', '--genotype', 'darts_v1', '--preset', 'tiny', '--sums', 'float32', '--out', f32Out, '--quiet'], { engine: f32 });
    expect(r6.code, r6.stderr).toBe(0);
    expect(f32.calls.backend).toEqual([{ name: 'cpu', mode: undefined, sums: 'float32' }]);
    expect(JSON.parse(readFileSync(join(f32Out, 'run.json'), 'utf8')).config.sums).toBe('float32');
    const bad = await cli(['train', '--genotype', 'darts_v1', '--preset', 'tiny', '--sums', 'float16', '--out', fresh(), '--quiet'], { engine: fakeEngine() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--sums: unknown value "float16" (choose one of: float64, float32)');
    const gpu = await cli(['train', '--genotype', 'darts_v1', '--preset', 'tiny', '--backend', 'gpu', '--sums', 'float32', '--out', fresh(), '--quiet'], { engine: fakeEngine() });
    expect(gpu.code).toBe(2);
    expect(gpu.stderr).toContain('--sums: float32 sums are a setting of the cpu backend');
    process.env.CPNAS_GEMM_SUMS = 'fast';
    try {
      const env = await cli(['train', '--genotype', 'darts_v1', '--preset', 'tiny', '--out', fresh(), '--quiet'], { engine: fakeEngine() });
      expect(env.code).toBe(2);
      expect(env.stderr).toContain('CPNAS_GEMM_SUMS: unknown value "fast" (choose one of: float64, float32)');
      // the environment's default is the cpu backend's: a gpu run leaves it out
      process.env.CPNAS_GEMM_SUMS = 'float32';
      const gpuOut = fresh();
      const g = await cli(['train', '--genotype', 'darts_v1', '--preset', 'tiny', '--backend', 'gpu', '--out', gpuOut, '--quiet'], { engine: fakeEngine() });
      expect(g.code, g.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(gpuOut, 'run.json'), 'utf8')).config.sums).toBeUndefined();
    } finally {
      delete process.env.CPNAS_GEMM_SUMS;
    }
    const resumed = fakeEngine();
    const r7 = await cli(['train', '--resume', f32Out, '--quiet'], { engine: resumed });
    expect(r7.code, r7.stderr).toBe(0);
    expect(resumed.calls.backend).toEqual([{ name: 'cpu', mode: undefined, sums: 'float32' }]);

    // a result.json works as --genotype too
    const r2 = await cli(['train', '--genotype', join(out, 'result.json'), '--preset', 'tiny', '--out', fresh(), '--quiet'], { engine: fakeEngine() });
    expect(r2.code, r2.stderr).toBe(0);

    const ev = fakeEngine();
    const e = await cli(['eval', '--model', join(out, 'child'), '--limit', '10'], { engine: ev });
    // child/ does not exist in the fake run: --model must be an existing folder
    expect(e.code).toBe(2);
    mkdirSync(join(out, 'child'));
    const e2 = await cli(['eval', '--model', join(out, 'child'), '--limit', '10'], { engine: ev });
    expect(e2.code, e2.stderr).toBe(0);
    expect(ev.calls.load[0]).toMatchObject({ name: 'synthetic', options: { imageSize: 8 } });
    expect(ev.calls.eval[0]).toMatchObject({ modelDir: join(out, 'child'), limit: 10, batchSize: 32 });
    expect(e2.stdout).toContain('test accuracy        80.00 %');
    const json = await cli(['eval', '--model', out, '--json'], { engine: fakeEngine() });
    expect(JSON.parse(json.stdout).testAccuracy).toBe(0.8);
  });
});

describe('cpnas ablate', () => {
  it('runs strategies x seeds and prints and writes the comparison table', async () => {
    const engine = fakeEngine();
    const out = fresh();
    const r = await cli(['ablate', '--preset', 'tiny', '--strategies', 'cp,random', '--seeds', '2', '--seed', '1', '--out', out, '--quiet'], { engine });
    expect(r.code, r.stderr).toBe(0);
    expect(engine.calls.search.map((c) => [c.settings.strategy, c.settings.seed])).toEqual([['cp', 1], ['cp', 2], ['random', 1], ['random', 2]]);
    expect(engine.calls.load).toHaveLength(1); // one dataset for all runs
    for (const d of ['cp-seed1', 'cp-seed2', 'random-seed1', 'random-seed2']) expect(existsSync(join(out, d, 'result.json')), d).toBe(true);
    const md = readFileSync(join(out, 'ablation.md'), 'utf8');
    expect(md).toContain('| cp');
    expect(md).toContain('82.50 ± 0.71'); // child accuracies 0.82 and 0.83 (seed shift of the fake engine)
    const json = JSON.parse(readFileSync(join(out, 'ablation.json'), 'utf8'));
    expect(json.runs).toHaveLength(4);
    expect(json.rows[0]).toMatchObject({ strategy: 'cp', runs: 2 });
    expect(json.rows[0].child.mean).toBeCloseTo(0.825);
    for (const f of ['ablation.csv', 'ablation.html', 'experiment.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(r.stdout).toContain('Child acc. % (mean ± std)');
    expect(r.stdout).toContain('Parent acc.');
    expect(r.stdout).toContain('search s');

    // resuming a finished ablation runs nothing again
    const again = fakeEngine();
    const r2 = await cli(['ablate', '--resume', out, '--quiet'], { engine: again });
    expect(r2.code, r2.stderr).toBe(0);
    expect(again.calls.search).toHaveLength(0);
    expect(r2.stdout).toContain('82.50 ± 0.71');
  });
});
