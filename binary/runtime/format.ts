/**
 * The exported Child file (`cpnas export`, `.cpnas-child`): one inference plan (plan.ts) in one binary
 * file. Layout, all integers little-endian:
 *
 *   offset  size  field
 *   0       8     magic "CPNCHILD"
 *   8       4     format version (u32), 3 (versions 1 and 2 are still read, and 2 still written on request)
 *   12      4     J: bytes of the plan description (UTF-8 JSON)
 *   16      4     D: bytes of the array section
 *   20      4     CRC-32 (IEEE, as zlib's) of every byte after the 32-byte header (as stored)
 *   24      4     version 3: S, bytes of the stored (compressed) body; versions 1, 2: zero
 *   28      4     version 3: U, bytes of the body uncompressed, = pad8(J) + D; versions 1, 2: zero
 *   32      ...   the body. Version 3 stores it compressed: S bytes of raw DEFLATE (RFC 1951, by fflate),
 *                 which inflate to the U bytes that versions 1 and 2 store as they are:
 *     0       J     {"plan": ..., "arrays": [[dtype, length, ...], ...]}: the plan as JSON (below)
 *     J       pad   zero bytes up to a multiple of 8
 *     pad8(J) D     the array section: the arrays one after another in table order, little-endian;
 *                   dtype 0 = f32 (4 bytes a value), 1 = u32 (4 bytes), 2 = f16 (IEEE half, 2 bytes),
 *                   3 = q8 (version 3: [3, length, lo, step], 1 byte a value, none when step is 0;
 *                   lo and step float32, written as the shortest decimals that round to them);
 *                   D = the sum of their bytes
 *
 * The plan description (versions 2, 3) is {input, numClasses, buffers, output, meta, steps}, each step
 * an array [op, field, field, ...] with the fields of its op in STEP_FIELDS order: an array-valued field
 * holds its index in the array table (or null), a convolution geometry the array of its 15 integers
 * in GEOM_KEYS order, `outBits` null or [dir index, val index]. (Version 1 wrote every step as an
 * object, its arrays as {"$array": i}, and f32/u32 arrays only: three times the description bytes.)
 *
 * Floats: by default every float array is stored as f32, so the runtime computes exactly what the
 * compiled plan does. `floats: 'f16'` and `floats: 'q8'` (`cpnas export --floats f16|q8`, lossy,
 * float-codes.ts) store the plan's float weights and per-channel maps (never the integer thresholds of
 * sign-bit outputs, `dir` and `val`) as IEEE half floats or as 8-bit codes on one affine grid per
 * array; an array that does not fit stays f32.
 *
 * A version-3 file's size must be exactly 32 + S, and its body must inflate to exactly U bytes (at
 * most MAX_BODY); a version-1/2 file's size exactly 32 + pad8(J) + D. A reader checks the magic, the
 * version, the sizes, the checksum, the inflation, and then the plan itself (every buffer index, every
 * array's length against the layer's geometry), and refuses a bad file with an error that names it.
 * Nothing in the file is executed.
 */
import { inflateSync, deflateSync } from 'fflate';
import { CpnasError } from '../../core/errors.js';
import { float32Text, fromHalfBits, fromQ8, halfArray, quantizeQ8 } from './float-codes.js';
import type { ConvGeom, InferencePlan, PlanStep } from './plan.js';
import { GEOM_KEYS, validatePlan } from './validate.js';

export { fromHalfBits, toHalfBits, fromQ8, quantizeQ8 } from './float-codes.js';
export { GEOM_KEYS, validatePlan } from './validate.js';

export const CHILD_MAGIC = 'CPNCHILD';
export const CHILD_FORMAT_VERSION = 3;
const HEADER = 32;
/**
 * The largest body a reader inflates (256 MiB): a header that states more is refused before any
 * allocation (the DARTS-V2 Child of the benchmarks is about 0.1 MB; DEFLATE itself cannot expand a
 * stored byte into more than 1032, which bounds it further).
 */
export const MAX_BODY = 256 * 1024 * 1024;
const MAX_DEFLATE_RATIO = 1032;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, the polynomial of zlib and PNG) of `b`. */
export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** dtype code, length (and for q8: lo, step) */
type ArrayRef = [number, number] | [number, number, number, number];
const F32 = 0, U32 = 1, F16 = 2, Q8 = 3;
const DTYPE_BYTES = [4, 4, 2, 1];

/** How the plan's float arrays are stored (see the file comment and float-codes.ts). */
export type FloatStorage = 'f32' | 'f16' | 'q8';
export const FLOAT_STORAGES: readonly FloatStorage[] = ['f32', 'f16', 'q8'];
export interface EncodeOptions {
  floats?: FloatStorage;
  /**
   * The format version to write: 3 (default, the body DEFLATE-compressed) or 2 (stored as is, for a
   * runtime older than version 3; f32 and f16 only).
   */
  version?: 2 | 3;
}

