/**
 * `cpnas ablate`: an experiment grid, strategies x swept settings x seeds, with matched search budgets
 * and one training recipe for every genotype (nas/experiment/ holds the logic; this file reads flags,
 * makes the folders and runs them). Any numeric flag given as a list sweeps that setting
 * (`--beta 0,1,2,3`). Locally the runs go one after another and `--resume DIR` redoes nothing that
 * finished; `--plan` writes them as independent commands plus a Slurm array script instead of running
 * them; `--collect DIR` builds the tables from whatever run folders have finished.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CpnasError } from '../../core/index.js';
import {
  BUDGET_MATCHES, EXPERIMENT_FILES, collectRecords, planExperiment, planFiles, readExperiment, searchImages,
  writeExperiment, writeExperimentReport, type BudgetMatch, type ExperimentDescription, type GridSpec, type Sweep,
} from '../../nas/experiment/index.js';
import { readJson, readJsonl, writeFileAtomic, writeJsonAtomic } from '../../nas/io.js';
import { listStrategies } from '../../nas/strategies/index.js';
import { RUN_FILES, type GenotypeRecord, type HistoryRecord, type SearchSettings } from '../../nas/types.js';
import { UsageError, type FlagValues } from '../args.js';
import { checkStoredConfig, enumFlag, intFlag, listFlag, resolveConfig, type RunConfig } from '../config.js';
import { Interrupted, type Ctx } from '../context.js';
import {
  checkOutFolder, checkSearchSplit, DataCache, makeFolder, removeStaleTempFiles, runPipeline, RUN_CONFIG_FILE, writeStoredRun,
} from '../pipeline.js';
import { defaultOutDir, resumeHint, resumeOverrides } from './shared.js';

export const ABLATION_FILES = { config: 'ablation-config.json', ...EXPERIMENT_FILES } as const;

export const DEFAULT_STRATEGIES = ['cp', 'bnas', 'pc-darts', 'darts', 'random'];

/** Flags that hold lists or names, never swept (--sums is one setting of the backend for the whole grid). */
const NOT_SWEPT = new Set(['strategies', 'primitives', 'seeds', 'seed', 'preset', 'dataset', 'data', 'out', 'resume', 'collect', 'backend', 'gpu-mode', 'sums', 'match', 'reference', 'cli', 'limit']);

interface AblationConfig {
  /** The base configuration (list flags at the preset's values). */
  config: RunConfig;
  /** The grid as asked (so that a run interrupted before its plan was written can make it again). */
  grid: { strategies: string[]; seeds: number[]; sweeps: Sweep[]; match: BudgetMatch; reference?: string };
}

export async function ablateCommand(ctx: Ctx, values: FlagValues): Promise<number> {
  if (typeof values.collect === 'string') return collectCommand(ctx, values);
  if (typeof values.resume === 'string') return resumeCommand(ctx, values);

  const known = listStrategies();
  const strategies = listFlag(values, 'strategies') ?? DEFAULT_STRATEGIES;
  for (const s of strategies) {
    if (!known.includes(s)) throw new UsageError('--strategies', `unknown strategy "${s}" (choose from: ${known.join(', ')})`);
  }
  if (new Set(strategies).size !== strategies.length) throw new UsageError('--strategies', `names a strategy twice: ${strategies.join(',')}`);
  const seedCount = intFlag(values, 'seeds', 1) ?? 3;
  const match = enumFlag(values, 'match', BUDGET_MATCHES) ?? 'images';
  const referenceName = typeof values.reference === 'string' ? values.reference : undefined;
  if (referenceName !== undefined && !strategies.includes(referenceName)) {
    throw new UsageError('--reference', `"${referenceName}" is not among --strategies (${strategies.join(', ')})`);
  }
  const { base, sweeps } = resolveSweeps(values);
  const dir = typeof values.out === 'string' ? values.out : defaultOutDir('ablate', base.dataset);
  checkOutFolder(dir);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new UsageError('--out', existsSync(join(dir, ABLATION_FILES.config))
      ? `"${dir}" already holds an ablation; continue it with \`cpnas ablate --resume ${dir}\` or choose another --out`
      : `"${dir}" exists and is not empty; choose another --out`);
  }
  const seeds = Array.from({ length: seedCount }, (_, k) => base.seed + k);
  const spec: GridSpec = { strategies, seeds, sweeps, base: { search: base.search, train: base.train } };

  await ctx.start(base.backend, base.gpuMode, base.sums ?? 'float64');
  const data = new DataCache(ctx, base);
  const loaded = await data.get(base.search.imageSize);
  checkSearchSplit(ctx, base, loaded); // before the folder is made: a data error leaves nothing behind
  const searchTrainLength = ctx.engine.searchSplit(loaded.train, base.seed).searchTrain.length;
  // a first plan checks the grid before anything is written (and, for seconds, is what the pilots run)
  let description = firstPlan(spec, { strategies, seeds, sweeps, match, reference: referenceName }, searchTrainLength, base.dataset);
  makeFolder(dir);
  const stored: AblationConfig = { config: base, grid: { strategies, seeds, sweeps, match, reference: referenceName } };
  writeJsonAtomic(join(dir, ABLATION_FILES.config), stored);
  description = await prepare(ctx, dir, stored, description, data);
  const absDir = resolve(dir);
  ctx.note(`cpnas ablate: ${description.runs.length} runs (${strategies.join(', ')} x ${seeds.length} seed(s)${sweeps.length ? ` x ${sweeps.map((s) => `${s.key} ${s.values.join(',')}`).join(' x ')}` : ''}) on ${base.dataset} -> ${dir}`);
  for (const l of description.budgetLines) ctx.note(`  ${l}`);

  if (values.plan === true) {
    const cli = typeof values.cli === 'string' ? values.cli : 'npx cpnas';
    const files = planFiles({ runDirs: description.runs.map((r) => join(absDir, r.id)), dir: absDir, cli });
    const planDir = join(dir, EXPERIMENT_FILES.plan);
    makeFolder(join(planDir, 'logs'));
    writeFileAtomic(join(planDir, 'commands.txt'), files.commands);
    writeFileAtomic(join(planDir, 'slurm.sh'), files.slurm);
    writeFileAtomic(join(planDir, 'run-all.sh'), files.runAll);
    ctx.print(`Planned ${description.runs.length} runs in ${dir}:\n  ${join(planDir, 'commands.txt')} (one command per run)\n  ${join(planDir, 'slurm.sh')} (sbatch it: one array task per run)\n  ${join(planDir, 'run-all.sh')} (all of them here, one after another)\nThen: cpnas ablate --collect ${dir}\n`);
    return 0;
  }
  return runAll(ctx, dir, description, data);
}

