/** Pieces the commands share: default run folders and what may change when a run is resumed. */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
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

/**
 * How the user started cpnas, for the commands a message tells them to type: `npx cpnas` under npx or
 * an npm script (npm sets npm_command / npm_lifecycle_event; the bin is not on PATH there), `cpnas`
 * for the bin on PATH, else `node <script>` as typed.
 */
export function cpnasCommand(env: Record<string, string | undefined>, script: string | undefined): string {
  if (env.npm_command === 'exec' || env.npm_lifecycle_event || env.npm_execpath) return 'npx cpnas';
  if (!script) return 'cpnas';
  const base = script.split(/[\\/]/).pop() ?? '';
  if (base === 'cpnas' || base === 'cpnas.cmd') return 'cpnas';
  const rel = relative(process.cwd(), script);
  return `node ${rel && !rel.startsWith('..') ? rel : script}`;
}

/** The command that resumes a run folder, as the user would type it (`invocation`: Ctx.invocation). */
export function resumeHint(invocation: string, command: string, dir: string): string {
  return `${invocation} ${command} --resume ${/\s/.test(dir) ? JSON.stringify(dir) : dir}`;
}

/** Flags that may accompany --resume: they do not change what is computed. */
const RESUME_FLAGS = new Set(['resume', 'quiet', 'verbose', 'help', 'backend', 'gpu-mode', 'json', 'print-config']);

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
