/**
 * The exported Child file (`cpnas export`, `.cpnas-child`): one inference plan (plan.ts) in one binary
 * file. Layout, all integers little-endian:
 *
 *   offset  size  field
 *   0       8     magic "CPNCHILD"
 *   8       4     format version (u32), 2 (version 1 files are still read)
 *   12      4     J: bytes of the plan description (UTF-8 JSON)
 *   16      4     D: bytes of the array section
 *   20      4     CRC-32 (IEEE, as zlib's) of every byte after the 32-byte header
 *   24      8     reserved, zero
 *   32      J     {"plan": ..., "arrays": [[dtype, length], ...]}: the plan as JSON (below)
 *   32+J    pad   zero bytes up to a multiple of 8
 *   ...     D     the array section: the arrays one after another in table order, little-endian;
 *                 dtype 0 = f32 (4 bytes a value), 1 = u32 (4 bytes), 2 = f16 (IEEE half, 2 bytes);
 *                 D = the sum of their bytes
 *
 * The plan description (version 2) is {input, numClasses, buffers, output, meta, steps}, each step an
 * array [op, field, field, ...] with the fields of its op in STEP_FIELDS order: an array-valued field
 * holds its index in the array table (or null), a convolution geometry the array of its 15 integers
 * in GEOM_KEYS order, `outBits` null or [dir index, val index]. (Version 1 wrote every step as an
 * object, its arrays as {"$array": i}, and f32/u32 arrays only: three times the description bytes.)
 *
 * Floats: by default every float array is stored as f32, so the runtime computes exactly what the
 * compiled plan does. `floats: 'f16'` (`cpnas export --floats f16`) stores the plan's float weights and
 * per-channel maps (not the integer thresholds of sign-bit outputs) as IEEE half floats, rounded to
 * nearest even, halving their bytes: a lossy option whose predictions can differ from the Child's
 * where two classes are within half-float rounding; an array with a value outside the half range
 * stays f32.
 *
 * The file's size must be exactly 32 + pad8(J) + D. A reader checks the magic, the version, the sizes,
 * the checksum and then the plan itself (every buffer index, every array's length against the layer's
 * geometry), and refuses a bad file with an error that names it. Nothing in the file is executed.
 */
import { CpnasError } from '../../core/errors.js';
import { packedBuffers, type ConvGeom, type InferencePlan, type PlanStep } from './plan.js';

export const CHILD_MAGIC = 'CPNCHILD';
export const CHILD_FORMAT_VERSION = 2;
const HEADER = 32;

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

/** dtype code, length */
type ArrayRef = [number, number];
const F32 = 0, U32 = 1, F16 = 2;
const DTYPE_BYTES = [4, 4, 2];

/** How the plan's float arrays are stored (see the file comment). */
export type FloatStorage = 'f32' | 'f16';
export interface EncodeOptions {
  floats?: FloatStorage;
}

/** The order of a convolution geometry's integers in the file. */
export const GEOM_KEYS = ['C', 'H', 'W', 'K', 'R', 'S', 'strideH', 'strideW', 'padH', 'padW', 'dilationH', 'dilationW', 'groups', 'P', 'Q'] as const;

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

// ---- IEEE half floats ----------------------------------------------------------------------------------

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);

/** The half-float bits of v, rounded to nearest even; null when v is outside the half range (or NaN). */
export function toHalfBits(v: number): number | null {
  f32[0] = v;
  const x = u32[0], sign = (x >>> 16) & 0x8000, exp = (x >>> 23) & 0xff, man = x & 0x7fffff;
  if (exp === 0xff) return null; // Inf, NaN
  const e = exp - 127 + 15;
  if (e >= 31) return null;
  if (e <= 0) { // subnormal half (or zero)
    if (e < -10) return sign;
    const m = man | 0x800000, shift = 14 - e, half = m >>> shift, rest = m & ((1 << shift) - 1), mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (man >>> 13), rest = man & 0x1fff;
  const rounded = half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0);
  return rounded >= 0x7c00 ? null : sign | rounded;
}

/** The value of half-float bits h. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >>> 10) & 0x1f, man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 31) return man ? NaN : sign * Infinity;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

/** The half bits of every value of a, or null when one does not fit. */
function halfArray(a: Float32Array): Uint16Array | null {
  const out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const h = toHalfBits(a[i]);
    if (h === null) return null;
    out[i] = h;
  }
  return out;
}

// ---- writing -----------------------------------------------------------------------------------------

