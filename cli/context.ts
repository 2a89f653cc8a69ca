/** What every command receives: output streams, the engine, the progress display, the stop signal. */
import type { GemmSums } from '../backends/cpu/sums.js';
import type { Engine } from './engine.js';
import type { RunProvenance } from './provenance.js';
import type { OutStream, Progress } from './progress.js';

export interface CliIO {
  stdout: OutStream;
  stderr: OutStream;
  /** Environment (CPNAS_DEBUG); default process.env. */
  env?: Record<string, string | undefined>;
  /** Aborted on Ctrl-C: the engine stops after its current checkpoint. */
  signal?: AbortSignal;
  /** The engine to use (tests pass a fake one); default: the package's. */
  engine?: Engine;
  /** Wall clock in ms, for the progress display. */
  now?: () => number;
  /** The script the bin was started as (process.argv[1]), for the commands messages tell users to type. */
  script?: string;
}

export interface Ctx {
  /**
   * Loads the engine (on first call) and makes the backend active; call it once the flags are checked.
   * Returns the backend's line for the run header (`gpu (gpu.js webgl2)`), and notes a warning when
   * gpu.js only emulates a GPU on the CPU.
   */
  start(backend: 'cpu' | 'gpu', gpuMode?: string, sums?: GemmSums): Promise<string>;
  /** The engine, once `start` has run. */
  readonly engine: Engine;
  progress: Progress;
  signal: AbortSignal;
  /** A result line on stdout. */
  print(line: string): void;
  /** A status line on stderr (above the progress bar). */
  note(line: string): void;
  /** cpnas as the user typed it: `npx cpnas`, `cpnas` or `node dist/cli/cpnas.js` (for hints). */
  invocation: string;
  /** The command line, package version and git commit, for run.json. */
  provenance(): RunProvenance;
}

/** Raised when Ctrl-C stopped a run; `dir` holds its last checkpoint. */
export class Interrupted extends Error {
  constructor(readonly dir: string | null, readonly resumeCommand: string | null) {
    super('interrupted');
    this.name = 'Interrupted';
  }
}
