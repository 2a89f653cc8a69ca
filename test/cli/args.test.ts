import { describe, expect, it } from 'vitest';
import { commandHelp, COMMAND_NAMES, editDistance, flagsOf, mainHelp, parseCommandArgs, UsageError } from '../../cli/args.js';
import { applySamplesPerEpoch, presetNote, resolveConfig } from '../../cli/config.js';
import { PRESETS, PRESET_NAMES } from '../../cli/presets.js';

describe('parseCommandArgs', () => {
  it('reads string and boolean flags, in both --flag value and --flag=value forms', () => {
    const v = parseCommandArgs('search', ['--preset', 'tiny', '--seed=3', '--no-train', '-q', '--T', '2']);
    expect(v).toMatchObject({ preset: 'tiny', seed: '3', 'no-train': true, quiet: true, T: '2' });
  });

  it('lets a negative number through as a value, so that validation can name the flag', () => {
    expect(parseCommandArgs('search', ['--epochs', '-1']).epochs).toBe('-1');
    expect(parseCommandArgs('search', ['--beta', '-.5']).beta).toBe('-.5');
  });

  it('refuses unknown flags with the closest known one', () => {
    expect(() => parseCommandArgs('search', ['--epoch', '3'])).toThrow(/--epoch: unknown flag for cpnas search; did you mean --epochs\?/);
    expect(() => parseCommandArgs('search', ['--genotype', 'x'])).toThrow(UsageError); // a train flag
    expect(() => parseCommandArgs('eval', ['-x'])).toThrow(/-x: unknown flag/);
  });

  it('refuses a missing value, a value on a boolean flag and stray words', () => {
    expect(() => parseCommandArgs('search', ['--seed'])).toThrow(/--seed: needs a value/);
    expect(() => parseCommandArgs('search', ['--seed', '--quiet'])).toThrow(/--seed: needs a value/);
    expect(() => parseCommandArgs('search', ['--quiet=yes'])).toThrow(/--quiet: takes no value/);
    expect(() => parseCommandArgs('search', ['digits'])).toThrow(/unexpected argument "digits"/);
  });

  it('has help for every command listing every flag', () => {
    for (const c of COMMAND_NAMES) {
      const help = commandHelp(c);
      for (const flag of Object.keys(flagsOf(c))) expect(help).toContain(`--${flag}`);
    }
    expect(mainHelp()).toContain('search');
    expect(editDistance('serch', 'search')).toBe(1);
  });
});

