/**
 * The stages of a run folder, shared by `search`, `train` and `ablate`: load the data, search (unless
 * genotype.json is already there), train (unless result.json is already there), write the reports.
 * Each stage resumes from its checkpoint, so `--resume DIR` simply runs the pipeline again.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CpnasError } from '../core/index.js';
import { getStorage, type LockHandle } from '../core/storage.js';
import { checksum } from '../ops/state.js';
import { LOCK_FILE } from '../node/storage.js';
import { CostTable, budgetOf, checkBudgetFeasible } from '../nas/budget.js';
import { genotypeToJSON, validateGenotype } from '../nas/genotype.js';
import { budgetNetworkOf } from '../nas/search.js';
import { readJson, readJsonl, writeFileAtomic, writeJsonAtomic } from '../nas/io.js';
import { writeRunReports } from '../nas/report/write.js';
import { RUN_FILES, type Genotype, type HistoryRecord, type RunResult } from '../nas/types.js';
import { UsageError } from './args.js';
import { applySamplesPerEpoch, checkStoredConfig, type RunConfig } from './config.js';
import { Interrupted, type Ctx } from './context.js';
import type { LoadedData } from './engine.js';
import { searchPhase, trainingPhases } from './plan.js';
import type { RunProvenance } from './provenance.js';

/** The CLI's own record of a run folder: what to run again on `--resume`. */
export const RUN_CONFIG_FILE = 'run.json';

export interface StoredRun {
  command: 'search' | 'train';
  config: RunConfig;
  /** How the run was started: command line, package version, git commit (absent in older run folders). */
  provenance?: RunProvenance;
}

export interface PipelineOutcome {
  genotype: Genotype;
  history: HistoryRecord[];
  result: RunResult | null;
  searchSeconds: number;
  /** The run folder's files after the reports were written. */
  files: string[];
}

/** The nearest folder that exists at or above `dir` (the one a new folder would be made in). */
function existingAncestor(dir: string): string {
  let p = resolve(dir);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/**
 * Checks that `dir` can be an output folder: a folder or nothing yet, under a folder this process may
 * write in. Errors name `flag`.
 */
export function checkOutFolder(dir: string, flag = '--out'): void {
  if (dir.trim() === '') throw new UsageError(flag, 'needs a folder name, got an empty string');
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UsageError(flag, `"${dir}" is a file, not a folder`);
    return;
  }
  const up = existingAncestor(dir);
  if (!statSync(up).isDirectory()) throw new UsageError(flag, `cannot make the folder "${dir}": ${up} is a file`);
  try {
    accessSync(up, constants.W_OK);
  } catch {
    throw new UsageError(flag, `cannot make the folder "${dir}": no permission to write in ${up}`);
  }
}

/**
 * Makes `dir` and its missing parents, one level at a time: `mkdirSync(dir, { recursive: true })` of
 * Node 20 never returns for some unwritable places (under /proc), and its errors name no flag.
 */
export function makeFolder(dir: string, flag = '--out'): void {
  const missing: string[] = [];
  for (let p = resolve(dir); !existsSync(p) && dirname(p) !== p; p = dirname(p)) missing.push(p);
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new UsageError(flag, `cannot make the folder "${dir}" (${code ?? (e as Error).message} at ${p})`);
    }
  }
}

/**
 * Makes a fresh run folder; refuses one that already holds a run (that is what --resume is for) or
 * other files. With `check`, only checks (so that bad flags are reported before any folder is made).
 */
export function createRunFolder(dir: string, command: string, opts: { check?: boolean } = {}): void {
  checkOutFolder(dir);
  if (existsSync(dir)) {
    if (existsSync(join(dir, RUN_CONFIG_FILE))) {
      throw new UsageError('--out', `"${dir}" already holds a run; continue it with \`cpnas ${command} --resume ${dir}\` or choose another --out`);
    }
    // a lone lock is what a run killed right after making the folder leaves: taking the lock decides
    if (readdirSync(dir).some((f) => f !== LOCK_FILE)) throw new UsageError('--out', `"${dir}" exists and is not empty; choose another --out`);
  }
  if (!opts.check) makeFolder(dir);
}

