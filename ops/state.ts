/**
 * Saved state: one JSON document that describes every array, plus one binary blob that holds them.
 *
 * Two documents share the layout:
 * - a module's state (`format: 'cpnas-state'`): a flat list of named parameters, buffers and extra
 *   arrays, written by `Module.stateDict()` and read by `Module.loadStateDict()`;
 * - a tree (`format: 'cpnas-tree'`): any JSON value in which typed arrays may appear (optimizer and
 *   scheduler state, random generator state, counters), for checkpoints.
 *
 * Arrays are stored little-endian (the byte order of every platform Node runs on), each at a 4-byte
 * aligned `offset` (bytes) with `length` elements. On disk a state is `<name>.json` + `<name>.bin`,
 * both written through the storage (core/storage.ts: durable, atomic); the JSON names the blob's size
 * and checksum, and carries a checksum of its own text (`jsonChecksum`, over the document written
 * without it): both are always checked on reading, so a blob from another save, a damaged byte or an
 * edit (an operation renamed inside a model's genotype) is refused instead of loaded.
 */
import { CpnasError, shapeStr, sizeOf } from '../core/index.js';
import { basenameOf, getStorage, joinPath } from '../core/storage.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

export type StateArray = Float32Array | Uint32Array;
export type StateDtype = 'f32' | 'u32';
export type StateKind = 'param' | 'buffer' | 'extra';

export interface StateEntry {
  name: string;
  kind: StateKind;
  shape: number[];
  /** Byte offset of the first element in the blob. */
  offset: number;
  /** Number of elements. */
  length: number;
  dtype: StateDtype;
}

export interface StateJson {
  format: 'cpnas-state';
  version: 1;
  entries: StateEntry[];
  /** Size of the blob in bytes. */
  bytes: number;
  meta?: Record<string, unknown>;
}

/** A module's state: the JSON description and the blob it indexes. */
export interface StateDict {
  json: StateJson;
  blob: Uint8Array;
}

/** One array to pack: what `Module.stateDict()` collects. */
export interface StateItem {
  name: string;
  kind: StateKind;
  shape: readonly number[];
  data: StateArray;
}

const FORMAT = 'cpnas-state';
const TREE_FORMAT = 'cpnas-tree';

function dtypeOf(a: StateArray): StateDtype {
  return a instanceof Uint32Array ? 'u32' : 'f32';
}

/** Copies `items` into one blob and describes them. */
export function packState(items: readonly StateItem[], meta?: Record<string, unknown>): StateDict {
  let bytes = 0;
  const entries: StateEntry[] = items.map((it) => {
    if (it.data.length !== sizeOf(it.shape)) {
      throw new CpnasError('stateDict', `${it.name} has ${it.data.length} values but shape ${shapeStr(it.shape)}`);
    }
    const e: StateEntry = { name: it.name, kind: it.kind, shape: [...it.shape], offset: bytes, length: it.data.length, dtype: dtypeOf(it.data) };
    bytes += it.data.length * 4;
    return e;
  });
  const blob = new Uint8Array(bytes);
  for (let i = 0; i < items.length; i++) {
    const src = items[i].data;
    const view = src instanceof Uint32Array
      ? new Uint32Array(blob.buffer, entries[i].offset, src.length)
      : new Float32Array(blob.buffer, entries[i].offset, src.length);
    view.set(src);
  }
  const json: StateJson = { format: FORMAT, version: 1, entries, bytes };
  if (meta !== undefined) json.meta = meta;
  return { json, blob };
}

/** A blob whose bytes start on a 4-byte boundary (Buffers read from disk may not). */
function aligned(blob: Uint8Array): Uint8Array {
  return blob.byteOffset % 4 === 0 ? blob : blob.slice();
}