/** The flags with their list values set aside: the base configuration and the sweeps. */
function resolveSweeps(values: FlagValues): { base: RunConfig; sweeps: Sweep[] } {
  const listed = Object.entries(values).filter(([k, v]) => typeof v === 'string' && v.includes(',') && !NOT_SWEPT.has(k)) as [string, string][];
  const plain: FlagValues = { ...values };
  for (const [k] of listed) delete plain[k];
  const base = resolveConfig('ablate', plain);
  const sweeps: Sweep[] = [];
  for (const [flag, text] of listed) {
    const items = text.split(',').map((s) => s.trim());
    if (items.some((s) => s === '')) throw new UsageError(`--${flag}`, `has an empty item in the list "${text}"`);
    const configs = items.map((item) => resolveConfig('ablate', { ...plain, [flag]: item }));
    const changed: { stage: 'search' | 'train'; key: string }[] = [];
    for (const stage of ['search', 'train'] as const) {
      for (const key of Object.keys(configs[0][stage])) {
        const vs = configs.map((c) => JSON.stringify((c[stage] as unknown as Record<string, unknown>)[key]));
        if (new Set(vs).size > 1) changed.push({ stage, key });
      }
    }
    if (changed.length !== 1) {
      throw new UsageError(`--${flag}`, changed.length === 0
        ? `the values ${text} give the same settings: nothing to sweep`
        : `cannot be swept: it sets ${changed.length} settings (${changed.map((c) => c.key).join(', ')}); sweep a flag that sets one`);
    }
    const { stage, key } = changed[0];
    const nums = configs.map((c) => (c[stage] as unknown as Record<string, unknown>)[key]);
    if (nums.some((v) => typeof v !== 'number')) throw new UsageError(`--${flag}`, 'only numeric settings can be swept');
    if (new Set(nums).size !== nums.length) throw new UsageError(`--${flag}`, `repeats a value: ${text}`);
    sweeps.push({ stage, key, values: nums as number[] });
  }
  return { base, sweeps };
}

/**
 * Completes the plan (the seconds pilots when asked), writes experiment.json and every run folder's
 * run.json. `planned` is the plan by images (what the pilots run).
 */
async function prepare(ctx: Ctx, dir: string, stored: AblationConfig, planned: ExperimentDescription, data: DataCache): Promise<ExperimentDescription> {
  const { config: base, grid } = stored;
  const spec: GridSpec = { strategies: grid.strategies, seeds: grid.seeds, sweeps: grid.sweeps, base: { search: base.search, train: base.train } };
  let description = planned;
  const absDir = resolve(dir);
  if (grid.match === 'seconds') {
    const secondsPerImage = await pilots(ctx, base, spec, planned, absDir, data);
    description = planExperiment(spec, { match: 'seconds', searchTrainLength: planned.searchTrainLength, dataset: base.dataset, reference: grid.reference, secondsPerImage });
  }
  writeExperiment(dir, description);
  for (const run of description.runs) {
    const sub = join(absDir, run.id);
    mkdirSync(sub, { recursive: true });
    if (!existsSync(join(sub, RUN_CONFIG_FILE))) writeStoredRun(sub, { command: 'search', config: runConfig(base, run) });
  }
  return description;
}