/**
 * Reads and checks run.json of a run folder (given to --resume, or found above an --model folder):
 * a damaged or edited file is reported against `flag`, never as an internal error.
 */
export function readStoredRun(dir: string, flag = '--resume'): StoredRun {
  if (!existsSync(dir)) throw new UsageError(flag, `folder "${dir}" does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(flag, `"${dir}" is a file, not a run folder`);
  const path = join(dir, RUN_CONFIG_FILE);
  if (!existsSync(path)) throw new UsageError(flag, `"${dir}" holds no ${RUN_CONFIG_FILE}: it is not a cpnas run folder`);
  let stored: StoredRun;
  try {
    stored = readJson<StoredRun>(path, RUN_CONFIG_FILE);
  } catch (e) {
    throw new UsageError(flag, (e as Error).message);
  }
  if (!stored || typeof stored !== 'object' || (stored.command !== 'search' && stored.command !== 'train')) {
    throw new UsageError(flag, `${path} is not a run description written by cpnas (no "command": "search" or "train")`);
  }
  // the run's identity (seed, dataset, limits, settings): changed only through the flags --resume
  // accepts (resumeOverrides), never by editing the file
  const { checksum: sum, ...rest } = stored as StoredRun & { checksum?: unknown };
  if (typeof sum !== 'string') throw new UsageError(flag, `${path} carries no checksum (written by an older cpnas, or edited): the run's identity cannot be verified`);
  if (sum !== storedRunChecksum(rest)) {
    throw new UsageError(flag, `${path} fails its checksum: it was edited since the run started (a run's seed, dataset, limits and settings cannot change on resume; start a new run instead)`);
  }
  return { command: stored.command, config: checkStoredConfig(stored.config, path, flag) };
}

/** Checksum of run.json's content as written (JSON.stringify of the document without the field). */
export function storedRunChecksum(doc: unknown): string {
  return checksum(new TextEncoder().encode(JSON.stringify(doc)));
}

/**
 * Takes the run folder's lock for this command (one writer per folder): a folder in use by a live
 * process is refused naming it; a lock left by a dead one is taken over, saying so.
 */
export function lockRunFolder(ctx: Ctx, dir: string, command: string, flag = '--resume'): LockHandle {
  let handle: LockHandle;
  try {
    handle = getStorage().lock(dir, command);
  } catch (e) {
    if (e instanceof CpnasError && e.where === 'lock') throw new UsageError(flag, e.message.slice(e.where.length + 2));
    throw e;
  }
  const dead = handle.tookOver;
  if (dead) ctx.note(`took over the lock of ${dir} left by \`${dead.command}\` (pid ${dead.pid} on ${dead.host}, since ${dead.since}): that process is gone`);
  return handle;
}

/**
 * Removes the temporary files of atomic writes (`.<name>.tmp`) that a killed run left in its folder;
 * a resumed run is the only writer of its folder, so none of them is in use.
 */
export function removeStaleTempFiles(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const p = join(dir, name);
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      continue;
    }
    if (isDir) removeStaleTempFiles(p);
    else if (name.startsWith('.') && name.endsWith('.tmp')) rmSync(p, { force: true });
  }
}

/**
 * Checks that the training images can be split into the search halves, before a run folder is made:
 * too few images is the user's input (--limit, --data), not a failed run.
 */
export function checkSearchSplit(ctx: Ctx, cfg: RunConfig, data: LoadedData): void {
  try {
    ctx.engine.searchSplit(data.train, cfg.seed);
  } catch (e) {
    if (!(e instanceof CpnasError)) throw e;
    throw new UsageError(cfg.limit?.train !== undefined ? '--limit' : cfg.dataDir ? '--data' : '--dataset', e.message);
  }
  checkBudget(cfg, data);
}

