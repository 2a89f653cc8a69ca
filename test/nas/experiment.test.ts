/** The experiment bench: statistics on fixed numbers, grid expansion, budget matching, tables. */
import { describe, expect, it } from 'vitest';
import {
  bootstrapCI, expandGrid, experimentCsv, experimentMarkdown, matchImages, mean, pairedDifference, planExperiment, planFiles,
  quantile, registerSettingReaders, searchImages, signFlipP, std, summarizeExperiment, type ExperimentRecord, type GridSpec,
} from '../../nas/experiment/index.js';
import { resolveSearchSettings, resolveTrainSettings } from '../../nas/settings.js';

const FEW = ['none', 'max_pool_3x3', 'skip_connect', 'sep_conv_3x3'];

describe('statistics', () => {
  it('mean, sample std and quantiles on fixed numbers', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(std([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(std([7])).toBe(0);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 10], 0.025)).toBeCloseTo(0.25, 12);
    expect(() => mean([])).toThrow(/at least one value/);
  });

  it('the bootstrap interval of the mean matches what the resampling distribution allows', () => {
    // two values: the resampled means are 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4 -> [0, 1]
    expect(bootstrapCI([0, 1], { seed: 1 })).toEqual([0, 1]);
    // three values: P(mean = 1) = P(mean = 3) = 1/27 > 2.5 % -> [1, 3]
    expect(bootstrapCI([1, 2, 3], { seed: 2 })).toEqual([1, 3]);
    // one value: no spread; constant values: a point
    expect(bootstrapCI([0.9])).toEqual([0.9, 0.9]);
    expect(bootstrapCI([0.5, 0.5, 0.5])).toEqual([0.5, 0.5]);
  });

  it('the bootstrap interval is reproducible from its seed and narrows with more values', () => {
    const v = [0.91, 0.93, 0.92, 0.95, 0.9];
    const a = bootstrapCI(v, { seed: 7 });
    expect(bootstrapCI(v, { seed: 7 })).toEqual(a);
    expect(a[0]).toBeGreaterThanOrEqual(0.9);
    expect(a[1]).toBeLessThanOrEqual(0.95);
    expect(a[0]).toBeLessThan(mean(v));
    expect(a[1]).toBeGreaterThan(mean(v));
    const wide = bootstrapCI([0.9, 0.95], { seed: 7 });
    expect(a[1] - a[0]).toBeLessThan(wide[1] - wide[0]);
  });

  it('the sign-flip p-value is exact on small samples', () => {
    // only the all-plus and all-minus patterns reach |mean| = 1: 2 of 8
    expect(signFlipP([1, 1, 1])).toBe(0.25);
    expect(signFlipP([1, 2, 3, 4])).toBe(2 / 16);
    // [1, -1]: every pattern has |mean| 0 or 1; observed 0 -> p = 1
    expect(signFlipP([1, -1])).toBe(1);
    expect(signFlipP([])).toBe(1);
  });

  it('paired differences use the seeds both sides have, in seed order', () => {
    const a = new Map([[0, 0.9], [1, 0.8], [2, 0.85]]);
    const b = new Map([[0, 0.85], [1, 0.82], [2, 0.8], [3, 0.7]]);
    const d = pairedDifference(a, b, { seed: 0 })!;
    expect(d.seeds).toEqual([0, 1, 2]);
    expect(d.n).toBe(3);
    expect(d.mean).toBeCloseTo((0.05 - 0.02 + 0.05) / 3, 12);
    expect(d.std).toBeCloseTo(std([0.05, -0.02, 0.05]), 12);
    expect([d.wins, d.losses, d.ties]).toEqual([2, 1, 0]);
    // a resampled mean of three of {0.05, -0.02, 0.05} lies in [-0.02, 0.05]
    expect(d.ciLow).toBeGreaterThanOrEqual(-0.02 - 1e-12);
    expect(d.ciHigh).toBeCloseTo(0.05, 12);
    expect(d.p).toBe(signFlipP([0.05, -0.02, 0.05]));
    expect(pairedDifference(new Map([[5, 1]]), b)).toBeNull();
  });
});

function spec(over: Partial<GridSpec> = {}): GridSpec {
  return {
    strategies: ['cp', 'darts'], seeds: [0, 1], sweeps: [{ stage: 'search', key: 'beta', values: [0, 2] }],
    base: { search: resolveSearchSettings({ primitives: FEW, sampleFraction: 0.1, batchSize: 32, T: 1, beta: 1 }), train: resolveTrainSettings({}) },
    ...over,
  };
}

describe('the grid', () => {
  it('sweeps a setting only for the strategies that read it', () => {
    const runs = expandGrid(spec());
    expect(runs.map((r) => r.id)).toEqual(['cp-beta0-seed0', 'cp-beta0-seed1', 'cp-beta2-seed0', 'cp-beta2-seed1', 'darts-seed0', 'darts-seed1']);
    expect(runs[2].search).toMatchObject({ strategy: 'cp', beta: 2, seed: 0 });
    expect(runs[2].train.seed).toBe(0);
    expect(runs[4].search.beta).toBe(1); // darts keeps the base beta
    expect(runs[4].point).toEqual({});
    // a strategy added later joins the sweep by declaring it reads the setting
    registerSettingReaders('beta', ['my-strategy']);
    expect(expandGrid(spec({ strategies: ['my-strategy'] })).map((r) => r.id)).toEqual(['my-strategy-beta0-seed0', 'my-strategy-beta0-seed1', 'my-strategy-beta2-seed0', 'my-strategy-beta2-seed1']);
  });

  it('refuses a repeated strategy or value', () => {
    expect(() => expandGrid(spec({ strategies: ['cp', 'cp'] }))).toThrow(/named twice/);
    expect(() => expandGrid(spec({ sweeps: [{ stage: 'search', key: 'beta', values: [1, 1] }] }))).toThrow(/repeats a value/);
  });
});

