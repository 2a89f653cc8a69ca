/** Running the compiled `cpnas` while watching its run folder, and killing it with SIGKILL (kill tests). */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadTree } from '../../ops/state.js';
import { brokenFiles } from './helpers.js';

export const bin = resolve('dist/cli/cpnas.js');
export const built = existsSync(bin);

/** Problems seen while watching a run folder: files not whole, or a checkpoint pointer naming a broken checkpoint. */
export function inspect(dir: string, problems: string[]): void {
  problems.push(...brokenFiles(dir));
  for (const stage of ['search', 'train']) {
    const ck = join(dir, 'checkpoints', stage);
    let pointer: { file: string };
    try {
      pointer = JSON.parse(readFileSync(join(ck, 'latest.json'), 'utf8'));
    } catch {
      continue; // none yet (a torn pointer is reported by brokenFiles)
    }
    try {
      loadTree(join(ck, pointer.file));
    } catch (e) {
      // the pointer may move on and the old checkpoint be removed between the two reads
      if (!/ENOENT/.test((e as Error).message)) problems.push(`${stage} checkpoint ${pointer.file}: ${(e as Error).message}`);
    }
  }
}

/** Starts `cpnas argv`, watches `dir`, and kills the process with SIGKILL once `when()` holds (never: `() => false`). */
export async function killWhen(argv: string[], dir: string, when: () => boolean): Promise<{ signal: NodeJS.Signals | null; code: number | null; problems: string[]; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr += s));
  let exit: { signal: NodeJS.Signals | null; code: number | null } | null = null;
  const exited = new Promise<void>((done) => child.on('exit', (code, signal) => {
    exit = { code, signal };
    done();
  }));
  const problems: string[] = [];
  while (!exit) {
    inspect(dir, problems);
    if (when()) child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 5));
  }
  await exited;
  inspect(dir, problems);
  return { ...(exit as unknown as { signal: NodeJS.Signals | null; code: number | null }), problems, stderr };
}

export const seqOf = (dir: string, stage: string): number => {
  try {
    return (JSON.parse(readFileSync(join(dir, 'checkpoints', stage, 'latest.json'), 'utf8')) as { seq: number }).seq;
  } catch {
    return 0;
  }
};

