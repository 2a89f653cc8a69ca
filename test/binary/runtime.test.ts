/**
 * The exported Child file and the runtime: a round trip through the bytes gives the same logits;
 * damaged files (magic, version, size, checksum, plan) are refused with an error naming the file; the
 * runtime's module graph holds no training code.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Random, Tensor, enableGrad } from '../../core/index.js';
import { ChildModel, crc32, decodePlan, encodePlan, loadChild } from '../../binary/runtime/index.js';
import { GEOM_KEYS, fromHalfBits, toHalfBits } from '../../binary/runtime/format.js';
import type { InferencePlan } from '../../binary/runtime/plan.js';
import { readChildFile } from '../../binary/runtime/node.js';
import { compileChild } from '../../nas/compile.js';
import { randomChild } from './random-child.js';

const dir = mkdtempSync(join(tmpdir(), 'cpnas-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function smallPlan() {
  const net = randomChild(11, { cells: 3, channels: 4, inputChannels: 3 });
  return { net, plan: compileChild(net, [3, 8, 8], { classNames: ['a', 'b', 'c', 'd', 'e'], dataset: 'digits' }) };
}

/** Rewrites the checksum after a deliberate change (to reach the checks behind it). */
function resum(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(20, crc32(b.subarray(32)), true);
  return b;
}

describe('exported Child file', () => {
  it('round-trips the plan: same logits as the float-simulated Child', () => {
    const { net, plan } = smallPlan();
    const path = join(dir, 'a.cpnas-child');
    writeFileSync(path, encodePlan(plan));
    const child = readChildFile(path);
    const rng = new Random(2);
    const x = new Tensor(Float32Array.from({ length: 3 * 3 * 64 }, () => rng.normal()), [3, 3, 8, 8]);
    const want = enableGrad(() => net.forward(x).detach()).data;
    const got = child.logits(x.data, 3);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 4);
    expect(child.classNames()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(child.meta.dataset).toBe('digits');
    expect(Array.from(child.predict(x.data, 3))).toHaveLength(3);
    expect(child.toBytes()).toEqual(encodePlan(plan));
  });

  it('holds no latent float weights: its binary layers are packed signs (1 bit per weight) and per-channel floats', () => {
    const { net, plan } = smallPlan();
    const bytes = encodePlan(plan).length;
    let latent = 0;
    for (const s of plan.steps) if (s.op === 'bconv') latent += 4 * s.geom.K * (s.geom.C / s.geom.groups) * s.geom.R * s.geom.S;
    expect(latent).toBeGreaterThan(0);
    for (const s of plan.steps) if (s.op === 'bconv') expect(s.signs.length).toBe(Math.ceil((s.geom.K * (s.geom.C / s.geom.groups) * s.geom.R * s.geom.S) / 32));
    expect(net.parameters().length).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(latent + 20000);
  });

  it('refuses damaged files with an error that names the file', () => {
    const good = encodePlan(smallPlan().plan), name = 'model.cpnas-child';
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(0), /shorter than the 32-byte header/],
      ['magic', (() => { const b = good.slice(); b[0] = 88; return b; })(), /magic/],
      ['version', (() => { const b = good.slice(); new DataView(b.buffer).setUint32(8, 7, true); return b; })(), /version 7.*newer/],
      ['truncated', good.slice(0, good.length - 4), /truncated/],
      ['checksum', (() => { const b = good.slice(); b[b.length - 1] ^= 1; return b; })(), /checksum/],
      ['json', (() => { const b = encodePlan(smallPlan().plan, { version: 2 }); b[33] = 0x7b; b[32] = 0x5b; return resum(b); })(), /not JSON|array table/],
    ];
    for (const [what, bytes, re] of cases) {
      expect(() => decodePlan(bytes, name), what).toThrow(re);
      expect(() => decodePlan(bytes, name), what).toThrow(name);
    }
    expect(() => readChildFile(join(dir, 'missing.cpnas-child'))).toThrow(/missing\.cpnas-child.*ENOENT/);
    expect(() => readChildFile(dir)).toThrow(/is a folder/);
    expect(() => loadChild('x' as unknown as Uint8Array)).toThrow(/Uint8Array/);
  });

  it('refuses a plan whose arrays do not fit its layers', () => {
    const { plan } = smallPlan();
    const i = plan.steps.findIndex((s) => s.op === 'bconv');
    const broken = { ...plan, steps: plan.steps.map((s, j) => (j === i && s.op === 'bconv' ? { ...s, signs: s.signs.subarray(0, s.signs.length - 1) } : s)) };
    expect(() => decodePlan(encodePlan(broken), 'x.cpnas-child')).toThrow(new RegExp(`x\\.cpnas-child.*step ${i}: signs`));
    const badBuffer = { ...plan, steps: plan.steps.map((s, j) => (j === 1 ? { ...s, x: 9999 } : s)) } as typeof plan;
    expect(() => decodePlan(encodePlan(badBuffer), 'y')).toThrow(/step 1: input buffer 9999 does not exist/);
    const last = plan.buffers.length - 1;
    const unread = { ...plan, buffers: [...plan.buffers, plan.buffers[last]], steps: [{ op: 'relu' as const, x: last, y: last + 1 }, ...plan.steps] };
    expect(() => decodePlan(encodePlan(unread), 'z')).toThrow(/before any step writes it/);
    expect(new ChildModel(plan).numClasses).toBe(5);
  });
});

