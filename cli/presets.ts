/**
 * Presets: named budgets and recipes the CLI starts from before applying flags. Each one overrides
 * fields of the defaults in nas/settings.ts, picks a dataset and how much of it to use, and lists how
 * its recipe departs from the published one (`departures`, printed by `--print-config` and the README).
 *
 * - tiny:        seconds; smoke tests and CI (synthetic data, a handful of images).
 * - default:     the README's main job: search + final training on MNIST digits in under 10 minutes on
 *                a 2-core CPU, with the tuned small-budget recipe.
 * - cifar-small: a CIFAR-10 search and training that fits an afternoon on a laptop CPU.
 * - paper:       the published recipe (DARTS / CP-NAS on CIFAR-10), for GPU users: search 8 cells,
 *                C = 16, batch 64, SGD 0.025 with cosine annealing; training 20 cells, C = 36,
 *                batch 96, 600 epochs, SGD 0.025 cosine, weight decay 3e-4, nothing added.
 */
import { DATASET_NAMES, type DatasetName } from '../data/index.js';
import { DEFAULT_CENTER_THETA } from '../binary/center-loss.js';
import { DEFAULT_CP_LAMBDA } from '../binary/cp-loss.js';
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
  /** How this preset's recipe departs from the published one (empty: it is the published recipe). */
  departures: string[];
}

export const PRESET_NAMES = ['tiny', 'default', 'cifar-small', 'paper'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/**
 * The tuned small-budget training recipe (default, tiny, cifar-small: the settings' defaults), and
 * where it departs from the paper's; measured on digits in the README.
 */
const SMALL_BUDGET_DEPARTURES = [
  'training: Adam (Parent lr 3e-3, Child lr 1e-2, no weight decay) instead of SGD 0.025 with momentum 0.9 and weight decay 3e-4: a few hundred steps get much further with Adam',
  'training: the Child starts from the trained Parent\'s weights (childInit parent) instead of from scratch',
  'training: the last 25 % of the Child\'s steps run with frozen BatchNorm statistics (freezeBnFraction 0.25)',
  'training: each batch is cut in 2 shards whose gradients are averaged (shards 2): BN sees half batches',
  'training: CP-loss weight lambda 0.1 (the binary/ default is 1)',
  'Child form: bireal (a BN and a real-valued shortcut around every 1-bit conv), not the paper\'s plain binarized Parent',
  'search: a fraction of an epoch per sampled architecture (sampleFraction) instead of one epoch, and a fraction of the validation split (valFraction)',
];

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
    departures: ['a smoke-test budget: T 1 (one credit per operation and round)', ...SMALL_BUDGET_DEPARTURES],
  },
  default: {
    name: 'default',
    description: 'the main job: search + training on the 10,000 MNIST digits of the mnist package at 14x14, about 8 minutes on 2 CPU cores',
    dataset: 'digits',
    search: { cells: 3, channels: 4, imageSize: 14, batchSize: 64, T: 3, beta: 0.5, sampleFraction: 0.017, valFraction: 0.04 },
    train: { cells: 3, channels: 8, imageSize: 14, batchSize: 64, parentEpochs: 3, childEpochs: 4 },
    departures: [
      'search: lr 0.05 (DARTS: 0.025) over a few hundred steps',
      'search: beta_P 0.5, z = (A_P + A_C) / 2 (the paper preset uses 2)',
      ...SMALL_BUDGET_DEPARTURES,
    ],
  },
  'cifar-small': {
    name: 'cifar-small',
    description: 'an afternoon on a laptop CPU: CIFAR-10 at 32x32, search 5 cells C=8, train 8 cells C=16',
    dataset: 'cifar10',
    search: { cells: 5, channels: 8, imageSize: 32, batchSize: 64, T: 3, beta: 0.5, sampleFraction: 0.017, valFraction: 0.07, dartsEpochs: 10 },
    train: { cells: 8, channels: 16, imageSize: 32, batchSize: 64, parentEpochs: 10, childEpochs: 10, augment: true, dropPath: 0.1 },
    departures: ['search: lr 0.05 (DARTS: 0.025), beta_P 0.5', 'training: drop-path 0.1 (DARTS: 0.2) over 10 epochs', ...SMALL_BUDGET_DEPARTURES],
  },
  paper: {
    name: 'paper',
    description: 'the published recipe on CIFAR-10 (GPU): search 8 cells C=16 batch 64, SGD 0.025 cosine; train 20 cells C=36 batch 96 600 epochs, SGD 0.025 cosine',
    dataset: 'cifar10',
    search: {
      cells: 8, channels: 16, imageSize: 32, batchSize: 64, T: 3, beta: 2, sampleFraction: 1, valFraction: 1, keepOps: 1,
      noneRule: 'abandon', childBlock: 'paper', optimizer: 'sgd', lr: 0.025, lrSchedule: 'cosine', lrMin: 1e-3,
      momentum: 0.9, weightDecay: 3e-4, gradClip: 5, dartsEpochs: 50, archLr: 3e-4, archWeightDecay: 1e-3,
      // PC-DARTS: K = 4, architecture steps from epoch 15 of 50
      partialChannels: 4, warmupEpochs: 15,
    },
    train: {
      cells: 20, channels: 36, imageSize: 32, batchSize: 96, parentEpochs: 600, childEpochs: 600,
      optimizer: 'sgd', parentLr: 0.025, childLr: 0.025, lrMin: 0, momentum: 0.9, weightDecay: 3e-4, gradClip: 5,
      dropPath: 0.2, augment: true, childBlock: 'paper', childInit: 'scratch', freezeBnFraction: 0, shards: 1, kd: 0,
      lambda: DEFAULT_CP_LAMBDA, theta: DEFAULT_CENTER_THETA,
    },
    departures: [
      'beta_P 2: the published text gives no value; 2 is where its ablation of beta_P peaks (CPNAS.md); beta_P = 1 would drop the Child from the indicator',
      'lambda and theta: the binary/ defaults (1 and 1e-3); the published text gives no values',
      'training: the Parent is trained first, then the Child (the CP loss needs the Parent\'s filters); no auxiliary head and no cutout (DARTS adds both)',
    ],
  },
};
