/** The runtime's file entry for Node (`cpnas/runtime/node`): reads an exported Child from disk. */
import { readFileSync, statSync } from 'node:fs';
import { CpnasError } from '../../core/errors.js';
import { ChildModel } from './index.js';

export * from './index.js';

/** Loads the Child file at `path`; a missing, unreadable or invalid file raises an error naming it. */
export function readChildFile(path: string): ChildModel {
  let bytes: Uint8Array;
  try {
    if (statSync(path).isDirectory()) throw new CpnasError('runtime', `${path} is a folder; an exported Child is one file (cpnas export --model RUN --out FILE)`);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof CpnasError) throw e;
    throw new CpnasError('runtime', `cannot read the Child file ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return ChildModel.fromBytes(bytes, path);
}
