import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetOfGenotypeRun } from '../../cli/commands/train.js';
import { cpnasCommand, resumeHint } from '../../cli/commands/shared.js';
import { backendLine } from '../../cli/main.js';
import { runProvenance } from '../../cli/provenance.js';
import { fakeEngine } from './fake-engine.js';
import { cli } from './helpers.js';

const dirs: string[] = [];
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'cpnas-hints-')); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('what the CLI tells users to type', () => {
  it('names cpnas as it was started: npx / npm scripts, the bin on PATH, node <script>', () => {
    expect(cpnasCommand({ npm_command: 'exec' }, '/x/node_modules/.bin/cpnas')).toBe('npx cpnas');
    expect(cpnasCommand({ npm_lifecycle_event: 'search' }, '/repo/dist/cli/cpnas.js')).toBe('npx cpnas');
    expect(cpnasCommand({}, '/usr/local/bin/cpnas')).toBe('cpnas');
    expect(cpnasCommand({}, undefined)).toBe('cpnas');
    expect(cpnasCommand({}, join(process.cwd(), 'dist', 'cli', 'cpnas.js'))).toBe(`node ${join('dist', 'cli', 'cpnas.js')}`);
    expect(resumeHint('npx cpnas', 'search', 'runs/a b')).toBe('npx cpnas search --resume "runs/a b"');
  });

  it('names the gpu.js mode in the backend line and warns when it emulates the GPU on the CPU', () => {
    expect(backendLine('cpu', 'cpu')).toEqual({ text: 'cpu' });
    expect(backendLine('gpu', 'gpu.js (headlessgl)')).toEqual({ text: 'gpu (gpu.js headlessgl)' });
    for (const mode of ['webasm', 'cpu']) {
      const l = backendLine('gpu', `gpu.js (${mode})`);
      expect(l.text).toBe(`gpu (gpu.js ${mode})`);
      expect(l.warning).toMatch(new RegExp(`warning: .*${mode} mode.*emulates the GPU on the CPU`));
    }
  });

  it('records the command line, version and commit in run.json', async () => {
    const p = runProvenance('npx cpnas', ['search', '--out', 'runs/my run']);
    expect(p.commandLine).toBe("npx cpnas search --out 'runs/my run'");
    expect(p.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(p.node).toBe(process.version);
    if (p.commit !== undefined) expect(p.commit).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
    const out = join(tmp(), 'run');
    const r = await cli(['search', '--preset', 'tiny', '--out', out, '--quiet'], { engine: fakeEngine() });
    expect(r.code, r.stderr).toBe(0);
    const stored = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(stored.provenance.commandLine).toBe(`cpnas search --preset tiny --out ${out} --quiet`);
    expect(stored.provenance.version).toBe(p.version);
  });

  it('train takes the dataset of the genotype\'s run unless --dataset is given', () => {
    const dir = tmp();
    const genotype = join(dir, 'genotype.json');
    writeFileSync(genotype, '{}');
    expect(datasetOfGenotypeRun(genotype)).toBeNull();
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ command: 'search', config: { dataset: 'digits' } }));
    expect(datasetOfGenotypeRun(genotype)).toEqual({ dataset: 'digits', dataDir: undefined, file: join(dir, 'run.json') });
    writeFileSync(join(dir, 'run.json'), '{ damaged');
    expect(datasetOfGenotypeRun(genotype)).toBeNull();
  });
});
