/** `cpnas train --genotype FILE`: train the Parent, then the 1-bit Child, of a given genotype. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CpnasError } from '../../core/index.js';
import { genotypeToJSON, validateGenotype } from '../../nas/genotype.js';
import { isNamedGenotype, listNamedGenotypes, namedGenotype } from '../../nas/named-genotypes.js';
import { readJson, writeFileAtomic } from '../../nas/io.js';
import { RUN_FILES, type Genotype } from '../../nas/types.js';
import { UsageError, type FlagValues } from '../args.js';
import { fileFlag, presetNote, printableConfig, resolveConfig, type RunConfig } from '../config.js';
import type { Ctx } from '../context.js';
import type { LockHandle } from '../../core/storage.js';
import { createRunFolder, DataCache, lockRunFolder, readStoredRun, removeStaleTempFiles, RUN_CONFIG_FILE, trainStage, writeReports, writeStoredRun } from '../pipeline.js';
import { DATASETS } from '../presets.js';
import { runSummary } from '../summary.js';
import { defaultOutDir, resumeHint, resumeOverrides } from './shared.js';

/**
 * Reads a genotype from a genotype.json, a result.json or any JSON object with a `genotype` field.
 * Every problem is reported against --genotype.
 */
export function readGenotypeFile(path: string): Genotype {
  try {
    const value = readJson<unknown>(path, 'genotype file');
    const inner = value && typeof value === 'object' && 'genotype' in value ? (value as { genotype: unknown }).genotype : value;
    return validateGenotype(inner);
  } catch (e) {
    if (e instanceof CpnasError) throw new UsageError('--genotype', e.message.includes(path) ? e.message : `${path}: ${e.message}`);
    throw e;
  }
}

/**
 * --genotype: a published genotype by name (`darts_v2`, see nas/named-genotypes.ts) unless a file of
 * that name exists, else a genotype file.
 */
function genotypeFlag(values: FlagValues): Genotype {
  const v = values.genotype;
  if (typeof v === 'string' && isNamedGenotype(v) && !existsSync(v)) return namedGenotype(v);
  const file = fileFlag(values, 'genotype');
  if (!file) {
    throw new UsageError('--genotype', `is required: the genotype.json of a search (or a result.json), or a published genotype (${listNamedGenotypes().join(', ')})`);
  }
  return readGenotypeFile(file);
}

/** The dataset (and data folder) recorded in the run.json beside a genotype file; null when there is none. */
export function datasetOfGenotypeRun(genotypeFile: string): { dataset: string; dataDir?: string; file: string } | null {
  const file = join(dirname(genotypeFile), RUN_CONFIG_FILE);
  if (!existsSync(file)) return null;
  try {
    const stored = readJson<{ config?: { dataset?: unknown; dataDir?: unknown } }>(file, RUN_CONFIG_FILE);
    const dataset = stored?.config?.dataset;
    if (typeof dataset !== 'string' || !(DATASETS as readonly string[]).includes(dataset)) return null;
    const dataDir = typeof stored.config?.dataDir === 'string' && existsSync(stored.config.dataDir) ? stored.config.dataDir : undefined;
    return { dataset, dataDir, file };
  } catch {
    return null; // a damaged run.json beside the genotype: the genotype itself is what was asked for
  }
}

export async function trainCommand(ctx: Ctx, values: FlagValues): Promise<number> {
  let lock: LockHandle | null = null;
  try {
    return await trainRun(ctx, values, (l) => { lock = l; });
  } finally {
    (lock as LockHandle | null)?.release();
  }
}

async function trainRun(ctx: Ctx, values: FlagValues, locked: (l: LockHandle) => void): Promise<number> {
  let dir: string;
  let cfg: RunConfig;
  let genotype: Genotype;
  if (typeof values.resume === 'string') {
    dir = values.resume;
    const stored = readStoredRun(dir);
    if (stored.command !== 'train') {
      throw new UsageError('--resume', `"${dir}" is a ${stored.command} run; continue it with \`cpnas ${stored.command} --resume ${dir}\``);
    }
    cfg = resumeOverrides(stored.config, values, 'train');
    if (values['print-config'] === true) {
      ctx.print(JSON.stringify(printableConfig(cfg, 'train'), null, 2));
      return 0;
    }
    try {
      genotype = readGenotypeFile(join(dir, RUN_FILES.genotype));
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError('--resume', e.message.slice(e.where.length + 2)); // the user named the folder, not the file
      throw e;
    }
    locked(lockRunFolder(ctx, dir, 'train'));
    removeStaleTempFiles(dir); // no other writer: the lock is ours
  } else {
    if (values['print-config'] === true) {
      ctx.print(JSON.stringify(printableConfig({ ...resolveConfig('train', values), noTrain: false }, 'train'), null, 2));
      return 0;
    }
    genotype = genotypeFlag(values);
    // Without --dataset, train on the dataset the genotype was searched on (its run's run.json).
    const named = typeof values.genotype === 'string' && existsSync(values.genotype) ? values.genotype : null;
    const from = values.dataset === undefined && named ? datasetOfGenotypeRun(named) : null;
    cfg = { ...resolveConfig('train', from ? { ...values, dataset: from.dataset, data: values.data ?? from.dataDir } : values), noTrain: false };
    if (from) ctx.note(`cpnas train: dataset ${from.dataset}, as in ${from.file} (the genotype's run); --dataset NAME to train on another`);
    dir = typeof values.out === 'string' ? values.out : defaultOutDir('train', cfg.dataset);
    createRunFolder(dir, 'train', { check: true });
  }
  const backend = await ctx.start(cfg.backend, cfg.gpuMode, cfg.sums ?? 'float64');
  const data = new DataCache(ctx, cfg);
  await data.get(cfg.train.imageSize); // before the folder is made: a data error leaves nothing behind
  if (typeof values.resume !== 'string') {
    createRunFolder(dir, 'train');
    locked(lockRunFolder(ctx, dir, 'train', '--out'));
    writeFileAtomic(join(dir, RUN_FILES.genotype), genotypeToJSON(genotype));
    writeStoredRun(dir, { command: 'train', config: cfg, provenance: ctx.provenance() });
    const note = presetNote(cfg);
    if (note) ctx.note(note);
  }
  ctx.note(`cpnas train: ${cfg.train.cells} cells, C = ${cfg.train.channels} on ${cfg.dataset} (preset ${cfg.preset}, seed ${cfg.seed}, backend ${backend}) -> ${dir}`);
  const result = await trainStage(ctx, cfg, dir, genotype, { data, resumeCommand: resumeHint(ctx.invocation, 'train', dir), searchSeconds: 0, withSearch: false });
  const { files } = writeReports(dir, cfg, genotype, result, false);
  ctx.print(runSummary(dir, genotype, result, 0, files));
  return 0;
}
