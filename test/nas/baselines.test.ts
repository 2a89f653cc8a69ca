/**
 * The paper's baselines on the 1-bit Child space: PC-DARTS (partial channels, edge normalization,
 * warm-up) and BNAS (partial channels + performance-based abandonment with the UCB score), plus the
 * pieces they are built from, checked on fixed numbers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../core/index.js';
import { gradCheck } from '../../ops/gradcheck.js';
import { validateGenotype } from '../../nas/genotype.js';
import { channelShuffle, edgeNormalization, PartialMixedOp } from '../../nas/partial-channel.js';
import { runSearch } from '../../nas/search.js';
import { abandonWorst, newCredits, ucbScores } from '../../nas/strategies/bnas.js';
import { pcKept } from '../../nas/strategies/pc-darts.js';
import type { ArchWeightsRecord, HistoryRecord, RoundRecord } from '../../nas/types.js';
import { FEW, tiny, tinySplits } from './tiny.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'cpnas-baselines-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const splits = tinySplits();
const opts = { binary: true, affine: false, binarizers: { activation: 'approx', weight: 'scaled' } };

describe('partial channel connections (PC-DARTS eq. 2)', () => {
  it('channelShuffle interleaves the groups like model_search.py', () => {
    // 6 channels, 1x1 pixels, values = channel index; 2 groups: [0 1 2 | 3 4 5] -> 0 3 1 4 2 5
    const x = Tensor.from([0, 1, 2, 3, 4, 5], [1, 6, 1, 1]);
    expect(Array.from(channelShuffle(x, 2).data)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(channelShuffle(x, 3).data)).toEqual([0, 2, 4, 1, 3, 5]);
    expect(() => channelShuffle(x, 4)).toThrow(/6 channels cannot be cut into 4 groups/);
  });

  it('channelShuffle and edgeNormalization pass gradCheck', () => {
    const rng = new Random(1);
    const x = Tensor.randn([2, 4, 2, 2], 1, rng, true);
    expect(gradCheck((a) => channelShuffle(a, 2), [x]).ok).toBe(true);
    const beta = Tensor.randn([5], 1, rng, true); // 2 nodes: 2 + 3 edges
    expect(gradCheck((b) => edgeNormalization(b, 2), [beta]).ok).toBe(true);
  });

  it('edgeNormalization is a softmax over the incoming edges of every node', () => {
    const beta = Tensor.from([0, Math.log(3), 0, 0, Math.log(2)], [5]);
    const w = Array.from(edgeNormalization(beta, 2).data);
    [0.25, 0.75, 0.25, 0.25, 0.5].forEach((v, i) => expect(w[i]).toBeCloseTo(v, 6));
    expect(() => edgeNormalization(Tensor.zeros([4]), 2)).toThrow(/beta must have shape \[5\]/);
  });

  it('only 1/K of the channels go through the operations; the rest bypass them', () => {
    const rng = new Random(2);
    const op = new PartialMixedOp(['none', 'skip_connect', 'sep_conv_3x3'], 4, 1, 2, { ...opts, rng });
    const x = Tensor.randn([2, 4, 5, 5], 1, rng);
    // `none` on the operated half: that half is zero, the other half is x's channels 2..3, shuffled to 1 and 3
    const y = op.forwardOne(x, 0);
    expect(y.shape).toEqual([2, 4, 5, 5]);
    const plane = 25;
    for (let n = 0; n < 2; n++) {
      for (let p = 0; p < plane; p++) {
        expect(y.data[(n * 4 + 0) * plane + p]).toBe(0);
        expect(y.data[(n * 4 + 2) * plane + p]).toBe(0);
        expect(y.data[(n * 4 + 1) * plane + p]).toBe(x.data[(n * 4 + 2) * plane + p]);
        expect(y.data[(n * 4 + 3) * plane + p]).toBe(x.data[(n * 4 + 3) * plane + p]);
      }
    }
    expect(() => new PartialMixedOp(['none', 'skip_connect'], 6, 1, 4, opts)).toThrow(/6 channels cannot be cut into 4 parts/);
  });

  it('a stride-2 edge pools the bypass to the operations\' size, for even and odd inputs', () => {
    const rng = new Random(3);
    const op = new PartialMixedOp(['max_pool_3x3', 'sep_conv_3x3'], 4, 2, 2, { ...opts, rng });
    const w = Tensor.from([0.5, 0.5], [2]);
    expect(op.forwardMix(Tensor.randn([1, 4, 8, 8], 1, rng), w).shape).toEqual([1, 4, 4, 4]);
    expect(op.forwardMix(Tensor.randn([1, 4, 7, 7], 1, rng), w).shape).toEqual([1, 4, 4, 4]);
  });

  it('the genotype strength of an edge is softmax(alpha) times softmax(beta) (eq. 4), never `none`', () => {
    const kept = pcKept(
      { 'normal:0-2': { none: 0.7, skip_connect: 0.2, sep_conv_3x3: 0.1 }, 'normal:1-2': { none: 0.1, skip_connect: 0.3, sep_conv_3x3: 0.6 } },
      { 'normal:0-2': 0.5, 'normal:1-2': 0.25 },
      ['none', 'skip_connect', 'sep_conv_3x3'],
    );
    expect(kept['normal:0-2']).toEqual({ op: 'skip_connect', strength: 0.1 });
    expect(kept['normal:1-2']).toEqual({ op: 'sep_conv_3x3', strength: 0.15 });
  });
});

describe('BNAS operation abandonment', () => {
  it('scores every operation by its UCB m + c sqrt(2 ln N / n) and abandons the lowest', () => {
    const c = newCredits(['normal:0-2'], ['none', 'skip_connect', 'sep_conv_3x3']);
    const e = 'normal:0-2';
    // accuracies credited: none 0.2 (1x), skip 0.5 + 0.7 (2x), sep 0.4 (1x); N = 4
    c.sum[e] = { none: 0.2, skip_connect: 1.2, sep_conv_3x3: 0.4 };
    c.count[e] = { none: 1, skip_connect: 2, sep_conv_3x3: 1 };
    const { score, mean } = ucbScores(c, e, 1);
    expect(mean).toEqual({ none: 0.2, skip_connect: 0.6, sep_conv_3x3: 0.4 });
    expect(score.none).toBeCloseTo(0.2 + Math.sqrt(2 * Math.log(4)), 12);
    expect(score.skip_connect).toBeCloseTo(0.6 + Math.sqrt(Math.log(4)), 12);
    // c = 0: the mean alone (AAAI); the UCB bonus of the less measured operations changes the order at c = 1
    const plain = abandonWorst(structuredClone(c), 0);
    expect(plain.abandoned[e]).toBe('none');
    const ucb = abandonWorst(structuredClone(c), 1);
    expect(ucb.abandoned[e]).toBe('skip_connect');
  });

  it('never leaves `none` as the last operation of an edge', () => {
    const c = newCredits(['normal:0-2'], ['none', 'skip_connect']);
    c.sum['normal:0-2'] = { none: 0.9, skip_connect: 0.1 };
    c.count['normal:0-2'] = { none: 1, skip_connect: 1 };
    expect(abandonWorst(c, 0).abandoned['normal:0-2']).toBe('none');
    expect(c.remaining['normal:0-2']).toEqual(['skip_connect']);
  });
});

const strip = (h: HistoryRecord[]) => h.map((r) => ({ ...r, seconds: 0, searchSeconds: 0 }));

describe('pc-darts and bnas searches', () => {
  it('pc-darts runs end to end to a valid genotype, warms up, records beta, and resumes to the same genotype', () => {
    const settings = tiny({ strategy: 'pc-darts', primitives: FEW, dartsEpochs: 3, warmupEpochs: 1 });
    const full = runSearch({ settings, data: splits, outDir: tmp() });
    expect(validateGenotype(full.genotype)).toEqual(full.genotype);
    const alphas = full.history.filter((r): r is ArchWeightsRecord => r.type === 'alpha');
    expect(alphas.length).toBe(3);
    // the warm-up epoch leaves alpha at its initial value (uniform up to 1e-3 noise); later epochs move it
    const spread = (r: ArchWeightsRecord) => Math.max(...Object.values(r.weights).flatMap((row) => Object.values(row).map((v) => Math.abs(v - 0.25))));
    expect(spread(alphas[0])).toBeLessThan(1e-3);
    expect(spread(alphas[2])).toBeGreaterThan(spread(alphas[0]));
    expect(Object.keys(alphas[0].edgeWeights!).length).toBe(28);

    const outDir = tmp();
    const stop = new Error('stop');
    expect(() => runSearch({
      settings, data: splits, outDir, onProgress: (e) => { if (e.checkpoint && e.unit === 'epoch' && e.round === 2) throw stop; },
    })).toThrow(stop);
    const resumed = runSearch({ settings, data: splits, outDir, resume: true });
    expect(resumed.genotype).toEqual(full.genotype);
    expect(strip(resumed.history)).toEqual(strip(full.history));
  });

  it('bnas runs end to end to a valid genotype, abandons one operation per round, and resumes to the same genotype', () => {
    const settings = tiny({ strategy: 'bnas', primitives: FEW, warmupEpochs: 1, T: 1 });
    const full = runSearch({ settings, data: splits, outDir: tmp() });
    expect(validateGenotype(full.genotype)).toEqual(full.genotype);
    const rounds = full.history.filter((r): r is RoundRecord => r.type === 'round');
    expect(rounds.map((r) => r.K)).toEqual([4, 3, 2]);
    expect(full.history.filter((r) => r.type === 'sample').length).toBe(4 + 3 + 2);
    for (const ops of Object.values(rounds.at(-1)!.remaining)) {
      expect(ops.length).toBe(1);
      expect(ops[0]).not.toBe('none');
    }

    for (const [unit, round] of [['epoch', 2], ['round', 1]] as const) {
      const outDir = tmp();
      const stop = new Error('stop');
      expect(() => runSearch({
        settings, data: splits, outDir, onProgress: (e) => { if (e.checkpoint && e.unit === unit && e.round === round) throw stop; },
      })).toThrow(stop);
      const resumed = runSearch({ settings, data: splits, outDir, resume: true });
      expect(resumed.genotype).toEqual(full.genotype);
      expect(strip(resumed.history)).toEqual(strip(full.history));
    }
  });

  it('refuses a partialChannels that does not divide the channels, and a pc-darts search that is all warm-up', () => {
    expect(() => tiny({ strategy: 'pc-darts', channels: 3, partialChannels: 2 })).toThrow(/partialChannels \(2\) must divide channels \(3\)/);
    expect(() => tiny({ strategy: 'pc-darts', dartsEpochs: 2, warmupEpochs: 2 })).toThrow(/warmupEpochs \(2\) must be fewer than the search epochs/);
  });
});
