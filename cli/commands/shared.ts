/** Pieces the commands share: default run folders and what may change when a run is resumed. */
import { existsSync } from 'node:fs';
import { UsageError, type FlagValues } from '../args.js';
import { BACKENDS, enumFlag, GPU_MODES, type RunConfig } from '../config.js';

/** `runs/<command>-<dataset>[-<strategy>]-<yyyymmdd-hhmmss>`, made unique. */
export function defaultOutDir(command: string, dataset: string, strategy?: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  const base = `runs/${command}-${dataset}${strategy ? `-${strategy}` : ''}-${stamp}`;
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

/** Flags that may accompany --resume: they do not change what is computed. */
const RESUME_FLAGS = new Set(['resume', 'quiet', 'verbose', 'help', 'backend', 'gpu-mode', 'json']);

/**
 * The stored configuration of a resumed run, with the backend flags applied. Any budget flag is refused:
 * a resumed run continues with the settings its checkpoints were made with.
 */
export function resumeOverrides(stored: RunConfig, values: FlagValues, command: string): RunConfig {
  for (const [name, v] of Object.entries(values)) {
    if (v !== undefined && !RESUME_FLAGS.has(name)) {
      throw new UsageError(`--${name}`, `cannot be changed when resuming: \`cpnas ${command} --resume DIR\` continues with the run's saved settings (see DIR/run.json)`);
    }
  }
  const backend = enumFlag(values, 'backend', BACKENDS) ?? stored.backend;
  const gpuMode = enumFlag(values, 'gpu-mode', GPU_MODES) ?? (values.backend !== undefined ? undefined : stored.gpuMode);
  if (gpuMode !== undefined && backend !== 'gpu') throw new UsageError('--gpu-mode', 'only applies with --backend gpu');
  return { ...stored, backend, gpuMode };
}
