/**
 * Child file format version 3 (binary/runtime/format.ts): the DEFLATE-compressed body round-trips
 * random plans bit for bit (f32), to the halves (f16) and to within half a grid step (q8); the q8
 * quantizer on fixed numbers; damaged compressed files are refused with one error naming the file and
 * the check.
 */
import fc from 'fast-check';
import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { CpnasError, Random } from '../../core/index.js';
import { ChildModel, crc32, decodePlan, encodePlan } from '../../binary/runtime/index.js';
import { MAX_BODY, fromHalfBits, fromQ8, quantizeQ8, toHalfBits } from '../../binary/runtime/format.js';
import { float32Text } from '../../binary/runtime/float-codes.js';
import type { InferencePlan } from '../../binary/runtime/plan.js';
import { compileChild } from '../../nas/compile.js';
import { randomChild } from './random-child.js';

/** The float fields of a plan's steps that `--floats` may store lossily (the thresholds dir/val never). */
const LOSSY = new Set(['weight', 'bias', 'A', 'B', 'resScale', 'scale', 'shift']);

/**
 * A compiled random Child whose float arrays are refilled with `fill` (to reach values no BN gives);
 * odd seeds take the paper's Child form, whose convolutions pass sign bits through thresholds (dir, val).
 */
function randomPlan(seed: number, fill: (rng: Random, n: number) => Float32Array): InferencePlan {
  const rng = new Random(seed);
  const net = randomChild(seed, { cells: 1 + (seed % 2), channels: 2 + (seed % 3), inputChannels: 2, childBlock: seed % 2 ? 'paper' : 'bireal' });
  const plan = compileChild(net, [2, 6, 6]);
  const steps = plan.steps.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, LOSSY.has(k) && v instanceof Float32Array ? fill(rng, v.length) : v])));
  return { ...plan, steps: steps as unknown as InferencePlan['steps'] };
}

/** Every typed array of a plan, with its step and field, in step order. */
function arraysOf(plan: InferencePlan): [string, Float32Array | Uint32Array][] {
  const out: [string, Float32Array | Uint32Array][] = [];
  plan.steps.forEach((s, i) => {
    for (const [k, v] of Object.entries(s)) {
      if (v instanceof Float32Array || v instanceof Uint32Array) out.push([`${i}.${k}`, v]);
      if (k === 'outBits' && v) out.push([`${i}.dir`, v.dir], [`${i}.val`, v.val]);
    }
  });
  return out;
}

