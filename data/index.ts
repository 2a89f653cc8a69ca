/**
 * `loadDataset(name, opts)`: one call from a dataset's name to its train / val / test splits, each a
 * `Dataset` with normalized batches. Steps: read the source; cut a validation split from the end of
 * the training files where the source has none; keep the first n samples of each split (`limit`);
 * center-crop and resize (`crop`, `imageSize`); compute the per-channel normalization on the train
 * split (as loaded) and use it for all three. See data/README.md.
 */
import { readCifar10, readCifar100 } from './cifar.js';
import { readDigits } from './digits.js';
import type { RawDataset } from './files.js';
import { DIGIT_CLASSES, FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, readIdxDataset } from './idx.js';
import { CpnasError } from '../core/index.js';
import { DATASET_NAMES, datasetsFromRaw, type DatasetName, type LoadedDataset, type LoadOptions } from './load.js';
import { makeSynthetic } from './synthetic.js';

export {
  CIFAR10_NORMALIZATION, DATASET_NAMES, datasetsFromRaw,
  type DatasetInfo, type DatasetName, type LoadedDataset, type LoadOptions,
} from './load.js';

export function loadDataset(name: DatasetName, opts: LoadOptions = {}): LoadedDataset {
  return datasetsFromRaw(name, readSource(name, opts), opts);
}

function readSource(name: DatasetName, opts: LoadOptions): RawDataset {
  switch (name) {
    case 'digits': return readDigits();
    case 'fashion-mnist': return readIdxDataset('fashion-mnist', opts.dataDir ?? FASHION_MNIST_DIR, [...FASHION_MNIST_CLASSES]);
    case 'mnist': return readIdxDataset('mnist', opts.dataDir, [...DIGIT_CLASSES]);
    case 'idx': return readIdxDataset('idx', opts.dataDir);
    case 'cifar10': return readCifar10(opts.dataDir);
    case 'cifar100': return readCifar100(opts.dataDir, opts.cifar100Label ?? 'fine');
    case 'synthetic': return makeSynthetic({ seed: opts.seed, ...opts.synthetic });
    default:
      throw new CpnasError('loadDataset', `unknown dataset '${String(name)}'; choose one of ${DATASET_NAMES.join(', ')}`);
  }
}

export { ImageDataset, computeNormalization, identityNormalization, normalizationTable } from './dataset.js';
export type { Batch, BatchOptions, Dataset, Normalization, SampleShape } from './dataset.js';
export { cifarAugmentation, type AugmentOptions, type AugmentSettings } from './augment.js';
export { searchSplit, defaultValCount } from './split.js';
export { centerCrop, resizeArea } from './transform.js';
export {
  CIFAR10_CLASSES, CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES, encodeCifarRecords, readCifar10, readCifar100,
  type Cifar100Label,
} from './cifar.js';
export { DIGIT_CLASSES, FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, encodeIdx, parseIdx, readIdxDataset, readIdxFile } from './idx.js';
export { DIGITS_SPLIT, DIGITS_SPLIT_SEED, DIGITS_TOTAL, readDigits } from './digits.js';
export { SYNTHETIC_DEFAULTS, makeSynthetic, type SyntheticOptions } from './synthetic.js';
export { encodePng, gridImage, renderGridPng, renderGridSvg, type GridOptions } from './preview.js';
