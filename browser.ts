/**
 * `cpnas/browser`: cpnas for web pages, as one ES module bundle (dist/browser/cpnas.js, built by
 * examples/browser/build.mjs with esbuild). The same code as the Node entry: tensors, ops, 1-bit
 * layers, the search engine and the training stage; files go to a MemoryStorage (core/storage.ts)
 * instead of the disk; the CPU backend runs on one thread, and `setBackend('gpu', { mode: 'webgl2' })`
 * runs kernels through gpu.js's WebGL on the user's GPU. Datasets: the synthetic one (no files to
 * fetch); any other arrays go through `datasetsFromRaw`.
 *
 * The Node-only pieces (worker threads, the file system, gpu.js's Node build) have `*.browser.ts`
 * siblings that the bundle uses instead: backends/cpu/xnor-pool, backends/gpu/gpujs, nas/shard-thread.
 */
import { MemoryStorage, setStorage } from './core/storage.js';
import { datasetsFromRaw, type LoadedDataset, type LoadOptions } from './data/load.js';
import { makeSynthetic } from './data/synthetic.js';

// a page has no file system: runs, checkpoints and models are kept in memory (replace it at will)
setStorage(new MemoryStorage());

export * from './core/index.js';
export * from './ops/index.js';
export * from './binary/index.js';
export * from './nas/index.js';
export { genotypeCellSvg, keptOps } from './nas/report/html.js';
export { ImageDataset, computeNormalization, type Dataset, type Batch as DataBatch } from './data/dataset.js';
export { searchSplit } from './data/split.js';
export { makeSynthetic, SYNTHETIC_DEFAULTS, type SyntheticOptions } from './data/synthetic.js';
export { datasetsFromRaw, type LoadOptions, type LoadedDataset } from './data/load.js';

/** The synthetic dataset, exactly as Node's `loadDataset('synthetic', opts)` makes it. */
export function loadSyntheticDataset(opts: LoadOptions = {}): LoadedDataset {
  return datasetsFromRaw('synthetic', makeSynthetic({ seed: opts.seed, ...opts.synthetic }), opts);
}
