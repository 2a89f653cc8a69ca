/**
 * Where a run came from, recorded in its run.json: the command line as typed, the package version,
 * the git commit of the code when it runs from a git checkout, and Node's version. Enough to run the
 * same thing again with the same code.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface RunProvenance {
  /** The command line, e.g. `npx cpnas search --preset tiny --out runs/t`. */
  commandLine: string;
  argv: string[];
  version: string;
  /** `git rev-parse HEAD` of the package's folder, with `-dirty` when files differ; absent outside git. */
  commit?: string;
  node: string;
}

/** The version in package.json (dist/cli/ and cli/ sit at different depths). */
export function packageVersion(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cpnas' && pkg.version) return pkg.version;
    } catch { /* try the next location */ }
  }
  return 'unknown';
}

let commitCache: string | null | undefined;

/** The git commit of the code being run, or null when it is not in a git checkout (an npm install). */
export function gitCommit(): string | null {
  if (commitCache !== undefined) return commitCache;
  const here = fileURLToPath(new URL('.', import.meta.url));
  try {
    const git = (args: string[]) => execFileSync('git', args, { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 3000 }).trim();
    const top = git(['rev-parse', '--show-toplevel']);
    // only the package's own repository: not a project that happens to hold cpnas in node_modules
    const name = (JSON.parse(readFileSync(`${top}/package.json`, 'utf8')) as { name?: string }).name;
    if (name !== 'cpnas') return (commitCache = null);
    const head = git(['rev-parse', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
    commitCache = /^[0-9a-f]{40}$/.test(head) ? `${head}${dirty ? '-dirty' : ''}` : null;
  } catch {
    commitCache = null;
  }
  return commitCache;
}

export function runProvenance(invocation: string, argv: readonly string[]): RunProvenance {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const commit = gitCommit();
  return {
    commandLine: [invocation, ...argv.map(quote)].join(' '),
    argv: [...argv],
    version: packageVersion(),
    ...(commit ? { commit } : {}),
    node: process.version,
  };
}
