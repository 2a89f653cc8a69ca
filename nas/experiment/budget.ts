/**
 * Search budgets made comparable across strategies. The unit every trained strategy shares is one
 * pass over settings.sampleFraction of the search-train split (a "unit" of batches); strategies differ
 * in how many units a search takes:
 *   cp, cp-child   T * (P + (P-1) + ... + (keepOps+1))  sampled architectures, one unit each
 *   darts, pc-darts dartsEpochs                          epochs
 *   bnas           warmupEpochs + (P - keepOps)          epochs (warm-up, then one per round)
 *   dcp            2 * dartsEpochs                      a Parent phase and a Child phase per epoch
 *   dna            dnaTeacherEpochs + blocks * dnaBlockEpochs   the teacher, then every block
 *   random         0
 * "Training images seen" counts the search-train images drawn for weight updates (cp's Parent trains on
 * the same images as its Child, so they count once; the search-validation images that the architecture
 * steps and the measurements read are not counted). Matching by images sets every run's sampleFraction so
 * that its images equal the reference strategy's at the same settings; a strategy that would need more
 * than a whole epoch per unit is capped at 1 and reported under budget. A strategy added later declares
 * its units with `registerSearchBudget`; one that did not is run unmatched, and the table says so.
 */
import { CpnasError } from '../../core/index.js';
import { networkBlocks } from '../blocks.js';
import type { SearchSettings } from '../types.js';

export type BudgetMatch = 'images' | 'seconds' | 'none';
export const BUDGET_MATCHES: readonly BudgetMatch[] = ['images', 'seconds', 'none'];

const units = new Map<string, (s: SearchSettings) => number>([
  ['cp', (s) => indicatorSamples(s)],
  ['cp-child', (s) => indicatorSamples(s)],
  ['darts', (s) => Math.max(1, Math.round(s.dartsEpochs))],
  ['pc-darts', (s) => Math.max(1, Math.round(s.dartsEpochs))],
  ['bnas', (s) => s.warmupEpochs + s.primitives.length - s.keepOps],
  ['random', () => 0],
  ['dcp', (s) => 2 * Math.max(1, Math.round(s.dartsEpochs))],
  ['dna', (s) => s.dnaTeacherEpochs + networkBlocks(s.cells).length * s.dnaBlockEpochs],
]);

/** Strategies whose number of units is itself a setting: the settings for `n` units (used when one epoch per unit is not enough). */
const growers = new Map<string, (s: SearchSettings, n: number) => Partial<SearchSettings>>([
  ['darts', (_s, n) => ({ dartsEpochs: n })],
  ['pc-darts', (s, n) => ({ dartsEpochs: Math.max(n, s.warmupEpochs + 1) })],
  ['dcp', (_s, n) => ({ dartsEpochs: Math.ceil(n / 2) })],
]);

function indicatorSamples(s: SearchSettings): number {
  let n = 0;
  for (let K = s.primitives.length; K > s.keepOps; K--) n += K;
  return n * s.T;
}

/**
 * Declares how many units of sampleFraction of an epoch a strategy's search trains for, and, where
 * that number is a setting (epochs), how to set it: a budget beyond one epoch per unit then raises it.
 */
export function registerSearchBudget(
  strategy: string, unitsOf: (s: SearchSettings) => number, grow?: (s: SearchSettings, n: number) => Partial<SearchSettings>,
): void {
  units.set(strategy, unitsOf);
  if (grow) growers.set(strategy, grow);
  else growers.delete(strategy);
}

export function hasSearchBudget(strategy: string): boolean {
  return units.has(strategy);
}

/** Batches of one unit (as nas/loop.ts batchesFor) times the batch size. */
export function unitImages(s: SearchSettings, searchTrainLength: number): number {
  if (searchTrainLength < s.batchSize) return searchTrainLength;
  const full = Math.floor(searchTrainLength / s.batchSize);
  return Math.max(1, Math.round(full * s.sampleFraction)) * s.batchSize;
}

/** Training images a search draws, or null for a strategy that declared no budget. */
export function searchImages(s: SearchSettings, searchTrainLength: number): number | null {
  const u = units.get(s.strategy);
  return u ? u(s) * unitImages(s, searchTrainLength) : null;
}

export interface MatchedBudget {
  /** The settings with sampleFraction adjusted. */
  search: SearchSettings;
  /** Images the run will draw (null: no budget declared). */
  images: number | null;
  target: number | null;
  /** 'matched', 'capped' (would need more than an epoch per unit), 'unmatched' (no budget declared or no training). */
  status: 'matched' | 'capped' | 'unmatched';
}

/** Sets sampleFraction so that the search draws about `target` images. */
export function matchImages(s: SearchSettings, target: number, searchTrainLength: number): MatchedBudget {
  if (!(target > 0)) throw new CpnasError('budget', `the target number of images must be positive, got ${target}`);
  const u = units.get(s.strategy);
  if (!u || u(s) === 0) return { search: s, images: u ? 0 : null, target, status: 'unmatched' };
  const full = searchTrainLength >= s.batchSize ? Math.floor(searchTrainLength / s.batchSize) : 1;
  const per = searchTrainLength >= s.batchSize ? s.batchSize : searchTrainLength;
  let batches = Math.max(1, Math.round(target / (u(s) * per)));
  const grow = growers.get(s.strategy);
  if (batches > full && grow) {
    // more epochs of at most one pass each
    s = { ...s, ...grow(s, Math.ceil(target / (full * per))) };
    batches = Math.max(1, Math.round(target / (u(s) * per)));
  }
  const capped = batches > full;
  // the fraction that batchesFor() turns back into exactly this many batches
  const sampleFraction = capped ? 1 : Math.min(1, batches / full);
  const search = { ...s, sampleFraction };
  return { search, images: searchImages(search, searchTrainLength), target, status: capped ? 'capped' : 'matched' };
}
