/**
 * Models as safetensors: the bytes follow the published format (checked by an independent reader of
 * the format written here, and by Python's `safetensors` and the README's NumPy snippet when python3
 * has them), carry the model description in `__metadata__`, round-trip exactly, and the format of
 * earlier versions (model.json + model.bin) still loads.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../nas/evaluate.js';
import { GenotypeNetwork } from '../../nas/network.js';
import type { ModelMeta } from '../../nas/train.js';
import type { Genotype } from '../../nas/types.js';
import { decodeSafetensors, encodeSafetensors } from '../../ops/safetensors.js';
import { packState, readModelState, saveModule, saveSafetensors, type StateArray } from '../../ops/state.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dirs: string[] = [];
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'cpnas-st-')); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** The format, read from scratch (https://github.com/huggingface/safetensors#format): no cpnas code. */
function readSafetensors(bytes: Uint8Array): { tensors: Map<string, { dtype: string; shape: number[]; data: Float32Array | Uint32Array }>; metadata: Record<string, string>; headerLength: number } {
  const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(new DataView(u8.buffer, u8.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(u8.subarray(8, 8 + n)));
  const data = u8.slice(8 + n); // a copy: its buffer starts at the data
  const tensors = new Map<string, { dtype: string; shape: number[]; data: Float32Array | Uint32Array }>();
  let end = 0;
  for (const [name, t] of Object.entries(header) as [string, { dtype: string; shape: number[]; data_offsets: [number, number] }][]) {
    if (name === '__metadata__') continue;
    const [a, b] = t.data_offsets;
    const count = t.shape.reduce((p, d) => p * d, 1);
    if (b - a !== count * 4) throw new Error(`${name}: ${b - a} bytes for ${count} values`);
    const Ctor = t.dtype === 'F32' ? Float32Array : t.dtype === 'U32' ? Uint32Array : null;
    if (!Ctor) throw new Error(`${name}: dtype ${t.dtype}`);
    tensors.set(name, { dtype: t.dtype, shape: t.shape, data: new Ctor(data.buffer.slice(a, b)) });
    end = Math.max(end, b);
  }
  if (end !== data.length) throw new Error(`data has ${data.length} bytes, tensors cover ${end}`);
  return { tensors, metadata: header.__metadata__ ?? {}, headerLength: n };
}

const GENOTYPE: Genotype = {
  normal: [['sep_conv_3x3', 0], ['skip_connect', 1], ['max_pool_3x3', 0], ['sep_conv_3x3', 2]],
  normalConcat: [2, 3],
  reduce: [['max_pool_3x3', 0], ['skip_connect', 1], ['sep_conv_3x3', 0], ['max_pool_3x3', 2]],
  reduceConcat: [2, 3],
};

function model(binary: boolean): { net: GenotypeNetwork; meta: ModelMeta } {
  const config = { inputChannels: 1, numClasses: 3, cells: 3, channels: 4, nodes: 2, binary, binarizers: { activation: 'approx', weight: 'scaled' } };
  const net = new GenotypeNetwork(GENOTYPE, config);
  const meta: ModelMeta = { kind: binary ? 'child' : 'parent', genotype: GENOTYPE, config: config as ModelMeta['config'], classNames: ['a', 'b', 'c'], inputShape: [1, 8, 8], testAccuracy: 0.5 };
  return { net, meta };
}

function arrays(net: GenotypeNetwork): Map<string, { shape: number[]; data: StateArray }> {
  const { json, blob } = net.stateDict();
  const out = new Map<string, { shape: number[]; data: StateArray }>();
  for (const e of json.entries) {
    const bytes = blob.slice(e.offset, e.offset + e.length * 4);
    out.set(e.name, { shape: e.shape, data: e.dtype === 'u32' ? new Uint32Array(bytes.buffer) : new Float32Array(bytes.buffer) });
  }
  return out;
}

describe('safetensors', () => {
  for (const binary of [false, true]) {
    it(`a ${binary ? 'Child (packed 1-bit weights as U32)' : 'Parent'} reads back with an independent reader of the format, tensor for tensor`, () => {
      const { net, meta } = model(binary);
      const file = saveSafetensors(net, join(tmp(), 'model.safetensors'), meta as unknown as Record<string, unknown>);
      const bytes = readFileSync(file);
      const { tensors, metadata, headerLength } = readSafetensors(bytes);
      expect(headerLength % 8).toBe(0);
      const expected = arrays(net);
      expect([...tensors.keys()]).toEqual([...expected.keys()]);
      for (const [name, t] of tensors) {
        expect(t.shape, name).toEqual(expected.get(name)!.shape);
        expect(t.data, name).toEqual(expected.get(name)!.data);
      }
      if (binary) expect([...tensors.values()].some((t) => t.dtype === 'U32')).toBe(true);
      for (const v of Object.values(metadata)) expect(typeof v).toBe('string');
      expect(metadata.format).toBe('cpnas-state');
      expect(JSON.parse(metadata['cpnas.meta']).genotype).toEqual(GENOTYPE);
    });
  }

  it('round-trips exactly through encode / decode, and loadModel rebuilds the network from it', () => {
    const { net, meta } = model(true);
    const state = net.stateDict(meta as unknown as Record<string, unknown>);
    const back = decodeSafetensors(encodeSafetensors(state), 'x.safetensors');
    expect(back.json.entries).toEqual(state.json.entries);
    expect(back.json.meta).toEqual(state.json.meta);
    expect(Buffer.from(back.blob).equals(Buffer.from(state.blob))).toBe(true);
    const dir = tmp();
    saveSafetensors(net, join(dir, 'model.safetensors'), meta as unknown as Record<string, unknown>);
    const loaded = loadModel(dir);
    expect(loaded.meta.kind).toBe('child');
    expect(Buffer.from(loaded.net.stateDict().blob).equals(Buffer.from(net.stateDict().blob))).toBe(true);
  });

  it('still loads the model.json + model.bin of earlier versions', () => {
    const { net, meta } = model(false);
    const dir = tmp();
    saveModule(net, join(dir, 'model'), meta as unknown as Record<string, unknown>);
    expect(readModelState(dir).file).toBe(join(dir, 'model.json'));
    const loaded = loadModel(dir);
    expect(loaded.meta.kind).toBe('parent');
    expect(Buffer.from(loaded.net.stateDict().blob).equals(Buffer.from(net.stateDict().blob))).toBe(true);
  });

  it('reads a file another writer made: no cpnas metadata, no padding, tensors in another key order', () => {
    const values = new Float32Array([1, -2, 3.5, 4]);
    const header = JSON.stringify({ b: { dtype: 'U32', shape: [1], data_offsets: [16, 20] }, a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } });
    const bytes = Buffer.concat([Buffer.alloc(8), Buffer.from(header), Buffer.from(values.buffer), Buffer.from(new Uint32Array([7]).buffer)]);
    bytes.writeBigUInt64LE(BigInt(header.length));
    const state = decodeSafetensors(bytes, 'other.safetensors');
    expect(state.json.entries.map((e) => [e.name, e.dtype, e.shape])).toEqual([['a', 'f32', [2, 2]], ['b', 'u32', [1]]]);
    expect(new Float32Array(state.blob.buffer, 0, 4)).toEqual(values);
    expect(packState([]).json.entries).toEqual([]);
  });

  it('refuses damaged files with one line naming the file', () => {
    const { net } = model(false);
    const good = encodeSafetensors(net.stateDict());
    expect(() => decodeSafetensors(good.subarray(0, 5), 'm.safetensors')).toThrow(/m\.safetensors: 5 bytes is too short/);
    expect(() => decodeSafetensors(good.subarray(0, 40), 'm.safetensors')).toThrow(/m\.safetensors: the header claims/);
    const flipped = good.slice();
    flipped[flipped.length - 3] ^= 1;
    expect(() => decodeSafetensors(flipped, 'm.safetensors')).toThrow(/checksum/);
    // an edit inside the header (a shape, the model description) breaks the header's checksum
    const n = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
    const text = new TextDecoder().decode(good.subarray(8, 8 + n)).replace('"stem.weight"', '"stem.weighT"');
    const edited = new Uint8Array(good.length);
    edited.set(good);
    edited.set(new TextEncoder().encode(text), 8);
    expect(() => decodeSafetensors(edited, 'm.safetensors')).toThrow(/m\.safetensors: the header fails its checksum/);
  });

  // Python checks, when python3 (and its packages) are there: the format as other tools read it.
  const python = (code: string): string | null => {
    try { return execFileSync('python3', ['-c', code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }); } catch { return null; }
  };
  const hasNumpy = python('import numpy') !== null;
  const hasSafetensors = python('import safetensors') !== null;

  it.skipIf(!hasNumpy)('the README\'s NumPy snippet loads a Parent\'s weights with the same values (needs python3 + numpy)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const snippet = /```python\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet, 'README.md has a ```python block').toBeTruthy();
    const { net, meta } = model(false);
    const dir = tmp();
    const file = saveSafetensors(net, join(dir, 'parent', 'model.safetensors'), meta as unknown as Record<string, unknown>);
    const code = snippet!.replace(/"runs\/[^"]*\/parent\/model\.safetensors"/, JSON.stringify(file)) +
      '\nimport json as _j\nprint(_j.dumps({k: [list(v.shape), v.astype("float64").ravel().tolist()] for k, v in weights.items()}))\n';
    const out = python(code);
    expect(out, 'the snippet runs').not.toBeNull();
    const got = JSON.parse(out!.trim().split('\n').at(-1)!) as Record<string, [number[], number[]]>;
    const expected = arrays(net);
    expect(Object.keys(got).sort()).toEqual([...expected.keys()].sort());
    for (const [name, { shape, data }] of expected) {
      expect(got[name][0], name).toEqual(shape);
      expect(Float32Array.from(got[name][1]), name).toEqual(data);
    }
  });

  it.skipIf(!hasSafetensors)('Python\'s safetensors opens a Child and reads the same tensors (needs python3 -m pip install safetensors)', () => {
    const { net, meta } = model(true);
    const file = saveSafetensors(net, join(tmp(), 'model.safetensors'), meta as unknown as Record<string, unknown>);
    const out = python(`import json\nfrom safetensors.numpy import load_file\nfrom safetensors import safe_open\nt = load_file(${JSON.stringify(file)})\nwith safe_open(${JSON.stringify(file)}, 'np') as f: m = f.metadata()\nprint(json.dumps({'meta': m['format'], 't': {k: v.astype('float64').ravel().tolist() for k, v in t.items()}}))`);
    const got = JSON.parse(out!) as { meta: string; t: Record<string, number[]> };
    expect(got.meta).toBe('cpnas-state');
    for (const [name, { data }] of arrays(net)) expect(Array.from(data), name).toEqual(got.t[name]);
  });
});
