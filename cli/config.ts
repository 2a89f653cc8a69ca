/**
 * From flags to a run's configuration: the preset first, then every flag on top, each value checked
 * with an error that names the flag. The result is saved as run.json in the run folder so that
 * `--resume DIR` continues with exactly the same configuration.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { GPU_MODES as GPU_BACKEND_MODES } from '../backends/gpu/modes.js';
import { GEMM_SUMS, type GemmSums } from '../backends/cpu/sums.js';
import { listBinarizers } from '../binary/binarizers.js';
import { defaultSearchSettings, resolveSearchSettings, resolveTrainSettings } from '../nas/settings.js';
import { listStrategies } from '../nas/strategies/index.js';
import { CHILD_BLOCKS } from '../nas/units.js';
import type { SearchSettings, StrategyName, TrainSettings } from '../nas/types.js';
import { UsageError, type FlagValues } from './args.js';
import { DATASETS, PRESETS, PRESET_NAMES, type DatasetName, type PresetName, type SplitLimits } from './presets.js';

export const BACKENDS = ['cpu', 'gpu'] as const;
export const OPTIMIZERS = ['sgd', 'adam'] as const;
/** gpu.js modes: 'gpu' = the best one that is not cpu. */
export const GPU_MODES: readonly string[] = ['gpu', ...GPU_BACKEND_MODES];

/** Everything a search or training run needs besides the data itself; stored as run.json. */
export interface RunConfig {
  preset: PresetName;
  dataset: DatasetName;
  dataDir?: string;
  /** Images used per split (undefined = all). */
  limit?: SplitLimits;
  seed: number;
  backend: 'cpu' | 'gpu';
  gpuMode?: string;
  /** How the cpu GEMM sums (--sums; absent with --backend gpu, and in run.json files written before it: float64). */
  sums?: GemmSums;
  /** Budget of one sampled architecture as images; turned into sampleFraction once the data is known. */
  samplesPerEpoch?: number;
  /** Stop after the search. */
  noTrain: boolean;
  search: SearchSettings;
  train: TrainSettings;
}

// ---- value checks (each error names the flag) -------------------------------------------------------

function str(values: FlagValues, flag: string): string | undefined {
  const v = values[flag];
  if (v === undefined || typeof v === 'boolean') return undefined;
  if (v.trim() === '') throw new UsageError(`--${flag}`, 'needs a value, got an empty string');
  return v;
}

/** An integer flag >= min (and <= max). */
export function intFlag(values: FlagValues, flag: string, min = 0, max?: number): number | undefined {
  const v = str(values, flag);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^[+-]?\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`--${flag}`, `must be an integer, got "${v}"`);
  if (n < min) throw new UsageError(`--${flag}`, `must be ${min === 1 ? 'a positive integer' : `an integer >= ${min}`}, got ${n}`);
  if (max !== undefined && n > max) throw new UsageError(`--${flag}`, `must be at most ${max}, got ${n}`);
  return n;
}

/** An on|off flag (`--simd on`), or undefined when absent. */
export function onOffFlag(values: FlagValues, flag: string): boolean | undefined {
  const v = str(values, flag);
  if (v === undefined) return undefined;
  const t = v.trim().toLowerCase();
  if (t === 'on') return true;
  if (t === 'off') return false;
  throw new UsageError(`--${flag}`, `must be on or off, got "${v}"`);
}

/** The largest --image-size: images are held in memory as float32, so far larger sizes cannot be allocated. */
export const MAX_IMAGE_SIZE = 1024;

/** A number flag in a range; `above` excludes the lower bound. */
export function numFlag(values: FlagValues, flag: string, range: { min?: number; above?: number; max?: number } = {}): number | undefined {
  const v = str(values, flag);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v.trim())) throw new UsageError(`--${flag}`, `must be a number, got "${v}"`);
  if (range.above !== undefined && !(n > range.above)) throw new UsageError(`--${flag}`, `must be greater than ${range.above}, got ${n}`);
  if (range.min !== undefined && n < range.min) throw new UsageError(`--${flag}`, `must be >= ${range.min}, got ${n}`);
  if (range.max !== undefined && n > range.max) throw new UsageError(`--${flag}`, `must be <= ${range.max}, got ${n}`);
  return n;
}

/**
 * --sums, else $CPNAS_GEMM_SUMS, else float64 (backends/cpu/sums.ts): a setting of the cpu backend.
 * With --backend gpu it is undefined (the environment's default does not apply there), and --sums
 * float32 is a usage error. A bad environment value is a usage error naming the variable.
 */
