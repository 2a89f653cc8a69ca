/**
 * The demo's search: a tiny CP-NAS search (the CLI's `--preset tiny`: 3 cells of 4 channels on 8x8
 * synthetic images, four candidate operations, one sampling repetition per round) through the public
 * `cpnas/browser` API. The page's Web Worker runs it; the browser test runs it in Node too, and the two
 * genotypes must be the same for the same seed on the CPU backend.
 */
import {
  MemoryStorage, formatGenotype, genotypeCellSvg, loadSyntheticDataset, resolveSearchSettings, runSearch,
  searchSplit, setBackend, setStorage, type Genotype, type ProgressEvent, type RoundRecord,
} from '../../browser.js';

export interface DemoOptions {
  seed: number;
  /** `cpu`, or `gpu` with a gpu.js mode (`webgl2`, `webgl`; default: the best one there is). */
  backend: 'cpu' | 'gpu';
  gpuMode?: string;
  /** A smaller search (the test's): other candidate operations, fewer cells. Default: the tiny preset's. */
  primitives?: string[];
  cells?: number;
}

export interface DemoResult {
  genotype: Genotype;
  text: string;
  normalSvg: string;
  reduceSvg: string;
  /** What ran the kernels: `cpu` or `gpu.js (webgl2)`. */
  backend: string;
  searchSeconds: number;
  /** Per round: operations per edge before it (K) and how many edges abandoned one. */
  rounds: { round: number; K: number; abandoned: number }[];
}

export interface DemoCallbacks {
  progress?: (ev: ProgressEvent) => void;
  log?: (line: string) => void;
}

/** The search settings: those of the CLI's tiny preset, unless `opts` says otherwise. */
export function demoSettings(opts: DemoOptions) {
  return resolveSearchSettings({
    strategy: 'cp', cells: opts.cells ?? 3, channels: 4, imageSize: 8, batchSize: 32, T: 1, sampleFraction: 0.25, valFraction: 0.5,
    primitives: opts.primitives ?? ['none', 'max_pool_3x3', 'skip_connect', 'sep_conv_3x3'], seed: opts.seed,
  });
}

export function runDemoSearch(opts: DemoOptions, cb: DemoCallbacks = {}): DemoResult {
  setStorage(new MemoryStorage()); // the run folder lives in memory
  const backend = opts.backend === 'gpu' ? setBackend('gpu', opts.gpuMode ? { mode: opts.gpuMode } : undefined) : setBackend('cpu');
  const settings = demoSettings(opts);
  // the data exactly as the CLI loads it for --preset tiny: 256 / 64 / 64 images at 8x8
  const data = loadSyntheticDataset({ seed: opts.seed, imageSize: settings.imageSize, limit: { train: 256, val: 64, test: 64 } });
  const split = searchSplit(data.train, opts.seed);
  const out = runSearch({ settings, data: split, outDir: 'run', onProgress: cb.progress, log: cb.log });
  const rounds = out.history.filter((r): r is RoundRecord => r.type === 'round')
    .map((r) => ({ round: r.round, K: r.K, abandoned: Object.keys(r.abandoned).length }));
  return {
    genotype: out.genotype,
    text: formatGenotype(out.genotype),
    normalSvg: genotypeCellSvg(out.genotype, 'normal', 'demo-normal'),
    reduceSvg: genotypeCellSvg(out.genotype, 'reduce', 'demo-reduce'),
    backend: backend.describe(),
    searchSeconds: out.searchSeconds,
    rounds,
  };
}
