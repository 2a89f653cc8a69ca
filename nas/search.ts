/**
 * `runSearch`: runs a strategy in a run folder, through a run context (nas/run-context.ts) that locks
 * the folder, owns history.jsonl and the checkpoints. It validates the settings and the data, writes
 * search-settings.json, and writes genotype.json at the end. With `resume`, the strategy restores the
 * newest verified checkpoint (one made with other settings or data is refused), history.jsonl is
 * reconciled with it, and the search continues from there: the resumed search reaches the same
 * genotype as an uninterrupted one with the same seed.
 */
import { CpnasError, manualSeed } from '../core/index.js';
import { getStorage, joinPath as join } from '../core/storage.js';
import { formatGenotype, genotypeToJSON, validateGenotype } from './genotype.js';
import { readJson, readJsonl, writeFileAtomic, writeJsonAtomic } from './io.js';
import { dataFingerprint, withRunContext } from './run-context.js';
import { resolveSearchSettings } from './settings.js';
import {
  CostTable, budgetOf, budgetedGenotype, checkBudgetFeasible, describeBudget, fits, fmt, scoreFromResult, unfitOperations,
  type Budget, type BudgetNetwork,
} from './budget.js';
import type { SearchContext, StrategyResult } from './strategies/context.js';
import { getStrategy } from './strategies/index.js';
import { RUN_FILES, type Genotype, type GenotypeRecord, type NasDataset, type HistoryRecord, type RunSearchOptions, type SearchOutcome, type SearchSettings } from './types.js';

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

interface BudgetContext {
  table: CostTable;
  budget: Budget;
  excluded: string[];
}

/** The network a search's budget is measured on: the final Child (budgetCells / budgetChannels). */
export function budgetNetworkOf(s: SearchSettings, data: NasDataset, numClasses = data.classNames.length): BudgetNetwork {
  return {
    inputShape: [...data.shape], numClasses, cells: s.budgetCells || s.cells, channels: s.budgetChannels || s.channels,
    nodes: s.nodes, binarizers: s.binarizers, childBlock: s.childBlock,
  };
}

/**
 * A budget's preparation, before anything is written: the cost table, the refusal of a budget below the
 * smallest network, and the operations that fit nowhere left out of `settings.primitives` (so the
 * settings written and compared on resume are the ones searched).
 */
function prepareBudget(settings: SearchSettings, data: NasDataset, log: (line: string) => void): BudgetContext | null {
  const budget = budgetOf(settings.maxOps, settings.maxBytes);
  if (!budget) return null;
  let table = CostTable.build(budgetNetworkOf(settings, data), settings.primitives);
  checkBudgetFeasible(table, budget);
  const excluded = unfitOperations(table, budget);
  if (excluded.length) {
    const left = settings.primitives.filter((p) => !excluded.includes(p));
    if (left.length < 2 || ((settings.strategy === 'cp' || settings.strategy === 'bnas') && left.length <= settings.keepOps)) {
      throw new CpnasError('budget', `${describeBudget(budget)} leaves only ${left.join(', ')} of the primitives: too few to search (${excluded.join(', ')} fit nowhere)`);
    }
    settings.primitives = left;
    table = table.restrict(left);
    log(`budget ${describeBudget(budget)}: ${excluded.join(', ')} cannot fit anywhere and are left out of the search`);
  }
  return { table, budget, excluded };
}

/**
 * The budget's last word on a strategy's genotype: kept when it fits, else re-derived as the
 * best-scored genotype within the budget from the strategy's result; recorded either way. A genotype
 * over the budget is never returned.
 */
