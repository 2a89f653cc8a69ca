/**
 * An experiment as independent jobs, for a user with a cluster: one shell command per run (each
 * continues its own prepared run folder, so any order, any machine sharing the folder, and re-running a
 * finished one are all fine), a Slurm array script that runs line $SLURM_ARRAY_TASK_ID + 1 of that list,
 * and the command that builds the table once they are done.
 */

/** Single-quotes a path for a POSIX shell. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface PlanFiles {
  /** commands.txt: one command per line, nothing else (a Slurm array task picks its line). */
  commands: string;
  /** slurm.sh: the array job. */
  slurm: string;
  /** run-all.sh: the same runs one after another on this machine. */
  runAll: string;
}

export function planFiles(opts: {
  /** Absolute run folders, in grid order. */
  runDirs: readonly string[];
  /** Absolute experiment folder. */
  dir: string;
  /** How the cpnas command is invoked on the machines that run the jobs. */
  cli: string;
  /** Per-job limits written into the script (the user edits them to their cluster). */
  cpusPerTask?: number;
  timeLimit?: string;
}): PlanFiles {
  const q = shellQuote;
  const lines = opts.runDirs.map((d) => `${opts.cli} search --resume ${q(d)} --quiet`);
  const commandsPath = `${opts.dir}/plan/commands.txt`;
  const collect = `${opts.cli} ablate --collect ${q(opts.dir)}`;
  const slurm = [
    '#!/bin/bash',
    `# ${opts.runDirs.length} independent cpnas runs of the experiment in ${opts.dir}.`,
    '# Submit with: sbatch ' + q(`${opts.dir}/plan/slurm.sh`),
    `# When every task has finished: ${collect}`,
    '#SBATCH --job-name=cpnas-ablate',
    `#SBATCH --array=0-${Math.max(0, opts.runDirs.length - 1)}`,
    `#SBATCH --cpus-per-task=${opts.cpusPerTask ?? 2}`,
    `#SBATCH --time=${opts.timeLimit ?? '04:00:00'}`,
    `#SBATCH --output=${opts.dir}/plan/logs/%A_%a.out`,
    'set -euo pipefail',
    `CMD=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" ${q(commandsPath)})`,
    'echo "task $SLURM_ARRAY_TASK_ID: $CMD"',
    'eval "$CMD"',
    '',
  ].join('\n');
  const runAll = [
    '#!/bin/bash',
    '# Every run of the experiment, one after another; finished runs return at once, so this can be re-run.',
    'set -uo pipefail',
    'status=0',
    ...lines.map((l) => `${l} || status=1`),
    collect,
    'exit $status',
    '',
  ].join('\n');
  return { commands: lines.join('\n') + '\n', slurm, runAll };
}