const bits = (a: Float32Array | Uint32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Values of every kind a float32 can hold: normals over many scales, subnormals, ±0, ±Inf, NaN. */
function anyFloats(rng: Random, n: number): Float32Array {
  const special = [0, -0, Infinity, -Infinity, NaN, 2 ** -140, -(2 ** -149), 3.4e38];
  return Float32Array.from({ length: n }, () => (rng.uniform() < 0.1 ? special[Math.floor(rng.uniform() * special.length)] : rng.normal() * 2 ** Math.floor(rng.uniform() * 60 - 30)));
}
const finiteFloats = (rng: Random, n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * 2 ** Math.floor(rng.uniform() * 8 - 4));

describe('format version 3: round trips', () => {
  it('the random plans reach sign-bit outputs (seeds 1, 3: the examples every property below runs)', () => {
    for (const seed of [1, 3]) expect(randomPlan(seed, finiteFloats).steps.some((s) => s.op === 'bconv' && s.outBits)).toBe(true);
  });

  it('f32: every array bit for bit (NaN, ±0, ±Inf, subnormals included), the rest of the plan as it was', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), (seed) => {
      const plan = randomPlan(seed, anyFloats), bytes = encodePlan(plan);
      expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(3);
      const back = decodePlan(bytes, 'rt');
      const a = arraysOf(plan), b = arraysOf(back);
      expect(b.map(([k]) => k)).toEqual(a.map(([k]) => k));
      a.forEach(([k, v], i) => expect(bits(b[i][1]), k).toEqual(bits(v)));
      expect({ ...back, steps: null }).toEqual({ ...plan, steps: null });
    }), { numRuns: 12, examples: [[1], [3]] });
  });

  it('f16: each lossy array is the halves of the original (or f32 when out of range); signs and thresholds exact', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), (seed) => {
      const plan = randomPlan(seed, anyFloats), back = decodePlan(encodePlan(plan, { floats: 'f16' }), 'rt');
      const b = arraysOf(back);
      arraysOf(plan).forEach(([k, v], i) => {
        const lossy = LOSSY.has(k.split('.')[1]) && v instanceof Float32Array;
        const halves = lossy && Array.from(v).every((x) => toHalfBits(x) !== null);
        if (halves) expect(Array.from(b[i][1]), k).toEqual(Array.from(v, (x) => fromHalfBits(toHalfBits(x)!)));
        else expect(bits(b[i][1]), k).toEqual(bits(v));
      });
    }), { numRuns: 8, examples: [[1], [3]] });
  });

  it('q8: each lossy array within half a grid step of the original (non-finite arrays exact as f32); signs and thresholds exact', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), fc.boolean(), (seed, special) => {
      const plan = randomPlan(seed, special ? anyFloats : finiteFloats), bytes = encodePlan(plan, { floats: 'q8' });
      const back = decodePlan(bytes, 'rt'), b = arraysOf(back);
      arraysOf(plan).forEach(([k, v], i) => {
        const got = b[i][1];
        if (!(LOSSY.has(k.split('.')[1]) && v instanceof Float32Array) || !Array.from(v).every(Number.isFinite)) {
          expect(bits(got), k).toEqual(bits(v));
          return;
        }
        const lo = Math.min(...v), hi = Math.max(...v), step = Math.fround((hi - lo) / 255);
        // half a step, plus the float32 rounding of a grid point
        const tol = step / 2 + 2 ** -23 * Math.max(Math.abs(lo), Math.abs(hi));
        for (let j = 0; j < v.length; j++) expect(Math.abs(got[j] - v[j]), `${k}[${j}]`).toBeLessThanOrEqual(tol);
      });
      // one byte per lossy float: an array section smaller than f16's
      if (!special) expect(u32At(bytes, 16)).toBeLessThan(u32At(encodePlan(plan, { floats: 'f16' }), 16));
    }), { numRuns: 12, examples: [[1, false], [3, true]] });
  });

  it('q8 logits stay close to the f32 logits of the same plan', () => {
    const net = randomChild(3, { cells: 2, channels: 4, inputChannels: 3 });
    const plan = compileChild(net, [3, 8, 8]), rng = new Random(4);
    const x = Float32Array.from({ length: 4 * 3 * 64 }, () => rng.normal());
    const want = ChildModel.fromBytes(encodePlan(plan)).logits(x, 4), got = ChildModel.fromBytes(encodePlan(plan, { floats: 'q8' })).logits(x, 4);
    const scale = Math.max(...Array.from(want, Math.abs));
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst).toBeGreaterThan(0); // lossy: it does change them
    expect(worst).toBeLessThan(0.25 * scale);
  });
});

