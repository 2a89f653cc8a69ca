/**
 * The flags of every command, their help text, and parsing with node:util parseArgs. Parsing only
 * splits the command line; turning values into numbers and settings (with errors naming the flag) is
 * config.ts's job.
 */
import { parseArgs } from 'node:util';
import { CpnasError } from '../core/index.js';
import { DATASETS, PRESET_NAMES } from './presets.js';

/** An error in what the user typed: printed as one line, exit code 2. */
export class UsageError extends CpnasError {
  constructor(where: string, message: string) {
    super(where, message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder of the value in the help text. */
  value?: string;
  help: string;
}

type FlagTable = Record<string, FlagSpec>;

const DATA_FLAGS: FlagTable = {
  dataset: { type: 'string', value: 'NAME', help: `dataset: ${DATASETS.join(' | ')} (default: the preset's)` },
  data: { type: 'string', value: 'DIR', help: 'folder holding the dataset files (default: ./data or $CPNAS_DATA)' },
  limit: { type: 'string', value: 'N', help: 'use only the first N training images (the preset\'s other caps stay)' },
};

const RUN_FLAGS: FlagTable = {
  backend: { type: 'string', value: 'NAME', help: 'compute backend: cpu | gpu (default cpu)' },
  'gpu-mode': { type: 'string', value: 'MODE', help: 'gpu.js mode for --backend gpu: gpu (best available) | headlessgl | webgl2 | webgl | webasm | cpu' },
  threads: { type: 'string', value: 'N', help: 'threads of the cpu kernels (default: $CPNAS_THREADS or every core); results are the same for any N' },
  simd: { type: 'string', value: 'on|off', help: 'the cpu backend\'s WebAssembly SIMD kernels (default: $CPNAS_SIMD, else on); results are the same either way' },
  sums: { type: 'string', value: 'float64|float32', help: 'how the cpu GEMM (convolutions, matmul) sums: float64, one rounding per output (default: $CPNAS_GEMM_SUMS, else float64), or float32 as PyTorch does, about 2x faster products; the values differ by float32 rounding, and a run keeps its choice' },
  seed: { type: 'string', value: 'N', help: 'random seed of the data split, initialization and sampling (default 0)' },
  out: { type: 'string', value: 'DIR', help: 'run folder to write (default: runs/<command>-<dataset>-<time>)' },
  force: { type: 'boolean', help: 'run a budget beyond the sanity limits (epochs, cells, channels, T), which would not finish here' },
};

const COMMON_FLAGS: FlagTable = {
  quiet: { type: 'boolean', short: 'q', help: 'no progress bar; a plain line per round / epoch' },
  verbose: { type: 'boolean', help: 'print stack traces of errors (also CPNAS_DEBUG=1)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

const PRINT_CONFIG: FlagSpec = { type: 'boolean', help: 'print the fully resolved settings (preset + flags, validated) as JSON and exit without running' };

const PRESET_FLAG: FlagTable = {
  preset: { type: 'string', value: 'NAME', help: `budget preset: ${PRESET_NAMES.join(' | ')} (default: default)` },
};

const SEARCH_FLAGS: FlagTable = {
  strategy: { type: 'string', value: 'NAME', help: 'search strategy: cp | cp-child | bnas | pc-darts | darts | random | dcp | dna (default cp)' },
  cells: { type: 'string', value: 'N', help: 'cells of the search supernet' },
  channels: { type: 'string', value: 'C', help: 'channels of the first cells of the search supernet' },
  T: { type: 'string', value: 'N', help: 'cp/cp-child/bnas: sampling repetitions per abandonment round' },
  beta: { type: 'string', value: 'B', help: 'cp: beta_P of z = beta (A_P - A_C) + A_C (0 = Child alone, as cp-child)' },
  'sample-fraction': { type: 'string', value: 'F', help: 'fraction of an epoch each sampled architecture (cp) or each search epoch (darts, pc-darts, bnas) trains on (0-1]' },
  'samples-per-epoch': { type: 'string', value: 'N', help: 'the same budget as a number of training images (instead of --sample-fraction)' },
  'val-fraction': { type: 'string', value: 'F', help: 'fraction of the search-validation split used to measure A_C, A_P' },
  'search-epochs': { type: 'string', value: 'N', help: 'darts/pc-darts: epochs of the differentiable search' },
  'partial-channels': { type: 'string', value: 'K', help: 'pc-darts/bnas: each mixed operation sees 1/K of the channels (must divide --channels)' },
  'warmup-epochs': { type: 'string', value: 'N', help: 'pc-darts/bnas: weight-only epochs before the architecture steps' },
  'bnas-ucb': { type: 'string', value: 'C', help: 'bnas: weight of the UCB exploration term (0 = mean accuracy alone)' },
  primitives: { type: 'string', value: 'LIST', help: 'comma-separated operations to search (default: all registered)' },
  'max-ops': { type: 'string', value: 'N', help: 'budget: most OPs (BOPs/64 + FLOPs, per image) of the final 1-bit Child' },
  'max-bytes': { type: 'string', value: 'N', help: 'budget: most bytes of the final 1-bit Child (1 bit per binary weight, 4 per float)' },
  'dcp-lambda': { type: 'string', value: 'L', help: 'dcp: weight lambda of the Child-Parent gradient discrepancy (tangent propagation)' },
  'dna-teacher-epochs': { type: 'string', value: 'N', help: 'dna: epochs training the Parent teacher supernet (of --sample-fraction size)' },
  'dna-block-epochs': { type: 'string', value: 'N', help: 'dna: epochs training each block of the Child supernet' },
  'keep-ops': { type: 'string', value: 'N', help: 'cp/bnas: stop abandoning when N operations are left per edge (1 in the paper)' },
  'none-rule': { type: 'string', value: 'RULE', help: 'cp/bnas: abandon (`none` goes when it is left with one rival: a genotype cannot hold it) | rank (`none` ranked like any operation)' },
  'search-optimizer': { type: 'string', value: 'NAME', help: 'optimizer of the supernet weights: sgd | adam' },
  'search-lr': { type: 'string', value: 'LR', help: 'initial learning rate of the supernet weights' },
  'search-lr-schedule': { type: 'string', value: 'S', help: 'cosine (annealed to --lr-min over the search, as DARTS) | constant' },
};

const TRAIN_FLAGS: FlagTable = {
  'train-cells': { type: 'string', value: 'N', help: 'cells of the final network' },
  'train-channels': { type: 'string', value: 'C', help: 'channels of the final network' },
  epochs: { type: 'string', value: 'N', help: 'training epochs of Parent and Child (fractions allowed)' },
  'parent-epochs': { type: 'string', value: 'N', help: 'training epochs of the Parent' },
  'child-epochs': { type: 'string', value: 'N', help: 'training epochs of the Child' },
  lambda: { type: 'string', value: 'L', help: 'weight of the kernel-level CP loss' },
  theta: { type: 'string', value: 'T', help: 'weight of the center loss' },
  'train-optimizer': { type: 'string', value: 'NAME', help: 'optimizer of Parent and Child training: sgd | adam' },
  'parent-lr': { type: 'string', value: 'LR', help: 'initial learning rate of the Parent (cosine annealed to --lr-min)' },
  'child-lr': { type: 'string', value: 'LR', help: 'initial learning rate of the Child (cosine annealed to --lr-min)' },
  'child-init': { type: 'string', value: 'FROM', help: "parent (the Child starts from the trained Parent's weights) | scratch" },
  'freeze-bn': { type: 'string', value: 'F', help: "fraction of the Child's last steps run with frozen BatchNorm statistics (0 = off)" },
  kd: { type: 'string', value: 'W', help: 'weight of the Parent-to-Child distillation term (0 = off, the plain CP-NAS loss)' },
  'kd-temperature': { type: 'string', value: 'T', help: 'temperature of the distillation term' },
  shards: { type: 'string', value: 'N', help: 'shards per training batch: 1 | 2 (2: two half batches, gradients averaged)' },
};

const SHARED_BUDGET: FlagTable = {
  'image-size': { type: 'string', value: 'S', help: 'resize images to S x S' },
  'batch-size': { type: 'string', value: 'N', help: 'mini-batch size' },
  lr: { type: 'string', value: 'LR', help: 'initial learning rate of the weights (search, Parent and Child)' },
  'lr-min': { type: 'string', value: 'LR', help: 'final learning rate of the cosine schedules' },
  optimizer: { type: 'string', value: 'NAME', help: 'optimizer of search and training: sgd | adam' },
  momentum: { type: 'string', value: 'M', help: 'SGD momentum' },
  'weight-decay': { type: 'string', value: 'WD', help: 'weight decay of the weights' },
  'grad-clip': { type: 'string', value: 'N', help: 'max global gradient norm (0 = no clipping)' },
  'activation-binarizer': { type: 'string', value: 'NAME', help: "the Child's activation binarizer: approx (Bi-Real polynomial estimator) | ste (clipped identity)" },
  'weight-binarizer': { type: 'string', value: 'NAME', help: "the Child's weight binarizer: scaled (alpha * sign(w), one alpha per filter) | sign" },
  'child-block': { type: 'string', value: 'FORM', help: "form of the 1-bit Child, in the search supernet and the final network: paper (the Parent's ops, convs binarized, nothing added) | bireal (a BN and a real-valued shortcut around every 1-bit conv)" },
};

export interface CommandSpec {
  name: CommandName;
  summary: string;
  usage: string;
  groups: { title: string; flags: FlagTable }[];
  examples: string[];
}

export const COMMAND_NAMES = ['search', 'train', 'eval', 'export', 'ablate', 'summary'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export const COMMANDS: Record<CommandName, CommandSpec> = {
  search: {
    name: 'search',
    summary: 'search a 1-bit cell with CP-NAS, then train the Child and its Parent',
    usage: 'cpnas search [--preset NAME] [flags]   |   cpnas search --resume DIR',
    groups: [
      { title: 'Run', flags: { ...PRESET_FLAG, ...DATA_FLAGS, ...RUN_FLAGS, resume: { type: 'string', value: 'DIR', help: 'continue an interrupted run from its folder' }, 'no-train': { type: 'boolean', help: 'stop after the search (genotype and reports only)' }, 'print-config': PRINT_CONFIG } },
      { title: 'Search budget', flags: SEARCH_FLAGS },
      { title: 'Training budget', flags: TRAIN_FLAGS },
      { title: 'Both stages', flags: SHARED_BUDGET },
      { title: 'Output', flags: COMMON_FLAGS },
    ],
    examples: [
      'cpnas search --preset tiny --out runs/tiny',
      'cpnas search --dataset digits --strategy cp --T 2 --beta 1 --epochs 3',
      'cpnas search --resume runs/tiny',
    ],
  },
  train: {
    name: 'train',
    summary: 'train the Parent and the 1-bit Child of a given genotype',
    usage: 'cpnas train --genotype FILE|NAME [flags]   |   cpnas train --resume DIR',
    groups: [
      { title: 'Run', flags: { genotype: { type: 'string', value: 'FILE|NAME', help: 'genotype JSON (a genotype.json of a search, or a result.json), or a published cell: darts_v1, darts_v2 (= darts), pc_darts, pdarts' }, ...PRESET_FLAG, ...DATA_FLAGS, ...RUN_FLAGS, resume: { type: 'string', value: 'DIR', help: 'continue an interrupted training from its folder' }, 'print-config': PRINT_CONFIG } },
      {
        title: 'Training budget',
        flags: { cells: { type: 'string', value: 'N', help: 'cells of the network (same as --train-cells)' }, channels: { type: 'string', value: 'C', help: 'channels of the network (same as --train-channels)' }, ...TRAIN_FLAGS, ...SHARED_BUDGET },
      },
      { title: 'Output', flags: COMMON_FLAGS },
    ],
    examples: ['cpnas train --genotype runs/tiny/genotype.json --dataset digits --epochs 5', 'cpnas train --genotype darts_v2 --preset tiny'],
  },
  eval: {
    name: 'eval',
    summary: 'evaluate a saved model on the test split (bit-packed XNOR path for the Child)',
    usage: 'cpnas eval --model DIR [flags]',
    groups: [
      {
        title: 'Run',
        flags: {
          model: { type: 'string', value: 'DIR|FILE', help: 'a saved model folder (run/child, run/parent), a run folder, or an exported Child file' },
          ...DATA_FLAGS,
          limit: { type: 'string', value: 'N', help: 'evaluate only the first N test images' },
          'image-size': SHARED_BUDGET['image-size'],
          'batch-size': SHARED_BUDGET['batch-size'],
          backend: RUN_FLAGS.backend,
          'gpu-mode': RUN_FLAGS['gpu-mode'],
          threads: RUN_FLAGS.threads,
          simd: RUN_FLAGS.simd,
          sums: RUN_FLAGS.sums,
          seed: RUN_FLAGS.seed,
          json: { type: 'boolean', help: 'print the result as JSON' },
        },
      },
      { title: 'Output', flags: COMMON_FLAGS },
    ],
    examples: ['cpnas eval --model runs/tiny', 'cpnas eval --model runs/tiny/parent --limit 1000', 'cpnas eval --model tiny.cpnas-child'],
  },
  export: {
    name: 'export',
    summary: 'write the trained 1-bit Child as one deployable file (packed inference plan, no training state)',
    usage: 'cpnas export --model RUN [--out FILE] [--floats f32|f16|q8]',
    groups: [
      {
        title: 'Run',
        flags: {
          model: { type: 'string', value: 'DIR', help: 'a run folder or its child/ model folder' },
          out: { type: 'string', value: 'FILE', help: 'the file to write (default DIR/child.cpnas-child)' },
          floats: { type: 'string', value: 'f32|f16|q8', help: 'storage of the float weights and per-channel maps: f32 (default, exact), f16 (half floats, lossy) or q8 (8-bit codes on one grid per array, lossy); lossy storage may change predictions where two classes are close' },
          json: { type: 'boolean', help: 'print the sizes as JSON' },
        },
      },
      { title: 'Output', flags: COMMON_FLAGS },
    ],
    examples: ['cpnas export --model runs/tiny --out tiny.cpnas-child', 'cpnas export --model runs/tiny --out tiny-q8.cpnas-child --floats q8', 'cpnas eval --model tiny.cpnas-child'],
  },
  ablate: {
    name: 'ablate',
    summary: 'run strategies x seeds on one budget and compare them in a table',
    usage: 'cpnas ablate [--strategies cp,bnas,pc-darts,darts,random] [--seeds N] [--beta 0,1,2,3] [--match images|seconds|none] [--plan] [flags]   |   cpnas ablate --resume DIR   |   cpnas ablate --collect DIR',
    groups: [
      {
        title: 'Run',
        flags: {
          strategies: { type: 'string', value: 'LIST', help: 'comma-separated strategies (default cp,bnas,pc-darts,darts,random)' },
          seeds: { type: 'string', value: 'N', help: 'seeds per strategy: --seed, --seed + 1, ... (default 3)' },
          match: { type: 'string', value: 'HOW', help: 'search budgets: images (same training images drawn, default) | seconds (same search time, from pilot searches) | none' },
          reference: { type: 'string', value: 'NAME', help: 'the strategy the paired differences are taken against (default cp)' },
          plan: { type: 'boolean', help: 'write the runs as commands + a Slurm array script (DIR/plan/) instead of running them' },
          cli: { type: 'string', value: 'CMD', help: 'with --plan: how the jobs invoke cpnas (default "npx cpnas")' },
          collect: { type: 'string', value: 'DIR', help: 'build the tables from the finished run folders of an experiment' },
          ...PRESET_FLAG, ...DATA_FLAGS, ...RUN_FLAGS,
          resume: { type: 'string', value: 'DIR', help: 'continue an interrupted ablation (finished runs are kept)' },
          'no-train': { type: 'boolean', help: 'compare searches only (no Child/Parent training)' },
        },
      },
      { title: 'Search budget', flags: Object.fromEntries(Object.entries(SEARCH_FLAGS).filter(([k]) => k !== 'strategy')) },
      { title: 'Training budget', flags: TRAIN_FLAGS },
      { title: 'Both stages', flags: SHARED_BUDGET },
      { title: 'Output', flags: COMMON_FLAGS },
    ],
    examples: [
      'cpnas ablate --preset tiny --strategies cp,bnas,random --seeds 2 --out runs/ablate',
      'cpnas ablate --strategies cp --beta 0,1,2,3 --seeds 3 --out runs/beta   (any numeric flag as a list is swept)',
      'cpnas ablate --strategies cp,bnas,pc-darts,darts,random --seeds 5 --plan --out runs/grid   (then sbatch runs/grid/plan/slurm.sh)',
      'cpnas ablate --collect runs/grid',
      'cpnas ablate --resume runs/ablate',
    ],
  },
  summary: {
    name: 'summary',
    summary: 'print the layers of a saved model: shapes, parameters, 1-bit or float, BOPs / FLOPs, bytes',
    usage: 'cpnas summary --model DIR [--json]',
    groups: [
      {
        title: 'Run',
        flags: {
          model: { type: 'string', value: 'DIR', help: 'a saved model folder (run/child, run/parent) or a run folder (its Child)' },
          json: { type: 'boolean', help: 'print the table as JSON' },
        },
      },
      { title: 'Output', flags: COMMON_FLAGS },
    ],
    examples: ['cpnas summary --model runs/tiny', 'cpnas summary --model runs/tiny/parent --json'],
  },
};

export type FlagValues = Record<string, string | boolean | undefined>;

export interface ParsedCommand {
  command: CommandName;
  values: FlagValues;
}

/** All flags a command accepts. */
export function flagsOf(command: CommandName): FlagTable {
  return Object.assign({}, ...COMMANDS[command].groups.map((g) => g.flags)) as FlagTable;
}

/**
 * Parses a command's flags. Unknown flags, missing values and stray words raise a UsageError naming
 * them (with the closest known flag when one is near).
 */
export function parseCommandArgs(command: CommandName, args: readonly string[]): FlagValues {
  const flags = flagsOf(command);
  const normalized = normalizeArgs(command, args, flags);
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of Object.entries(flags)) options[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  try {
    const { values } = parseArgs({ args: normalized, options, strict: true, allowPositionals: false });
    return values as FlagValues;
  } catch (e) {
    // normalizeArgs catches the cases we can word better; this is the fallback.
    const msg = (e as Error).message.split('\n')[0].replace(/\. To specify .*$/, '');
    throw new UsageError(`cpnas ${command}`, `${msg} (see cpnas ${command} --help)`);
  }
}

/**
 * Checks the words before parseArgs sees them, to give our own messages, and joins `--flag -1` into
 * `--flag=-1` so that a negative number reaches validation (which then names the flag) instead of
 * being taken for a flag.
 */
function normalizeArgs(command: CommandName, args: readonly string[], flags: FlagTable): string[] {
  const out: string[] = [];
  const shorts = new Map(Object.entries(flags).filter(([, s]) => s.short).map(([n, s]) => [s.short as string, n]));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') throw new UsageError(`cpnas ${command}`, 'unexpected "--"');
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const spec = flags[name];
      if (!spec) throw unknownFlag(command, `--${name}`, Object.keys(flags));
      if (spec.type === 'boolean') {
        if (eq >= 0) throw new UsageError(`--${name}`, `takes no value (got "${arg.slice(eq + 1)}")`);
        out.push(arg);
        continue;
      }
      if (eq >= 0) {
        out.push(arg);
        continue;
      }
      const next = args[i + 1];
      if (next === undefined || (next.startsWith('-') && !/^-\.?\d/.test(next))) {
        throw new UsageError(`--${name}`, `needs a value (${spec.value ?? 'VALUE'})`);
      }
      out.push(`--${name}=${next}`);
      i++;
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1 && !/^-\.?\d/.test(arg)) {
      const letters = arg.slice(1);
      for (const ch of letters) {
        if (!shorts.has(ch)) throw unknownFlag(command, `-${ch}`, Object.keys(flags));
      }
      out.push(arg);
      continue;
    }
    throw new UsageError(`cpnas ${command}`, `unexpected argument "${arg}" (flags take the form --name VALUE; see cpnas ${command} --help)`);
  }
  return out;
}

function unknownFlag(command: CommandName, flag: string, known: string[]): UsageError {
  const bare = flag.replace(/^-+/, '').toLowerCase();
  const best = known
    .map((k) => ({ k, d: editDistance(bare, k.toLowerCase()) }))
    .sort((a, b) => a.d - b.d)[0];
  // a flag of another command often differs in its ending (--strategy for ablate's --strategies)
  const shared = (k: string) => {
    let i = 0;
    while (i < k.length && i < bare.length && k[i].toLowerCase() === bare[i]) i++;
    return i;
  };
  const byPrefix = known.map((k) => ({ k, n: shared(k) })).sort((a, b) => b.n - a.n)[0];
  const prefix = byPrefix && byPrefix.n >= Math.max(4, bare.length - 2) ? byPrefix.k : undefined;
  const near = best && best.d <= Math.max(2, Math.floor(bare.length / 3)) ? best.k : prefix;
  const hint = near ? `; did you mean --${near}?` : '';
  return new UsageError(flag, `unknown flag for cpnas ${command}${hint} (see cpnas ${command} --help)`);
}

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The help text of one command. */
export function commandHelp(command: CommandName): string {
  const spec = COMMANDS[command];
  const lines = [`cpnas ${command}: ${spec.summary}`, '', `Usage: ${spec.usage}`];
  for (const g of spec.groups) {
    lines.push('', `${g.title}:`);
    for (const [name, f] of Object.entries(g.flags)) {
      const left = `  ${f.short ? `-${f.short}, ` : ''}--${name}${f.value ? ` ${f.value}` : ''}`;
      lines.push(`${left.padEnd(30)} ${f.help}`);
    }
  }
  lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`), '');
  return lines.join('\n');
}

/** The top-level help. */
export function mainHelp(): string {
  return [
    'cpnas: Child-Parent Neural Architecture Search for 1-bit CNNs',
    '',
    'Usage: cpnas <command> [flags]',
    '',
    'Commands:',
    ...COMMAND_NAMES.map((c) => `  ${c.padEnd(8)} ${COMMANDS[c].summary}`),
    '',
    'Presets (--preset): tiny (seconds), default (the main job, ~10 min on 2 CPU cores),',
    '                    cifar-small (CIFAR-10, an afternoon on a laptop), paper (published settings, GPU)',
    '',
    'Run `cpnas <command> --help` for the flags of a command.',
    '',
  ].join('\n');
}