/** Refuses, before any folder is made, a --max-ops / --max-bytes below the smallest possible network. */
export function checkBudget(cfg: RunConfig, data: LoadedData): void {
  const budget = budgetOf(cfg.search.maxOps, cfg.search.maxBytes);
  if (!budget) return;
  try {
    checkBudgetFeasible(CostTable.build(budgetNetworkOf(cfg.search, data.train), cfg.search.primitives), budget);
  } catch (e) {
    if (!(e instanceof CpnasError)) throw e;
    const flag = budget.maxOps !== null && /max-ops/.test(e.message) ? '--max-ops' : '--max-bytes';
    // the error names its flag first: "--max-ops: 100 is below the 8,064 OPs of the smallest possible network (...)"
    throw new UsageError(flag, e.message.replace(/^budget: /, '').replace(new RegExp(`^${flag} `), ''));
  }
}

export function writeStoredRun(dir: string, stored: StoredRun): void {
  const doc = JSON.parse(JSON.stringify(stored)) as StoredRun;
  writeJsonAtomic(join(dir, RUN_CONFIG_FILE), { ...doc, checksum: storedRunChecksum(doc) });
}

/** Loads the dataset for one image size; a loader error is the user's input (exit 2). */
export async function loadData(ctx: Ctx, cfg: RunConfig, imageSize: number | undefined): Promise<LoadedData> {
  try {
    return await ctx.engine.loadDataset(cfg.dataset, { dataDir: cfg.dataDir, imageSize, seed: cfg.seed, limit: cfg.limit });
  } catch (e) {
    if (!(e instanceof CpnasError)) throw e;
    throw new UsageError(cfg.dataDir ? '--data' : '--dataset', e.message);
  }
}

/** Data of the two stages, loaded once per image size. */
export class DataCache {
  private readonly cache = new Map<number, Promise<LoadedData>>();
  constructor(private readonly ctx: Ctx, private readonly cfg: RunConfig) {}
  get(imageSize: number): Promise<LoadedData> {
    let p = this.cache.get(imageSize);
    if (!p) {
      p = loadData(this.ctx, this.cfg, imageSize);
      this.cache.set(imageSize, p);
    }
    return p;
  }
}

/** Where the errors of reading back a damaged checkpoint come from (nas/checkpoint.ts, ops/state.ts, nas/io.ts). */
const CHECKPOINT_ERRORS = new Set(['checkpoint', 'loadTree', 'decodeTree', 'loadStateDict', 'history', 'search settings']);

/**
 * Runs an engine stage; turns the error of a Ctrl-C stop into Interrupted. When the stage resumes from
 * `checkpoint` and cannot read it back, the message says how to start that stage over.
 */
async function stage<T>(ctx: Ctx, dir: string, resume: string, checkpoint: string | null, fn: () => T | Promise<T>): Promise<T> {
  if (ctx.signal.aborted) throw new Interrupted(dir, resume); // Ctrl-C while the data was loading
  try {
    const out = await fn();
    if (ctx.signal.aborted) throw new Interrupted(dir, resume);
    return out;
  } catch (e) {
    if (ctx.signal.aborted && !(e instanceof Interrupted)) throw new Interrupted(dir, resume);
    if (checkpoint && e instanceof CpnasError && CHECKPOINT_ERRORS.has(e.where)) {
      const detail = e.message.slice(e.where.length + 2);
      throw new CpnasError(e.where, `${detail} (the run folder cannot be resumed from ${checkpoint}; delete that folder to redo this stage from its start)`);
    }
    throw e;
  } finally {
    ctx.progress.finish();
  }
}

