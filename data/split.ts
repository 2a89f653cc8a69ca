/** Splits of a dataset: the DARTS search halves, and a validation set cut from a training file. */
import { CpnasError, Random } from '../core/index.js';
import type { Dataset } from './dataset.js';
import type { RawSplit } from './files.js';

/**
 * The DARTS split of the training set for the search: a seeded random half (`fraction` of it) trains
 * the weights (`searchTrain`) and the other half rates architectures (`searchVal`). The halves are
 * disjoint and together hold every training sample; each keeps the training set's order.
 */
export function searchSplit(train: Dataset, rngOrSeed: Random | number = 0, fraction = 0.5):
  { searchTrain: Dataset; searchVal: Dataset } {
  if (!(fraction > 0 && fraction < 1)) {
    throw new CpnasError('searchSplit', `fraction must lie strictly between 0 and 1, got ${fraction}`);
  }
  if (train.length < 2) {
    throw new CpnasError('searchSplit', `${train.name} (${train.split}) has ${train.length} samples; the search split needs at least 2`);
  }
  const rng = typeof rngOrSeed === 'number' ? new Random(rngOrSeed) : rngOrSeed;
  const order = rng.permutation(train.length);
  const cut = Math.min(train.length - 1, Math.max(1, Math.floor(train.length * fraction)));
  const first = order.slice(0, cut).sort();
  const second = order.slice(cut).sort();
  return { searchTrain: train.subset(first, 'search-train'), searchVal: train.subset(second, 'search-val') };
}

/** The default validation size for a source without one: 5,000 samples from 50,000 on, else 10 %. */
export function defaultValCount(trainCount: number): number {
  return trainCount >= 50_000 ? 5_000 : Math.floor(trainCount / 10);
}

/** Cuts the last `valCount` samples of a training file off as the validation split. */
export function holdOut(split: RawSplit, sampleSize: number, valCount: number, where: string): { train: RawSplit; val: RawSplit } {
  const n = split.labels.length;
  if (!Number.isInteger(valCount) || valCount < 0 || valCount >= n) {
    throw new CpnasError(where, `valCount must be a whole number in 0..${n - 1} (the training files hold ${n} samples), got ${valCount}`);
  }
  const cut = n - valCount;
  return {
    train: { pixels: split.pixels.subarray(0, cut * sampleSize), labels: split.labels.subarray(0, cut) },
    val: { pixels: split.pixels.subarray(cut * sampleSize), labels: split.labels.subarray(cut) },
  };
}