export function sumsFlag(values: FlagValues, backend: 'cpu' | 'gpu'): GemmSums | undefined {
  const flag = enumFlag(values, 'sums', GEMM_SUMS);
  if (backend !== 'cpu') {
    if (flag === 'float32') {
      throw new UsageError('--sums', 'float32 sums are a setting of the cpu backend (the gpu backend sums in float32 anyway); leave it out with --backend gpu');
    }
    return undefined;
  }
  const env = process.env.CPNAS_GEMM_SUMS;
  if (flag === undefined && env !== undefined && env !== '' && !(GEMM_SUMS as readonly string[]).includes(env)) {
    throw new UsageError('CPNAS_GEMM_SUMS', `unknown value "${env}" (choose one of: ${GEMM_SUMS.join(', ')})`);
  }
  return flag ?? ((env || undefined) as GemmSums | undefined) ?? 'float64';
}

/** One of a fixed list of names. */
export function enumFlag<T extends string>(values: FlagValues, flag: string, allowed: readonly T[]): T | undefined {
  const v = str(values, flag);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${flag}`, `unknown value "${v}" (choose one of: ${allowed.join(', ')})`);
  return v as T;
}

/** A comma-separated list. */
export function listFlag(values: FlagValues, flag: string): string[] | undefined {
  const v = str(values, flag);
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new UsageError(`--${flag}`, `needs a comma-separated list, got "${v}"`);
  return items;
}

/** A folder that must exist. */
export function dirFlag(values: FlagValues, flag: string): string | undefined {
  const v = str(values, flag);
  if (v === undefined) return undefined;
  if (!existsSync(v)) throw new UsageError(`--${flag}`, `folder "${v}" does not exist`);
  if (!statSync(v).isDirectory()) throw new UsageError(`--${flag}`, `"${v}" is not a folder`);
  return v;
}

/** A file that must exist. */
export function fileFlag(values: FlagValues, flag: string): string | undefined {
  const v = str(values, flag);
  if (v === undefined) return undefined;
  if (!existsSync(v)) throw new UsageError(`--${flag}`, `file "${v}" does not exist`);
  if (statSync(v).isDirectory()) throw new UsageError(`--${flag}`, `"${v}" is a folder, not a file`);
  return v;
}

export function strategyFlag(values: FlagValues, flag = 'strategy'): StrategyName | undefined {
  return enumFlag(values, flag, listStrategies()) as StrategyName | undefined;
}

// ---- preset + flags -> configuration --------------------------------------------------------------

export type ConfigCommand = 'search' | 'train' | 'ablate';

/** Resolves a command's flags over its preset. Throws UsageError for a bad flag. */
export function resolveConfig(command: ConfigCommand, values: FlagValues): RunConfig {
  const presetName: PresetName = enumFlag(values, 'preset', PRESET_NAMES) ?? 'default';
  const preset = PRESETS[presetName];
  const dataset: DatasetName = enumFlag(values, 'dataset', DATASETS) ?? preset.dataset;
  const seed = intFlag(values, 'seed', 0) ?? 0;
  const backend = enumFlag(values, 'backend', BACKENDS) ?? 'cpu';
  const gpuMode = enumFlag(values, 'gpu-mode', GPU_MODES);
  if (gpuMode !== undefined && backend !== 'gpu') throw new UsageError('--gpu-mode', 'only applies with --backend gpu');

  const search: Partial<SearchSettings> = { ...preset.search, seed };
  const train: Partial<TrainSettings> = { ...preset.train, seed };

  // shared budget
  const imageSize = intFlag(values, 'image-size', 4, MAX_IMAGE_SIZE);
  const batchSize = intFlag(values, 'batch-size', 1);
  const lr = numFlag(values, 'lr', { above: 0 });
  if (imageSize !== undefined) search.imageSize = train.imageSize = imageSize;
  if (batchSize !== undefined) search.batchSize = train.batchSize = batchSize;
  if (lr !== undefined) {
    search.lr = lr;
    train.parentLr = train.childLr = lr;
  }
  const childBlock = enumFlag(values, 'child-block', CHILD_BLOCKS);
  if (childBlock !== undefined) search.childBlock = train.childBlock = childBlock;

  // the recipe shared by both stages
  const optimizer = enumFlag(values, 'optimizer', OPTIMIZERS);
  if (optimizer !== undefined) search.optimizer = train.optimizer = optimizer;
  const lrMin = numFlag(values, 'lr-min', { min: 0 });
  if (lrMin !== undefined) search.lrMin = train.lrMin = lrMin;
  const momentum = numFlag(values, 'momentum', { min: 0, max: 1 });
  if (momentum !== undefined) search.momentum = train.momentum = momentum;
  const weightDecay = numFlag(values, 'weight-decay', { min: 0 });
  if (weightDecay !== undefined) search.weightDecay = train.weightDecay = weightDecay;
  const gradClip = numFlag(values, 'grad-clip', { min: 0 });
  if (gradClip !== undefined) search.gradClip = train.gradClip = gradClip;
  const known = listBinarizers();
  const activation = enumFlag(values, 'activation-binarizer', known);
  const weight = enumFlag(values, 'weight-binarizer', known);
  for (const s of [search, train]) {
    const b = { ...(defaultSearchSettings().binarizers), ...s.binarizers };
    s.binarizers = { activation: activation ?? b.activation, weight: weight ?? b.weight };
  }

  // search budget
  if (command !== 'train') {
    const strategy = command === 'search' ? strategyFlag(values) : undefined;
    if (strategy) search.strategy = strategy;
    setIf(search, 'cells', intFlag(values, 'cells', 1));
    setIf(search, 'channels', intFlag(values, 'channels', 1));
    setIf(search, 'T', intFlag(values, 'T', 1));
    setIf(search, 'beta', numFlag(values, 'beta', { min: 0 }));
    setIf(search, 'sampleFraction', numFlag(values, 'sample-fraction', { above: 0, max: 1 }));
    setIf(search, 'valFraction', numFlag(values, 'val-fraction', { above: 0, max: 1 }));
    setIf(search, 'dartsEpochs', numFlag(values, 'search-epochs', { above: 0 }));
    setIf(search, 'partialChannels', intFlag(values, 'partial-channels', 1));
    setIf(search, 'warmupEpochs', intFlag(values, 'warmup-epochs', 0));
    setIf(search, 'bnasUcb', numFlag(values, 'bnas-ucb', { min: 0 }));
    setIf(search, 'maxOps', numFlag(values, 'max-ops', { above: 0 }));
    setIf(search, 'maxBytes', numFlag(values, 'max-bytes', { above: 0 }));
    setIf(search, 'dcpLambda', numFlag(values, 'dcp-lambda', { min: 0 }));
    setIf(search, 'dnaTeacherEpochs', numFlag(values, 'dna-teacher-epochs', { min: 0 }));
    setIf(search, 'dnaBlockEpochs', numFlag(values, 'dna-block-epochs', { above: 0 }));
    setIf(search, 'keepOps', intFlag(values, 'keep-ops', 1));
    setIf(search, 'noneRule', enumFlag(values, 'none-rule', ['abandon', 'rank'] as const));
    setIf(search, 'optimizer', enumFlag(values, 'search-optimizer', OPTIMIZERS));
    setIf(search, 'lr', numFlag(values, 'search-lr', { above: 0 }));
    setIf(search, 'lrSchedule', enumFlag(values, 'search-lr-schedule', ['cosine', 'constant'] as const));
    const primitives = listFlag(values, 'primitives');
    if (primitives) search.primitives = primitives;
    if (values['sample-fraction'] !== undefined && values['samples-per-epoch'] !== undefined) {
      throw new UsageError('--samples-per-epoch', 'give either --samples-per-epoch or --sample-fraction, not both');
    }
  }

  // training budget
  setIf(train, 'cells', intFlag(values, 'train-cells', 1));
  setIf(train, 'channels', intFlag(values, 'train-channels', 1));
  if (command === 'train') {
    setIf(train, 'cells', intFlag(values, 'cells', 1));
    setIf(train, 'channels', intFlag(values, 'channels', 1));
  }
  const epochs = numFlag(values, 'epochs', { min: 0 });
  if (epochs !== undefined) train.parentEpochs = train.childEpochs = epochs;
  setIf(train, 'parentEpochs', numFlag(values, 'parent-epochs', { min: 0 }));
  setIf(train, 'childEpochs', numFlag(values, 'child-epochs', { min: 0 }));
  setIf(train, 'lambda', numFlag(values, 'lambda', { min: 0 }));
  setIf(train, 'theta', numFlag(values, 'theta', { min: 0 }));
  setIf(train, 'optimizer', enumFlag(values, 'train-optimizer', OPTIMIZERS));
  setIf(train, 'parentLr', numFlag(values, 'parent-lr', { above: 0 }));
  setIf(train, 'childLr', numFlag(values, 'child-lr', { above: 0 }));
  setIf(train, 'childInit', enumFlag(values, 'child-init', ['parent', 'scratch'] as const));
  setIf(train, 'freezeBnFraction', numFlag(values, 'freeze-bn', { min: 0, max: 1 }));
  setIf(train, 'kd', numFlag(values, 'kd', { min: 0 }));
  setIf(train, 'kdTemperature', numFlag(values, 'kd-temperature', { above: 0 }));
  setIf(train, 'shards', intFlag(values, 'shards', 1, 2));

  let resolvedSearch: SearchSettings;
  let resolvedTrain: TrainSettings;
  try {
    resolvedTrain = resolveTrainSettings(train);
    // a budget is measured on the final Child: the training stage's cells and channels
    if (search.maxOps || search.maxBytes) {
      search.budgetCells = resolvedTrain.cells;
      search.budgetChannels = resolvedTrain.channels;
    }
    resolvedSearch = resolveSearchSettings(search);
  } catch (e) {
    // a value only the settings can judge (an unknown primitive, keepOps too large): still the user's input
    throw new UsageError(primitivesFlagNamed(e) ? '--primitives' : 'settings', (e as Error).message);
  }

  checkBudget(values, command, resolvedSearch, resolvedTrain);

  return {
    preset: presetName,
    dataset,
    dataDir: absolute(dirFlag(values, 'data') ?? envDataDir()), // absolute, so that --resume works from any folder
    // a preset is a budget: its image caps hold on any dataset (presetNote tells the user)
    limit: limitOf(values, preset.limit),
    seed,
    backend,
    gpuMode,
    sums: sumsFlag(values, backend),
    samplesPerEpoch: command === 'train' ? undefined : intFlag(values, 'samples-per-epoch', 1),
    noTrain: values['no-train'] === true,
    search: resolvedSearch,
    train: resolvedTrain,
  };
}

/**
 * What `--print-config` prints: the fully resolved configuration of a command (preset + flags, through
 * the same validation as a run), and how the preset's recipe departs from the published one.
 */
export function printableConfig(cfg: RunConfig, command: ConfigCommand): Record<string, unknown> {
  const { dataDir: _dataDir, ...rest } = cfg; // a machine's folder: not part of the recipe
  return {
    command, ...rest,
    ...(command === 'train' ? { search: undefined } : {}),
    departuresFromPaper: PRESETS[cfg.preset].departures,
  };
}

/**
 * Budgets beyond what can finish on this tool's CPU path: refused with the limit and the reason unless
 * --force. (The paper's CIFAR-10 budget, 20 cells of 36 channels for 600 epochs, stays within them.)
 */
export const BUDGET_LIMITS = { epochs: 1000, cells: 64, channels: 1024, T: 100 } as const;

function checkBudget(values: FlagValues, command: string, search: SearchSettings, train: TrainSettings): void {
  if (values.force === true) return;
  const over = (flag: string, value: number, limit: number, why: string) => {
    if (value > limit) throw new UsageError(flag, `${value} is beyond the limit of ${limit} (${why}); add --force to run it anyway`);
  };
  const epochsWhy = 'at minutes per epoch it would run for weeks';
  over(values['parent-epochs'] !== undefined ? '--parent-epochs' : '--epochs', train.parentEpochs, BUDGET_LIMITS.epochs, epochsWhy);
  over(values['child-epochs'] !== undefined ? '--child-epochs' : '--epochs', train.childEpochs, BUDGET_LIMITS.epochs, epochsWhy);
  const cellsWhy = 'each cell adds layers and memory; the paper uses at most 20';
  const channelsWhy = 'memory and time grow with the square of the channels; the paper uses at most 36 in the first cells';
  over(values['train-cells'] !== undefined ? '--train-cells' : '--cells', train.cells, BUDGET_LIMITS.cells, cellsWhy);
  over(values['train-channels'] !== undefined ? '--train-channels' : '--channels', train.channels, BUDGET_LIMITS.channels, channelsWhy);
  if (command !== 'train') {
    over('--cells', search.cells, BUDGET_LIMITS.cells, cellsWhy);
    over('--channels', search.channels, BUDGET_LIMITS.channels, channelsWhy);
    over('--search-epochs', search.dartsEpochs, BUDGET_LIMITS.epochs, epochsWhy);
    over('--T', search.T, BUDGET_LIMITS.T, 'every round trains T times every remaining operation');
  }
}

/**
 * The line that tells a user a preset's image caps were kept on another dataset than the preset's
 * own (`--preset tiny --dataset digits` uses 256 of the digits, not all 7,000); null otherwise.
 */
export function presetNote(cfg: RunConfig): string | null {
  const preset = PRESETS[cfg.preset];
  if (!preset.limit || cfg.dataset === preset.dataset) return null;
  const l = cfg.limit ?? {};
  const caps = (['train', 'val', 'test'] as const).filter((k) => l[k] !== undefined).map((k) => `${l[k]} ${k}`).join(', ');
  return `preset ${cfg.preset}: its image limits apply to ${cfg.dataset} too (${caps} images); --limit N changes the training images, or choose another --preset for the whole dataset`;
}

/** --limit N caps the training images; the preset's caps apply on any dataset. */
function limitOf(values: FlagValues, presetLimit: SplitLimits | undefined): SplitLimits | undefined {
  const train = intFlag(values, 'limit', 1);
  if (train === undefined) return presetLimit;
  return { ...presetLimit, train };
}

function primitivesFlagNamed(e: unknown): boolean {
  return e instanceof Error && /primitive|operation/.test(e.message);
}

function absolute(dir: string | undefined): string | undefined {
  return dir === undefined ? undefined : resolve(dir);
}

function envDataDir(): string | undefined {
  const d = process.env.CPNAS_DATA;
  return d && existsSync(d) ? d : undefined;
}

function setIf<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) obj[key] = value;
}

/**
 * Checks a configuration read back from a run folder (run.json, ablation-config.json), which a person
 * may have edited or a disk may have damaged: every field the CLI reads, and the settings through the
 * same checks as fresh ones. Returns it with the settings resolved; errors name `flag` and the file.
 */
export function checkStoredConfig(value: unknown, file: string, flag = '--resume'): RunConfig {
  const bad = (msg: string) => new UsageError(flag, `${file}: ${msg}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(`"config" must be an object, got ${JSON.stringify(value)}`);
  const c = value as Partial<Record<keyof RunConfig, unknown>>;
  const oneOf = (field: keyof RunConfig, allowed: readonly string[]) => {
    if (!allowed.includes(c[field] as string)) throw bad(`config.${field} is ${JSON.stringify(c[field])}, expected one of ${allowed.join(', ')}`);
  };
  oneOf('preset', PRESET_NAMES);
  oneOf('dataset', DATASETS);
  oneOf('backend', BACKENDS);
  if (!Number.isSafeInteger(c.seed) || (c.seed as number) < 0) throw bad(`config.seed must be an integer >= 0, got ${JSON.stringify(c.seed)}`);
  if (c.dataDir !== undefined && typeof c.dataDir !== 'string') throw bad(`config.dataDir must be a folder name, got ${JSON.stringify(c.dataDir)}`);
  if (c.gpuMode !== undefined) oneOf('gpuMode', GPU_MODES);
  if (c.sums !== undefined) oneOf('sums', GEMM_SUMS);
  if (c.samplesPerEpoch !== undefined && !(Number.isSafeInteger(c.samplesPerEpoch) && (c.samplesPerEpoch as number) >= 1)) {
    throw bad(`config.samplesPerEpoch must be a positive integer, got ${JSON.stringify(c.samplesPerEpoch)}`);
  }
  if (c.limit !== undefined) {
    const l = c.limit as Record<string, unknown> | null;
    if (l === null || typeof l !== 'object' || Object.values(l).some((n) => n !== undefined && !(Number.isSafeInteger(n) && (n as number) >= 1))) {
      throw bad(`config.limit must be { train?, val?, test? } with positive integers, got ${JSON.stringify(l)}`);
    }
  }
  for (const field of ['search', 'train'] as const) {
    if (c[field] === null || typeof c[field] !== 'object' || Array.isArray(c[field])) throw bad(`config.${field} must be an object of settings, got ${JSON.stringify(c[field])}`);
  }
  try {
    return {
      ...(c as RunConfig),
      noTrain: c.noTrain === true,
      search: resolveSearchSettings(c.search as Partial<SearchSettings>),
      train: resolveTrainSettings(c.train as Partial<TrainSettings>),
    };
  } catch (e) {
    throw bad((e as Error).message);
  }
}

/** sampleFraction from --samples-per-epoch, once the size of the search-train split is known. */
export function applySamplesPerEpoch(cfg: RunConfig, searchTrainLength: number): void {
  if (cfg.samplesPerEpoch === undefined) return;
  if (searchTrainLength <= 0) throw new UsageError('--samples-per-epoch', 'the search-train split is empty');
  cfg.search = { ...cfg.search, sampleFraction: Math.min(1, cfg.samplesPerEpoch / searchTrainLength) };
}