/** A version-1 file, as cpnas wrote them before the compact format: steps as objects, arrays as {"$array": i}. */
function encodeV1(plan: InferencePlan): Uint8Array {
  const arrays: (Float32Array | Uint32Array)[] = [];
  const json = JSON.stringify(plan, (key, value: unknown) => {
    if (value instanceof Float32Array || value instanceof Uint32Array) return { $array: arrays.push(value) - 1 };
    if (key === 'geom' && value && typeof value === 'object') return GEOM_KEYS.map((k) => (value as Record<string, number>)[k]);
    return value;
  });
  const refs = arrays.map((a) => [a instanceof Float32Array ? 0 : 1, a.length]);
  const text = new TextEncoder().encode(JSON.stringify({ plan: JSON.parse(json), arrays: refs }));
  const D = arrays.reduce((n, a) => n + 4 * a.length, 0), start = 32 + Math.ceil(text.length / 8) * 8;
  const out = new Uint8Array(start + D), view = new DataView(out.buffer);
  out.set(new TextEncoder().encode('CPNCHILD'));
  view.setUint32(8, 1, true);
  view.setUint32(12, text.length, true);
  view.setUint32(16, D, true);
  out.set(text, 32);
  let o = start;
  for (const a of arrays) for (let j = 0; j < a.length; j++, o += 4) {
    if (a instanceof Float32Array) view.setFloat32(o, a[j], true);
    else view.setUint32(o, a[j], true);
  }
  return resum(out);
}

