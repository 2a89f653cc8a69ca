/**
 * What a search strategy is given and returns. A strategy is one function `(ctx) => result`; the
 * context carries the settings, the data, the history (each record also appended to history.jsonl),
 * progress reporting, and a checkpoint store through which the strategy saves its whole state at the
 * end of every unit of work (a sampled architecture, a round, an epoch) and finds it again on resume.
 */
import { CpnasError } from '../../core/index.js';
import type { Tree } from '../../ops/state.js';
import type {
  EdgeKey, Genotype, HistoryRecord, LogCallback, NasDataset, ProgressEvent, SearchSettings,
} from '../types.js';

export interface SearchContext {
  settings: SearchSettings;
  data: { searchTrain: NasDataset; searchVal: NasDataset };
  /** [C, H, W] of the images and the number of classes. */
  inputShape: readonly number[];
  numClasses: number;
  /** Appends a record to the history (memory and history.jsonl). */
  record(rec: HistoryRecord): void;
  /** Records so far (those restored from a checkpoint included). */
  readonly history: HistoryRecord[];
  progress(ev: ProgressEvent): void;
  log: LogCallback;
  /** Saves the strategy's state (plus the history position, added by the caller) as the latest checkpoint. */
  saveCheckpoint(state: Tree): void;
  /** The state the last run saved, or null when starting fresh. */
  restored: Tree | null;
  /** Seconds spent searching before this process (from the checkpoint). */
  elapsedBefore: number;
  /** Throws when the run was aborted (called between units of work). */
  checkAbort(): void;
}

export interface StrategyResult {
  genotype: Genotype;
  history: HistoryRecord[];
  /** Strength of the kept operation of every edge (indicator, softmax weight...). */
  strength: { [edge: EdgeKey]: number };
}

export type Strategy = (ctx: SearchContext) => StrategyResult;

export function abortError(): CpnasError {
  return new CpnasError('search', 'aborted (the last checkpoint is kept: run again with resume to continue)');
}
