/**
 * Shared pieces of the robustness tests: the CLI's main() run in-process with captured streams (the
 * real engine, no fake), checks that an error is one clean line, a recursive listing of a run folder
 * with a check that every file in it is whole, and the tiny budget every test runs on.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { main } from '../../cli/main.js';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** An output stream that keeps what is written; `onWrite` sees the text so far (to stop a run at a point). */
export class Sink {
  text = '';
  constructor(private readonly onWrite?: (text: string) => void) {}
  write(s: string): boolean {
    this.text += s;
    this.onWrite?.(this.text);
    return true;
  }
}

/** Runs `cpnas <argv>` in this process with the real engine. */
export async function cpnas(argv: string[], opts: { signal?: AbortSignal; onStderr?: (text: string) => void } = {}): Promise<Captured> {
  const stdout = new Sink();
  const stderr = new Sink(opts.onStderr);
  const code = await main(argv, { stdout, stderr, signal: opts.signal, env: {} });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

export function tempRoot(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cpnas-robust-${prefix}-`));
}

/**
 * A user-facing error: the exit code, no stack trace, no "internal error", and a last line on stderr
 * of the form `cpnas <command>: ...` that names every string in `names` (the flag, the file).
 * With `only`, the error is the only line (the run never started).
 */
export function expectCleanError(r: Captured, code: 1 | 2, names: string[], opts: { only?: boolean } = {}): string {
  const lines = r.stderr.trim().split('\n');
  const last = lines[lines.length - 1];
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr, 'no stack trace').not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain('internal error');
  expect(last, r.stderr).toMatch(/^cpnas (search|train|eval|ablate): /);
  for (const n of names) expect(last, `the error names ${n}`).toContain(n);
  if (opts.only) expect(lines, r.stderr).toHaveLength(1);
  expect(r.stdout).toBe('');
  return last;
}

/** Every file under `dir` (relative paths, sorted); [] when it does not exist. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      try {
        if (statSync(p).isDirectory()) walk(p);
        else out.push(relative(dir, p));
      } catch { /* removed meanwhile */ }
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Files of a run folder that are not whole: a .json that does not parse, a .jsonl with a line that
 * does not parse (a torn last line is allowed: readers skip it), an .svg / .html not closed.
 * Files that vanish while being read (an old checkpoint removed) are skipped.
 */
export function brokenFiles(dir: string): string[] {
  const broken: string[] = [];
  for (const f of listFiles(dir)) {
    const name = f.split('/').pop() as string;
    if (name.startsWith('.')) continue; // a temporary file of an atomic write, never read
    let text: string;
    try {
      text = readFileSync(join(dir, f), 'utf8');
    } catch {
      continue;
    }
    if (name.endsWith('.json')) {
      try {
        JSON.parse(text);
      } catch (e) {
        broken.push(`${f}: ${(e as Error).message}`);
      }
    } else if (name.endsWith('.jsonl')) {
      const lines = text.split('\n');
      lines.slice(0, -1).forEach((l, i) => {
        try {
          JSON.parse(l);
        } catch {
          broken.push(`${f}: line ${i + 1}`);
        }
      });
    } else if (name.endsWith('.svg') || name.endsWith('.html')) {
      if (!/<\/(svg|html)>\s*$/.test(text)) broken.push(`${f}: not closed`);
    }
  }
  return broken;
}

/** History records without their timings (which differ between runs). */
export function historyWithoutTimes(dir: string): unknown[] {
  return readFileSync(join(dir, 'history.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => {
    const r = JSON.parse(l) as Record<string, unknown>;
    delete r.seconds;
    delete r.searchSeconds;
    return r;
  });
}

/** The tiny budget of these tests for `train`: the tiny preset on 128 synthetic images. */
export const TINY_TRAIN = ['--preset', 'tiny', '--dataset', 'synthetic', '--limit', '128', '--quiet'];

/** The same for `search` and `ablate`, with 3 operations per edge (2 abandonment rounds). */
export const TINY = [...TINY_TRAIN, '--primitives', 'none,max_pool_3x3,sep_conv_3x3'];

/** A valid genotype (4 nodes) for `train`, as its JSON file holds it. */
export const GENOTYPE = {
  normal: [['max_pool_3x3', 0], ['sep_conv_3x3', 1], ['sep_conv_3x3', 0], ['max_pool_3x3', 2], ['skip_connect', 0], ['sep_conv_3x3', 1], ['max_pool_3x3', 1], ['sep_conv_3x3', 3]],
  normalConcat: [2, 3, 4, 5],
  reduce: [['max_pool_3x3', 0], ['max_pool_3x3', 1], ['skip_connect', 0], ['max_pool_3x3', 2], ['sep_conv_3x3', 1], ['max_pool_3x3', 3], ['skip_connect', 2], ['max_pool_3x3', 4]],
  reduceConcat: [2, 3, 4, 5],
};

/**
 * The budget of the interrupt tests: two epochs per model, so that a stop can fall inside a phase, and
 * 2 cells of 2 channels, so that their many runs take seconds.
 */
export const BUDGET = [...TINY, '--epochs', '2', '--cells', '2', '--train-cells', '2', '--channels', '2', '--train-channels', '2'];

/** A finished run folder equals the reference one: genotype, history (timings aside), models to the bit, accuracies, files. */
export function expectSameRun(dir: string, reference: string): void {
  expect(readFileSync(join(dir, 'genotype.json'), 'utf8')).toBe(readFileSync(join(reference, 'genotype.json'), 'utf8'));
  expect(historyWithoutTimes(dir)).toEqual(historyWithoutTimes(reference));
  for (const f of ['child/model.safetensors', 'parent/model.safetensors']) {
    expect(readFileSync(join(dir, f)).equals(readFileSync(join(reference, f))), `${f} is the same to the bit`).toBe(true);
  }
  const result = (d: string) => JSON.parse(readFileSync(join(d, 'result.json'), 'utf8'));
  const a = result(dir), b = result(reference);
  expect([a.child.testAccuracy, a.parent.testAccuracy]).toEqual([b.child.testAccuracy, b.parent.testAccuracy]);
  const outputs = (d: string) => listFiles(d).filter((f) => !f.startsWith('checkpoints/'));
  expect(outputs(dir)).toEqual(outputs(reference));
  expect(brokenFiles(dir)).toEqual([]);
  expect(listFiles(dir).filter((f) => f.split('/').pop()!.startsWith('.')), 'no temporary file is left').toEqual([]);
}

