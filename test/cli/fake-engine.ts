/**
 * A stand-in for the NAS engine and the data loader, for testing the CLI's plumbing in milliseconds:
 * it emits progress events, writes history lines and checkpoints the way nas/run.ts does, honours the
 * abort signal after a checkpoint, and records the options it was called with.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CpnasError } from '../../core/index.js';
import { appendJsonl, readJson, writeJsonAtomic } from '../../nas/io.js';
import type { Engine, LoadedData } from '../../cli/engine.js';
import {
  RUN_FILES, type EvaluationResult, type Genotype, type NasDataset, type RunEvaluationOptions, type RunResult,
  type RunSearchOptions, type RunTrainingOptions,
} from '../../nas/types.js';

export const FAKE_GENOTYPE: Genotype = {
  normal: [['sep_conv_3x3', 0], ['skip_connect', 1], ['sep_conv_3x3', 0], ['max_pool_3x3', 2], ['dil_conv_3x3', 2], ['skip_connect', 3], ['avg_pool_3x3', 1], ['sep_conv_5x5', 4]],
  normalConcat: [2, 3, 4, 5],
  reduce: [['max_pool_3x3', 0], ['max_pool_3x3', 1], ['skip_connect', 2], ['max_pool_3x3', 1], ['max_pool_3x3', 0], ['skip_connect', 2], ['skip_connect', 2], ['avg_pool_3x3', 0]],
  reduceConcat: [2, 3, 4, 5],
};

export function fakeDataset(length: number): NasDataset {
  return {
    length, shape: [1, 8, 8], classNames: ['a', 'b'],
    batches: () => [],
    subset: (idx) => fakeDataset(idx.length),
  };
}

export interface FakeEngine extends Engine {
  calls: { load: unknown[]; search: RunSearchOptions[]; train: RunTrainingOptions[]; eval: RunEvaluationOptions[]; backend: unknown[] };
  /** Called after each checkpointed round of the search (tests abort here to simulate Ctrl-C). */
  onRound?: (round: number) => void;
  /** Make the training fail with this error. */
  trainError?: Error;
}

const ROUNDS = 3;

