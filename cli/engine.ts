/**
 * What the CLI calls in the rest of the package: the dataset loader and split, and the three entry
 * points of nas/run.ts. Commands receive them as one object so that tests can pass their own.
 */
import type { GemmSums } from '../backends/cpu/sums.js';
import type { DatasetName, LoadOptions } from '../data/index.js';
import { UsageError } from './args.js';
import type {
  EvaluationResult, NasDataset, RunEvaluationOptions, RunResult, RunSearchOptions, RunTrainingOptions, SearchOutcome,
} from '../nas/types.js';

export interface LoadedData {
  train: NasDataset;
  val: NasDataset;
  test: NasDataset;
  info?: unknown;
}

export interface Engine {
  loadDataset(name: DatasetName, options: LoadOptions): LoadedData | Promise<LoadedData>;
  /** The DARTS split of the training set for the search (seeded halves). */
  searchSplit(train: NasDataset, seed: number): { searchTrain: NasDataset; searchVal: NasDataset };
  runSearch(options: RunSearchOptions): SearchOutcome | Promise<SearchOutcome>;
  runTraining(options: RunTrainingOptions): RunResult | Promise<RunResult>;
  runEvaluation(options: RunEvaluationOptions): EvaluationResult | Promise<EvaluationResult>;
  /**
   * Makes a backend active (`cpu`, or `gpu` with a gpu.js mode); `threads` sets its kernel threads
   * (--threads), `simd` its SIMD kernels (--simd). May return the backend's description (`gpu.js (webgl2)`).
   */
  useBackend(name: 'cpu' | 'gpu', mode?: string, threads?: number, simd?: boolean, sums?: GemmSums): void | string | Promise<void | string>;
}

/** The real engine, loaded on first use (so `cpnas --help` starts fast). */
export async function defaultEngine(): Promise<Engine> {
  const [run, data, core] = await Promise.all([import('../nas/run.js'), import('../data/index.js'), import('../core/index.js')]);
  return {
    loadDataset: (name, options) => data.loadDataset(name, options),
    searchSplit: (train, seed) => data.searchSplit(train as import('../data/index.js').Dataset, seed),
    runSearch: run.runSearch,
    runTraining: run.runTraining,
    runEvaluation: run.runEvaluation,
    async useBackend(name, mode, threads, simd, sums) {
      if (name === 'gpu') {
        try {
          core.setBackend('gpu', mode ? { mode } : undefined);
        } catch (e) {
          throw new UsageError('--backend', `the gpu backend failed to start${mode ? ` in mode ${mode}` : ''} (${(e as Error).message.split('\n')[0]})`);
        }
      } else {
        core.setBackend('cpu');
      }
      if (threads !== undefined) core.getBackend().threads?.(threads);
      if (simd !== undefined) {
        // worker threads started from here on (training shards) read it from their environment
        process.env.CPNAS_SIMD = simd ? 'on' : 'off';
        core.getBackend().simd?.(simd);
      }
      if (sums !== undefined) {
        // as --simd: the training shards' threads read it from their environment
        process.env.CPNAS_GEMM_SUMS = sums;
        core.getBackend().gemmSums?.(sums);
      }
      return core.getBackend().describe();
    },
  };
}
