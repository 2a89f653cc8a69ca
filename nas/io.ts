/**
 * Reading and writing the files of a run folder through the storage (core/storage.ts): whole files
 * are replaced atomically and durably, history lines are appended with one write each.
 */
import { CpnasError } from '../core/index.js';
import { getStorage } from '../core/storage.js';

/** Writes a file as a whole through the storage (durable and atomic: see node/storage.ts). */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  getStorage().write(path, data);
}

/** Writes a JSON document atomically, pretty-printed. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** The text of a file, or null when there is none. */
export function readText(path: string): string | null {
  const b = getStorage().read(path);
  return b ? new TextDecoder().decode(b) : null;
}

/** Reads and parses a JSON file, with an error naming the file when it is missing or malformed. */
export function readJson<T = unknown>(path: string, what = 'file'): T {
  const text = readText(path);
  if (text === null) throw new CpnasError(what, `cannot read ${path}: ENOENT (no such file)`);
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
  getStorage().append(path, JSON.stringify(record) + '\n');
}

/** Reads a JSONL file, skipping a final line cut short by an interruption; [] when there is none. */
export function readJsonl<T = unknown>(path: string): T[] {
  const text = readText(path);
  if (text === null) return [];
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
