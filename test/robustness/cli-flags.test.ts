/**
 * Every command answers a bad flag with one line naming the flag and exit code 2, before it loads any
 * data or makes any folder: unknown flags, missing values, numbers that are not numbers, negative,
 * zero or fractional where that makes no sense, unknown names (dataset, strategy, preset, backend),
 * and flags that cannot go together.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpnas, expectCleanError, GENOTYPE, tempRoot } from './helpers.js';

const root = tempRoot('flags');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const genotypeFile = join(root, 'genotype.json');
writeFileSync(genotypeFile, JSON.stringify(GENOTYPE));
const modelDir = join(root, 'model');
mkdirSync(modelDir);

/** [flags, the name the error must give]; each command adds its required flags and an --out. */
const COMMON: [string[], string][] = [
  [['--bogus'], '--bogus'],
  [['--bogus=1'], '--bogus'],
  [['-x'], '-x'],
  [['stray'], '"stray"'],
  [['--'], '"--"'],
  [['--seed'], '--seed'],
  [['--seed', '--quiet'], '--seed'],
  [['--seed', 'abc'], '--seed'],
  [['--seed', '-1'], '--seed'],
  [['--seed', '1.5'], '--seed'],
  [['--seed', '1e3'], '--seed'],
  [['--seed', '99999999999999999999'], '--seed'],
  [['--seed', ''], '--seed'],
  [['--batch-size', '0'], '--batch-size'],
  [['--batch-size', '-4'], '--batch-size'],
  [['--batch-size', '2.5'], '--batch-size'],
  [['--image-size', '2'], '--image-size'],
  [['--image-size', '100000'], '--image-size'],
  [['--image-size', 'big'], '--image-size'],
  [['--backend', 'tpu'], '--backend'],
  [['--gpu-mode', 'webgl'], '--gpu-mode'],
  [['--gpu-mode', 'vulkan', '--backend', 'gpu'], '--gpu-mode'],
  [['--dataset', 'imagenet'], '--dataset'],
  [['--limit', '0'], '--limit'],
  [['--limit', '-10'], '--limit'],
  [['--limit', 'all'], '--limit'],
  [['--data', '/no/such/folder'], '--data'],
  [['--quiet=yes'], '--quiet'],
];

const RUNS: [string[], string][] = [
  [['--preset', 'huge'], '--preset'],
  [['--preset'], '--preset'],
  [['--lr', '0'], '--lr'],
  [['--lr', '-0.1'], '--lr'],
  [['--lr', 'NaN'], '--lr'],
  [['--lr', 'Infinity'], '--lr'],
  [['--lr', '1e-3x'], '--lr'],
  [['--epochs', '-1'], '--epochs'],
  [['--epochs', 'two'], '--epochs'],
  [['--parent-epochs', '-0.5'], '--parent-epochs'],
  [['--child-epochs', 'x'], '--child-epochs'],
  [['--lambda', '-1'], '--lambda'],
  [['--theta', '-1'], '--theta'],
  [['--train-cells', '0'], '--train-cells'],
  [['--train-channels', '1.5'], '--train-channels'],
];

const SEARCHES: [string[], string][] = [
  [['--T', '0'], '--T'],
  [['--T', '1.5'], '--T'],
  [['--cells', '0'], '--cells'],
  [['--channels', '-8'], '--channels'],
  [['--beta', '-1'], '--beta'],
  [['--sample-fraction', '0'], '--sample-fraction'],
  [['--sample-fraction', '1.5'], '--sample-fraction'],
  [['--val-fraction', '0'], '--val-fraction'],
  [['--search-epochs', '0'], '--search-epochs'],
  [['--samples-per-epoch', '0'], '--samples-per-epoch'],
  [['--samples-per-epoch', '10', '--sample-fraction', '0.5'], '--samples-per-epoch'],
  [['--primitives', ','], '--primitives'],
  [['--primitives', 'none'], '--primitives'],
  [['--primitives', 'none,conv_9x9'], '--primitives'],
  [['--primitives', 'max_pool_3x3,max_pool_3x3'], '--primitives'],
  [['--max-ops', '0'], '--max-ops'],
  [['--max-ops', 'cheap'], '--max-ops'],
  [['--max-bytes', '-5'], '--max-bytes'],
  [['--dcp-lambda', '-1'], '--dcp-lambda'],
  [['--dna-block-epochs', '0'], '--dna-block-epochs'],
  [['--dna-teacher-epochs', 'x'], '--dna-teacher-epochs'],
  // budgets below the smallest possible network: refused once the data's shape is known, nothing written
  [['--preset', 'tiny', '--max-ops', '100'], '--max-ops'],
  [['--preset', 'tiny', '--max-bytes', '100'], '--max-bytes'],
];

