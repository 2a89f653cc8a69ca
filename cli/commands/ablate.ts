/**
 * `cpnas ablate`: every strategy with every seed on one budget, each run in its own folder
 * (`<strategy>-seed<N>`), then a table of Child accuracy mean ± std, Parent accuracy and search time
 * (ablation.md, ablation.json). Finished runs are kept, so `--resume DIR` only runs what is missing.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../../nas/io.js';
import { ablationJson, ablationMarkdown, summarizeAblation, type AblationRun } from '../../nas/report/table.js';
import { listStrategies } from '../../nas/strategies/index.js';
import type { StrategyName } from '../../nas/types.js';
import { UsageError, type FlagValues } from '../args.js';
import { checkStoredConfig, intFlag, listFlag, resolveConfig, type RunConfig } from '../config.js';
import { Interrupted, type Ctx } from '../context.js';
import {
  checkOutFolder, checkSearchSplit, DataCache, makeFolder, removeStaleTempFiles, runPipeline, RUN_CONFIG_FILE, writeStoredRun,
} from '../pipeline.js';
import { defaultOutDir, resumeOverrides } from './shared.js';

export const ABLATION_FILES = { config: 'ablation-config.json', markdown: 'ablation.md', json: 'ablation.json' } as const;

interface AblationConfig {
  strategies: StrategyName[];
  seeds: number;
  config: RunConfig;
}

export async function ablateCommand(ctx: Ctx, values: FlagValues): Promise<number> {
  let dir: string;
  let ab: AblationConfig;
  if (typeof values.resume === 'string') {
    dir = values.resume;
    const stored = readAblationConfig(dir);
    ab = { ...stored, config: resumeOverrides(stored.config, values, 'ablate') };
    removeStaleTempFiles(dir);
  } else {
    const known = listStrategies();
    const strategies = (listFlag(values, 'strategies') ?? ['cp', 'bnas', 'darts', 'random']) as StrategyName[];
    for (const s of strategies) {
      if (!known.includes(s)) throw new UsageError('--strategies', `unknown strategy "${s}" (choose from: ${known.join(', ')})`);
    }
    if (new Set(strategies).size !== strategies.length) throw new UsageError('--strategies', `names a strategy twice: ${strategies.join(',')}`);
    const seeds = intFlag(values, 'seeds', 1) ?? 3;
    ab = { strategies, seeds, config: resolveConfig('ablate', values) };
    dir = typeof values.out === 'string' ? values.out : defaultOutDir('ablate', ab.config.dataset);
    checkOutFolder(dir);
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      throw new UsageError('--out', existsSync(join(dir, ABLATION_FILES.config))
        ? `"${dir}" already holds an ablation; continue it with \`cpnas ablate --resume ${dir}\` or choose another --out`
        : `"${dir}" exists and is not empty; choose another --out`);
    }
  }

  const base = ab.config;
  await ctx.start(base.backend, base.gpuMode);
  const data = new DataCache(ctx, base); // one dataset for every run: only the search and training seeds vary
  checkSearchSplit(ctx, base, await data.get(base.search.imageSize)); // before the folder is made: a data error leaves nothing behind
  if (!existsSync(join(dir, ABLATION_FILES.config))) {
    makeFolder(dir);
    writeJsonAtomic(join(dir, ABLATION_FILES.config), ab);
  }
  ctx.note(`cpnas ablate: ${ab.strategies.join(', ')} x ${ab.seeds} seed(s) on ${base.dataset} (preset ${base.preset}) -> ${dir}`);
  const runs: AblationRun[] = [];
  const total = ab.strategies.length * ab.seeds;
  for (const strategy of ab.strategies) {
    for (let k = 0; k < ab.seeds; k++) {
      const seed = base.seed + k;
      const cfg: RunConfig = { ...base, seed, search: { ...base.search, strategy, seed }, train: { ...base.train, seed } };
      const sub = join(dir, `${strategy}-seed${seed}`);
      if (!existsSync(join(sub, RUN_CONFIG_FILE))) {
        mkdirSync(sub, { recursive: true });
        writeStoredRun(sub, { command: 'search', config: cfg });
      }
      ctx.note(`[${runs.length + 1}/${total}] ${strategy}, seed ${seed} -> ${sub}`);
      try {
        const out = await runPipeline(ctx, cfg, sub, { data, resumeCommand: `cpnas ablate --resume ${dir}` });
        const r = out.result;
        runs.push({
          strategy, seed, outDir: sub,
          childAccuracy: r?.child.testAccuracy ?? null, parentAccuracy: r?.parent.testAccuracy ?? null,
          searchSeconds: out.searchSeconds, trainSeconds: r?.trainSeconds ?? null, ops: r?.ops ?? null,
        });
      } catch (e) {
        if (e instanceof Interrupted || e instanceof UsageError || ctx.signal.aborted) {
          throw e instanceof Interrupted ? new Interrupted(dir, `cpnas ablate --resume ${dir}`) : e;
        }
        // One failed run should not lose the others: record it and go on.
        ctx.note(`run ${strategy}, seed ${seed} failed: ${(e as Error).message}`);
        runs.push({ strategy, seed, outDir: sub, childAccuracy: null, parentAccuracy: null, searchSeconds: null, trainSeconds: null, ops: null, error: (e as Error).message });
      }
      writeTables(dir, runs, ab);
    }
  }
  const table = writeTables(dir, runs, ab);
  ctx.print(`\n${table}\nWritten: ${join(dir, ABLATION_FILES.markdown)}, ${join(dir, ABLATION_FILES.json)}\n`);
  return runs.some((r) => r.error) ? 1 : 0;
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
  const known = listStrategies();
  const { strategies, seeds } = stored;
  if (!Array.isArray(strategies) || strategies.length === 0 || strategies.some((s) => !known.includes(s)) || new Set(strategies).size !== strategies.length) {
    throw new UsageError('--resume', `${path}: "strategies" must list different strategies among ${known.join(', ')}, got ${JSON.stringify(strategies)}`);
  }
  if (!Number.isSafeInteger(seeds) || (seeds as number) < 1) throw new UsageError('--resume', `${path}: "seeds" must be a positive integer, got ${JSON.stringify(seeds)}`);
  return { strategies, seeds: seeds as number, config: checkStoredConfig(stored.config, path) };
}

function writeTables(dir: string, runs: AblationRun[], ab: AblationConfig): string {
  const rows = summarizeAblation(runs);
  const table = ablationMarkdown(rows);
  const budget = { dataset: ab.config.dataset, preset: ab.config.preset, seeds: ab.seeds, search: ab.config.search, train: ab.config.noTrain ? null : ab.config.train };
  writeFileAtomic(join(dir, ABLATION_FILES.markdown), `# Ablation: ${ab.strategies.join(', ')} on ${ab.config.dataset}\n\n${table}`);
  writeJsonAtomic(join(dir, ABLATION_FILES.json), ablationJson(runs, rows, budget));
  return table;
}
