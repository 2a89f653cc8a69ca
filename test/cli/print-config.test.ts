import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PRESET_NAMES } from '../../cli/presets.js';
import { resolveSearchSettings, resolveTrainSettings } from '../../nas/settings.js';
import { cli, tempDir } from './helpers.js';

const root = tempDir();
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function printed(args: string[]): Promise<Record<string, any>> {
  const r = await cli(args);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

describe('cpnas search --print-config', () => {
  for (const preset of PRESET_NAMES) {
    it(`${preset}: prints the resolved, valid settings, the same every time`, async () => {
      const out = join(root, preset);
      const args = ['search', '--preset', preset, '--print-config', '--out', out];
      const a = await printed(args);
      expect(a).toMatchSnapshot();
      expect(await printed(args)).toEqual(a);
      expect(existsSync(out)).toBe(false); // nothing runs, nothing is written
      // what it prints passes the settings' own validation unchanged
      expect(resolveSearchSettings(a.search)).toEqual(a.search);
      expect(resolveTrainSettings(a.train)).toEqual(a.train);
      expect(Array.isArray(a.departuresFromPaper)).toBe(true);
    });
  }

  it('the paper preset is the published recipe: SGD, DARTS learning rates and weight decay, cosine, nothing added', async () => {
    const c = await printed(['search', '--preset', 'paper', '--print-config']);
    expect(c.search).toMatchObject({
      optimizer: 'sgd', lr: 0.025, lrSchedule: 'cosine', lrMin: 0.001, momentum: 0.9, weightDecay: 3e-4, gradClip: 5,
      archLr: 3e-4, archWeightDecay: 1e-3, childBlock: 'paper', keepOps: 1, sampleFraction: 1, valFraction: 1,
    });
    expect(c.train).toMatchObject({
      optimizer: 'sgd', parentLr: 0.025, childLr: 0.025, lrMin: 0, momentum: 0.9, weightDecay: 3e-4, childBlock: 'paper',
      childInit: 'scratch', freezeBnFraction: 0, shards: 1, kd: 0, batchSize: 96, cells: 20, channels: 36, childEpochs: 600,
    });
    expect(c.search.beta).not.toBe(1); // beta = 1 would drop the Child from the indicator
  });

  it('every recipe flag lands in the settings', async () => {
    const c = await printed([
      'search', '--preset', 'tiny', '--print-config', '--optimizer', 'adam', '--search-optimizer', 'sgd', '--search-lr', '0.1',
      '--search-lr-schedule', 'constant', '--lr-min', '0.0001', '--momentum', '0.8', '--weight-decay', '0.001', '--grad-clip', '3',
      '--parent-lr', '0.02', '--child-lr', '0.03', '--child-init', 'scratch', '--freeze-bn', '0.5', '--kd', '0.7',
      '--kd-temperature', '2', '--lambda', '0.2', '--theta', '0.01', '--T', '2', '--beta', '1.5', '--keep-ops', '2',
      '--none-rule', 'rank', '--activation-binarizer', 'ste', '--weight-binarizer', 'sign', '--child-block', 'paper', '--shards', '1',
    ]);
    expect(c.search).toMatchObject({
      optimizer: 'sgd', lr: 0.1, lrSchedule: 'constant', lrMin: 1e-4, momentum: 0.8, weightDecay: 1e-3, gradClip: 3, T: 2, beta: 1.5,
      keepOps: 2, noneRule: 'rank', binarizers: { activation: 'ste', weight: 'sign' }, childBlock: 'paper',
    });
    expect(c.train).toMatchObject({
      optimizer: 'adam', parentLr: 0.02, childLr: 0.03, lrMin: 1e-4, momentum: 0.8, weightDecay: 1e-3, gradClip: 3, childInit: 'scratch',
      freezeBnFraction: 0.5, kd: 0.7, kdTemperature: 2, lambda: 0.2, theta: 0.01, shards: 1,
      binarizers: { activation: 'ste', weight: 'sign' }, childBlock: 'paper',
    });
  });

  it('answers a bad recipe value with a one-line error naming the flag', async () => {
    for (const [flag, value, msg] of [
      ['--freeze-bn', '2', /--freeze-bn: must be <= 1, got 2/],
      ['--none-rule', 'keep', /--none-rule: unknown value "keep" \(choose one of: abandon, rank\)/],
      ['--weight-binarizer', 'nope', /--weight-binarizer: unknown value "nope"/],
      ['--child-init', 'teacher', /--child-init: unknown value "teacher" \(choose one of: parent, scratch\)/],
      ['--search-lr-schedule', 'step', /--search-lr-schedule: unknown value "step"/],
      ['--shards', '3', /--shards: must be at most 2, got 3/],
      ['--keep-ops', '8', /keepOps \(8\) must be smaller than the number of primitives \(8\)/],
    ] as const) {
      const r = await cli(['search', '--print-config', flag, value]);
      expect(r.code, `${flag} ${value}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
      expect(r.stdout).toBe('');
    }
  });

  it('cpnas train --print-config needs no genotype and prints the training settings only', async () => {
    const c = await printed(['train', '--preset', 'paper', '--print-config', '--child-block', 'bireal']);
    expect(c.command).toBe('train');
    expect(c.search).toBeUndefined();
    expect(c.train.childBlock).toBe('bireal');
  });
});