const PER_COMMAND: Record<'search' | 'train' | 'eval' | 'ablate', { base: string[]; cases: [string[], string][] }> = {
  search: {
    base: [],
    cases: [...COMMON, ...RUNS, ...SEARCHES, [['--strategy', 'evolution'], '--strategy'], [['--strategies', 'cp'], '--strategies'], [['--resume', '/no/such/run'], '--resume']],
  },
  train: {
    base: ['--genotype', genotypeFile],
    cases: [[[], '--genotype'], ...COMMON, ...RUNS, [['--cells', '0'], '--cells'], [['--strategy', 'cp'], '--strategy'], [['--T', '2'], '--T']],
  },
  eval: {
    base: ['--model', modelDir, '--dataset', 'synthetic'],
    cases: [[[], '--model'], [['--json=1'], '--json'], [['--epochs', '1'], '--epochs'], [['--out', 'x'], '--out'], [['--limit', '0'], '--limit']],
  },
  ablate: {
    base: [],
    cases: [
      ...COMMON, ...RUNS, ...SEARCHES,
      [['--strategies', 'cp,foo'], '--strategies'], [['--strategies', 'cp,cp'], '--strategies'], [['--strategies', ''], '--strategies'],
      [['--seeds', '0'], '--seeds'], [['--seeds', '1.5'], '--seeds'], [['--strategy', 'cp'], '--strategy'],
    ],
  },
};

let n = 0;
for (const [command, { base, cases }] of Object.entries(PER_COMMAND)) {
  describe(`cpnas ${command}: a bad flag is one line naming it, exit 2, and nothing written`, () => {
    for (const [flags, name] of cases) {
      it(`${flags.join(' ') || '(required flag missing)'}`, async () => {
        const out = join(root, `out${n++}`);
        // the required flags are valid, so that the bad flag is the only problem (the cases without
        // flags check the message for a missing required flag)
        const required = flags.length === 0 ? [] : base;
        const outFlag = command === 'eval' ? [] : ['--out', out];
        const r = await cpnas([command, ...flags, ...outFlag, ...required]);
        expectCleanError(r, 2, [name], { only: true });
        expect(existsSync(out), 'no run folder is made').toBe(false);
      });
    }
  });
}

describe('messages', () => {
  it('suggest the flag meant, also across commands (--strategy for ablate --strategies)', async () => {
    expect((await cpnas(['search', '--presett', 'tiny'])).stderr).toContain('did you mean --preset?');
    expect((await cpnas(['ablate', '--strategy', 'cp'])).stderr).toContain('did you mean --strategies?');
    expect((await cpnas(['search', '--strategies', 'cp'])).stderr).toContain('did you mean --strategy?');
  });

  it('say `cpnas <command>:` once, also for stray words', async () => {
    const r = await cpnas(['search', 'digits']);
    expect(r.stderr).toBe('cpnas search: unexpected argument "digits" (flags take the form --name VALUE; see cpnas search --help)\n');
  });

  it('print the stack trace only with --verbose', async () => {
    const r = await cpnas(['search', '--seed', 'x', '--verbose']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^\s+at /m);
  });
});
