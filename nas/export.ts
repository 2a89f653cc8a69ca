/**
 * `cpnas export`: a trained Child as one deployable file, its inference plan alone (packed weight
 * signs, folded per-channel maps, the few float layers), in the format of binary/runtime/format.ts,
 * written atomically (through the storage layer: temporary file, fsync, rename). What the training keeps beside it (latent float weights of the binary layers,
 * optimizer state) stays behind: the runtime (`cpnas/runtime`) needs none of it.
 */
import { CpnasError } from '../core/index.js';
import { getStorage } from '../core/storage.js';
import { encodePlan, type FloatStorage } from '../binary/runtime/format.js';
import type { InferencePlan, PlanMeta } from '../binary/runtime/plan.js';
import { compileChild } from './compile.js';
import { loadModel, modelPath } from './evaluate.js';

export interface ExportResult {
  out: string;
  /** Bytes of the written file. */
  bytes: number;
  /** Bytes of the saved Child it came from. */
  sourceBytes: number;
  plan: InferencePlan;
}

/** Bytes of a saved model (model.safetensors, or the older model.json + model.bin). */
export function savedModelBytes(dir: string): number {
  const path = modelPath(dir), storage = getStorage();
  return ['.safetensors', '.json', '.bin'].reduce((n, ext) => n + (storage.read(path + ext)?.length ?? 0), 0);
}

/**
 * Compiles the Child saved in `modelDir` (a run folder or its child/) and writes it to `out`; `floats`
 * 'f16' or 'q8' stores the float weights and maps as half floats or 8-bit codes (lossy, format.ts and
 * float-codes.ts), recorded in the plan's meta.
 */
export function exportChild(modelDir: string, out: string, extraMeta: PlanMeta = {}, floats: FloatStorage = 'f32'): ExportResult {
  const { net, meta } = loadModel(modelDir);
  if (meta.kind !== 'child') {
    throw new CpnasError('export', `${modelPath(modelDir)} is a Parent (full precision); export takes the 1-bit Child (the run folder or its child/ folder)`);
  }
  const [C, H, W] = meta.inputShape;
  const plan = compileChild(net, [C, H, W], { classNames: meta.classNames, testAccuracy: meta.testAccuracy, ...extraMeta, ...(floats !== 'f32' ? { floats } : {}) });
  const bytes = encodePlan(plan, { floats });
  getStorage().write(out, bytes);
  return { out, bytes: bytes.length, sourceBytes: savedModelBytes(modelDir), plan };
}