/** The plan as the bytes of a Child file (format version 2). */
export function encodePlan(plan: InferencePlan, options: EncodeOptions = {}): Uint8Array {
  const half = options.floats === 'f16';
  const arrays: (Float32Array | Uint32Array | Uint16Array)[] = [];
  const refs: ArrayRef[] = [];
  let bytes = 0;
  const add = (a: Float32Array | Uint32Array, lossyOk: boolean): number => {
    const h = half && lossyOk && a instanceof Float32Array ? halfArray(a) : null;
    const stored = h ?? a, dtype = h ? F16 : a instanceof Float32Array ? F32 : U32;
    refs.push([dtype, a.length]);
    arrays.push(stored);
    bytes += DTYPE_BYTES[dtype] * a.length;
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
  const J = text.length, dataStart = HEADER + pad(J, 8), out = new Uint8Array(dataStart + bytes);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = CHILD_MAGIC.charCodeAt(i);
  view.setUint32(8, CHILD_FORMAT_VERSION, true);
  view.setUint32(12, J, true);
  view.setUint32(16, bytes, true);
  out.set(text, HEADER);
  let o = dataStart;
  arrays.forEach((a) => {
    if (a instanceof Uint16Array) for (let j = 0; j < a.length; j++, o += 2) view.setUint16(o, a[j], true);
    else if (a instanceof Float32Array) for (let j = 0; j < a.length; j++, o += 4) view.setFloat32(o, a[j], true);
    else for (let j = 0; j < a.length; j++, o += 4) view.setUint32(o, a[j], true);
  });
  view.setUint32(20, crc32(out.subarray(HEADER)), true);
  return out;
}

// ---- reading -----------------------------------------------------------------------------------------

/** Reads and checks a Child file's bytes (format version 1 or 2); `name` (the file) is named in every error. */
export function decodePlan(bytes: Uint8Array, name: string): InferencePlan {
  const bad = (why: string): CpnasError => new CpnasError('runtime', `${name} is not a valid cpnas Child file: ${why}`);
  if (bytes.length < HEADER) throw bad(`${bytes.length} bytes, shorter than the ${HEADER}-byte header`);
  let magic = '';
  for (let i = 0; i < 8; i++) magic += String.fromCharCode(bytes[i]);
  if (magic !== CHILD_MAGIC) throw bad(`it starts with ${JSON.stringify(magic)}, not the magic "${CHILD_MAGIC}" (export one with cpnas export)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== 1 && version !== CHILD_FORMAT_VERSION) {
    throw bad(`format version ${version}; this runtime reads versions 1 and ${CHILD_FORMAT_VERSION}${version > CHILD_FORMAT_VERSION ? ' (written by a newer cpnas)' : ''}`);
  }
  const J = view.getUint32(12, true), D = view.getUint32(16, true), dataStart = HEADER + pad(J, 8);
  if (bytes.length !== dataStart + D) throw bad(`${bytes.length} bytes, but its header describes ${dataStart + D} (${J} of plan, ${D} of arrays): truncated or padded`);
  if (crc32(bytes.subarray(HEADER)) !== view.getUint32(20, true)) throw bad('checksum mismatch (the file is damaged)');
  let doc: { plan: unknown; arrays: ArrayRef[] };
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER, HEADER + J)));
  } catch (e) {
    throw bad(`the plan description is not JSON (${(e as Error).message})`);
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.arrays)) throw bad('the plan description has no array table');
  const dtypes = version === 1 ? [F32, U32] : [F32, U32, F16];
  let offset = 0;
  const arrays = doc.arrays.map((r, i) => {
    if (!Array.isArray(r) || !dtypes.includes(r[0]) || !Number.isInteger(r[1]) || r[1] < 0 || offset + DTYPE_BYTES[r[0]] * r[1] > D) {
      throw bad(`array ${i} (${JSON.stringify(r)}) does not fit the ${D}-byte array section`);
    }
    const n = r[1], o = dataStart + offset;
    offset += DTYPE_BYTES[r[0]] * n;
    if (r[0] === U32) {
      const out = new Uint32Array(n);
      for (let j = 0; j < n; j++) out[j] = view.getUint32(o + 4 * j, true);
      return out;
    }
    const out = new Float32Array(n);
    if (r[0] === F16) for (let j = 0; j < n; j++) out[j] = fromHalfBits(view.getUint16(o + 2 * j, true));
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

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

/**
 * Checks a plan's structure: buffer indices, shapes, and array lengths against each layer's geometry
 * (what the kernels rely on to stay in bounds). `fail` builds the error.
 */
export function validatePlan(plan: InferencePlan, fail: (why: string) => Error): void {
  const p = plan as Partial<InferencePlan>;
  if (!p || !Array.isArray(p.buffers) || !Array.isArray(p.steps) || !Array.isArray(p.input)) throw fail('the plan needs input, buffers and steps');
  const shapes = p.buffers;
  shapes.forEach((s, i) => {
    if (!Array.isArray(s) || s.length !== 3 || !s.every((d) => isInt(d, 1))) throw fail(`buffer ${i} has shape ${JSON.stringify(s)}, not [C,H,W] of positive integers`);
  });
  if (shapes.length === 0 || shapes[0].join() !== p.input.join()) throw fail('buffer 0 must be the input');
  if (!isInt(p.output) || p.output >= shapes.length || !isInt(p.numClasses, 1) || shapes[p.output].join() !== `${p.numClasses},1,1`) {
    throw fail(`output buffer ${JSON.stringify(p.output)} does not hold ${JSON.stringify(p.numClasses)} logits`);
  }
  const buf = (i: number, v: unknown, what: string): [number, number, number] => {
    if (!isInt(v) || v >= shapes.length) throw fail(`step ${i}: ${what} buffer ${JSON.stringify(v)} does not exist`);
    return shapes[v];
  };
  const arr = (i: number, v: unknown, kind: 'f32' | 'u32', n: number, what: string): void => {
    const ok = kind === 'f32' ? v instanceof Float32Array : v instanceof Uint32Array;
    if (!ok || (v as Float32Array).length !== n) throw fail(`step ${i}: ${what} must be ${n} ${kind} values`);
  };
  const sizeOf = (s: number[]): number => s[0] * s[1] * s[2];
  p.steps.forEach((s: PlanStep, i) => {
    if (!s || typeof s !== 'object') throw fail(`step ${i} is not an object`);
    if (s.op !== 'zero' && s.op !== 'add' && (s as { x: unknown }).x === s.y) throw fail(`step ${i}: ${s.op} writes its own input`);
    if (s.y === 0) throw fail(`step ${i} writes the input buffer`);
    switch (s.op) {
      case 'conv': case 'bconv': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output'), g = s.geom as ConvGeom;
        checkGeom(i, g, x, fail);
        const yC0 = s.op === 'bconv' ? s.yC0 : 0;
        if (!isInt(yC0) || y[1] !== g.P || y[2] !== g.Q || yC0 + g.K > y[0]) throw fail(`step ${i}: output [${y}] does not take ${g.K} channels of ${g.P}x${g.Q} from channel ${yC0}`);
        const Cg = g.C / g.groups;
        if (s.op === 'conv') {
          arr(i, s.weight, 'f32', g.K * Cg * g.R * g.S, 'weight');
          if (s.bias !== null) arr(i, s.bias, 'f32', g.K, 'bias');
        } else {
          arr(i, s.signs, 'u32', Math.ceil((g.K * Cg * g.R * g.S) / 32), 'signs');
          arr(i, s.A, 'f32', s.outBits ? 0 : g.K, 'A');
          arr(i, s.B, 'f32', s.outBits ? 0 : g.K, 'B');
          if (s.resScale !== null) arr(i, s.resScale, 'f32', g.K, 'resScale');
          if (typeof s.inBits !== 'boolean') throw fail(`step ${i}: inBits must be true or false`);
          if (s.outBits !== null) {
            if (!s.outBits || typeof s.outBits !== 'object') throw fail(`step ${i}: outBits must be null or {dir, val}`);
            arr(i, s.outBits.dir, 'f32', g.K, 'outBits.dir');
            arr(i, s.outBits.val, 'f32', g.K, 'outBits.val');
            if (s.res !== -1 || s.yC0 !== 0 || y[0] !== g.K) throw fail(`step ${i}: a sign-bit output takes no shortcut and fills its own buffer`);
          }
          if (s.res !== -1) {
            const r = buf(i, s.res, 'shortcut');
            if (!isInt(s.resC0) || r[1] !== g.P || r[2] !== g.Q || s.resC0 + g.K > r[0]) throw fail(`step ${i}: shortcut [${r}] does not match the output`);
          }
        }
        return;
      }
      case 'affine': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output');
        if (x.join() !== y.join()) throw fail(`step ${i}: affine maps [${x}] to [${y}]`);
        arr(i, s.scale, 'f32', x[0], 'scale');
        arr(i, s.shift, 'f32', x[0], 'shift');
        return;
      }
      case 'relu': case 'copy': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output'), c0 = s.op === 'copy' ? s.yC0 : 0;
        if (!isInt(c0) || x[1] !== y[1] || x[2] !== y[2] || c0 + x[0] > y[0]) throw fail(`step ${i}: ${s.op} of [${x}] does not fit [${y}]`);
        return;
      }
      case 'add': {
        const a = buf(i, s.a, 'input'), b = buf(i, s.b, 'input'), y = buf(i, s.y, 'output');
        if (s.y === s.a || s.y === s.b) throw fail(`step ${i}: add writes its own input`);
        if (a.join() !== b.join() || !isInt(s.yC0) || a[1] !== y[1] || a[2] !== y[2] || s.yC0 + a[0] > y[0]) throw fail(`step ${i}: add of [${a}] and [${b}] into [${y}]`);
        return;
      }
      case 'maxpool': case 'avgpool': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output');
        if (!isInt(s.kernel, 1) || !isInt(s.stride, 1) || !isInt(s.padding) || 2 * s.padding >= s.kernel + 1) throw fail(`step ${i}: bad pooling window`);
        const P = Math.floor((x[1] + 2 * s.padding - s.kernel) / s.stride) + 1, Q = Math.floor((x[2] + 2 * s.padding - s.kernel) / s.stride) + 1;
        if (y.join() !== `${x[0]},${P},${Q}`) throw fail(`step ${i}: pooling [${x}] gives [${x[0]},${P},${Q}], not [${y}]`);
        return;
      }
      case 'groupmean': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output');
        if (!isInt(s.groups, 1) || y.join() !== `${x[0] / s.groups},${x[1]},${x[2]}`) throw fail(`step ${i}: group mean of [${x}] into [${y}]`);
        return;
      }
      case 'shift': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output');
        if (y.join() !== `${x[0]},${x[1] - 1 + (x[1] % 2)},${x[2] - 1 + (x[2] % 2)}`) throw fail(`step ${i}: shift of [${x}] into [${y}]`);
        return;
      }
      case 'zero': buf(i, s.y, 'output'); return;
      case 'gap': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output');
        if (y.join() !== `${x[0]},1,1`) throw fail(`step ${i}: global pool of [${x}] into [${y}]`);
        return;
      }
      case 'linear': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output');
        if (!isInt(s.inFeatures, 1) || !isInt(s.outFeatures, 1) || sizeOf(x) !== s.inFeatures || sizeOf(y) !== s.outFeatures) throw fail(`step ${i}: linear sizes`);
        arr(i, s.weight, 'f32', s.inFeatures * s.outFeatures, 'weight');
        if (s.bias !== null) arr(i, s.bias, 'f32', s.outFeatures, 'bias');
        return;
      }
      default: throw fail(`step ${i} has unknown op ${JSON.stringify((s as { op: unknown }).op)}`);
    }
  });
  // every buffer is written before it is read; sign-bit buffers are written and read by 1-bit convolutions only
  const written = new Set([0]), packed = packedBuffers(p as InferencePlan);
  p.steps.forEach((s, i) => {
    const reads = s.op === 'bconv' ? (s.res >= 0 ? [s.x, s.res] : [s.x]) : s.op === 'add' ? [s.a, s.b] : s.op === 'zero' ? [] : [s.x];
    for (const b of reads) if (!written.has(b)) throw fail(`step ${i} reads buffer ${b} before any step writes it`);
    const floatReads = s.op === 'bconv' ? (s.res >= 0 ? [s.res] : []) : reads;
    if (s.op === 'bconv' && s.inBits !== packed.has(s.x)) throw fail(`step ${i}: inBits is ${s.inBits} but buffer ${s.x} ${packed.has(s.x) ? 'holds' : 'does not hold'} sign bits`);
    for (const b of floatReads) if (packed.has(b)) throw fail(`step ${i} reads buffer ${b} as floats, but it holds sign bits`);
    if (packed.has(s.y) && !(s.op === 'bconv' && s.outBits)) throw fail(`step ${i} writes floats into buffer ${s.y}, which holds sign bits`);
    written.add(s.y);
  });
  if (packed.has(p.output)) throw fail('the output buffer holds sign bits');
  if (!written.has(p.output)) throw fail(`no step writes the output buffer ${p.output}`);
}

function checkGeom(i: number, g: ConvGeom, x: [number, number, number], fail: (why: string) => Error): void {
  const keys = GEOM_KEYS;
  if (!g || typeof g !== 'object' || !keys.every((k) => isInt(g[k], k.startsWith('pad') ? 0 : 1))) throw fail(`step ${i}: bad convolution geometry`);
  const P = Math.floor((g.H + 2 * g.padH - g.dilationH * (g.R - 1) - 1) / g.strideH) + 1;
  const Q = Math.floor((g.W + 2 * g.padW - g.dilationW * (g.S - 1) - 1) / g.strideW) + 1;
  if (x.join() !== `${g.C},${g.H},${g.W}` || g.C % g.groups !== 0 || g.K % g.groups !== 0 || P !== g.P || Q !== g.Q) {
    throw fail(`step ${i}: convolution geometry does not match its input [${x}]`);
  }
}