describe('resolveConfig', () => {
  it('starts from the preset', () => {
    const cfg = resolveConfig('search', { preset: 'tiny' });
    expect(cfg.dataset).toBe('synthetic');
    expect(cfg.search.cells).toBe(PRESETS.tiny.search.cells);
    expect(cfg.search.primitives).toEqual(PRESETS.tiny.search.primitives);
    expect(cfg.train.parentEpochs).toBe(PRESETS.tiny.train.parentEpochs);
    expect(cfg.limit).toEqual(PRESETS.tiny.limit);
    expect(cfg.preset).toBe('tiny');
  });

  it('defaults to the default preset and resolves every preset', () => {
    expect(resolveConfig('search', {}).preset).toBe('default');
    expect(resolveConfig('search', {}).dataset).toBe('digits');
    for (const p of PRESET_NAMES) {
      const cfg = resolveConfig('search', { preset: p });
      expect(cfg.search.strategy).toBe('cp');
      expect(cfg.train.cells).toBeGreaterThan(0);
    }
    const paper = resolveConfig('search', { preset: 'paper' });
    expect([paper.search.cells, paper.search.channels, paper.search.batchSize, paper.search.dartsEpochs]).toEqual([8, 16, 64, 50]);
    expect([paper.train.cells, paper.train.channels, paper.train.batchSize, paper.train.childEpochs]).toEqual([20, 36, 96, 600]);
  });

  it('applies flags over the preset', () => {
    const cfg = resolveConfig('search', {
      preset: 'tiny', seed: '5', strategy: 'bnas', cells: '4', channels: '6', 'train-cells': '5', 'train-channels': '12', epochs: '3', 'child-epochs': '0.5',
      'image-size': '12', 'batch-size': '16', T: '2', beta: '0.5', 'sample-fraction': '0.3', lr: '0.1', lambda: '0.01', theta: '0', 'search-epochs': '2',
    });
    expect(cfg.seed).toBe(5);
    expect(cfg.search).toMatchObject({ strategy: 'bnas', cells: 4, channels: 6, imageSize: 12, batchSize: 16, T: 2, beta: 0.5, sampleFraction: 0.3, lr: 0.1, seed: 5, dartsEpochs: 2 });
    expect(cfg.train).toMatchObject({ cells: 5, channels: 12, parentEpochs: 3, childEpochs: 0.5, imageSize: 12, batchSize: 16, parentLr: 0.1, childLr: 0.1, lambda: 0.01, theta: 0, seed: 5 });
  });

  it('--child-block sets the Child form of the search supernet and of the final network', () => {
    for (const form of ['paper', 'bireal'] as const) {
      const cfg = resolveConfig('search', { preset: 'tiny', 'child-block': form });
      expect([cfg.search.childBlock, cfg.train.childBlock]).toEqual([form, form]);
    }
    expect(resolveConfig('train', { preset: 'tiny', 'child-block': 'paper' }).train.childBlock).toBe('paper');
    expect(() => resolveConfig('search', { 'child-block': 'xnor' })).toThrow(/--child-block: unknown value "xnor" \(choose one of: paper, bireal\)/);
  });

  it('train: --cells and --channels size the trained network', () => {
    const cfg = resolveConfig('train', { preset: 'tiny', cells: '6', channels: '10' });
    expect([cfg.train.cells, cfg.train.channels]).toEqual([6, 10]);
  });

  it('--limit caps the training images; the preset caps hold on another dataset too, with a note', () => {
    expect(resolveConfig('search', { preset: 'tiny', limit: '50' }).limit).toEqual({ ...PRESETS.tiny.limit, train: 50 });
    const digits = resolveConfig('search', { preset: 'tiny', dataset: 'digits' });
    expect(digits.limit).toEqual(PRESETS.tiny.limit);
    expect(presetNote(digits)).toBe('preset tiny: its image limits apply to digits too (256 train, 64 val, 64 test images); --limit N changes the training images, or choose another --preset for the whole dataset');
    expect(presetNote(resolveConfig('search', { preset: 'tiny' }))).toBeNull();
    expect(presetNote(resolveConfig('search', { preset: 'default', dataset: 'synthetic' }))).toBeNull();
  });

  it('--samples-per-epoch becomes a sample fraction once the split size is known', () => {
    const cfg = resolveConfig('search', { preset: 'tiny', 'samples-per-epoch': '25' });
    applySamplesPerEpoch(cfg, 100);
    expect(cfg.search.sampleFraction).toBe(0.25);
    applySamplesPerEpoch(cfg, 10);
    expect(cfg.search.sampleFraction).toBe(1);
    expect(() => resolveConfig('search', { 'samples-per-epoch': '25', 'sample-fraction': '0.5' })).toThrow(/either --samples-per-epoch or --sample-fraction/);
  });

  it('names the flag of every bad value', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ epochs: '-1' }, /^--epochs: must be >= 0, got -1$/],
      [{ seed: 'abc' }, /^--seed: must be an integer, got "abc"$/],
      [{ seed: '1.5' }, /^--seed: must be an integer/],
      [{ dataset: 'imagenet' }, /^--dataset: unknown value "imagenet" \(choose one of: .*digits.*\)$/],
      [{ preset: 'huge' }, /^--preset: unknown value "huge"/],
      [{ strategy: 'evolution' }, /^--strategy: unknown value "evolution"/],
      [{ backend: 'tpu' }, /^--backend: unknown value "tpu"/],
      [{ 'gpu-mode': 'webgl' }, /^--gpu-mode: only applies with --backend gpu$/],
      [{ T: '0' }, /^--T: must be a positive integer, got 0$/],
      [{ beta: 'x' }, /^--beta: must be a number, got "x"$/],
      [{ 'sample-fraction': '1.5' }, /^--sample-fraction: must be <= 1, got 1.5$/],
      [{ 'sample-fraction': '0' }, /^--sample-fraction: must be greater than 0/],
      [{ 'batch-size': '2.5' }, /^--batch-size: must be an integer/],
      [{ 'image-size': '2' }, /^--image-size: must be an integer >= 4, got 2$/],
      [{ cells: '' }, /^--cells: needs a value/],
      [{ data: '/no/such/folder' }, /^--data: folder "\/no\/such\/folder" does not exist$/],
      [{ primitives: 'sep_conv_3x3,warp_drive' }, /^--primitives: .*unknown operation "warp_drive"/],
      [{ 'parent-epochs': '1e309' }, /^--parent-epochs: must be a number/],
    ];
    for (const [values, message] of bad) {
      let err: unknown = null;
      try {
        resolveConfig('search', values);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(values)).toBeInstanceOf(UsageError);
      expect((err as Error).message, JSON.stringify(values)).toMatch(message);
    }
  });
});