/** The fields of every op, in the order a version-2 step array holds them after the op. */
export const STEP_FIELDS: Record<PlanStep['op'], readonly string[]> = {
  conv: ['x', 'y', 'geom', 'weight', 'bias'],
  bconv: ['x', 'y', 'geom', 'signs', 'A', 'B', 'yC0', 'res', 'resC0', 'resScale', 'inBits', 'outBits'],
  affine: ['x', 'y', 'scale', 'shift', 'relu'],
  relu: ['x', 'y'],
  maxpool: ['x', 'y', 'kernel', 'stride', 'padding'],
  avgpool: ['x', 'y', 'kernel', 'stride', 'padding'],
  groupmean: ['x', 'y', 'groups'],
  add: ['a', 'b', 'y', 'yC0'],
  copy: ['x', 'y', 'yC0'],
  shift: ['x', 'y'],
  zero: ['y'],
  gap: ['x', 'y'],
  linear: ['x', 'y', 'inFeatures', 'outFeatures', 'weight', 'bias'],
};
/** Fields that hold a typed array (or null). */
const ARRAY_FIELDS = new Set(['weight', 'bias', 'signs', 'A', 'B', 'resScale', 'scale', 'shift']);

const pad = (n: number, to: number): number => Math.ceil(n / to) * to;

// ---- writing -----------------------------------------------------------------------------------------

type Stored = Float32Array | Uint32Array | Uint16Array | Uint8Array;

/** The plan as the bytes of a Child file (format version 3 unless options.version is 2). */
export function encodePlan(plan: InferencePlan, options: EncodeOptions = {}): Uint8Array {
  const floats = options.floats ?? 'f32', version = options.version ?? CHILD_FORMAT_VERSION;
  if (!FLOAT_STORAGES.includes(floats)) throw new CpnasError('export', `floats must be ${FLOAT_STORAGES.join(', ')}, got ${JSON.stringify(floats)}`);
  if (version !== 2 && version !== 3) throw new CpnasError('export', `this cpnas writes Child format versions 2 and 3, not ${JSON.stringify(version)}`);
  if (version === 2 && floats === 'q8') throw new CpnasError('export', 'q8 floats need format version 3');
  const arrays: Stored[] = [];
  const refs: ArrayRef[] = [];
  let bytes = 0;
  const add = (a: Float32Array | Uint32Array, lossyOk: boolean): number => {
    let stored: Stored = a, ref: ArrayRef = [a instanceof Float32Array ? F32 : U32, a.length];
    if (lossyOk && a instanceof Float32Array && floats === 'f16') {
      const h = halfArray(a);
      if (h) [stored, ref] = [h, [F16, a.length]];
    } else if (lossyOk && a instanceof Float32Array && floats === 'q8') {
      const q = quantizeQ8(a);
      if (q) [stored, ref] = [q.codes, [Q8, a.length, float32Text(q.lo), float32Text(q.step)]];
    }
    refs.push(ref);
    arrays.push(stored);
    bytes += stored.byteLength;
    return arrays.length - 1;
  };
  const steps = plan.steps.map((s) => {
    const rec = s as unknown as Record<string, unknown>;
    return [s.op, ...STEP_FIELDS[s.op].map((f) => {
      const v = rec[f];
      if (f === 'geom') return GEOM_KEYS.map((k) => (v as ConvGeom)[k]);
      if (f === 'outBits') return v === null ? null : [add((v as { dir: Float32Array }).dir, false), add((v as { val: Float32Array }).val, false)];
      if (ARRAY_FIELDS.has(f)) return v === null ? null : add(v as Float32Array | Uint32Array, true);
      return v;
    })];
  });
  const doc = { plan: { input: plan.input, numClasses: plan.numClasses, buffers: plan.buffers, output: plan.output, meta: plan.meta, steps }, arrays: refs };
  const text = new TextEncoder().encode(JSON.stringify(doc));
  const J = text.length, dataStart = pad(J, 8), body = new Uint8Array(dataStart + bytes);
  const view = new DataView(body.buffer);
  body.set(text, 0);
  let o = dataStart;
  arrays.forEach((a) => {
    if (a instanceof Uint8Array) { body.set(a, o); o += a.length; }
    else if (a instanceof Uint16Array) for (let j = 0; j < a.length; j++, o += 2) view.setUint16(o, a[j], true);
    else if (a instanceof Float32Array) for (let j = 0; j < a.length; j++, o += 4) view.setFloat32(o, a[j], true);
    else for (let j = 0; j < a.length; j++, o += 4) view.setUint32(o, a[j], true);
  });
  const stored = version === 3 ? deflateSync(body, { level: 9 }) : body;
  const out = new Uint8Array(HEADER + stored.length), head = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = CHILD_MAGIC.charCodeAt(i);
  head.setUint32(8, version, true);
  head.setUint32(12, J, true);
  head.setUint32(16, bytes, true);
  if (version === 3) {
    head.setUint32(24, stored.length, true);
    head.setUint32(28, body.length, true);
  }
  out.set(stored, HEADER);
  head.setUint32(20, crc32(out.subarray(HEADER)), true);
  return out;
}

