/** `cpnas export --model RUN --out FILE`: the trained Child as one deployable file (nas/export.ts). */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CpnasError } from '../../core/index.js';
import { FLOAT_STORAGES, type FloatStorage } from '../../binary/runtime/format.js';
import { UsageError, type FlagValues } from '../args.js';
import { dirFlag } from '../config.js';
import type { Ctx } from '../context.js';
import { readStoredRun, RUN_CONFIG_FILE } from '../pipeline.js';

/** The run folder a model folder belongs to: the folder itself or its parent, if either holds run.json. */
export function runFolderOf(model: string): string | null {
  if (existsSync(join(model, RUN_CONFIG_FILE))) return model;
  const up = dirname(model);
  return existsSync(join(up, RUN_CONFIG_FILE)) ? up : null;
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;

export async function exportCommand(ctx: Ctx, values: FlagValues): Promise<number> {
  const model = dirFlag(values, 'model');
  if (!model) throw new UsageError('--model', 'is required: a run folder or its child/ model folder');
  const out = typeof values.out === 'string' ? values.out : join(model, 'child.cpnas-child');
  if (existsSync(out) && statSync(out).isDirectory()) {
    throw new UsageError('--out', `"${out}" is a folder; give the file to write (e.g. ${join(out, 'child.cpnas-child')})`);
  }
  const floats = values.floats === undefined ? 'f32' : values.floats;
  if (!FLOAT_STORAGES.includes(floats as FloatStorage)) throw new UsageError('--floats', `must be ${FLOAT_STORAGES.join(', ')} (f32 exact; f16, q8 lossy), got "${String(floats)}"`);
  const runDir = runFolderOf(model);
  const stored = runDir ? readStoredRun(runDir, '--model').config : null;
  // what eval needs to load the test data the way the model was trained on it
  const data = stored ? { dataset: stored.dataset, ...(stored.limit !== undefined ? { limit: stored.limit } : {}), seed: stored.seed } : {};
  const { exportChild } = await import('../../nas/export.js');
  let r;
  try {
    r = exportChild(model, out, data, floats as FloatStorage);
  } catch (e) {
    if (e instanceof CpnasError) throw new UsageError('--model', e.message);
    throw e;
  }
  const parent = runDir && existsSync(join(runDir, 'parent')) ? (await import('../../nas/export.js')).savedModelBytes(join(runDir, 'parent')) : null;
  if (values.json) {
    ctx.print(JSON.stringify({ out: r.out, bytes: r.bytes, floats, childModelBytes: r.sourceBytes, parentModelBytes: parent, steps: r.plan.steps.length }, null, 2));
  } else {
    const binary = r.plan.steps.filter((s) => s.op === 'bconv').length;
    ctx.print([
      `Exported the Child of ${model} to ${r.out}: ${kb(r.bytes)} (${r.plan.steps.length} steps, ${binary} packed 1-bit convolutions${floats !== 'f32' ? `; float weights and maps as ${floats}, lossy` : ''})`,
      `  saved Child (latent weights, signs)  ${kb(r.sourceBytes)}`,
      ...(parent !== null ? [`  saved Parent                         ${kb(parent)}  (export = 1/${(parent / r.bytes).toFixed(1)})`] : []),
      `Run it with: cpnas eval --model ${r.out}   or   import { readChildFile } from 'cpnas/runtime/node'`,
    ].join('\n'));
  }
  return 0;
}
