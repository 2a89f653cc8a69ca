/**
 * From a source's raw arrays to the train / val / test `Dataset`s: cut a validation split from the end
 * of the training files where the source has none; keep the first n samples of each split (`limit`);
 * center-crop and resize (`crop`, `imageSize`); compute the per-channel normalization on the train
 * split (as loaded) and use it for all three. Pure (no files): data/index.ts reads the sources, and a
 * web page hands it synthetic images; both get the same datasets from the same arrays.
 */
import { CpnasError } from '../core/index.js';
import { cifarAugmentation, type AugmentSettings } from './augment.js';
import type { Cifar100Label } from './cifar.js';
import { computeNormalization, identityNormalization, ImageDataset, type Dataset, type Normalization, type SampleShape } from './dataset.js';
import type { RawDataset, RawSplit } from './files.js';
import { defaultValCount, holdOut } from './split.js';
import type { SyntheticOptions } from './synthetic.js';
import { centerCrop, resizeArea } from './transform.js';

export type DatasetName = 'digits' | 'fashion-mnist' | 'mnist' | 'idx' | 'cifar10' | 'cifar100' | 'synthetic';
export const DATASET_NAMES: readonly DatasetName[] = ['digits', 'fashion-mnist', 'mnist', 'idx', 'cifar10', 'cifar100', 'synthetic'];

/** The per-channel statistics DARTS uses for CIFAR-10, for `normalization` (instead of the computed ones). */
export const CIFAR10_NORMALIZATION: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616] };

export interface LoadOptions {
  /** The folder of the files (the CLI's --data DIR). Default: Debian's folder for fashion-mnist; none
   *  needed for digits and synthetic; required for mnist, idx, cifar10, cifar100. */
  dataDir?: string;
  /** Center-crop each image to crop x crop first (e.g. 24 of MNIST's 28, dropping the empty border). */
  crop?: number;
  /** Resize to imageSize x imageSize by area averaging (e.g. 28 -> 16 for small search budgets). */
  imageSize?: number;
  /** Seed of the synthetic data (splits of real data are fixed and never depend on it). */
  seed?: number;
  /** Keep only the first n samples of a split (a budget); a plain number caps every split. */
  limit?: number | { train?: number; val?: number; test?: number };
  /** Size of the validation split cut from the end of the training files, for sources without one
   *  (default: 5,000 when they hold 50,000 or more, else 10 %). */
  valCount?: number;
  /** 'train' (default): per-channel mean/std of the train split; 'none': pixels / 255; or constants. */
  normalization?: 'train' | 'none' | Normalization;
  /** CIFAR-100: which label to learn. Default 'fine' (100 classes); 'coarse' has 20. */
  cifar100Label?: Cifar100Label;
  synthetic?: SyntheticOptions;
}

export interface DatasetInfo {
  name: DatasetName;
  /** Where the data came from (folder or package). */
  source: string;
  /** Sample shape as stored on disk, and as handed out. */
  originalShape: SampleShape;
  shape: SampleShape;
  classNames: readonly string[];
  sizes: { train: number; val: number; test: number };
  normalization: Normalization;
  augmentation: AugmentSettings | null;
}

export interface LoadedDataset {
  train: Dataset;
  val: Dataset;
  test: Dataset;
  info: DatasetInfo;
}

/** The datasets of one source's raw arrays (see the file's header). */
export function datasetsFromRaw(name: DatasetName, raw: RawDataset, opts: LoadOptions = {}): LoadedDataset {
  const sampleSize = raw.shape[0] * raw.shape[1] * raw.shape[2];
  let { train, val } = raw;
  if (!val) {
    const cut = holdOut(train, sampleSize, opts.valCount ?? defaultValCount(train.labels.length), name);
    train = cut.train;
    val = cut.val;
  }
  const splits = { train, val, test: raw.test };
  const limit = typeof opts.limit === 'number' ? { train: opts.limit, val: opts.limit, test: opts.limit } : opts.limit ?? {};
  const limited = {
    train: limitSplit(splits.train, sampleSize, limit.train, name, 'train'),
    val: limitSplit(splits.val, sampleSize, limit.val, name, 'val'),
    test: limitSplit(splits.test, sampleSize, limit.test, name, 'test'),
  };
  let shape = raw.shape;
  if (opts.crop !== undefined) {
    const size = opts.crop;
    for (const s of Object.values(limited)) s.pixels = centerCrop(s.pixels, shape, size);
    shape = [shape[0], size, size];
  }
  if (opts.imageSize !== undefined) {
    const size = opts.imageSize;
    if (!Number.isInteger(size) || size < 1) throw new CpnasError(name, `imageSize must be a whole number >= 1, got ${size}`);
    for (const s of Object.values(limited)) s.pixels = resizeArea(s.pixels, shape, size, size);
    shape = [shape[0], size, size];
  }
  const normalization = chooseNormalization(name, opts.normalization ?? 'train', limited.train, shape);
  const augmentation = defaultAugmentation(name, shape);
  const make = (split: string, s: RawSplit): ImageDataset => new ImageDataset({
    name, split, shape, classNames: raw.classNames, pixels: s.pixels, labels: s.labels, normalization, augmentation,
  });
  const out = { train: make('train', limited.train), val: make('val', limited.val), test: make('test', limited.test) };
  return {
    ...out,
    info: {
      name, source: raw.source, originalShape: raw.shape, shape, classNames: raw.classNames,
      sizes: { train: out.train.length, val: out.val.length, test: out.test.length }, normalization, augmentation,
    },
  };
}

/** The first n samples, copied so that the full arrays can be freed. */
function limitSplit(s: RawSplit, sampleSize: number, n: number | undefined, name: string, split: string): RawSplit {
  if (n === undefined) return { pixels: s.pixels, labels: s.labels };
  if (!Number.isInteger(n) || n < 0) throw new CpnasError(name, `limit.${split} must be a whole number >= 0, got ${n}`);
  if (n >= s.labels.length) return { pixels: s.pixels, labels: s.labels };
  return { pixels: s.pixels.slice(0, n * sampleSize), labels: s.labels.slice(0, n) };
}

function chooseNormalization(name: string, choice: 'train' | 'none' | Normalization, train: RawSplit, shape: SampleShape): Normalization {
  if (choice === 'none') return identityNormalization(shape[0]);
  if (choice === 'train') {
    if (train.labels.length === 0) throw new CpnasError(name, 'the train split is empty; normalization needs samples (or pass normalization)');
    return computeNormalization(train.pixels, shape);
  }
  if (choice.mean.length !== shape[0] || choice.std.length !== shape[0] || choice.std.some((s) => !(s > 0))) {
    throw new CpnasError(name, `normalization needs ${shape[0]} means and ${shape[0]} positive stds, got mean [${choice.mean.join(',')}] std [${choice.std.join(',')}]`);
  }
  return { mean: [...choice.mean], std: [...choice.std] };
}

/** What `augment: true` does per dataset (scaled with the image size). */
function defaultAugmentation(name: DatasetName, shape: SampleShape): AugmentSettings | null {
  const h = shape[1];
  switch (name) {
    case 'cifar10':
    case 'cifar100': return cifarAugmentation(h);
    case 'fashion-mnist': return { cropPadding: Math.max(1, Math.round(h / 14)), flip: true, cutout: 0 };
    case 'digits':
    case 'mnist':
    case 'idx': return { cropPadding: Math.max(1, Math.round(h / 14)), flip: false, cutout: 0 };
    case 'synthetic': return null; // a flip would turn one class's stripes into another's
    default: return null;
  }
}