// ---- reading -----------------------------------------------------------------------------------------

/** Reads and checks a Child file's bytes (format version 1, 2 or 3); `name` (the file) is named in every error. */
export function decodePlan(bytes: Uint8Array, name: string): InferencePlan {
  const bad = (why: string): CpnasError => new CpnasError('runtime', `${name} is not a valid cpnas Child file: ${why}`);
  if (bytes.length < HEADER) throw bad(`${bytes.length} bytes, shorter than the ${HEADER}-byte header`);
  let magic = '';
  for (let i = 0; i < 8; i++) magic += String.fromCharCode(bytes[i]);
  if (magic !== CHILD_MAGIC) throw bad(`it starts with ${JSON.stringify(magic)}, not the magic "${CHILD_MAGIC}" (export one with cpnas export)`);
  const head = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = head.getUint32(8, true);
  if (version < 1 || version > CHILD_FORMAT_VERSION) {
    throw bad(`format version ${version}; this runtime reads versions 1 to ${CHILD_FORMAT_VERSION}${version > CHILD_FORMAT_VERSION ? ' (written by a newer cpnas)' : ''}`);
  }
  const J = head.getUint32(12, true), D = head.getUint32(16, true), dataStart = pad(J, 8);
  let body: Uint8Array;
  if (version === 3) {
    const S = head.getUint32(24, true), U = head.getUint32(28, true);
    if (bytes.length !== HEADER + S) throw bad(`${bytes.length} bytes, but its header describes ${HEADER + S} (${S} compressed): truncated or padded`);
    if (crc32(bytes.subarray(HEADER)) !== head.getUint32(20, true)) throw bad('checksum mismatch (the file is damaged)');
    if (U !== dataStart + D) throw bad(`its header states ${U} bytes uncompressed, but ${J} of plan and ${D} of arrays make ${dataStart + D}`);
    if (U > MAX_BODY || U > MAX_DEFLATE_RATIO * S + 64) {
      throw bad(`its header states ${U} bytes uncompressed from ${S} compressed, more than ${U > MAX_BODY ? `the ${MAX_BODY}-byte limit` : 'DEFLATE can expand'}`);
    }
    // one byte of room past U: a body that inflates to more than stated shows as U + 1 bytes
    let inflated: Uint8Array;
    try {
      inflated = inflateSync(bytes.subarray(HEADER), { out: new Uint8Array(U + 1) });
    } catch (e) {
      throw bad(`the compressed body does not inflate (${(e as Error).message})`);
    }
    if (inflated.length !== U) throw bad(`the compressed body inflates to ${inflated.length > U ? `more than ${U}` : inflated.length} bytes, not the ${U} its header states`);
    body = inflated;
  } else {
    if (bytes.length !== HEADER + dataStart + D) throw bad(`${bytes.length} bytes, but its header describes ${HEADER + dataStart + D} (${J} of plan, ${D} of arrays): truncated or padded`);
    if (crc32(bytes.subarray(HEADER)) !== head.getUint32(20, true)) throw bad('checksum mismatch (the file is damaged)');
    body = bytes.subarray(HEADER);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let doc: { plan: unknown; arrays: ArrayRef[] };
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(0, J)));
  } catch (e) {
    throw bad(`the plan description is not JSON (${(e as Error).message})`);
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.arrays)) throw bad('the plan description has no array table');
  const dtypes = version === 1 ? [F32, U32] : version === 2 ? [F32, U32, F16] : [F32, U32, F16, Q8];
  let offset = 0, values = 0;
  const arrays = doc.arrays.map((r, i) => {
    const ok = Array.isArray(r) && dtypes.includes(r[0]) && Number.isInteger(r[1]) && r[1] >= 0 && r.length === (r[0] === Q8 ? 4 : 2);
    // lo and step are float32 values, written as the shortest decimals that round to them
    const float32 = (v: unknown): number => (typeof v === 'number' ? Math.fround(v) : NaN);
    if (ok && r[0] === Q8 && !(Number.isFinite(float32(r[2])) && Number.isFinite(float32(r[3])) && float32(r[3]) >= 0)) {
      throw bad(`array ${i} (${JSON.stringify(r)}): a q8 grid needs a finite float32 lo and step >= 0`);
    }
    const stored = ok ? (r[0] === Q8 && float32(r[3]) === 0 ? 0 : DTYPE_BYTES[r[0]] * r[1]) : 0;
    if (!ok || offset + stored > D) throw bad(`array ${i} (${JSON.stringify(r)}) does not fit the ${D}-byte array section`);
    const n = r[1], o = dataStart + offset;
    offset += stored;
    // a constant q8 array takes no bytes: its length is bounded here, before the allocation
    if ((values += n) > MAX_BODY / 4) throw bad(`its arrays hold more than ${MAX_BODY / 4} values`);
    if (r[0] === U32) {
      const out = new Uint32Array(n);
      for (let j = 0; j < n; j++) out[j] = view.getUint32(o + 4 * j, true);
      return out;
    }
    const out = new Float32Array(n);
    if (r[0] === Q8) {
      const lo = float32(r[2]), step = float32(r[3]);
      if (step === 0) out.fill(lo);
      else for (let j = 0; j < n; j++) out[j] = fromQ8(lo, step, body[o + j]);
    } else if (r[0] === F16) for (let j = 0; j < n; j++) out[j] = fromHalfBits(view.getUint16(o + 2 * j, true));
    else for (let j = 0; j < n; j++) out[j] = view.getFloat32(o + 4 * j, true);
    return out;
  });
  if (offset !== D) throw bad(`its arrays take ${offset} bytes but the array section has ${D}`);
  const plan = (version === 1 ? revive(doc.plan, arrays, bad) : reviveSteps(doc.plan, arrays, bad)) as InferencePlan;
  validatePlan(plan, (why) => bad(why));
  return plan;
}