/** Checks the header and that every entry lies inside the blob. */
export function validateState(state: StateDict, where = 'loadStateDict'): void {
  const { json, blob } = state;
  if (!json || typeof json !== 'object' || json.format !== FORMAT) {
    throw new CpnasError(where, `not a cpnas module state (format is ${JSON.stringify((json as { format?: unknown } | null)?.format)}, expected "${FORMAT}")`);
  }
  if (json.version !== 1) throw new CpnasError(where, `state version ${json.version} is not supported (this build reads version 1)`);
  if (!Array.isArray(json.entries)) throw new CpnasError(where, 'state has no entries list');
  if (typeof json.bytes === 'number' && json.bytes !== blob.byteLength) {
    throw new CpnasError(where, `the blob has ${blob.byteLength} bytes but the state describes ${json.bytes}`);
  }
  for (const e of json.entries) {
    if (e.dtype !== 'f32' && e.dtype !== 'u32') throw new CpnasError(where, `${e.name}: unknown dtype ${JSON.stringify(e.dtype)}`);
    if (!Array.isArray(e.shape) || sizeOf(e.shape) !== e.length) {
      throw new CpnasError(where, `${e.name}: shape ${JSON.stringify(e.shape)} does not hold ${e.length} values`);
    }
    if (e.offset % 4 !== 0 || e.offset < 0 || e.offset + e.length * 4 > blob.byteLength) {
      throw new CpnasError(where, `${e.name}: bytes ${e.offset}..${e.offset + e.length * 4} lie outside the ${blob.byteLength}-byte blob`);
    }
  }
}

/** A copy of one entry's values. */
export function readEntry(state: StateDict, entry: StateEntry): StateArray {
  const blob = aligned(state.blob);
  return entry.dtype === 'u32'
    ? new Uint32Array(blob.buffer, blob.byteOffset + entry.offset, entry.length).slice()
    : new Float32Array(blob.buffer, blob.byteOffset + entry.offset, entry.length).slice();
}

/** Copies one entry's values into `dst` (same length), without allocating a copy. */
export function readEntryInto(state: StateDict, entry: StateEntry, dst: StateArray): void {
  const blob = aligned(state.blob);
  const src = entry.dtype === 'u32'
    ? new Uint32Array(blob.buffer, blob.byteOffset + entry.offset, entry.length)
    : new Float32Array(blob.buffer, blob.byteOffset + entry.offset, entry.length);
  dst.set(src);
}

// ---- trees: JSON values with typed arrays inside ---------------------------------------------

/** A JSON value in which Float32Array / Uint32Array may appear anywhere. */
export type Tree = null | boolean | number | string | StateArray | Tree[] | { [key: string]: Tree };

export interface TreeJson {
  format: 'cpnas-tree';
  version: 1;
  bytes: number;
  value: unknown;
}

interface ArrayRef {
  $array: StateDtype;
  offset: number;
  length: number;
}

/**
 * Splits a tree into JSON (arrays replaced by `{ $array, offset, length }` references) and one blob.
 * Non-finite numbers are kept (`NaN`, `Infinity` are written as strings marked `{ $num }`).
 */
export function encodeTree(value: Tree): { json: TreeJson; blob: Uint8Array } {
  const arrays: StateArray[] = [];
  let bytes = 0;
  const walk = (v: Tree): unknown => {
    if (v instanceof Float32Array || v instanceof Uint32Array) {
      const ref: ArrayRef = { $array: dtypeOf(v), offset: bytes, length: v.length };
      arrays.push(v);
      bytes += v.length * 4;
      return ref;
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      if (ArrayBuffer.isView(v)) throw new CpnasError('encodeTree', `${(v as object).constructor.name} is not supported (only Float32Array and Uint32Array)`);
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = walk(x);
      return o;
    }
    return v;
  };
  const jsonValue = walk(value);
  const blob = new Uint8Array(bytes);
  let off = 0;
  for (const a of arrays) {
    (a instanceof Uint32Array ? new Uint32Array(blob.buffer, off, a.length) : new Float32Array(blob.buffer, off, a.length)).set(a);
    off += a.length * 4;
  }
  return { json: { format: TREE_FORMAT, version: 1, bytes, value: jsonValue }, blob };
}

