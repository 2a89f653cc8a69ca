/** Fixture data for the report tests: a genotype, a cp search history, a training history, a result. */
import type { EpochRecord, Genotype, HistoryRecord, RoundRecord, RunResult, SampleRecord } from '../../nas/types.js';

export const PRIMITIVES = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'];

export const GENOTYPE: Genotype = {
  normal: [['sep_conv_3x3', 0], ['sep_conv_3x3', 1], ['skip_connect', 0], ['sep_conv_5x5', 2], ['dil_conv_3x3', 2], ['max_pool_3x3', 3], ['avg_pool_3x3', 1], ['dil_conv_5x5', 4]],
  normalConcat: [2, 3, 4, 5],
  reduce: [['max_pool_3x3', 0], ['max_pool_3x3', 1], ['skip_connect', 2], ['max_pool_3x3', 1], ['max_pool_3x3', 0], ['skip_connect', 2], ['skip_connect', 2], ['avg_pool_3x3', 0]],
  reduceConcat: [2, 3, 4, 5],
};

export function edgeKeys(): string[] {
  const keys: string[] = [];
  for (const cell of ['normal', 'reduce']) for (let to = 2; to < 6; to++) for (let from = 0; from < to; from++) keys.push(`${cell}:${from}-${to}`);
  return keys;
}

/** A deterministic cp history: 7 rounds abandoning one operation per edge, with samples and epochs. */
export function cpHistory(): HistoryRecord[] {
  const history: HistoryRecord[] = [];
  const remaining: Record<string, string[]> = Object.fromEntries(edgeKeys().map((k) => [k, [...PRIMITIVES]]));
  let sample = 0;
  for (let round = 1; round <= 7; round++) {
    const K = 9 - round;
    for (let e = 1; e <= K; e++) {
      sample++;
      const rec: SampleRecord = {
        type: 'sample', strategy: 'cp', round, t: 1, e,
        ops: Object.fromEntries(edgeKeys().map((k) => [k, remaining[k][e - 1]])),
        A_C: 0.3 + 0.05 * round + 0.01 * e, A_P: 0.5 + 0.04 * round, z: 0.4 + 0.045 * round, childLoss: 2 - 0.2 * round, parentLoss: 1.8 - 0.2 * round, seconds: 1.5,
      };
      history.push(rec);
    }
    const indicator: Record<string, Record<string, number>> = {};
    const meanCredit: Record<string, Record<string, number>> = {};
    const abandoned: Record<string, string> = {};
    for (const k of edgeKeys()) {
      const ops = remaining[k];
      const raw = ops.map((op, i) => 1 + ((i * 7 + k.length + round) % 5) / 10);
      const sum = raw.reduce((a, b) => a + Math.exp(b), 0);
      indicator[k] = Object.fromEntries(ops.map((op, i) => [op, Math.exp(raw[i]) / sum]));
      meanCredit[k] = Object.fromEntries(ops.map((op, i) => [op, raw[i]]));
      // abandon 'none' first, then the lowest
      const worst = ops.includes('none') ? 'none' : ops.reduce((a, b) => (indicator[k][a] <= indicator[k][b] ? a : b));
      abandoned[k] = worst;
      remaining[k] = ops.filter((o) => o !== worst);
    }
    const rec: RoundRecord = {
      type: 'round', strategy: 'cp', round, K, indicator, meanCredit, abandoned,
      remaining: Object.fromEntries(Object.entries(remaining).map(([k, v]) => [k, [...v]])), seconds: 12.5,
    };
    history.push(rec);
  }
  history.push({ type: 'genotype', strategy: 'cp', genotype: GENOTYPE, strength: {}, searchSeconds: 93.4 });
  for (const phase of ['parent', 'child'] as const) {
    for (let epoch = 1; epoch <= 3; epoch++) {
      const rec: EpochRecord = {
        type: 'epoch', phase, epoch, loss: 1.5 / epoch, trainAccuracy: 0.6 + 0.1 * epoch, valAccuracy: 0.55 + 0.1 * epoch, lr: 0.05 / epoch, seconds: 20,
        ...(phase === 'child' ? { terms: { ce: 1.2 / epoch, cp: 0.2 / epoch, center: 0.1 / epoch } } : {}),
      };
      history.push(rec);
    }
  }
  return history;
}

export function result(): RunResult {
  const model = (acc: number, binary: boolean) => ({
    testAccuracy: acc, trainLoss: 0.4, trainAccuracy: acc + 0.02, modelDir: binary ? 'child' : 'parent',
    fpParams: binary ? 2_000 : 60_000, binaryParams: binary ? 58_000 : 0, bops: binary ? 64e6 : 0, flops: binary ? 3e6 : 70e6,
    ops: binary ? 4e6 : 70e6, sizeBytes: binary ? 16_000 : 240_000,
  });
  return {
    child: model(0.9123, true), parent: model(0.9712, false), ops: 4e6, bops: 64e6, flops: 3e6, sizeBytes: 16_000,
    searchSeconds: 93.4, trainSeconds: 240.2,
    settings: { train: { cells: 3, channels: 16 } as unknown as RunResult['settings']['train'] },
    seed: 7, genotype: GENOTYPE, dataset: 'digits', inputShape: [1, 14, 14], numClasses: 10,
  };
}
