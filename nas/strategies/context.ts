/**
 * What a search strategy is given and returns. A strategy is one function `(ctx) => result`; the
 * context carries the settings, the data, the history (each record also appended to history.jsonl),
 * progress reporting, and the run context's checkpoints: the strategy lists its state as typed parts
 * (nas/state-parts.ts), saves them at the end of every unit of work (a sampled architecture, a round,
 * an epoch) and restores them on resume, each part checked as it is read back.
 */
import { CpnasError, Random } from '../../core/index.js';
import { deriveGenotype, formatTies } from '../genotype.js';
import type { Budget, CostTable } from '../budget.js';
import type { Parts } from '../state-parts.js';
import type {
  EdgeKey, EdgeOpValues, Genotype, GenotypeTie, HistoryRecord, LogCallback, NasDataset, ProgressEvent, SearchSettings,
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
  /** Saves the strategy's parts (plus the history position, added by the run context) as the latest checkpoint. */
  save(parts: Parts): void;
  /**
   * On a resumed run, loads the parts from the newest verified checkpoint and returns true; false when
   * starting fresh (nothing loaded).
   */
  restore(parts: Parts): boolean;
  /** Throws when the run was aborted (called between units of work). */
  checkAbort(): void;
  /**
   * The search's budget and the cost table of the final Child it is measured on (null without one).
   * runSearch has already refused an infeasible budget and left out operations that fit nowhere; it
   * re-derives a genotype over the budget from the result's scores, so a strategy may ignore this, or
   * use it to choose under the budget itself (dna).
   */
  budget: { table: CostTable; budget: Budget } | null;
}

export interface StrategyResult {
  genotype: Genotype;
  history: HistoryRecord[];
  /** Strength of the kept operation of every edge (indicator, softmax weight...). */
  strength: { [edge: EdgeKey]: number };
  /**
   * The strategy's rating of every candidate (edge, operation), higher is better, when it has one
   * (softmax(alpha), dna's ratings): a search under a budget re-derives the genotype from it when the
   * strategy's own choice is over the budget.
   */
  scores?: EdgeOpValues;
  /** Ties the genotype's derivation met (see GenotypeTie). */
  ties?: GenotypeTie[];
}

export type Strategy = (ctx: SearchContext) => StrategyResult;

export function abortError(): CpnasError {
  return new CpnasError('search', 'aborted (the last checkpoint is kept: run again with resume to continue)');
}

/** An operation and its strength for every edge: what a search keeps at its end. */
export type KeptOps = { [edge: EdgeKey]: { op: string; strength: number } };

/**
 * How every strategy ends: the genotype of its kept operations (every node's 2 strongest incoming
 * edges). Equal strengths competing for a node's last place are a tie: drawn from a generator seeded
 * by the search's seed (never decided by the node order), logged, and returned with the result.
 */
export function finishSearch(ctx: SearchContext, kept: KeptOps, extra: Pick<StrategyResult, 'scores'> = {}): StrategyResult {
  const ties: GenotypeTie[] = [];
  const genotype = deriveGenotype(kept, ctx.settings.nodes, { rng: new Random(ctx.settings.seed + 0x7135), ties });
  for (const line of formatTies(ties)) ctx.log(`tie: ${line}`);
  const strength = Object.fromEntries(Object.entries(kept).map(([e, k]) => [e, k.strength]));
  return { genotype, history: ctx.history, strength, ties, ...extra };
}

/** The strongest operation other than `none` of every edge of a weight table (darts's softmax(alpha), dcp's). */
export function strongestOps(table: EdgeOpValues, primitives: readonly string[]): KeptOps {
  const kept: KeptOps = {};
  for (const [edge, row] of Object.entries(table)) {
    let best: string | null = null;
    for (const op of primitives) if (op !== 'none' && (best === null || row[op] > row[best])) best = op;
    if (best) kept[edge] = { op: best, strength: row[best] };
  }
  return kept;
}