describe('the q8 quantizer on fixed numbers', () => {
  it('a known array: lo is the least value, step = range/255, each value takes its nearest code', () => {
    // range 15.9375 = 255 · 2^-4: an exact step of 0.0625
    const q = quantizeQ8(Float32Array.from([-8, 7.9375, 0, 1.03, -7.97, 1.03125]))!;
    expect(q.lo).toBe(-8);
    expect(q.step).toBe(0.0625);
    // 1.03 is 144.48 steps above lo; 1.03125 is 144.5: the tie rounds up (Math.round)
    expect(Array.from(q.codes)).toEqual([0, 255, 128, 144, 0, 145]);
    expect(Array.from(q.codes, (c) => fromQ8(q.lo, q.step, c))).toEqual([-8, 7.9375, 0, 1, -8, 1.0625]);
  });

  it('a step that float32 cannot hold exactly: lo, step and codes', () => {
    const q = quantizeQ8(Float32Array.from([0, 1, 0.5, 0.25]))!;
    expect(q.lo).toBe(0);
    expect(q.step).toBe(Math.fround(1 / 255));
    // the float32 step is a little above 1/255: 0.5 is 127.49999... steps above lo, nearer to code 127
    expect(q.step).toBeGreaterThan(1 / 255);
    expect(Array.from(q.codes)).toEqual([0, 255, 127, 64]);
    expect(fromQ8(q.lo, q.step, 255)).toBe(Math.fround(255 * Math.fround(1 / 255)));
  });

  it('lo and step are written as the shortest decimals that round to them', () => {
    expect(float32Text(Math.fround(0.1))).toBe(0.1);
    expect(float32Text(Math.fround(1 / 255))).toBe(0.003921569);
    expect(float32Text(-8)).toBe(-8);
    expect(float32Text(2 ** -149)).toBe(1e-45);
    const rng = new Random(8);
    for (let i = 0; i < 2000; i++) {
      const v = Math.fround(rng.normal() * 2 ** Math.floor(rng.uniform() * 200 - 100));
      expect(Math.fround(float32Text(v))).toBe(v);
      expect(String(float32Text(v)).replace(/^-|e.*$|\./g, '').replace(/^0+|0+$/g, '').length).toBeLessThanOrEqual(9);
    }
  });

  it('a constant array is its one value: step 0, no codes, no bytes in the file', () => {
    const q = quantizeQ8(new Float32Array([0.3, 0.3, 0.3]).map(Math.fround))!;
    expect(q).toEqual({ codes: new Uint8Array(0), lo: Math.fround(0.3), step: 0 });
    expect(quantizeQ8(new Float32Array(0))).toEqual({ codes: new Uint8Array(0), lo: 0, step: 0 });
    // in a file: a plan whose B arrays are all constant stores no bytes for them
    const plan = compileChild(randomChild(5, { cells: 1, channels: 4, inputChannels: 3 }), [3, 8, 8]);
    const withB = (b: (n: number) => Float32Array): InferencePlan => ({ ...plan, steps: plan.steps.map((s) => (s.op === 'bconv' && !s.outBits ? { ...s, B: b(s.B.length) } : s)) });
    const D = (p: InferencePlan): number => new DataView(encodePlan(p, { floats: 'q8' }).buffer).getUint32(16, true);
    const bLength = plan.steps.reduce((n, s) => n + (s.op === 'bconv' && !s.outBits ? s.B.length : 0), 0);
    expect(bLength).toBeGreaterThan(0);
    const varied = withB((n) => Float32Array.from({ length: n }, (_, i) => i)), constant = withB((n) => new Float32Array(n).fill(-1.5));
    expect(D(varied) - D(constant)).toBe(bLength);
    const back = decodePlan(encodePlan(constant, { floats: 'q8' }), 'c');
    for (const s of back.steps) if (s.op === 'bconv' && !s.outBits) expect(Array.from(s.B)).toEqual(new Array(s.B.length).fill(-1.5));
  });

  it('NaN or ±Infinity: no grid (the array stays f32, exact); a range too narrow for a float32 step: likewise', () => {
    expect(quantizeQ8(Float32Array.from([1, NaN, 2]))).toBeNull();
    expect(quantizeQ8(Float32Array.from([1, Infinity]))).toBeNull();
    expect(quantizeQ8(Float32Array.from([-Infinity, 0]))).toBeNull();
    expect(quantizeQ8(Float32Array.from([0, 2 ** -149]))).toBeNull();
    // the widest finite range still has a finite step
    const wide = quantizeQ8(Float32Array.from([-3.4e38, 3.4e38]))!;
    expect(Number.isFinite(wide.step) && wide.step > 0).toBe(true);
    expect(Array.from(wide.codes)).toEqual([0, 255]);
  });
});

// ---- damaged version-3 files -------------------------------------------------------------------------

const u32At = (b: Uint8Array, o: number): number => new DataView(b.buffer, b.byteOffset).getUint32(o, true);
const setU32 = (b: Uint8Array, o: number, v: number): void => new DataView(b.buffer, b.byteOffset).setUint32(o, v, true);
/** Rewrites the checksum after a deliberate change (to reach the checks behind it). */
function resum(b: Uint8Array): Uint8Array {
  setU32(b, 20, crc32(b.subarray(32)));
  return b;
}
/** A version-3 file with `body` (uncompressed) deflated in place of the real one; J, D, U stated as given. */
function withBody(good: Uint8Array, body: Uint8Array, J: number, D: number, U: number): Uint8Array {
  const z = deflateSync(body), out = new Uint8Array(32 + z.length);
  out.set(good.subarray(0, 32));
  out.set(z, 32);
  setU32(out, 12, J);
  setU32(out, 16, D);
  setU32(out, 24, z.length);
  setU32(out, 28, U);
  return resum(out);
}

