/**
 * cpnas: Child-Parent Neural Architecture Search for 1-bit CNNs, in pure TypeScript.
 * The public API, layer by layer (imports point downward: core <- ops <- binary <- nas).
 */
export * from './core/index.js';
export * from './ops/index.js';
export * from './binary/index.js';
export * from './nas/index.js';
export {
  DATASET_NAMES, loadDataset, searchSplit, makeSynthetic, readIdxFile, readIdxDataset, readDigits,
  renderGridPng, renderGridSvg, ImageDataset, cifarAugmentation, centerCrop, resizeArea,
  type Dataset, type DatasetName, type LoadOptions, type LoadedDataset, type Batch as DataBatch,
} from './data/index.js';
