/**
 * `main(argv, io)`: the whole CLI as a function returning its exit code, so that tests call it with
 * their own streams. Exit codes: 0 done, 1 a run failed, 2 bad input (flags, files, data), 130
 * interrupted by Ctrl-C (the last checkpoint is safe; the message says how to resume).
 */
import { CpnasError } from '../core/index.js';
import { COMMAND_NAMES, commandHelp, editDistance, mainHelp, parseCommandArgs, UsageError, type CommandName, type FlagValues } from './args.js';
import { ablateCommand } from './commands/ablate.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { searchCommand } from './commands/search.js';
import { summaryCommand } from './commands/summary.js';
import { trainCommand } from './commands/train.js';
import { Interrupted, type CliIO, type Ctx } from './context.js';
import { intFlag, onOffFlag } from './config.js';
import { defaultEngine, type Engine } from './engine.js';
import { Progress } from './progress.js';
import { cpnasCommand } from './commands/shared.js';
import { packageVersion, runProvenance } from './provenance.js';
import { useNodeStorage } from '../node/storage.js';

// every file the CLI writes or reads back goes through the durable file-system storage
useNodeStorage();

/** --threads above this is surely a typo (each thread is a worker with its own buffers). */
const MAX_THREADS = 256;

export type { CliIO } from './context.js';

const HANDLERS: Record<CommandName, (ctx: Ctx, values: FlagValues) => Promise<number>> = {
  search: searchCommand,
  train: trainCommand,
  eval: evalCommand,
  export: exportCommand,
  ablate: ablateCommand,
  summary: summaryCommand,
};

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const env = io.env ?? process.env;
  const debug = argv.includes('--verbose') || env.CPNAS_DEBUG === '1';
  const [command, ...rest] = argv;
  const say = (text: string) => io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    if (topic && isCommand(topic)) io.stdout.write(commandHelp(topic));
    else io.stdout.write(mainHelp());
    return 0;
  }
  if (command === '--version' || command === '-v') {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (!isCommand(command)) {
    const near = COMMAND_NAMES.find((c) => editDistance(c, command) <= 2);
    say(`cpnas: unknown command "${command}"${near ? `; did you mean "${near}"?` : ''} (commands: ${COMMAND_NAMES.join(', ')}; see cpnas --help)`);
    return 2;
  }

  const signal = io.signal ?? new AbortController().signal;
  let progress: Progress | null = null;
  try {
    const values = parseCommandArgs(command, rest);
    if (values.help) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    progress = new Progress(io.stderr, { quiet: values.quiet === true, now: io.now });
    let engine: Engine | null = io.engine ?? null;
    const ctx: Ctx = {
      async start(backend, gpuMode, sums) {
        const threads = intFlag(values, 'threads', 1, MAX_THREADS);
        const simd = onOffFlag(values, 'simd');
        engine ??= await defaultEngine();
        const described = await engine.useBackend(backend, gpuMode, threads, simd, sums);
        const line = backendLine(backend, described ?? undefined);
        if (line.warning) (progress as Progress).log(line.warning);
        return line.text;
      },
      get engine(): Engine {
        if (!engine) throw new Error('the engine was used before ctx.start()');
        return engine;
      },
      progress,
      signal,
      print: (line) => io.stdout.write(line.endsWith('\n') ? line : `${line}\n`),
      note: (line) => (progress as Progress).log(line),
      invocation: cpnasCommand(env, io.script),
      provenance: () => runProvenance(cpnasCommand(env, io.script), argv),
    };
    return await HANDLERS[command](ctx, values);
  } catch (e) {
    progress?.finish();
    if (e instanceof Interrupted || (signal.aborted && !(e instanceof UsageError))) {
      const dir = e instanceof Interrupted ? e.dir : null;
      const resume = e instanceof Interrupted ? e.resumeCommand : null;
      say(`cpnas ${command}: interrupted.${dir ? ` The last checkpoint is safe in ${dir}.` : ''}${resume ? ` Continue with: ${resume}` : ''}`);
      return 130;
    }
    if (e instanceof UsageError) {
      // an error about the command line as a whole already starts with `cpnas <command>:`
      say(e.where === `cpnas ${command}` ? e.message : `cpnas ${command}: ${e.message}`);
      if (debug && e.stack) say(e.stack);
      return 2;
    }
    if (e instanceof CpnasError) {
      say(`cpnas ${command}: error: ${e.message}`);
    } else if (e instanceof RangeError && /typed array length|array length|allocation failed/i.test(e.message)) {
      // an array too large for memory: the budget, not a bug
      say(`cpnas ${command}: error: out of memory (${e.message}); lower --image-size, --batch-size, --channels or --cells`);
    } else {
      const msg = e instanceof Error ? e.message : String(e);
      say(`cpnas ${command}: internal error: ${msg}${debug ? '' : ' (run with --verbose or CPNAS_DEBUG=1 for the stack trace)'}`);
    }
    if (debug && e instanceof Error && e.stack) say(e.stack);
    return 1;
  }
}

/**
 * The backend as the run header names it: `cpu`, or `gpu (gpu.js webgl2)`; with a warning when the
 * gpu.js mode is one that runs on the CPU (webasm, cpu): "gpu" would otherwise hide a slow CPU run.
 */
export function backendLine(backend: 'cpu' | 'gpu', described?: string): { text: string; warning?: string } {
  if (backend === 'cpu') return { text: 'cpu' };
  const mode = /\((\w+)\)/.exec(described ?? '')?.[1];
  const text = mode ? `gpu (gpu.js ${mode})` : 'gpu';
  if (mode === 'webasm' || mode === 'cpu') {
    return {
      text,
      warning: `cpnas: warning: no WebGL or headless GL here, so gpu.js runs in its ${mode} mode, which emulates the GPU on the CPU and is slower than --backend cpu`,
    };
  }
  return { text };
}

function isCommand(name: string): name is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(name);
}
