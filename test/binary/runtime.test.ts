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
      ['json', (() => { const b = good.slice(); b[33] = 0x7b; b[32] = 0x5b; return resum(b); })(), /not JSON|array table/],
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

describe('runtime module graph', () => {
  it('imports no training code (tensors, autograd, ops, layers, nas)', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
    const seen = new Set<string>(), stack = ['binary/runtime/index.ts', 'binary/runtime/node.ts'];
    while (stack.length) {
      const file = stack.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const src = readFileSync(join(root, file), 'utf8');
      for (const m of src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm)) {
        if (/^\s*(?:import|export)\s+type\s/.test(m[0])) continue;
        stack.push(join(dirname(file), m[1]).replace(/\.js$/, '.ts'));
      }
    }
    const files = [...seen].sort();
    expect(files).toContain('binary/runtime/execute.ts');
    expect(files).toContain('backends/cpu/xnor-depthwise.ts');
    for (const f of files) expect(f, `the runtime imports ${f}`).toMatch(/^(binary\/runtime\/|backends\/|core\/errors\.ts$)/);
  });
});
