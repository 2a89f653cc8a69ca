/** Runs the CLI's main() in-process with captured streams. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../cli/engine.js';
import { main } from '../../cli/main.js';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

export class Sink {
  text = '';
  constructor(readonly isTTY = false, readonly columns = 100) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

export async function cli(argv: string[], opts: { engine?: Engine; signal?: AbortSignal; env?: Record<string, string>; tty?: boolean } = {}): Promise<Captured> {
  const stdout = new Sink();
  const stderr = new Sink(opts.tty ?? false);
  const code = await main(argv, { stdout, stderr, engine: opts.engine, signal: opts.signal, env: opts.env ?? {} });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export function tempDir(prefix = 'cpnas-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
