/** `cpnas search`: search a cell, then train its Child and Parent (unless --no-train). */
import { UsageError, type FlagValues } from '../args.js';
import { presetNote, printableConfig, resolveConfig, type RunConfig } from '../config.js';
import type { Ctx } from '../context.js';
import type { LockHandle } from '../../core/storage.js';
import { checkSearchSplit, createRunFolder, DataCache, lockRunFolder, readStoredRun, removeStaleTempFiles, runPipeline, writeStoredRun } from '../pipeline.js';
import { runSummary } from '../summary.js';
import { defaultOutDir, resumeHint, resumeOverrides } from './shared.js';

export async function searchCommand(ctx: Ctx, values: FlagValues): Promise<number> {
  let lock: LockHandle | null = null;
  try {
    return await search(ctx, values, (l) => { lock = l; });
  } finally {
    (lock as LockHandle | null)?.release();
  }
}

async function search(ctx: Ctx, values: FlagValues, locked: (l: LockHandle) => void): Promise<number> {
  let dir: string;
  let cfg: RunConfig;
  const resuming = typeof values.resume === 'string';
  if (resuming) {
    dir = values.resume as string;
    const stored = readStoredRun(dir);
    if (stored.command !== 'search') {
      throw new UsageError('--resume', `"${dir}" is a ${stored.command} run; continue it with \`cpnas ${stored.command} --resume ${dir}\``);
    }
    cfg = resumeOverrides(stored.config, values, 'search');
    locked(lockRunFolder(ctx, dir, 'search'));
    removeStaleTempFiles(dir); // no other writer: the lock is ours
    if (values['print-config'] === true) {
      ctx.print(JSON.stringify(printableConfig(cfg, 'search'), null, 2));
      return 0;
    }
  } else {
    cfg = resolveConfig('search', values);
    if (values['print-config'] === true) {
      ctx.print(JSON.stringify(printableConfig(cfg, 'search'), null, 2));
      return 0;
    }
    dir = typeof values.out === 'string' ? values.out : defaultOutDir('search', cfg.dataset, cfg.search.strategy);
    createRunFolder(dir, 'search', { check: true });
  }
  const backend = await ctx.start(cfg.backend, cfg.gpuMode, cfg.sums ?? 'float64');
  // Load the data before making the folder: a missing dataset is reported without leaving a run behind.
  const data = new DataCache(ctx, cfg);
  const searchData = await data.get(cfg.search.imageSize);
  if (!resuming) {
    checkSearchSplit(ctx, cfg, searchData);
    createRunFolder(dir, 'search');
    locked(lockRunFolder(ctx, dir, 'search', '--out'));
    writeStoredRun(dir, { command: 'search', config: cfg, provenance: ctx.provenance() });
    const note = presetNote(cfg);
    if (note) ctx.note(note);
  }
  ctx.note(
    `cpnas search: strategy ${cfg.search.strategy} on ${cfg.dataset} (preset ${cfg.preset}, seed ${cfg.seed}, backend ${backend})` +
      `${cfg.noTrain ? ', no training' : ''} -> ${dir}`,
  );
  const out = await runPipeline(ctx, cfg, dir, { data, resumeCommand: resumeHint(ctx.invocation, 'search', dir) });
  ctx.print(runSummary(dir, out.genotype, out.result, out.searchSeconds, out.files));
  return 0;
}
