/**
 * Atomic file output: every file of a run folder is written to a temporary file beside it and renamed
 * into place, so an interrupted run never leaves a half-written genotype, checkpoint or report.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { CpnasError } from '../core/index.js';

export { writeFileAtomic };

/** Writes a JSON document atomically, pretty-printed. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Reads and parses a JSON file, with an error naming the file when it is missing or malformed. */
export function readJson<T = unknown>(path: string, what = 'file'): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CpnasError(what, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new CpnasError(what, `${path} is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Appends one JSON line. A line is appended with a single write, so a kill leaves either the whole line
 * or none; readers skip a torn last line (see readJsonl).
 */
export function appendJsonl(path: string, record: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, JSON.stringify(record) + '\n');
}

/** Reads a JSONL file, skipping a final line cut short by an interruption. */
export function readJsonl<T = unknown>(path: string): T[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: T[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch (e) {
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim())) {
        throw new CpnasError('history', `${path}: line ${i + 1} is not valid JSON (${(e as Error).message})`);
      }
    }
  }
  return out;
}
