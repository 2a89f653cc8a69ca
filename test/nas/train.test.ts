import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../data/index.js';
import { Tensor, getBackend, noGrad } from '../../core/index.js';
import { BinaryConv2d } from '../../binary/binary-conv.js';
import { Conv2d } from '../../ops/layers.js';
import { runEvaluation, loadModel } from '../../nas/evaluate.js';
import { readJson, readJsonl } from '../../nas/io.js';
import { GenotypeNetwork } from '../../nas/network.js';
import { pairConvs, runTraining } from '../../nas/train.js';
import type { EpochRecord, Genotype, HistoryRecord, RunResult } from '../../nas/types.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'cpnas-train-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every primitive appears once in each cell. */
const GENOTYPE: Genotype = {
  normal: [['sep_conv_3x3', 0], ['skip_connect', 1], ['dil_conv_3x3', 0], ['max_pool_3x3', 2], ['sep_conv_5x5', 1], ['avg_pool_3x3', 3], ['dil_conv_5x5', 4], ['skip_connect', 0]],
  normalConcat: [2, 3, 4, 5],
  reduce: [['skip_connect', 0], ['sep_conv_3x3', 1], ['max_pool_3x3', 0], ['dil_conv_5x5', 2], ['avg_pool_3x3', 1], ['sep_conv_5x5', 3], ['dil_conv_3x3', 0], ['skip_connect', 4]],
  reduceConcat: [2, 3, 4, 5],
};

const data = loadDataset('synthetic', { seed: 2, synthetic: { size: 8, channels: 3, classes: 3, train: 64, val: 16, test: 24 } });
const settings = { cells: 3, channels: 4, imageSize: 8, batchSize: 16, parentEpochs: 1, childEpochs: 1.5, seed: 5, dropPath: 0.2 };

describe('GenotypeNetwork', () => {
  it('builds Parent and Child with the same layers, the Child with 1-bit convs in its cells only', () => {
    const cfg = { inputChannels: 3, numClasses: 3, cells: 3, channels: 4, nodes: 4, binarizers: { activation: 'approx', weight: 'scaled' } };
    const parent = new GenotypeNetwork(GENOTYPE, { ...cfg, binary: false });
    const child = new GenotypeNetwork(GENOTYPE, { ...cfg, binary: true });
    const pairs = pairConvs(child, parent);
    expect(pairs.child.length).toBeGreaterThan(20);
    expect(pairs.child.every((c) => c instanceof BinaryConv2d)).toBe(true);
    expect(child.stem).toBeInstanceOf(Conv2d);
    expect(child.stem).not.toBeInstanceOf(BinaryConv2d);
    const x = Tensor.randn([2, 3, 8, 8], 1);
    expect(parent.forward(x).shape).toEqual([2, 3]);
    expect(child.forward(x).shape).toEqual([2, 3]);
    // odd sizes through two reductions: 7 -> 4 -> 2
    expect(noGrad(() => child.forward(Tensor.randn([1, 3, 7, 7], 1))).shape).toEqual([1, 3]);
  });
});

describe('runTraining', () => {
  it('trains Parent then Child, saves both, and the packed Child agrees with the float-simulated one', () => {
    const outDir = tmp();
    const r = runTraining({ genotype: GENOTYPE, settings, data, outDir });
    const saved = readJson<RunResult>(join(outDir, 'result.json'));
    expect(saved).toEqual(r);
    // result.json says how the cpu GEMM summed (float64 unless --sums float32)
    expect(r.gemmSums).toBe('float64');
    for (const m of [r.child, r.parent]) {
      expect(m.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(m.testAccuracy).toBeLessThanOrEqual(1);
    }
    expect(r.child.binaryParams).toBeGreaterThan(0);
    expect(r.parent.binaryParams).toBe(0);
    expect(r.child.bops).toBeGreaterThan(0);
    expect(r.child.ops).toBeCloseTo(r.child.bops / 64 + r.child.flops, 6);
    expect(r.child.sizeBytes).toBeLessThan(r.parent.sizeBytes);
    expect(existsSync(join(outDir, 'child', 'model.safetensors'))).toBe(true);
    expect(existsSync(join(outDir, 'parent', 'model.safetensors'))).toBe(true);

    const epochs = readJsonl<HistoryRecord>(join(outDir, 'history.jsonl')).filter((h): h is EpochRecord => h.type === 'epoch');
    expect(epochs.map((e) => `${e.phase}${e.epoch}`)).toEqual(['parent1', 'child1', 'child2']);
    expect(epochs[1].terms!.cp).toBeGreaterThan(0);
    expect(epochs[1].terms!.center).toBeGreaterThan(0);

    const ev = runEvaluation({ modelDir: outDir, data });
    expect(ev.kind).toBe('child');
    expect(ev.images).toBe(24);
    expect(ev.agreement).toBe(1);
    expect(ev.testAccuracy).toBe(ev.floatTestAccuracy);
    expect(ev.testAccuracy).toBeCloseTo(r.child.testAccuracy, 12);
    expect(ev.imagesPerSecondPacked).toBeGreaterThan(0);
    const evParent = runEvaluation({ modelDir: join(outDir, 'parent'), data });
    expect(evParent.testAccuracy).toBeCloseTo(r.parent.testAccuracy, 12);

    // the loaded Child computes what the trained one computed
    const { net } = loadModel(outDir);
    expect(net.cells[0].ops.length).toBe(8);
  });

  it('records float32 GEMM sums in result.json when the backend sums so', () => {
    const before = getBackend().gemmSums?.('float32');
    try {
      const r = runTraining({ genotype: GENOTYPE, settings, data, outDir: tmp() });
      expect(r.gemmSums).toBe('float32');
    } finally {
      if (before) getBackend().gemmSums?.(before);
    }
  });

  it('resumed after an epoch, it ends where an uninterrupted run ends', () => {
    const full = runTraining({ genotype: GENOTYPE, settings, data, outDir: tmp() });
    const outDir = tmp();
    const stop = new Error('stop');
    expect(() => runTraining({
      genotype: GENOTYPE, settings, data, outDir,
      onProgress: (e) => { if (e.checkpoint && e.phase === 'child' && e.round === 1) throw stop; },
    })).toThrow(stop);
    const resumed = runTraining({ genotype: GENOTYPE, settings, data, outDir, resume: true });
    expect(resumed.child.testAccuracy).toBe(full.child.testAccuracy);
    expect(resumed.parent.testAccuracy).toBe(full.parent.testAccuracy);
    expect(resumed.child.trainLoss).toBe(full.child.trainLoss);
    const strip = (h: HistoryRecord[]) => h.map((x) => ({ ...x, seconds: 0 }));
    expect(strip(readJsonl(join(outDir, 'history.jsonl')))).toEqual(strip(readJsonl(join(dirs.at(-2)!, 'history.jsonl'))));
  });

  it('refuses a malformed genotype and images of the wrong size', () => {
    const bad = { ...GENOTYPE, normal: GENOTYPE.normal.slice(1) };
    expect(() => runTraining({ genotype: bad, settings, data, outDir: tmp() })).toThrow(/genotype: "normal" has 7 entries/);
    expect(() => runTraining({ genotype: GENOTYPE, settings: { ...settings, imageSize: 16 }, data, outDir: tmp() }))
      .toThrow(/train images are \[3,8,8\] but the settings ask for 16x16/);
  });
});
