/** `cpnas eval --model DIR|FILE`: test accuracy of a saved Child (1-bit engine) or Parent, or of an exported Child file. */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CpnasError } from '../../core/index.js';
import { UsageError, type FlagValues } from '../args.js';
import { BACKENDS, dirFlag, enumFlag, GPU_MODES, intFlag, MAX_IMAGE_SIZE, sumsFlag, type RunConfig } from '../config.js';
import type { Ctx } from '../context.js';
import { loadData, readStoredRun, RUN_CONFIG_FILE } from '../pipeline.js';
import { DATASETS, type DatasetName } from '../presets.js';
import { evaluationSummary } from '../summary.js';

/** The run folder a model folder belongs to: the folder itself or its parent, if either holds run.json. */
function runFolderOf(model: string): string | null {
  if (existsSync(join(model, RUN_CONFIG_FILE))) return model;
  const up = dirname(model);
  return existsSync(join(up, RUN_CONFIG_FILE)) ? up : null;
}

/** What an exported Child file says about the data it was trained on (its plan's meta). */
async function exportedInfo(file: string): Promise<{ dataset?: DatasetName; limit?: RunConfig['limit']; seed?: number; imageSize: number }> {
  const { readChildFile } = await import('../../binary/runtime/node.js');
  let child;
  try {
    child = readChildFile(file);
  } catch (e) {
    if (e instanceof CpnasError) throw new UsageError('--model', e.message);
    throw e;
  }
  const m = child.meta;
  return {
    dataset: (DATASETS as readonly string[]).includes(m.dataset as string) ? m.dataset as DatasetName : undefined,
    limit: m.limit !== null && (typeof m.limit === 'number' || typeof m.limit === 'object') ? m.limit as RunConfig['limit'] : undefined,
    seed: typeof m.seed === 'number' ? m.seed : undefined,
    imageSize: child.inputShape[1],
  };
}

export async function evalCommand(ctx: Ctx, values: FlagValues): Promise<number> {
  const given = typeof values.model === 'string' ? values.model : undefined;
  if (!given) throw new UsageError('--model', 'is required: a run folder, its child/ or parent/ model folder, or an exported Child file');
  if (!existsSync(given)) throw new UsageError('--model', `"${given}" does not exist`);
  const file = statSync(given).isFile();
  const model = file ? given : dirFlag(values, 'model')!;
  const exported = file ? await exportedInfo(model) : null;
  const runDir = file ? null : runFolderOf(model);
  const stored = runDir ? readStoredRun(runDir, '--model').config : null;
  const dataset: DatasetName | undefined = enumFlag(values, 'dataset', DATASETS) ?? stored?.dataset ?? exported?.dataset;
  if (!dataset) throw new UsageError('--dataset', `is required: "${model}" is not inside a cpnas run folder, so the dataset is unknown`);
  const imageSize = intFlag(values, 'image-size', 4, MAX_IMAGE_SIZE) ?? stored?.train.imageSize ?? exported?.imageSize;
  const batchSize = intFlag(values, 'batch-size', 1) ?? stored?.train.batchSize;
  const limit = intFlag(values, 'limit', 1);
  const seed = intFlag(values, 'seed', 0) ?? stored?.seed ?? exported?.seed ?? 0;
  const backend = enumFlag(values, 'backend', BACKENDS) ?? 'cpu';
  const gpuMode = enumFlag(values, 'gpu-mode', GPU_MODES);
  if (gpuMode !== undefined && backend !== 'gpu') throw new UsageError('--gpu-mode', 'only applies with --backend gpu');

  // The data as the model was trained on it (same limits: the normalization comes from the train split).
  const cfg = {
    ...(stored ?? {}), dataset, seed, dataDir: dirFlag(values, 'data') ?? stored?.dataDir,
    limit: stored?.dataset === dataset ? stored.limit : exported?.dataset === dataset ? exported?.limit : undefined,
  } as RunConfig;
  // a run's model is evaluated with the GEMM sums it was trained with, unless --sums says otherwise
  const sums = values.sums === undefined && backend === 'cpu' && stored?.sums ? stored.sums : sumsFlag(values, backend);
  await ctx.start(backend, gpuMode, sums);
  ctx.note(`cpnas eval: ${model} on ${dataset}${limit ? ` (first ${limit} test images)` : ''}`);
  const data = await loadData(ctx, cfg, imageSize);
  const result = await ctx.engine.runEvaluation({ modelDir: model, data: { test: data.test }, batchSize, limit });
  ctx.progress.finish();
  ctx.print(values.json ? JSON.stringify(result, null, 2) : evaluationSummary(model, result));
  return 0;
}