function enforceBudget(ctx: SearchContext, b: BudgetContext, genotype: Genotype, result: StrategyResult, log: (line: string) => void): Genotype {
  let cost = b.table.costOf(genotype);
  let rederived = false, optimal: boolean | null = null;
  if (!fits(cost, b.budget)) {
    const r = budgetedGenotype(b.table, b.budget, scoreFromResult(genotype, result.strength, result.scores));
    log(`the ${ctx.settings.strategy} genotype (${fmt(cost.ops)} OPs, ${fmt(cost.bytes)} bytes) is over ${describeBudget(b.budget)}: re-derived under the budget${r.optimal ? '' : ' (best found, optimality not proven)'}`);
    genotype = validateGenotype(r.genotype);
    cost = r.cost;
    rederived = true;
    optimal = r.optimal;
  }
  if (!fits(cost, b.budget)) throw new CpnasError('budget', `internal: the genotype has ${fmt(cost.ops)} OPs and ${fmt(cost.bytes)} bytes, over ${describeBudget(b.budget)}`);
  ctx.record({ type: 'budget', maxOps: b.budget.maxOps, maxBytes: b.budget.maxBytes, ops: cost.ops, bytes: cost.bytes, excluded: b.excluded, rederived, optimal });
  log(`budget ${describeBudget(b.budget)}: the genotype's Child has ${fmt(cost.ops)} OPs and ${fmt(cost.bytes)} bytes`);
  return genotype;
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
  const budgetCtx = prepareBudget(settings, searchTrain, log);
  const outDir = opts.outDir;
  const storage = getStorage();
  const historyPath = join(outDir, RUN_FILES.history);
  const settingsPath = join(outDir, RUN_FILES.searchSettings);
  const identity = { settings, data: { searchTrain: dataFingerprint(searchTrain), searchVal: dataFingerprint(searchVal) } };

  return withRunContext({
    outDir, stage: 'search', checkpointDir: RUN_FILES.searchCheckpoint, identity, log, onProgress: opts.onProgress, signal: opts.signal,
  }, (run) => {
    const resuming = !!opts.resume && run.hasCheckpoint();
    if (opts.resume && storage.exists(settingsPath)) {
      const saved = readJson<SearchSettings>(settingsPath, 'search settings');
      if (!saved || typeof saved !== 'object' || Array.isArray(saved)) throw new CpnasError('search settings', `${settingsPath} is not a settings object`);
      const diffs = sameSettings(settings, saved);
      if (diffs.length) throw new CpnasError('resume', `the run folder ${outDir} was searched with other settings: ${diffs.join('; ')}`);
      const all = readJsonl<HistoryRecord>(historyPath);
      const done = all.find((r): r is GenotypeRecord => r.type === 'genotype');
      if (done && storage.exists(join(outDir, RUN_FILES.genotype))) {
        log('the search of this run folder is complete: using its genotype');
        return { genotype: validateGenotype(done.genotype), history: all.slice(0, all.indexOf(done) + 1), searchSeconds: done.searchSeconds };
      }
    } else if (resuming) {
      // the checkpoint carries the settings it was made with: they are checked as it is restored
      log(`${settingsPath} is missing: checking the settings against the checkpoint's and writing the file again`);
    }
    if (!resuming) {
      // a fresh search: forget what an earlier run left in the folder
      run.checkpoints.clear();
      storage.remove(historyPath);
      storage.remove(join(outDir, RUN_FILES.genotype));
      manualSeed(settings.seed);
      writeJsonAtomic(settingsPath, settings);
    }

    let restored = false;
    const ctx: SearchContext = {
      settings,
      data: opts.data,
      inputShape: searchTrain.shape,
      numClasses: searchTrain.classNames.length,
      get history() {
        return run.history.records;
      },
      record: (rec) => run.record(rec),
      progress: (ev) => run.progress(ev),
      log,
      save: (parts) => run.save(parts),
      restore(parts) {
        if (!resuming) return false;
        restored = run.restore(parts);
        if (restored && !storage.exists(settingsPath)) writeJsonAtomic(settingsPath, settings);
        return restored;
      },
      checkAbort: () => run.checkAbort(),
      budget: budgetCtx ? { table: budgetCtx.table, budget: budgetCtx.budget } : null,
    };
    const result = getStrategy(settings.strategy)(ctx);
    if (resuming && !restored) {
      throw new CpnasError('runSearch', `strategy ${settings.strategy} did not restore its checkpoint in ${join(outDir, RUN_FILES.searchCheckpoint)}`);
    }
    let genotype = validateGenotype(result.genotype);
    if (budgetCtx) genotype = enforceBudget(ctx, budgetCtx, genotype, result, log);
    const searchSeconds = run.elapsed();
    run.record({ type: 'genotype', strategy: settings.strategy, genotype, strength: result.strength, ...(result.ties?.length ? { ties: result.ties } : {}), searchSeconds });
    writeFileAtomic(join(outDir, RUN_FILES.genotype), genotypeToJSON(genotype));
    log(`genotype (${settings.strategy}, ${searchSeconds.toFixed(1)} s):\n${formatGenotype(genotype)}`);
    return { genotype, history: run.history.records, searchSeconds };
  });
}
