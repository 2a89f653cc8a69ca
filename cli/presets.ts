/**
 * Presets: named budgets the CLI starts from before applying flags. Each one overrides a few fields of
 * the defaults in nas/settings.ts and picks a dataset and how much of it to use.
 *
 * - tiny:        seconds; smoke tests and CI (synthetic data, a handful of images).
 * - default:     the README's main job: search + final training on MNIST digits in about 10 minutes on
 *                a 2-core CPU.
 * - cifar-small: a CIFAR-10 search and training that fits an afternoon on a laptop CPU.
 * - paper:       the published CIFAR-10 settings (DARTS / CP-NAS), for GPU users: search 8 cells, C = 16,
 *                batch 64, 50 epochs; training 20 cells, C = 36, batch 96, 600 epochs.
 */
import { DATASET_NAMES, type DatasetName } from '../data/index.js';
import type { SearchSettings, TrainSettings } from '../nas/types.js';

export type { DatasetName };
export const DATASETS: readonly DatasetName[] = DATASET_NAMES;

/** How many images of each split to use (the first n; undefined = all). */
export interface SplitLimits {
  train?: number;
  val?: number;
  test?: number;
}

export interface Preset {
  name: PresetName;
  description: string;
  dataset: DatasetName;
  /** Images used per split. */
  limit?: SplitLimits;
  search: Partial<SearchSettings>;
  train: Partial<TrainSettings>;
}

export const PRESET_NAMES = ['tiny', 'default', 'cifar-small', 'paper'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export const PRESETS: Record<PresetName, Preset> = {
  tiny: {
    name: 'tiny',
    description: 'seconds: a smoke test on 256 synthetic 8x8 images',
    dataset: 'synthetic',
    limit: { train: 256, val: 64, test: 64 },
    search: {
      cells: 3, channels: 4, imageSize: 8, batchSize: 32, T: 1, sampleFraction: 0.25, valFraction: 0.5, dartsEpochs: 1,
      // one search epoch: pc-darts starts its architecture steps at once
      warmupEpochs: 0,
      primitives: ['none', 'max_pool_3x3', 'skip_connect', 'sep_conv_3x3'],
    },
    train: { cells: 3, channels: 4, imageSize: 8, batchSize: 32, parentEpochs: 1, childEpochs: 1 },
  },
  default: {
    name: 'default',
    description: 'the main job: search + training on the 10,000 MNIST digits of the mnist package at 14x14, about 6 minutes on 2 CPU cores',
    dataset: 'digits',
    search: { cells: 3, channels: 4, imageSize: 14, batchSize: 64, T: 1, beta: 1, sampleFraction: 0.05, valFraction: 0.1 },
    train: { cells: 3, channels: 8, imageSize: 14, batchSize: 64, parentEpochs: 4, childEpochs: 5 },
  },
  'cifar-small': {
    name: 'cifar-small',
    description: 'an afternoon on a laptop CPU: CIFAR-10 at 32x32, search 5 cells C=8, train 8 cells C=16',
    dataset: 'cifar10',
    search: { cells: 5, channels: 8, imageSize: 32, batchSize: 64, T: 1, beta: 1, sampleFraction: 0.05, valFraction: 0.2, dartsEpochs: 10 },
    train: { cells: 8, channels: 16, imageSize: 32, batchSize: 64, parentEpochs: 10, childEpochs: 10, augment: true, dropPath: 0.1 },
  },
  paper: {
    name: 'paper',
    description: 'the published CIFAR-10 settings (GPU): search 8 cells C=16 batch 64 50 epochs; train 20 cells C=36 batch 96 600 epochs',
    dataset: 'cifar10',
    search: {
      cells: 8, channels: 16, imageSize: 32, batchSize: 64, T: 3, beta: 1, sampleFraction: 1, valFraction: 1,
      lr: 0.025, momentum: 0.9, weightDecay: 3e-4, gradClip: 5, dartsEpochs: 50, archLr: 3e-4, archWeightDecay: 1e-3,
      // PC-DARTS: K = 4, architecture steps from epoch 15 of 50
      partialChannels: 4, warmupEpochs: 15,
    },
    train: {
      cells: 20, channels: 36, imageSize: 32, batchSize: 96, parentEpochs: 600, childEpochs: 600,
      parentLr: 0.025, childLr: 0.025, weightDecay: 3e-4, gradClip: 5, dropPath: 0.2, augment: true,
    },
  },
};