/** The inverse of encodeTree: arrays come back as fresh copies. */
export function decodeTree(json: TreeJson, blobIn: Uint8Array): Tree {
  if (!json || json.format !== TREE_FORMAT) throw new CpnasError('decodeTree', `not a cpnas tree (format ${JSON.stringify(json?.format)})`);
  if (json.bytes !== blobIn.byteLength) throw new CpnasError('decodeTree', `the blob has ${blobIn.byteLength} bytes but the tree describes ${json.bytes}`);
  const blob = aligned(blobIn);
  const walk = (v: unknown): Tree => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.$num === 'string') return Number(o.$num);
      if (o.$array === 'f32' || o.$array === 'u32') {
        const { offset, length } = o as unknown as ArrayRef;
        if (offset % 4 !== 0 || offset + length * 4 > blob.byteLength) throw new CpnasError('decodeTree', `array at ${offset} (${length} values) lies outside the blob`);
        return o.$array === 'u32'
          ? new Uint32Array(blob.buffer, blob.byteOffset + offset, length).slice()
          : new Float32Array(blob.buffer, blob.byteOffset + offset, length).slice();
      }
      const r: { [key: string]: Tree } = {};
      for (const [k, x] of Object.entries(o)) r[k] = walk(x);
      return r;
    }
    return v as Tree;
  };
  return walk(json.value);
}

// ---- files -------------------------------------------------------------------------------------

/** FNV-1a over the bytes: cheap, and enough to tell one save's blob from another's, or a damaged byte. */
export function checksum(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * `runs/a/child` -> `runs/a/child.json` + `.bin`. A path ending in `.json`/`.bin` is cut back to its
 * prefix; an existing folder (or a path ending in a separator) gets `model` inside it.
 */
export function statePaths(path: string): { json: string; bin: string } {
  let prefix = path.replace(/\.(json|bin)$/, '');
  let isDir = /[\\/]$/.test(prefix);
  if (!isDir) isDir = getStorage().isFolder(prefix);
  if (isDir) prefix = joinPath(prefix, 'model');
  return { json: `${prefix}.json`, bin: `${prefix}.bin` };
}

interface OnDisk {
  blobFile?: string;
  checksum?: string;
  jsonChecksum?: string;
}

/** Writes a JSON document and its blob: the blob first, so the JSON never points at a missing blob. */
export function writeStateFiles(path: string, json: StateJson | TreeJson, blob: Uint8Array): { json: string; bin: string } {
  const paths = statePaths(path);
  const storage = getStorage();
  storage.write(paths.bin, blob);
  const doc: (StateJson | TreeJson) & OnDisk = { ...json, blobFile: basenameOf(paths.bin), checksum: checksum(blob) };
  const jsonChecksum = checksum(new TextEncoder().encode(JSON.stringify(doc)));
  storage.write(paths.json, JSON.stringify({ ...doc, jsonChecksum }) + '\n');
  return paths;
}

/** Reads what writeStateFiles wrote, checking that the blob is the one the JSON was saved with. */
export function readStateFiles(path: string, where = 'load'): { json: StateJson | TreeJson; blob: Uint8Array } {
  const paths = statePaths(path);
  const storage = getStorage();
  const jsonBytes = storage.read(paths.json);
  if (!jsonBytes) throw new CpnasError(where, `cannot read ${paths.json}: ENOENT (no such file)`);
  const text = new TextDecoder().decode(jsonBytes);
  let json: (StateJson | TreeJson) & OnDisk;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CpnasError(where, `${paths.json} is not valid JSON (${(e as Error).message})`);
  }
  const blob = storage.read(paths.bin);
  if (!blob) throw new CpnasError(where, `cannot read ${paths.bin}: ENOENT (no such file)`);
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new CpnasError(where, `${paths.json} is not a cpnas state document`);
  // the document's own checksum: over its text as written, without the field (JSON.stringify of what
  // JSON.parse read gives back the same text)
  const { jsonChecksum, ...rest } = json;
  if (typeof jsonChecksum !== 'string') {
    throw new CpnasError(where, `${paths.json} carries no checksum (written by an older cpnas, or edited): it cannot be verified`);
  }
  if (jsonChecksum !== checksum(new TextEncoder().encode(JSON.stringify(rest)))) {
    throw new CpnasError(where, `${paths.json} fails its checksum (edited or damaged since it was saved)`);
  }
  json = rest;
  if (json.checksum !== checksum(blob)) {
    throw new CpnasError(where, `${paths.bin} does not match ${paths.json} (checksum differs: a blob from another save, or a damaged file)`);
  }
  return { json, blob };
}