/** The first plan of a grid: by images for 'seconds' (the pilots' budgets); a grid error is the user's. */
function firstPlan(spec: GridSpec, grid: AblationConfig['grid'], searchTrainLength: number, dataset: string): ExperimentDescription {
  try {
    return planExperiment(spec, { match: grid.match === 'seconds' ? 'images' : grid.match, searchTrainLength, dataset, reference: grid.reference });
  } catch (e) {
    if (e instanceof CpnasError) throw new UsageError('cpnas ablate', `cpnas ablate: ${e.message}`);
    throw e;
  }
}

function runConfig(base: RunConfig, run: ExperimentDescription['runs'][number]): RunConfig {
  return { ...base, seed: run.seed, samplesPerEpoch: undefined, search: run.search as SearchSettings, train: run.train };
}

/**
 * seconds matching: one short search of every strategy (seed of the first run, its image-matched
 * budget), kept in pilot/<strategy>, gives its seconds per search image.
 */
async function pilots(ctx: Ctx, base: RunConfig, spec: GridSpec, planned: ExperimentDescription, dir: string, data: DataCache): Promise<{ [s: string]: number }> {
  const out: { [s: string]: number } = {};
  for (const strategy of spec.strategies) {
    const run = planned.runs.find((r) => r.strategy === strategy)!;
    if (!run.budget.images) continue; // random: no search images
    const sub = join(dir, 'pilot', strategy);
    const cfg: RunConfig = { ...runConfig(base, run), noTrain: true };
    if (!existsSync(join(sub, RUN_CONFIG_FILE))) {
      mkdirSync(sub, { recursive: true });
      writeStoredRun(sub, { command: 'search', config: cfg });
    }
    ctx.note(`pilot search of ${strategy} (to measure its seconds per image) -> ${sub}`);
    const o = await runPipeline(ctx, cfg, sub, { data, resumeCommand: `cpnas ablate --resume ${dir}` });
    const images = searchImages(cfg.search, planned.searchTrainLength) ?? 0;
    if (images > 0 && o.searchSeconds > 0) out[strategy] = o.searchSeconds / images;
  }
  return out;
}

/** Runs every unfinished run one after another, then writes the tables. */
async function runAll(ctx: Ctx, dir: string, d: ExperimentDescription, data: DataCache): Promise<number> {
  const failures: { [id: string]: string } = {};
  const base = readAblationConfig(dir).config;
  let k = 0;
  for (const run of d.runs) {
    k++;
    const sub = join(dir, run.id);
    if (isFinished(sub, base.noTrain)) continue;
    const cfg = runConfig(base, run);
    if (!existsSync(join(sub, RUN_CONFIG_FILE))) {
      mkdirSync(sub, { recursive: true });
      writeStoredRun(sub, { command: 'search', config: cfg });
    }
    ctx.note(`[${k}/${d.runs.length}] ${run.id} -> ${sub}`);
    try {
      await runPipeline(ctx, cfg, sub, { data, resumeCommand: `cpnas ablate --resume ${dir}` });
    } catch (e) {
      if (e instanceof Interrupted || e instanceof UsageError || ctx.signal.aborted) {
        throw e instanceof Interrupted ? new Interrupted(dir, `cpnas ablate --resume ${dir}`) : e;
      }
      // One failed run should not lose the others: record it and go on.
      ctx.note(`run ${run.id} failed: ${(e as Error).message}`);
      failures[run.id] = (e as Error).message;
    }
    report(dir, d, failures);
  }
  const table = report(dir, d, failures);
  ctx.print(`\n${table}\nWritten: ${[EXPERIMENT_FILES.markdown, EXPERIMENT_FILES.csv, EXPERIMENT_FILES.json, EXPERIMENT_FILES.html].map((f) => join(dir, f)).join(', ')}\n`);
  return Object.keys(failures).length ? 1 : 0;
}

function isFinished(sub: string, noTrain: boolean): boolean {
  if (!noTrain) return existsSync(join(sub, RUN_FILES.result));
  if (!existsSync(join(sub, RUN_FILES.genotype)) || !existsSync(join(sub, RUN_FILES.history))) return false;
  return readJsonl<HistoryRecord>(join(sub, RUN_FILES.history)).some((h): h is GenotypeRecord => h.type === 'genotype');
}

