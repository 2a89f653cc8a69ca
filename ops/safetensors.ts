/**
 * Module state as safetensors (https://github.com/huggingface/safetensors, "Format"), the file format
 * PyTorch, JAX and NumPy users read without cpnas:
 *
 *   8 bytes   N, the header's length, unsigned little-endian
 *   N bytes   a JSON object: per tensor {"dtype": "F32" | "U32", "shape": [...], "data_offsets": [begin, end]}
 *             (byte offsets into the data), plus "__metadata__": a string -> string map
 *   the data  every tensor's bytes, little-endian, one after the other
 *
 * cpnas keeps what its own format carried in `__metadata__`: `format` ("cpnas-state"), `cpnas.version`,
 * `cpnas.kinds` (JSON: name -> param | buffer | extra), `cpnas.meta` (JSON: the model description:
 * genotype, network config, input shape, classes), `cpnas.checksum` (FNV-1a of the data) and
 * `cpnas.header-checksum` (FNV-1a of the header as JSON without that field), so that a damaged or
 * edited file is refused rather than loaded. Files of other writers have neither and load as they are. The header is padded with spaces to a multiple of 8
 * bytes, as the reference writer does, so every tensor starts aligned. Bytes in, bytes out: the file
 * side lives in state.ts.
 */
import { CpnasError, shapeStr, sizeOf } from '../core/index.js';
import { packState, type StateDict, type StateItem, type StateKind } from './state.js';

const DTYPES = { f32: 'F32', u32: 'U32' } as const;
const FORMAT = 'cpnas-state';

/** FNV-1a over the bytes: cheap, and enough to tell a damaged file from an intact one. */
export function fnv1a(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** A module state as the bytes of one .safetensors file. */
export function encodeSafetensors(state: StateDict): Uint8Array {
  const { json, blob } = state;
  const header: Record<string, unknown> = {};
  const kinds: Record<string, StateKind> = {};
  for (const e of json.entries) {
    header[e.name] = { dtype: DTYPES[e.dtype], shape: e.shape, data_offsets: [e.offset, e.offset + e.length * 4] };
    kinds[e.name] = e.kind;
  }
  header.__metadata__ = {
    format: FORMAT,
    'cpnas.version': String(json.version),
    'cpnas.kinds': JSON.stringify(kinds),
    ...(json.meta !== undefined ? { 'cpnas.meta': JSON.stringify(json.meta) } : {}),
    'cpnas.checksum': fnv1a(blob),
  };
  (header.__metadata__ as Record<string, string>)['cpnas.header-checksum'] = headerChecksum(header);
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - ((new TextEncoder().encode(text).length) % 8)) % 8);
  const head = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + head.length + blob.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(blob, 8 + head.length);
  return out;
}

/** FNV-1a of the header as JSON, without its own checksum field (what JSON.parse gives back re-stringified). */
function headerChecksum(header: Record<string, unknown>): string {
  const meta = { ...(header.__metadata__ as Record<string, unknown>) };
  delete meta['cpnas.header-checksum'];
  return fnv1a(new TextEncoder().encode(JSON.stringify({ ...header, __metadata__: meta })));
}

interface HeaderEntry {
  dtype: unknown;
  shape: unknown;
  data_offsets: unknown;
}

/**
 * Reads a .safetensors file's bytes into a module state. `file` names the file in errors. Tensors of
 * other dtypes than F32 / U32 are refused by name; a file without cpnas metadata loads with every
 * tensor as a parameter and no model description.
 */
export function decodeSafetensors(bytes: Uint8Array, file: string, where = 'load'): StateDict {
  const fail = (why: string): never => { throw new CpnasError(where, `${file}: ${why}`); };
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short for a safetensors file (a truncated file?)`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) fail(`the header claims ${n} bytes but the file has ${bytes.length - 8} after the length (a truncated file?)`);
  const headerEnd = 8 + Number(n);
  let header: Record<string, HeaderEntry | Record<string, unknown>>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (e) {
    return fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const data = bytes.subarray(headerEnd);
  const metadata = (header.__metadata__ ?? {}) as Record<string, unknown>;
  if (metadata.format !== undefined && metadata.format !== FORMAT) fail(`format is ${JSON.stringify(metadata.format)}, expected "${FORMAT}"`);
  if (typeof metadata['cpnas.header-checksum'] === 'string' && metadata['cpnas.header-checksum'] !== headerChecksum(header)) {
    fail('the header fails its checksum (edited or damaged since it was saved)');
  }
  if (typeof metadata['cpnas.checksum'] === 'string' && metadata['cpnas.checksum'] !== fnv1a(data)) {
    fail('the tensor data does not match the checksum in its header (a damaged or truncated file)');
  }
  const parseJson = (key: string): unknown => {
    const v = metadata[key];
    if (v === undefined) return undefined;
    try { return JSON.parse(String(v)); } catch (e) { return fail(`__metadata__["${key}"] is not valid JSON (${(e as Error).message})`); }
  };
  const kinds = (parseJson('cpnas.kinds') ?? {}) as Record<string, StateKind>;
  const meta = parseJson('cpnas.meta') as Record<string, unknown> | undefined;

  const items: StateItem[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as HeaderEntry;
    if (e.dtype !== 'F32' && e.dtype !== 'U32') fail(`tensor ${name} has dtype ${JSON.stringify(e.dtype)}; cpnas reads F32 and U32`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor ${name} has shape ${JSON.stringify(shape)}, not a list of sizes`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isInteger(o) && o >= 0) || off[1] < off[0] || off[1] > data.length) {
      fail(`tensor ${name} has data_offsets ${JSON.stringify(off)} outside the ${data.length} bytes of data (a truncated file?)`);
    }
    const [begin, end] = off as [number, number];
    const length = sizeOf(shape as number[]);
    if (end - begin !== length * 4) fail(`tensor ${name}: shape ${shapeStr(shape as number[])} needs ${length * 4} bytes but data_offsets span ${end - begin}`);
    const copy = new Uint8Array(end - begin); // aligned, and independent of the file's buffer
    copy.set(data.subarray(begin, end));
    items.push({
      name,
      kind: kinds[name] ?? 'param',
      shape: shape as number[],
      data: e.dtype === 'U32' ? new Uint32Array(copy.buffer, 0, length) : new Float32Array(copy.buffer, 0, length),
    });
  }
  // The data section lists tensors in offset order; keep that order (it is the order they were saved in).
  const order = new Map(Object.entries(header).filter(([k]) => k !== '__metadata__').map(([k, v]) => [k, ((v as HeaderEntry).data_offsets as number[])[0]]));
  items.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  return packState(items, meta);
}