export function fakeEngine(): FakeEngine {
  const engine: FakeEngine = {
    calls: { load: [], search: [], train: [], eval: [], backend: [] },
    loadDataset(name, options): LoadedData {
      engine.calls.load.push({ name, options });
      if (name === 'cifar10' && !options.dataDir) throw new CpnasError('cifar10', 'no --data folder given; the CIFAR-10 binary files are needed');
      return { train: fakeDataset(100), val: fakeDataset(20), test: fakeDataset(30) };
    },
    searchSplit: (train) => ({ searchTrain: fakeDataset(Math.floor(train.length / 2)), searchVal: fakeDataset(train.length - Math.floor(train.length / 2)) }),
    useBackend(name, mode, threads, simd, sums) {
      engine.calls.backend.push({ name, mode, ...(threads === undefined ? {} : { threads }), ...(simd === undefined ? {} : { simd }), ...(sums === undefined ? {} : { sums }) });
    },
    async runSearch(o) {
      engine.calls.search.push(o);
      const state = join(o.outDir, RUN_FILES.searchCheckpoint, 'state.json');
      let first = 1;
      if (o.resume) {
        if (!existsSync(state)) throw new CpnasError('resume', 'no checkpoint');
        first = readJson<{ round: number }>(state).round + 1;
      }
      const history = join(o.outDir, RUN_FILES.history);
      for (let round = first; round <= ROUNDS; round++) {
        for (let e = 1; e <= 2; e++) {
          const done = (round - 1) * 2 + e;
          o.onProgress?.({ phase: 'search', done: done - 1, total: ROUNDS * 2, label: `round ${round}/${ROUNDS} · sample ${e}/2`, metrics: { A_C: 0.5, A_P: 0.6 } });
          appendJsonl(history, { type: 'sample', strategy: o.settings.strategy, round, t: 1, e, ops: {}, A_C: 0.4 + 0.05 * round, A_P: 0.5 + 0.05 * round, z: 0.45 + 0.05 * round, childLoss: 1, parentLoss: 0.9, seconds: 0.01 });
        }
        appendJsonl(history, {
          type: 'round', strategy: o.settings.strategy, round, K: 4 - round, seconds: 0.02,
          indicator: { 'normal:0-2': { sep_conv_3x3: 0.6, skip_connect: 0.4 }, 'reduce:0-2': { max_pool_3x3: 0.7, skip_connect: 0.3 } },
          meanCredit: {}, abandoned: { 'normal:0-2': 'none', 'reduce:0-2': 'none' }, remaining: {},
        });
        writeJsonAtomic(state, { round });
        o.onProgress?.({ phase: 'search', done: round * 2, total: ROUNDS * 2, label: `round ${round}/${ROUNDS}`, checkpoint: true, unit: 'round', round });
        engine.onRound?.(round);
        if (o.signal?.aborted) throw new CpnasError('search', 'stopped');
      }
      appendJsonl(history, { type: 'genotype', strategy: o.settings.strategy, genotype: FAKE_GENOTYPE, strength: {}, searchSeconds: 1.5 });
      writeJsonAtomic(join(o.outDir, RUN_FILES.genotype), FAKE_GENOTYPE);
      return { genotype: FAKE_GENOTYPE, history: [], searchSeconds: 1.5 };
    },
    async runTraining(o) {
      engine.calls.train.push(o);
      if (engine.trainError) throw engine.trainError;
      const history = join(o.outDir, RUN_FILES.history);
      for (const phase of ['parent', 'child'] as const) {
        for (let epoch = 1; epoch <= 2; epoch++) {
          o.onProgress?.({ phase, done: epoch, total: 2, label: `epoch ${epoch}/2`, checkpoint: true, unit: 'epoch', metrics: { loss: 1 / epoch, acc: 0.5 + 0.1 * epoch } });
          appendJsonl(history, { type: 'epoch', phase, epoch, loss: 1 / epoch, trainAccuracy: 0.6 + 0.1 * epoch, valAccuracy: 0.55 + 0.1 * epoch, lr: 0.01, seconds: 0.1 });
        }
      }
      return fakeResult(o);
    },
    async runEvaluation(o): Promise<EvaluationResult> {
      engine.calls.eval.push(o);
      return { kind: 'child', images: o.limit ?? 30, testAccuracy: 0.8, floatTestAccuracy: 0.8, agreement: 1, imagesPerSecondPacked: 1000, imagesPerSecondFloat: 250, genotype: FAKE_GENOTYPE };
    },
  };
  return engine;
}

function fakeResult(o: RunTrainingOptions): RunResult {
  const seed = o.settings.seed ?? 0;
  const seedShift = seed * 0.01;
  const model = (acc: number, binary: boolean) => ({
    testAccuracy: acc, trainLoss: 0.3, trainAccuracy: acc, modelDir: binary ? 'child' : 'parent',
    fpParams: binary ? 1000 : 20000, binaryParams: binary ? 19000 : 0, bops: binary ? 6.4e6 : 0, flops: binary ? 1e5 : 2e6, ops: binary ? 2e5 : 2e6, sizeBytes: binary ? 6400 : 80000,
  });
  return {
    child: model(0.81 + seedShift, true), parent: model(0.9 + seedShift, false), ops: 2e5, bops: 6.4e6, flops: 1e5, sizeBytes: 6400,
    searchSeconds: o.searchSeconds ?? 0, trainSeconds: 2.5, settings: { search: o.searchSettings, train: o.settings as RunResult['settings']['train'] }, seed,
    genotype: o.genotype, dataset: o.dataset, inputShape: [1, 8, 8], numClasses: 2,
  };
}