function report(dir: string, d: ExperimentDescription, failures: { [id: string]: string }): string {
  const { records, missing } = collectRecords(dir, d, failures);
  return writeExperimentReport(dir, d, records, missing, new Date().toISOString());
}

async function resumeCommand(ctx: Ctx, values: FlagValues): Promise<number> {
  const dir = values.resume as string;
  const stored = readAblationConfig(dir);
  const base = resumeOverrides(stored.config, values, 'ablate');
  removeStaleTempFiles(dir);
  await ctx.start(base.backend, base.gpuMode, base.sums ?? 'float64');
  const updated: AblationConfig = { ...stored, config: base };
  writeJsonAtomic(join(dir, ABLATION_FILES.config), updated);
  const data = new DataCache(ctx, base);
  let d: ExperimentDescription;
  if (existsSync(join(dir, EXPERIMENT_FILES.description))) {
    d = readDescription(dir, '--resume');
  } else {
    // interrupted before the plan was written (during the seconds pilots): make it again
    const loaded = await data.get(base.search.imageSize);
    const searchTrainLength = ctx.engine.searchSplit(loaded.train, base.seed).searchTrain.length;
    const g = stored.grid;
    const spec: GridSpec = { strategies: g.strategies, seeds: g.seeds, sweeps: g.sweeps, base: { search: base.search, train: base.train } };
    d = await prepare(ctx, dir, updated, firstPlan(spec, g, searchTrainLength, base.dataset), data);
  }
  ctx.note(`cpnas ablate: continuing ${d.runs.length} runs in ${dir}`);
  return runAll(ctx, dir, d, data);
}

async function collectCommand(ctx: Ctx, values: FlagValues): Promise<number> {
  for (const [name, v] of Object.entries(values)) {
    if (v !== undefined && !['collect', 'quiet', 'verbose', 'help'].includes(name)) throw new UsageError(`--${name}`, 'does not go with --collect (it only reads the run folders)');
  }
  const dir = values.collect as string;
  if (!existsSync(dir)) throw new UsageError('--collect', `folder "${dir}" does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError('--collect', `"${dir}" is a file, not an experiment folder`);
  const d = readDescription(dir, '--collect');
  const { records, missing } = collectRecords(dir, d);
  const table = writeExperimentReport(dir, d, records, missing, new Date().toISOString());
  ctx.print(`${table}\n${records.length} of ${d.runs.length} runs finished${missing.length ? ` (waiting for: ${missing.join(', ')})` : ''}.\nWritten: ${join(dir, EXPERIMENT_FILES.markdown)}, ${join(dir, EXPERIMENT_FILES.csv)}, ${join(dir, EXPERIMENT_FILES.json)}, ${join(dir, EXPERIMENT_FILES.html)}\n`);
  return 0;
}

function readDescription(dir: string, flag: string): ExperimentDescription {
  try {
    return readExperiment(dir);
  } catch (e) {
    if (e instanceof CpnasError) throw new UsageError(flag, e.message.replace(/^experiment: /, ''));
    throw e;
  }
}

/** Reads and checks ablation-config.json of a folder given to --resume (errors name --resume). */
function readAblationConfig(dir: string): AblationConfig {
  if (!existsSync(dir)) throw new UsageError('--resume', `folder "${dir}" does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError('--resume', `"${dir}" is a file, not an ablation folder`);
  const path = join(dir, ABLATION_FILES.config);
  if (!existsSync(path)) throw new UsageError('--resume', `"${dir}" holds no ${ABLATION_FILES.config}: it is not a cpnas ablation folder`);
  let stored: Partial<AblationConfig> | null;
  try {
    stored = readJson<Partial<AblationConfig> | null>(path, ABLATION_FILES.config);
  } catch (e) {
    throw new UsageError('--resume', (e as Error).message);
  }
  if (!stored || typeof stored !== 'object' || Array.isArray(stored)) throw new UsageError('--resume', `${path} is not an ablation description written by cpnas`);
  const g = stored.grid as Partial<AblationConfig['grid']> | undefined;
  const known = listStrategies();
  if (!g || typeof g !== 'object' || !Array.isArray(g.strategies) || g.strategies.some((x) => !known.includes(x)) || !Array.isArray(g.seeds)
    || g.seeds.some((x) => !Number.isSafeInteger(x) || x < 0) || !Array.isArray(g.sweeps) || !BUDGET_MATCHES.includes(g.match as BudgetMatch)) {
    throw new UsageError('--resume', `${path}: "grid" must hold strategies among ${known.join(', ')}, seeds, sweeps and match, got ${JSON.stringify(g)?.slice(0, 120)}`);
  }
  return { config: checkStoredConfig(stored.config, path), grid: g as AblationConfig['grid'] };
}
