/**
 * Adding an operation to the search space: one `registerOperation` call.
 *
 * The new operation here is `conv_7x1_1x7`, the factorized 7x7 convolution of the NASNet / DARTS
 * search spaces: ReLU -> conv 1x7 -> conv 7x1 -> BN, one unit. Its factory receives the channel count
 * C, the stride (2 on the edges of a reduction cell that leave its inputs) and the options naming the
 * network to build: the Parent's full precision, or the 1-bit Child in the chosen form (`paper` or
 * `bireal`). `makeUnit` builds the chain in that form, so the operation needs no branch of its own.
 * Once registered, every strategy searches it, the genotype validator accepts it and the SVG drawing
 * labels it: nothing else changes.
 *
 * Then a tiny CP-NAS search runs on synthetic data with the new operation among the candidates, and
 * the indicator of the last round shows how it fared on each edge.
 *
 * Run it: `npx tsc -p . && node dist/examples/custom-operation.js`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Tensor } from '../core/index.js';
import { loadDataset, searchSplit } from '../data/index.js';
import { formatGenotype, validateGenotype } from '../nas/genotype.js';
import { listOperations, registerOperation, type OperationOptions } from '../nas/operations.js';
import { makeUnit, type Unit } from '../nas/units.js';
import { runSearch } from '../nas/run.js';
import { resolveSearchSettings } from '../nas/settings.js';
import type { RoundRecord } from '../nas/types.js';
import { Module } from '../ops/module.js';
import { useNodeStorage } from '../node/storage.js';

useNodeStorage(); // saved files go to the file system

/** ReLU -> conv 1x7 (stride) -> conv 7x1 -> BN in the Parent; the Child form makeUnit is asked for. */
class Conv7x1x1x7 extends Module {
  unit: Unit;
  constructor(C: number, stride: number, options: OperationOptions) {
    super();
    this.unit = makeUnit([
      { inC: C, outC: C, kernel: [1, 7], stride, padding: [0, 3] },
      { inC: C, outC: C, kernel: [7, 1], padding: [3, 0] },
    ], options);
  }
  forward(x: Tensor): Tensor {
    return this.unit.forward(x);
  }
}

export function registerConv7x1x1x7(): void {
  if (listOperations().includes('conv_7x1_1x7')) return;
  registerOperation('conv_7x1_1x7', (C, stride, options) => new Conv7x1x1x7(C, stride, options),
    { description: 'factorized 7x7 conv (1x7 then 7x1)' });
}

export function main(): void {
  // 1. Register the operation. From here on it is part of the search space.
  registerConv7x1x1x7();
  console.log(`operations: ${listOperations().join(', ')}`);

  // 2. A tiny search with it among the candidates (synthetic 8x8 gratings, a few samples per round).
  const data = loadDataset('synthetic', { seed: 0, synthetic: { size: 8, channels: 3, classes: 4, train: 256, val: 32, test: 32 } });
  const splits = searchSplit(data.train, 0);
  const settings = resolveSearchSettings({
    strategy: 'cp', cells: 3, channels: 4, imageSize: 8, batchSize: 32, T: 1, sampleFraction: 0.25, valFraction: 0.5,
    primitives: ['none', 'max_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'conv_7x1_1x7'],
  });
  const outDir = mkdtempSync(join(tmpdir(), 'cpnas-custom-op-'));
  try {
    const { genotype, history } = runSearch({ settings, data: splits, outDir });

    // 3. The genotype may keep the new operation; it validates like any other.
    validateGenotype(genotype);
    console.log(formatGenotype(genotype));
    const last = history.filter((r): r is RoundRecord => r.type === 'round').at(-1)!;
    const kept = Object.values(last.remaining).filter((ops) => ops[0] === 'conv_7x1_1x7').length;
    console.log(`conv_7x1_1x7 survived on ${kept} of ${Object.keys(last.remaining).length} edges`);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