/** The part of Module that saving needs (the type only, so this file does not import module.ts). */
export interface Stateful {
  stateDict(meta?: Record<string, unknown>): StateDict;
  loadStateDict(state: StateDict, opts?: { strict?: boolean }): void;
}

/** Saves a module's parameters, buffers and extra state to `<path>.json` + `<path>.bin`. */
export function saveModule(module: Stateful, path: string, meta?: Record<string, unknown>): { json: string; bin: string } {
  const { json, blob } = module.stateDict(meta);
  const bad = nonFiniteEntry({ json, blob });
  if (bad) throw new CpnasError('saveModule', `refusing to save ${statePaths(path).json}: ${bad} (a diverged training; nothing was written)`);
  return writeStateFiles(path, json, blob);
}

/** The first float entry of a state holding NaN or Inf, described, or null when all are finite. */
export function nonFiniteEntry(state: StateDict): string | null {
  for (const e of state.json.entries) {
    if (e.dtype !== 'f32') continue;
    const v = readEntry(state, e) as Float32Array;
    let n = 0;
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) n++;
    if (n) return `${e.name} holds ${n} non-finite value${n > 1 ? 's' : ''} (NaN or Inf)`;
  }
  return null;
}

/** Loads what saveModule wrote into `module` (names and shapes checked) and returns the saved meta. */
export function loadModule(module: Stateful, path: string, opts: { strict?: boolean } = {}): Record<string, unknown> | undefined {
  const { json, blob } = readStateFiles(path, 'loadModule');
  if (json.format !== FORMAT) {
    throw new CpnasError('loadModule', `${statePaths(path).json} holds a ${JSON.stringify(json.format)} document, not a module state`);
  }
  module.loadStateDict({ json, blob }, opts);
  return json.meta;
}

/** `runs/a/child` (a folder) -> `runs/a/child/model.safetensors`; a path with the extension stays. */
export function safetensorsPath(path: string): string {
  if (path.endsWith('.safetensors')) return path;
  const { json } = statePaths(path);
  return json.replace(/\.json$/, '.safetensors');
}

/**
 * Saves a module as one safetensors file (ops/safetensors.ts): the weights for any tool that reads
 * the format, `meta` in the header's `__metadata__`. Written atomically. Returns the file's path.
 */
export function saveSafetensors(module: Stateful, path: string, meta?: Record<string, unknown>): string {
  const file = safetensorsPath(path);
  getStorage().write(file, encodeSafetensors(module.stateDict(meta)));
  return file;
}

/**
 * Reads a saved module state: `<path>.safetensors` when there is one, else the JSON + blob pair of
 * saveModule (the format of earlier versions). `path` may be a folder (its `model` inside).
 */
export function readModelState(path: string, where = 'load'): { state: StateDict; file: string } {
  const file = safetensorsPath(path);
  const bytes = getStorage().read(file);
  if (bytes) return { state: decodeSafetensors(bytes, file, where), file };
  const { json, blob } = readStateFiles(path, where);
  if (json.format !== FORMAT) throw new CpnasError(where, `${statePaths(path).json} holds a ${JSON.stringify(json.format)} document, not a module state`);
  return { state: { json, blob }, file: statePaths(path).json };
}

/** Loads what saveSafetensors (or saveModule) wrote into `module`; returns the saved meta. */
export function loadSafetensors(module: Stateful, path: string, opts: { strict?: boolean } = {}): Record<string, unknown> | undefined {
  const { state } = readModelState(path, 'loadModule');
  module.loadStateDict(state, opts);
  return state.json.meta;
}

/** Saves any tree (optimizer state, scheduler, counters...) to `<path>.json` + `<path>.bin`. */
export function saveTree(path: string, value: Tree): { json: string; bin: string } {
  const { json, blob } = encodeTree(value);
  return writeStateFiles(path, json, blob);
}

export function loadTree(path: string): Tree {
  const { json, blob } = readStateFiles(path, 'loadTree');
  if (json.format !== TREE_FORMAT) {
    throw new CpnasError('loadTree', `${statePaths(path).json} holds a ${JSON.stringify(json.format)} document, not a tree`);
  }
  return decodeTree(json, blob);
}