describe('format version 3: damaged files', () => {
  const plan = compileChild(randomChild(11, { cells: 2, channels: 4, inputChannels: 3 }), [3, 8, 8]);
  const good = encodePlan(plan), name = 'damaged.cpnas-child';
  const J = u32At(good, 12), D = u32At(good, 16), S = u32At(good, 24), U = u32At(good, 28);
  // the uncompressed body: what a version-2 file stores as it is
  const body = encodePlan(plan, { version: 2 }).subarray(32);

  function refuses(bytes: Uint8Array, check: RegExp): void {
    let err: unknown;
    try {
      decodePlan(bytes, name);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CpnasError);
    const message = (err as Error).message;
    expect(message).toContain(name);
    expect(message).toMatch(check);
    expect(message.split('\n')).toHaveLength(1);
  }

  it('states its lengths: S compressed (the file is 32 + S), U uncompressed (= pad8(J) + D)', () => {
    expect(good.length).toBe(32 + S);
    expect(U).toBe(Math.ceil(J / 8) * 8 + D);
    expect(body.length).toBe(U);
    expect(S).toBeLessThan(U);
  });

  it('a corrupted compressed body (checksum rewritten): the inflation check', () => {
    const b = good.slice();
    b[32] |= 0b110; // the first block's type becomes 3, which DEFLATE does not have
    refuses(resum(b), /compressed body does not inflate \(invalid block type\)/);
    // a stream cut short inside its last block, its lengths and checksum rewritten
    const cut = good.slice(0, good.length - 40);
    setU32(cut, 24, S - 40);
    refuses(resum(cut), /compressed body does not inflate/);
  });

  it('a wrong stated length: the header check, or the inflated length against the header', () => {
    const b = good.slice();
    setU32(b, 28, U + 1);
    refuses(resum(b), new RegExp(`states ${U + 1} bytes uncompressed, but ${J} of plan and ${D} of arrays make ${U}`));
    // D and U both stated 8 bytes longer / shorter than what the body holds
    refuses(withBody(good, body, J, D + 8, U + 8), new RegExp(`inflates to ${U} bytes, not the ${U + 8} its header states`));
    refuses(withBody(good, body, J, D - 8, U - 8), new RegExp(`inflates to more than ${U - 8} bytes, not the ${U - 8}`));
    // a stated length past the cap, or past what DEFLATE can expand S bytes into, is refused before any allocation
    // (a file of 300,000 stored bytes, which DEFLATE could expand past the cap)
    const big = MAX_BODY + 8, huge = new Uint8Array(32 + 300_000);
    huge.set(good.subarray(0, 32));
    setU32(huge, 16, big - Math.ceil(J / 8) * 8);
    setU32(huge, 24, 300_000);
    setU32(huge, 28, big);
    refuses(resum(huge), new RegExp(`states ${big} bytes uncompressed .*the ${MAX_BODY}-byte limit`));
    const past = good.slice(), many = 1032 * S + 72;
    setU32(past, 16, many - Math.ceil(J / 8) * 8);
    setU32(past, 28, many);
    refuses(resum(past), /more than DEFLATE can expand/);
  });

  it('a truncated or padded file: the size check', () => {
    refuses(good.slice(0, good.length - 1), new RegExp(`${good.length - 1} bytes, but its header describes ${good.length} \\(${S} compressed\\): truncated`));
    refuses(good.slice(0, 40), /truncated or padded/);
    const longer = new Uint8Array(good.length + 3);
    longer.set(good);
    refuses(longer, /truncated or padded/);
  });

  it('a flipped checksum or a flipped stored byte: the checksum check', () => {
    const b = good.slice();
    b[20] ^= 0x10;
    refuses(b, /checksum mismatch/);
    const c = good.slice();
    c[32 + (S >> 1)] ^= 1;
    refuses(c, /checksum mismatch/);
  });

  it('a body that inflates but holds a bad array table: the checks of every version run after inflation', () => {
    const text = new TextEncoder().encode(JSON.stringify({ plan: {}, arrays: [[3, 4, 0.1, -1]] }));
    const bad = new Uint8Array(Math.ceil(text.length / 8) * 8 + 4);
    bad.set(text);
    refuses(withBody(good, bad, text.length, 4, bad.length), /array 0 .*q8 grid needs a finite float32 lo and step >= 0/);
    const far = new TextEncoder().encode(JSON.stringify({ plan: {}, arrays: [[3, 4, 1e39, 1]] })); // past float32
    const farBody = new Uint8Array(Math.ceil(far.length / 8) * 8 + 4);
    farBody.set(far);
    refuses(withBody(good, farBody, far.length, 4, farBody.length), /q8 grid needs a finite float32 lo/);
    const ok = new TextEncoder().encode(JSON.stringify({ plan: {}, arrays: [[3, 2 ** 31, 0.5, 0]] }));
    const big = new Uint8Array(Math.ceil(ok.length / 8) * 8);
    big.set(ok);
    refuses(withBody(good, big, ok.length, 0, big.length), /hold more than \d+ values/);
  });
});
