/**
 * cpnas: Child-Parent Neural Architecture Search for 1-bit CNNs, in pure TypeScript.
 * The public API, layer by layer (imports point downward: core <- ops <- binary <- nas).
 */
import { useNodeStorage } from './node/storage.js';

// the package's Node entry: files go to the file system (a browser bundle installs a MemoryStorage)
useNodeStorage();

export * from './core/index.js';
export { NodeStorage, useNodeStorage, describeFsError, LOCK_FILE } from './node/storage.js';
export * from './ops/index.js';
export * from './binary/index.js';
export * from './nas/index.js';
export {
  DATASET_NAMES, loadDataset, searchSplit, makeSynthetic, readIdxFile, readIdxDataset, readDigits,
  renderGridPng, renderGridSvg, ImageDataset, cifarAugmentation, centerCrop, resizeArea,
  type Dataset, type DatasetName, type LoadOptions, type LoadedDataset, type Batch as DataBatch,
} from './data/index.js';