describe('file format versions and half floats', () => {
  it('reads version-1 and version-2 files (the same plan, the same logits); each version is smaller than the one before', () => {
    const { plan } = smallPlan();
    const v1 = encodeV1(plan), v2 = encodePlan(plan, { version: 2 }), v3 = encodePlan(plan);
    const version = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(8, true);
    expect([version(v1), version(v2), version(v3)]).toEqual([1, 2, 3]);
    const rng = new Random(5);
    const x = Float32Array.from({ length: 2 * 3 * 64 }, () => rng.normal());
    const want = ChildModel.fromBytes(v3).logits(x, 2);
    expect(ChildModel.fromBytes(v1).logits(x, 2)).toEqual(want);
    expect(ChildModel.fromBytes(v2).logits(x, 2)).toEqual(want);
    const descBytes = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(12, true);
    expect(descBytes(v2)).toBeLessThan(descBytes(v1) / 2);
    expect(v3.length).toBeLessThan(v2.length);
    expect(() => encodePlan(plan, { version: 2, floats: 'q8' })).toThrow(/q8.*version 3/);
  });

  it('refuses a version-2 step with an unknown op or the wrong fields, naming the file', () => {
    const good = encodePlan(smallPlan().plan, { version: 2 });
    const J = new DataView(good.buffer).getUint32(12, true);
    const doc = JSON.parse(new TextDecoder().decode(good.subarray(32, 32 + J)));
    const rewrite = (change: (d: typeof doc) => void): Uint8Array => {
      const d = JSON.parse(JSON.stringify(doc));
      change(d);
      const text = new TextEncoder().encode(JSON.stringify(d));
      const D = new DataView(good.buffer).getUint32(16, true), start = 32 + Math.ceil(text.length / 8) * 8;
      const out = new Uint8Array(start + D);
      out.set(good.subarray(0, 32));
      new DataView(out.buffer).setUint32(12, text.length, true);
      out.set(text, 32);
      out.set(good.subarray(good.length - D), start);
      return resum(out);
    };
    expect(() => decodePlan(rewrite((d) => { d.plan.steps[1][0] = 'fft'; }), 'f.cpnas-child')).toThrow(/f\.cpnas-child.*step 1 has unknown op "fft"/);
    expect(() => decodePlan(rewrite((d) => { d.plan.steps[1].push(3); }), 'g.cpnas-child')).toThrow(/g\.cpnas-child.*step 1 .* fields, not/);
    const b = doc.plan.steps.findIndex((s: unknown[]) => s[0] === 'bconv');
    expect(() => decodePlan(rewrite((d) => { d.plan.steps[b][4] = 10_000; }), 'h')).toThrow(/array reference 10000 is not in the array table/);
    expect(decodePlan(rewrite(() => {}), 'same').steps.length).toBe(smallPlan().plan.steps.length);
  });

  it('half floats: every finite half survives the round trip; a float rounds to the nearest half, ties to even', () => {
    const lost: number[] = [];
    for (let h = 0; h < 0x10000; h++) if ((h & 0x7c00) !== 0x7c00 && toHalfBits(fromHalfBits(h)) !== h) lost.push(h); // Inf, NaN left out
    expect(lost).toEqual([]);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBeNull(); // rounds past the largest half
    expect(toHalfBits(Infinity)).toBeNull();
    expect(toHalfBits(NaN)).toBeNull();
    expect(fromHalfBits(toHalfBits(1 + 2 ** -11)!)).toBe(1); // a tie goes to the even mantissa
    expect(fromHalfBits(toHalfBits(1 + 3 * 2 ** -11)!)).toBe(1 + 2 ** -9);
    expect(fromHalfBits(toHalfBits(2 ** -25)!)).toBe(0); // half the smallest subnormal: tie to 0
    expect(fromHalfBits(toHalfBits(1.5 * 2 ** -25)!)).toBe(2 ** -24);
    const rng = new Random(9), wrong: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const v = Math.fround(rng.normal() * 2 ** Math.floor(rng.uniform() * 40 - 28));
      const h = toHalfBits(v)!, err = Math.abs(v - fromHalfBits(h));
      // no other half is closer: the neighbours on both sides are at least as far
      for (const n of [h - 1, h + 1]) if ((n & 0x7fff) < 0x7c00 && (n & 0x8000) === (h & 0x8000) && Math.abs(v - fromHalfBits(n)) < err) wrong.push(v);
    }
    expect(wrong).toEqual([]);
  });

  it('--floats f16: half the bytes of the float arrays, values as the halves of the f32 plan, thresholds exact', () => {
    const { plan } = smallPlan();
    const full = encodePlan(plan), half = encodePlan(plan, { floats: 'f16' });
    expect(half.length).toBeLessThan(full.length);
    const a = decodePlan(full, 'full'), b = decodePlan(half, 'half');
    a.steps.forEach((s, i) => {
      const t = b.steps[i] as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(s)) {
        if (v instanceof Float32Array) expect(Array.from(t[k] as Float32Array), `${i}.${k}`).toEqual(Array.from(v, (x) => fromHalfBits(toHalfBits(x)!)));
        if (v instanceof Uint32Array) expect(t[k], `${i}.${k}`).toEqual(v);
      }
    });
    const rng = new Random(6);
    const x = Float32Array.from({ length: 4 * 3 * 64 }, () => rng.normal());
    const want = ChildModel.fromBytes(full).logits(x, 4), got = ChildModel.fromBytes(half).logits(x, 4);
    const scale = Math.max(...Array.from(want, Math.abs));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(0.05 * scale);
  });
});

describe('runtime module graph', () => {
  it('imports no training code (tensors, autograd, ops, layers, nas)', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
    const seen = new Set<string>(), packages = new Set<string>(), stack = ['binary/runtime/index.ts', 'binary/runtime/node.ts'];
    while (stack.length) {
      const file = stack.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const src = readFileSync(join(root, file), 'utf8');
      for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)) {
        if (/^\s*(?:import|export)\s+type\s/.test(m[0])) continue;
        if (m[1].startsWith('.')) stack.push(join(dirname(file), m[1]).replace(/\.js$/, '.ts'));
        else packages.add(`${file}: ${m[1]}`);
      }
    }
    const files = [...seen].sort();
    expect(files).toContain('binary/runtime/execute.ts');
    expect(files).toContain('backends/cpu/xnor-depthwise.ts');
    for (const f of files) expect(f, `the runtime imports ${f}`).toMatch(/^(binary\/runtime\/|backends\/|core\/errors\.ts$)/);
    // one package, deliberately: fflate, the version-3 body's DEFLATE (small, dependency-free, browser-safe);
    // Node built-ins stay in Node-only files (test/browser/imports.test.ts)
    expect([...packages].filter((p) => !p.split(': ')[1].startsWith('node:'))).toEqual(['binary/runtime/format.ts: fflate']);
  });
});
