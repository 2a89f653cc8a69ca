/**
 * An experiment folder: experiment.json (the grid, its budgets, the reference), one run folder per
 * grid cell, and the reports built from whatever runs have finished (ablation.md, ablation.csv,
 * ablation.json, ablation.html). Planning, collecting and reporting are here; running a folder is the
 * caller's (the CLI runs them one after another, or writes them as a plan for a cluster).
 *
 * Budgets (budget.ts): 'images' gives every run the training images of the reference strategy at the
 * same settings; 'seconds' converts the reference's images into seconds with measured seconds per image
 * of every strategy (from short pilot searches the caller runs) and gives each strategy the images that
 * take that long; 'none' keeps each strategy's own settings. Every genotype is trained with the same
 * training settings (only the seed differs), so the final recipe is the same for all.
 */
import { CpnasError } from '../../core/index.js';
import { getStorage, joinPath as join } from '../../core/storage.js';
import { readJson, readJsonl, writeFileAtomic, writeJsonAtomic } from '../io.js';
import { resolveSearchSettings } from '../settings.js';
import { RUN_FILES, type GenotypeRecord, type HistoryRecord, type RunResult, type SearchSettings } from '../types.js';
import { matchImages, searchImages, type BudgetMatch } from './budget.js';
import { expandGrid, reads, type GridRun, type GridSpec, type Sweep } from './grid.js';
import { experimentHtml } from './html.js';
import { experimentCsv, experimentMarkdown, summarizeExperiment, type ExperimentRecord, type Reference } from './table.js';

export const EXPERIMENT_FILES = {
  description: 'experiment.json',
  markdown: 'ablation.md',
  csv: 'ablation.csv',
  json: 'ablation.json',
  html: 'ablation.html',
  plan: 'plan',
} as const;

export interface PlannedRun extends GridRun {
  budget: { images: number | null; target: number | null; status: 'matched' | 'capped' | 'unmatched' | 'none' };
}

export interface ExperimentDescription {
  version: 1;
  strategies: string[];
  seeds: number[];
  sweeps: Sweep[];
  match: BudgetMatch;
  reference: Reference | null;
  dataset: string;
  /** Size of the search-train split the budgets were computed for. */
  searchTrainLength: number;
  /** seconds matching: the measured seconds per search image of every strategy. */
  secondsPerImage?: { [strategy: string]: number };
  runs: PlannedRun[];
  /** What the table states about the budget, line by line. */
  budgetLines: string[];
}

/** The reference row: cp (or the first strategy) at the base value of every swept setting it reads (else the first value). */
export function defaultReference(spec: GridSpec, strategy?: string): Reference {
  const s = strategy ?? (spec.strategies.includes('cp') ? 'cp' : spec.strategies[0]);
  if (!spec.strategies.includes(s)) throw new CpnasError('experiment', `the reference strategy "${s}" is not in the grid (${spec.strategies.join(', ')})`);
  const point: { [key: string]: number } = {};
  for (const sw of spec.sweeps) {
    if (!reads(s, sw)) continue;
    const base = (spec.base[sw.stage] as unknown as Record<string, number>)[sw.key];
    point[sw.key] = sw.values.includes(base) ? base : sw.values[0];
  }
  return { strategy: s, point };
}

