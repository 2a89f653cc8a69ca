/** What the readers share: the raw form of a split, and finding the files of a data folder. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CpnasError } from '../core/index.js';
import type { SampleShape } from './dataset.js';

/** A split as read from disk: N*C*H*W bytes and N labels. */
export interface RawSplit {
  pixels: Uint8Array;
  labels: Int32Array;
}

/** A whole dataset as read from disk, before resizing, normalization and limits. */
export interface RawDataset {
  shape: SampleShape;
  classNames: string[];
  train: RawSplit;
  /** Present when the source defines its own validation split; otherwise it is cut from train. */
  val?: RawSplit;
  test: RawSplit;
  /** Where it came from (a folder, a package), for reports. */
  source: string;
}

/**
 * The folder that holds `expected` files: `dir` itself, or one of `subfolders` inside it (so that
 * `--data` may point at the folder an archive was extracted into). Throws naming the folder and the
 * files it expected.
 */
export function findDataFolder(where: string, dir: string | undefined, expected: string[][], what: string,
  subfolders: string[] = []): string {
  const wanted = describeExpected(expected);
  if (dir === undefined || dir === '') {
    throw new CpnasError(where, `no data folder given: pass dataDir (--data DIR), the folder holding ${wanted} (${what})`);
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CpnasError(where, `data folder ${dir} does not exist; expected it to hold ${wanted} (${what})`);
  }
  for (const candidate of [dir, ...subfolders.map((s) => join(dir, s))]) {
    if (expected.every((alternatives) => alternatives.some((f) => existsSync(join(candidate, f))))) return candidate;
  }
  const missing = expected.filter((alternatives) => !alternatives.some((f) => existsSync(join(dir, f))));
  throw new CpnasError(where,
    `data folder ${dir} is missing ${missing.map((a) => a.join(' or ')).join(', ')}; expected ${wanted} (${what})`);
}

/** The first of `alternatives` present in `dir` (findDataFolder has checked that one is). */
export function pickFile(dir: string, alternatives: string[]): string {
  for (const f of alternatives) if (existsSync(join(dir, f))) return join(dir, f);
  return join(dir, alternatives[0]);
}

export function readBytes(where: string, file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new CpnasError(where, `cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Class names from a text file with one name a line, if it exists and has `count` names. */
export function readNames(file: string, count: number): string[] | null {
  if (!existsSync(file)) return null;
  const names = readFileSync(file, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  return names.length === count ? names : null;
}

function describeExpected(expected: string[][]): string {
  const names = expected.map((a) => a[0]);
  if (names.length === 1) return names[0];
  const head = names.length > 4 ? `${names[0]} ... ${names[names.length - 2]}` : names.slice(0, -1).join(', ');
  return `${head} and ${names[names.length - 1]}`;
}
