/** The tiny search the nas tests share: synthetic 8x8 images, 3 cells of 2 channels, one batch per sample. */
import { loadDataset, searchSplit } from '../../data/index.js';
import { resolveSearchSettings } from '../../nas/settings.js';
import type { NasDataset, SearchSettings } from '../../nas/types.js';

export const FEW = ['none', 'max_pool_3x3', 'skip_connect', 'sep_conv_3x3'];

export function tinySplits(): { searchTrain: NasDataset; searchVal: NasDataset } {
  const data = loadDataset('synthetic', { seed: 1, synthetic: { size: 8, channels: 1, classes: 4, train: 96, val: 8, test: 8 } });
  return searchSplit(data.train, 0);
}

export function tiny(over: Partial<SearchSettings> = {}): SearchSettings {
  return resolveSearchSettings({
    cells: 3, channels: 2, imageSize: 8, batchSize: 16, T: 1, sampleFraction: 0.01, valFraction: 0.5, seed: 3,
    dartsEpochs: 1, ...over,
  });
}