export function planExperiment(spec: GridSpec, opts: {
  match: BudgetMatch; searchTrainLength: number; dataset: string; reference?: string; secondsPerImage?: { [strategy: string]: number };
}): ExperimentDescription {
  const reference = defaultReference(spec, opts.reference);
  const grid = expandGrid(spec);
  const n = opts.searchTrainLength;
  const lines: string[] = [];
  const runs: PlannedRun[] = grid.map((run) => {
    if (opts.match === 'none') return { ...run, budget: { images: searchImages(run.search, n), target: null, status: 'none' } };
    // the reference's images at this run's settings (the settings the reference reads)
    const refSearch = { ...run.search, strategy: reference.strategy } as SearchSettings;
    for (const sw of spec.sweeps) {
      if (sw.stage === 'search' && !reads(run.strategy, sw) && reads(reference.strategy, sw)) {
        (refSearch as unknown as Record<string, number>)[sw.key] = reference.point[sw.key];
      }
    }
    const refImages = searchImages(refSearch, n);
    if (refImages === null || refImages === 0) throw new CpnasError('experiment', `the reference strategy "${reference.strategy}" trains on no images: it cannot set a budget`);
    let target = refImages;
    if (opts.match === 'seconds') {
      const spi = opts.secondsPerImage ?? {};
      const mine = spi[run.strategy], ref = spi[reference.strategy];
      if (!(ref > 0)) throw new CpnasError('experiment', `no measured seconds per image for the reference strategy "${reference.strategy}"`);
      if (!(mine > 0)) return { ...run, budget: { images: searchImages(run.search, n), target: null, status: 'unmatched' } };
      target = Math.max(1, Math.round((refImages * ref) / mine));
    }
    const m = matchImages(run.search, target, n);
    return { ...run, search: m.search, budget: { images: m.images, target, status: m.status } };
  });
  // every run's settings pass the same checks as a single search's (a grid point may break one)
  for (const r of runs) {
    try {
      resolveSearchSettings(r.search);
    } catch (e) {
      throw new CpnasError('experiment', `run ${r.id}: ${(e as Error).message}`);
    }
  }
  if (opts.match === 'images') {
    lines.push(`budgets matched by training images drawn in search: every run draws the images of ${reference.strategy} at the same settings (its sampleFraction adjusted; search-train split of ${n} images)`);
  } else if (opts.match === 'seconds') {
    lines.push(`budgets matched by search seconds: each strategy draws the images that take ${reference.strategy}'s search time, from measured seconds per image (${Object.entries(opts.secondsPerImage ?? {}).map(([k, v]) => `${k} ${(v * 1000).toFixed(3)} ms`).join(', ')}); the table reports the seconds actually spent`);
  } else {
    lines.push('budgets not matched: each strategy searches with its own settings');
  }
  const capped = runs.filter((r) => r.budget.status === 'capped').map((r) => r.id);
  if (capped.length) lines.push(`under budget (a whole epoch per unit is the most a run can take): ${capped.join(', ')}`);
  const unmatched = [...new Set(runs.filter((r) => r.budget.status === 'unmatched' && r.strategy !== 'random').map((r) => r.strategy))];
  if (unmatched.length) lines.push(`not matched (no search budget declared or measured): ${unmatched.join(', ')}`);
  if (spec.strategies.includes('random')) lines.push('random draws its genotype without training (no search images)');
  lines.push(`every genotype trained with the same recipe: ${trainRecipe(spec)}`);
  lines.push(`seeds: ${spec.seeds.join(', ')}; sweeps: ${spec.sweeps.length ? spec.sweeps.map((s) => `${s.key} = ${s.values.join(', ')}`).join('; ') : 'none'}`);
  return {
    version: 1, strategies: [...spec.strategies], seeds: [...spec.seeds], sweeps: spec.sweeps, match: opts.match, reference,
    dataset: opts.dataset, searchTrainLength: n, secondsPerImage: opts.secondsPerImage, runs, budgetLines: lines,
  };
}

function trainRecipe(spec: GridSpec): string {
  const t = spec.base.train;
  return `${t.cells} cells, C=${t.channels}, ${t.imageSize}x${t.imageSize}, batch ${t.batchSize}, Parent ${t.parentEpochs} + Child ${t.childEpochs} epochs, ${t.optimizer} lr ${t.parentLr}/${t.childLr}, lambda ${t.lambda}, theta ${t.theta}`;
}

/** Reads experiment.json (errors name the file). */
export function readExperiment(dir: string): ExperimentDescription {
  const path = join(dir, EXPERIMENT_FILES.description);
  if (!getStorage().exists(path)) throw new CpnasError('experiment', `"${dir}" holds no ${EXPERIMENT_FILES.description}: it is not a cpnas experiment folder`);
  const d = readJson<ExperimentDescription>(path, EXPERIMENT_FILES.description);
  if (!d || d.version !== 1 || !Array.isArray(d.runs) || !Array.isArray(d.strategies) || !Array.isArray(d.budgetLines)) {
    throw new CpnasError('experiment', `${path} is not an experiment description written by cpnas (version 1)`);
  }
  for (const r of d.runs) {
    if (typeof r.id !== 'string' || !/^[A-Za-z0-9_.+-]+$/.test(r.id) || typeof r.strategy !== 'string' || !Number.isInteger(r.seed)) {
      throw new CpnasError('experiment', `${path}: a run entry is damaged: ${JSON.stringify(r).slice(0, 120)}`);
    }
  }
  return d;
}

