/**
 * `runSearch`: runs a strategy in a run folder. It validates the settings and the data, writes
 * search-settings.json, appends every history record to history.jsonl as it happens, hands the strategy
 * a checkpoint store, and writes genotype.json at the end. With `resume`, it restores the latest
 * checkpoint (refusing one made with other settings), cuts history.jsonl back to what that checkpoint
 * had seen, and lets the strategy continue from there: the resumed search reaches the same genotype as
 * an uninterrupted one with the same seed.
 */
import { CpnasError, manualSeed } from '../core/index.js';
import { getStorage, joinPath as join } from '../core/storage.js';
import type { Tree } from '../ops/state.js';
import { CheckpointStore } from './checkpoint.js';
import { formatGenotype, genotypeToJSON, validateGenotype } from './genotype.js';
import { appendJsonl, readJson, readJsonl, writeFileAtomic, writeJsonAtomic } from './io.js';
import { resolveSearchSettings } from './settings.js';
import { abortError, type SearchContext } from './strategies/context.js';
import { getStrategy } from './strategies/index.js';
import { RUN_FILES, type GenotypeRecord, type HistoryRecord, type RunSearchOptions, type SearchOutcome, type SearchSettings } from './types.js';

/** Cuts history.jsonl back to its first n records (rewritten atomically) and returns them. */
export function truncateHistory(path: string, n: number): HistoryRecord[] {
  const records = readJsonl<HistoryRecord>(path).slice(0, n);
  writeFileAtomic(path, records.map((r) => JSON.stringify(r) + '\n').join(''));
  return records;
}

function sameSettings(a: SearchSettings, b: SearchSettings): string[] {
  const diffs: string[] = [];
  for (const k of Object.keys(a) as (keyof SearchSettings)[]) {
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) diffs.push(`${k} (${JSON.stringify(b[k])} in the run folder, ${JSON.stringify(a[k])} now)`);
  }
  return diffs;
}

export function checkImages(where: string, shape: readonly number[], imageSize: number, what: string): void {
  if (shape.length !== 3 || shape[1] !== imageSize || shape[2] !== imageSize) {
    throw new CpnasError(where, `${what} images are [${shape.join(',')}] but the settings ask for ${imageSize}x${imageSize}: load the dataset with imageSize ${imageSize}`);
  }
}

export function runSearch(opts: RunSearchOptions): SearchOutcome {
  const settings = resolveSearchSettings(opts.settings);
  const { searchTrain, searchVal } = opts.data;
  checkImages('runSearch', searchTrain.shape, settings.imageSize, 'search-train');
  checkImages('runSearch', searchVal.shape, settings.imageSize, 'search-val');
  if (searchTrain.length === 0 || searchVal.length === 0) {
    throw new CpnasError('runSearch', `the search splits are empty (search-train ${searchTrain.length}, search-val ${searchVal.length} images)`);
  }
  const log = opts.log ?? (() => {});
  const outDir = opts.outDir;
  const historyPath = join(outDir, RUN_FILES.history);
  const settingsPath = join(outDir, RUN_FILES.searchSettings);
  const store = new CheckpointStore(join(outDir, RUN_FILES.searchCheckpoint));

  let restored: Tree | null = null;
  let history: HistoryRecord[] = [];
  let elapsedBefore = 0;
  if (opts.resume && getStorage().exists(settingsPath)) {
    const saved = readJson<SearchSettings>(settingsPath, 'search settings');
    const diffs = sameSettings(settings, saved);
    if (diffs.length) throw new CpnasError('resume', `the run folder ${outDir} was searched with other settings: ${diffs.join('; ')}`);
    const done = readJsonl<HistoryRecord>(historyPath).find((r): r is GenotypeRecord => r.type === 'genotype');
    if (done && getStorage().exists(join(outDir, RUN_FILES.genotype))) {
      log('the search of this run folder is complete: using its genotype');
      const all = readJsonl<HistoryRecord>(historyPath);
      return { genotype: validateGenotype(done.genotype), history: all.slice(0, all.indexOf(done) + 1), searchSeconds: done.searchSeconds };
    }
    const ck = store.load() as { historyLength: number; elapsed: number; strategy: Tree } | null;
    if (ck) {
      restored = ck.strategy;
      elapsedBefore = ck.elapsed;
      history = truncateHistory(historyPath, ck.historyLength);
    }
  }
  if (!restored) {
    // a fresh search: forget what an earlier run left in the folder
    store.clear();
    getStorage().remove(historyPath);
    getStorage().remove(join(outDir, RUN_FILES.genotype));
    manualSeed(settings.seed);
    writeJsonAtomic(settingsPath, settings);
  }

  const start = Date.now();
  const elapsed = () => elapsedBefore + (Date.now() - start) / 1000;
  const ctx: SearchContext = {
    settings,
    data: opts.data,
    inputShape: searchTrain.shape,
    numClasses: searchTrain.classNames.length,
    history,
    record(rec) {
      history.push(rec);
      appendJsonl(historyPath, rec);
    },
    progress(ev) {
      opts.onProgress?.(ev);
    },
    log,
    saveCheckpoint(state) {
      store.save({ historyLength: history.length, elapsed: elapsed(), strategy: state });
    },
    restored,
    elapsedBefore,
    checkAbort() {
      if (opts.signal?.aborted) throw abortError();
    },
  };
  const result = getStrategy(settings.strategy)(ctx);
  const genotype = validateGenotype(result.genotype);
  const searchSeconds = elapsed();
  ctx.record({ type: 'genotype', strategy: settings.strategy, genotype, strength: result.strength, searchSeconds });
  writeFileAtomic(join(outDir, RUN_FILES.genotype), genotypeToJSON(genotype));
  log(`genotype (${settings.strategy}, ${searchSeconds.toFixed(1)} s):\n${formatGenotype(genotype)}`);
  return { genotype, history, searchSeconds };
}