/** Search (if not done yet), then training (if asked and not done yet), then the reports. */
export async function runPipeline(ctx: Ctx, cfg: RunConfig, dir: string, opts: { data?: DataCache; resumeCommand: string }): Promise<PipelineOutcome> {
  const data = opts.data ?? new DataCache(ctx, cfg);
  const genotypePath = join(dir, RUN_FILES.genotype);
  let genotype: Genotype;
  let searchSeconds = 0;
  let searched = false;

  if (existsSync(genotypePath)) {
    genotype = validateGenotype(readJson(genotypePath, RUN_FILES.genotype));
    searchSeconds = searchSecondsOf(readJsonl<HistoryRecord>(join(dir, RUN_FILES.history)));
    ctx.note(`search already finished in ${dir}: using its genotype.json`);
  } else {
    const d = await data.get(cfg.search.imageSize);
    const { searchTrain, searchVal } = ctx.engine.searchSplit(d.train, cfg.seed);
    applySamplesPerEpoch(cfg, searchTrain.length);
    const resume = existsSync(join(dir, RUN_FILES.searchCheckpoint));
    if (resume) ctx.note(`resuming the search from ${join(dir, RUN_FILES.searchCheckpoint)}`);
    // the whole run's ETA: the search, then the training (same image count at any size)
    ctx.progress.plan?.([searchPhase(cfg.search, searchTrain.length, searchVal.length), ...(cfg.noTrain ? [] : trainingPhases(cfg.train, d.train.length))]);
    searched = true;
    const outcome = await stage(ctx, dir, opts.resumeCommand, resume ? join(dir, RUN_FILES.searchCheckpoint) : null, () => ctx.engine.runSearch({
      settings: cfg.search, data: { searchTrain, searchVal }, outDir: dir, resume,
      onProgress: ctx.progress.update, log: ctx.note, signal: ctx.signal,
    }));
    genotype = outcome.genotype;
    searchSeconds = outcome.searchSeconds;
    if (!existsSync(genotypePath)) writeFileAtomic(genotypePath, genotypeToJSON(genotype));
  }

  let result: RunResult | null = null;
  if (!cfg.noTrain) result = await trainStage(ctx, cfg, dir, genotype, { data, resumeCommand: opts.resumeCommand, searchSeconds, withSearch: true, planned: searched });
  return { genotype, result, searchSeconds, ...writeReports(dir, cfg, genotype, result, true) };
}

/** The training stage of a run folder (skipped when result.json is there). */
export async function trainStage(
  ctx: Ctx, cfg: RunConfig, dir: string, genotype: Genotype,
  opts: { data: DataCache; resumeCommand: string; searchSeconds: number; withSearch: boolean; planned?: boolean },
): Promise<RunResult> {
  const resultPath = join(dir, RUN_FILES.result);
  if (existsSync(resultPath)) {
    ctx.note(`training already finished in ${dir}: using its result.json`);
    return readJson<RunResult>(resultPath, RUN_FILES.result);
  }
  const d = await opts.data.get(cfg.train.imageSize);
  if (!opts.planned) ctx.progress.plan?.(trainingPhases(cfg.train, d.train.length));
  const resume = existsSync(join(dir, RUN_FILES.trainCheckpoint));
  if (resume) ctx.note(`resuming the training from ${join(dir, RUN_FILES.trainCheckpoint)}`);
  const result = await stage(ctx, dir, opts.resumeCommand, resume ? join(dir, RUN_FILES.trainCheckpoint) : null, () => ctx.engine.runTraining({
    genotype, settings: cfg.train, data: { train: d.train, val: d.val, test: d.test }, outDir: dir, resume,
    onProgress: ctx.progress.update, log: ctx.note, signal: ctx.signal,
    searchSeconds: opts.searchSeconds, searchSettings: opts.withSearch ? cfg.search : undefined, dataset: cfg.dataset,
  }));
  return result; // result.json is written with the reports
}

/** Writes the SVG cells, report.html and result.json; returns the history and the folder's files. */
export function writeReports(dir: string, cfg: RunConfig, genotype: Genotype, result: RunResult | null, withSearch: boolean): { history: HistoryRecord[]; files: string[] } {
  const history = readJsonl<HistoryRecord>(join(dir, RUN_FILES.history));
  const files = writeRunReports(dir, {
    genotype, history, result,
    searchSettings: withSearch ? cfg.search : null,
    trainSettings: cfg.noTrain ? null : cfg.train,
    dataset: cfg.dataset,
    searchSeconds: searchSecondsOf(history),
  });
  return { history, files };
}

function searchSecondsOf(history: readonly HistoryRecord[]): number {
  for (let i = history.length - 1; i >= 0; i--) {
    const r = history[i];
    if (r.type === 'genotype') return r.searchSeconds;
  }
  return 0;
}