describe('budgets', () => {
  const s = (over: object) => resolveSearchSettings({ primitives: FEW, sampleFraction: 0.1, batchSize: 32, ...over });
  it('counts the training images a search draws', () => {
    // 960 images, batch 32: 30 batches an epoch; 0.1 -> 3 batches = 96 images a unit
    expect(searchImages(s({ strategy: 'cp', T: 1 }), 960)).toBe(9 * 96); // 4 + 3 + 2 samples
    expect(searchImages(s({ strategy: 'cp', T: 2 }), 960)).toBe(18 * 96);
    expect(searchImages(s({ strategy: 'darts', dartsEpochs: 4 }), 960)).toBe(4 * 96);
    expect(searchImages(s({ strategy: 'bnas', warmupEpochs: 1 }), 960)).toBe(4 * 96); // warm-up + 3 rounds
    expect(searchImages(s({ strategy: 'random' }), 960)).toBe(0);
  });

  it('matches a strategy to a number of images, capped at a whole epoch per unit', () => {
    const m = matchImages(s({ strategy: 'darts', dartsEpochs: 4 }), 864, 960);
    // 864 / (4 x 32) = 6.75 -> 7 batches an epoch
    expect(m.search.sampleFraction).toBeCloseTo(7 / 30, 12);
    expect(m.images).toBe(4 * 7 * 32);
    expect(m.status).toBe('matched');
    // darts gets more epochs when one epoch per unit is not enough: 3000 / 960 -> 4 epochs of round(3000 / 128) = 23 batches
    const grown = matchImages(s({ strategy: 'darts', dartsEpochs: 1 }), 3000, 960);
    expect(grown.search.dartsEpochs).toBe(4);
    expect(grown).toMatchObject({ status: 'matched', images: 4 * 23 * 32 });
    // bnas's epochs are its rounds: capped at a whole epoch each
    const capped = matchImages(s({ strategy: 'bnas', warmupEpochs: 1 }), 100000, 960);
    expect(capped).toMatchObject({ status: 'capped', images: 4 * 960 });
    expect(matchImages(s({ strategy: 'random' }), 864, 960).status).toBe('unmatched');
  });

  it('an experiment plan gives every strategy the reference\'s images and states it', () => {
    const d = planExperiment(spec({ strategies: ['cp', 'darts', 'random'] }), { match: 'images', searchTrainLength: 960, dataset: 'digits' });
    expect(d.reference).toEqual({ strategy: 'cp', point: { beta: 0 } });
    const darts = d.runs.find((r) => r.strategy === 'darts')!;
    expect(darts.budget.target).toBe(9 * 96);
    expect(darts.budget.images).toBe(darts.search.dartsEpochs * Math.round((9 * 96) / (darts.search.dartsEpochs * 32)) * 32);
    expect(d.budgetLines[0]).toMatch(/matched by training images/);
    expect(d.budgetLines.join('\n')).toMatch(/random draws its genotype without training/);
    const files = planFiles({ runDirs: d.runs.map((r) => `/x/${r.id}`), dir: '/x', cli: 'npx cpnas' });
    expect(files.commands.trim().split('\n')).toHaveLength(d.runs.length);
    expect(files.commands.split('\n')[0]).toBe('npx cpnas search --resume /x/cp-beta0-seed0 --quiet');
    expect(files.slurm).toContain(`#SBATCH --array=0-${d.runs.length - 1}`);
    expect(files.slurm).toContain('sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" /x/plan/commands.txt');
  });
});

describe('the table', () => {
  const rec = (strategy: string, seed: number, acc: number, point = {}): ExperimentRecord => ({
    id: `${strategy}-${seed}`, strategy, seed, point, childAccuracy: acc, parentAccuracy: acc + 0.05, searchSeconds: 10 + seed,
    trainSeconds: 5, images: 800, budget: 'matched',
  });
  it('summarizes rows with intervals and paired differences against the reference', () => {
    const records = [rec('cp', 0, 0.9), rec('cp', 1, 0.92), rec('cp', 2, 0.91), rec('darts', 0, 0.88), rec('darts', 1, 0.9), rec('darts', 2, 0.9)];
    const rows = summarizeExperiment(records, { strategy: 'cp', point: {} }, { seed: 0 });
    expect(rows.map((r) => r.key)).toEqual(['cp', 'darts']);
    expect(rows[0].child!.mean).toBeCloseTo(0.91, 12);
    expect(rows[0].vsReference).toBeNull();
    const d = rows[1].vsReference!;
    expect(d.mean).toBeCloseTo((-0.02 - 0.02 - 0.01) / 3, 12);
    expect([d.wins, d.losses]).toEqual([0, 3]);
    expect(d.p).toBe(0.25); // all three differences negative: 2 of 8 sign patterns are as extreme
    const md = experimentMarkdown(rows, { strategy: 'cp', point: {} });
    expect(md).toContain('reference');
    expect(md).toContain('91.00 ± 1.00');
    expect(md).toContain('-1.67 [');
    const csv = experimentCsv(rows).trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[0].split(',')).toContain('diff_ci_low');
  });
});