export function writeExperiment(dir: string, d: ExperimentDescription): void {
  writeJsonAtomic(join(dir, EXPERIMENT_FILES.description), d);
}

/**
 * The outcome of one run folder: null while it has not finished. A folder whose search finished but
 * which has no result.json (search-only experiments) gives the search seconds and no accuracy.
 */
export function readRunRecord(runDir: string, run: PlannedRun): ExperimentRecord | null {
  const base = { id: run.id, strategy: run.strategy, seed: run.seed, point: run.point, images: run.budget.images, budget: run.budget.status };
  const resultPath = join(runDir, RUN_FILES.result);
  if (getStorage().exists(resultPath)) {
    const r = readJson<RunResult>(resultPath, `${run.id}/${RUN_FILES.result}`);
    return {
      ...base, childAccuracy: r.child?.testAccuracy ?? null, parentAccuracy: r.parent?.testAccuracy ?? null,
      searchSeconds: r.searchSeconds ?? null, trainSeconds: r.trainSeconds ?? null,
    };
  }
  const historyPath = join(runDir, RUN_FILES.history);
  if (getStorage().exists(join(runDir, RUN_FILES.genotype)) && getStorage().exists(historyPath)) {
    const g = readJsonl<HistoryRecord>(historyPath).find((h): h is GenotypeRecord => h.type === 'genotype');
    if (g) return { ...base, childAccuracy: null, parentAccuracy: null, searchSeconds: g.searchSeconds, trainSeconds: null };
  }
  return null;
}

/** Records of the finished runs, and the ids of the others. Failed runs (from `failures`) are recorded as such. */
export function collectRecords(dir: string, d: ExperimentDescription, failures: { [id: string]: string } = {}): { records: ExperimentRecord[]; missing: string[] } {
  const records: ExperimentRecord[] = [];
  const missing: string[] = [];
  for (const run of d.runs) {
    const rec = readRunRecord(join(dir, run.id), run);
    if (rec) records.push(rec);
    else if (failures[run.id]) {
      records.push({
        id: run.id, strategy: run.strategy, seed: run.seed, point: run.point, images: run.budget.images, budget: run.budget.status,
        childAccuracy: null, parentAccuracy: null, searchSeconds: null, trainSeconds: null, error: failures[run.id],
      });
    } else missing.push(run.id);
  }
  return { records, missing };
}

/** Writes ablation.md / .csv / .json / .html from the records; returns the Markdown table. */
export function writeExperimentReport(dir: string, d: ExperimentDescription, records: readonly ExperimentRecord[], missing: readonly string[], createdAt?: string): string {
  const rows = summarizeExperiment(records, d.reference);
  const table = experimentMarkdown(rows, d.reference);
  const title = `Experiment: ${d.strategies.join(', ')} on ${d.dataset}`;
  const lines = [...d.budgetLines];
  if (missing.length) lines.push(`${missing.length} run(s) not finished yet: ${missing.join(', ')}`);
  const refText = d.reference ? `reference row: ${d.reference.strategy}${Object.keys(d.reference.point).length ? ` at ${Object.entries(d.reference.point).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}` : '';
  writeFileAtomic(join(dir, EXPERIMENT_FILES.markdown), `# ${title}\n\n${lines.map((l) => `- ${l}`).join('\n')}\n- ${refText}\n\n${table}`);
  writeFileAtomic(join(dir, EXPERIMENT_FILES.csv), experimentCsv(rows));
  writeJsonAtomic(join(dir, EXPERIMENT_FILES.json), { budget: lines, reference: d.reference, rows, runs: records });
  writeFileAtomic(join(dir, EXPERIMENT_FILES.html), experimentHtml({ title, budgetLines: [...lines, refText], rows, reference: d.reference, createdAt }));
  return table;
}