/** A version-2 plan description back to a plan: step arrays to step objects, indices to arrays. */
function reviveSteps(v: unknown, arrays: (Float32Array | Uint32Array)[], bad: (why: string) => CpnasError): unknown {
  const p = v as Record<string, unknown>;
  if (!p || typeof p !== 'object' || !Array.isArray(p.steps)) throw bad('the plan description has no steps');
  const arrayAt = (i: unknown): Float32Array | Uint32Array => {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= arrays.length) throw bad(`array reference ${JSON.stringify(i)} is not in the array table`);
    return arrays[i];
  };
  const steps = p.steps.map((s: unknown, i: number) => {
    const op = Array.isArray(s) ? s[0] : undefined;
    const fields = typeof op === 'string' && Object.hasOwn(STEP_FIELDS, op) ? STEP_FIELDS[op as PlanStep['op']] : null;
    if (!fields) throw bad(`step ${i} has unknown op ${JSON.stringify(op)}`);
    if ((s as unknown[]).length !== fields.length + 1) throw bad(`step ${i} (${op}) has ${(s as unknown[]).length - 1} fields, not ${fields.length}`);
    const out: Record<string, unknown> = { op };
    fields.forEach((f, j) => {
      const x = (s as unknown[])[j + 1];
      if (f === 'geom') {
        if (!Array.isArray(x) || x.length !== GEOM_KEYS.length) throw bad(`step ${i}: a convolution geometry is ${JSON.stringify(x)}, not ${GEOM_KEYS.length} integers`);
        out[f] = Object.fromEntries(GEOM_KEYS.map((key, k) => [key, x[k]]));
      } else if (f === 'outBits') {
        if (x !== null && (!Array.isArray(x) || x.length !== 2)) throw bad(`step ${i}: outBits must be null or [dir, val]`);
        out[f] = x === null ? null : { dir: arrayAt(x[0]), val: arrayAt(x[1]) };
      } else if (ARRAY_FIELDS.has(f)) {
        out[f] = x === null ? null : arrayAt(x);
      } else {
        out[f] = x;
      }
    });
    return out;
  });
  return { ...p, steps };
}

/** A version-1 plan description: objects throughout, arrays as {"$array": i}. */
function revive(v: unknown, arrays: (Float32Array | Uint32Array)[], bad: (why: string) => CpnasError): unknown {
  if (Array.isArray(v)) return v.map((x) => revive(x, arrays, bad));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('$array' in o) {
      const i = o.$array;
      if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= arrays.length) throw bad(`array reference ${JSON.stringify(i)} is not in the array table`);
      return arrays[i];
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      if (k === 'geom') {
        if (!Array.isArray(x) || x.length !== GEOM_KEYS.length) throw bad(`a convolution geometry is ${JSON.stringify(x)}, not ${GEOM_KEYS.length} integers`);
        out[k] = Object.fromEntries(GEOM_KEYS.map((key, i) => [key, x[i]]));
      } else {
        out[k] = revive(x, arrays, bad);
      }
    }
    return out;
  }
  return v;
}

