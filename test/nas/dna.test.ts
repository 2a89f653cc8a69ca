import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../core/index.js';
import { blockLosses, blockStates, forwardBlock, networkBlocks } from '../../nas/blocks.js';
import { CostTable, smallestCost } from '../../nas/budget.js';
import { allEdgeKeys, validateGenotype } from '../../nas/genotype.js';
import { runSearch, budgetNetworkOf } from '../../nas/search.js';
import { dnaScores } from '../../nas/strategies/dna.js';
import { Supernet } from '../../nas/supernet.js';
import type { HistoryRecord } from '../../nas/types.js';
import { FEW, tiny, tinySplits } from './tiny.js';

describe('blocks of a supernet', () => {
  it('cuts the network at every reduction cell', () => {
    expect(networkBlocks(3)).toEqual([[0], [1], [2]]);
    expect(networkBlocks(5)).toEqual([[0], [1, 2], [3, 4]]);
    expect(networkBlocks(8)).toEqual([[0, 1], [2, 3, 4], [5, 6, 7]]);
  });

  it("gives zero block losses when the Child equals the Parent, on +-1 inputs, for any path", () => {
    const config = { inputChannels: 1, numClasses: 3, cells: 5, channels: 2, nodes: 2, binary: true, binarizers: { activation: 'approx', weight: 'scaled' } };
    const parent = new Supernet({ ...config, rng: new Random(1) }, FEW);
    const child = new Supernet({ ...config, rng: new Random(2) }, FEW);
    child.loadStateDict(parent.stateDict());
    parent.eval();
    child.eval();
    const rng = new Random(4);
    const x = Tensor.from(Array.from({ length: 4 * 8 * 8 }, () => (rng.next() < 0.5 ? -1 : 1)), [4, 1, 8, 8]);
    const blocks = networkBlocks(5);
    for (let trial = 0; trial < 3; trial++) {
      const arch = Object.fromEntries(allEdgeKeys(2).map((e) => [e, FEW[rng.int(FEW.length)]]));
      const choice = child.choiceOf(arch);
      const losses = blockLosses(child, parent, x, choice, choice, blocks);
      expect(losses).toEqual([0, 0, 0]); // the same arithmetic on both sides: exactly zero
      // and a different path of the Child is not zero: the test can fail
      const other = child.choiceOf(Object.fromEntries(allEdgeKeys(2).map((e) => [e, arch[e] === 'sep_conv_3x3' ? 'max_pool_3x3' : 'sep_conv_3x3'])));
      expect(blockLosses(child, parent, x, other, choice, blocks).some((l) => l > 1e-3)).toBe(true);
    }
    // the blocks chained equal the whole network's last state
    const choice = child.choiceOf(Object.fromEntries(allEdgeKeys(2).map((e) => [e, 'sep_conv_3x3'])));
    const st = blockStates(parent, x, choice, blocks);
    const last = forwardBlock(child, blocks[2], st.inputs[2], choice);
    expect([...last.data]).toEqual([...st.outputs[2].data]);
  });

  it('scores an (edge, op) by how much it lowers the block loss against `none`', () => {
    const scores = dnaScores([
      { block: 0, ratings: { 'normal:0-2': { none: 1, max_pool_3x3: 0.8, sep_conv_3x3: 0.5 } } },
      { block: 1, ratings: { 'normal:0-2': { none: 2, max_pool_3x3: 1.5, sep_conv_3x3: 1.9 } } },
    ], ['none', 'max_pool_3x3', 'sep_conv_3x3']);
    expect(scores['normal:0-2'].max_pool_3x3).toBeCloseTo(0.7, 9);
    expect(scores['normal:0-2'].sep_conv_3x3).toBeCloseTo(0.6, 9);
    expect(scores['normal:0-2'].none).toBeUndefined();
  });
});

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'cpnas-dna-'));
  dirs.push(d);
  return d;
}

describe('the dna strategy', () => {
  const splits = tinySplits();
  const settings = tiny({ strategy: 'dna', primitives: FEW, dnaTeacherEpochs: 1, dnaBlockEpochs: 2, dnaRepeats: 1 });

  it('runs a tiny search to a valid genotype with per-block losses and ratings, and resumes to the same genotype', () => {
    const full = runSearch({ settings, data: splits, outDir: tmp() });
    expect(validateGenotype(full.genotype)).toEqual(full.genotype);
    const blocks = full.history.filter((r) => r.type === 'dna-block');
    const ratings = full.history.filter((r) => r.type === 'dna-rating');
    expect(blocks.length).toBe(3);
    expect(ratings.length).toBe(3);
    for (const r of ratings) if (r.type === 'dna-rating') expect(r.paths.length).toBe(FEW.length);

    for (const unit of ['epoch', 'round'] as const) {
      const outDir = tmp();
      const stop = new Error('stop');
      let seen = 0;
      expect(() => runSearch({ settings, data: splits, outDir, onProgress: (e) => { if (e.checkpoint && e.unit === unit && ++seen === 2) throw stop; } })).toThrow(stop);
      const resumed = runSearch({ settings, data: splits, outDir, resume: true });
      expect(resumed.genotype).toEqual(full.genotype);
      const strip = (h: HistoryRecord[]) => h.map((r) => ({ ...r, seconds: 0, searchSeconds: 0 }));
      expect(strip(resumed.history)).toEqual(strip(full.history));
    }
  });

  it('never returns a genotype over its budget, and refuses a budget below the smallest network', () => {
    const table = CostTable.build(budgetNetworkOf(settings, splits.searchTrain), FEW);
    const min = smallestCost(table);
    for (const strategy of ['dna', 'random'] as const) {
      const maxOps = Math.ceil(min.ops * 1.05);
      const out = runSearch({ settings: { ...settings, strategy, maxOps }, data: splits, outDir: tmp() });
      const cost = table.costOf(out.genotype);
      expect(cost.ops).toBeLessThanOrEqual(maxOps);
      const rec = out.history.find((r) => r.type === 'budget');
      expect(rec && rec.type === 'budget' && rec.ops).toBeCloseTo(cost.ops, 6);
    }
    const dir = tmp();
    expect(() => runSearch({ settings: { ...settings, maxOps: Math.floor(min.ops) - 1 }, data: splits, outDir: join(dir, 'run') }))
      .toThrow(/--max-ops .* is below the .* OPs of the smallest possible network/);
    expect(() => runSearch({ settings: { ...settings, maxBytes: min.bytes - 1 }, data: splits, outDir: join(dir, 'run') }))
      .toThrow(/--max-bytes .* below/);
  });
});

describe('dcp and dna in the experiment bench', () => {
  it('declare their search budgets in units of sampleFraction of an epoch, and the settings they read', async () => {
    const { searchImages, unitImages } = await import('../../nas/experiment/budget.js');
    const { reads } = await import('../../nas/experiment/grid.js');
    const dcp = tiny({ strategy: 'dcp', dartsEpochs: 3 });
    expect(searchImages(dcp, 1000)).toBe(2 * 3 * unitImages(dcp, 1000));
    const dna = tiny({ strategy: 'dna', dnaTeacherEpochs: 1, dnaBlockEpochs: 2 });
    expect(searchImages(dna, 1000)).toBe((1 + 3 * 2) * unitImages(dna, 1000));
    expect(reads('dcp', { stage: 'search', key: 'dcpLambda' })).toBe(true);
    expect(reads('cp', { stage: 'search', key: 'dcpLambda' })).toBe(false);
    expect(reads('dna', { stage: 'search', key: 'dnaBlockEpochs' })).toBe(true);
  });
});
