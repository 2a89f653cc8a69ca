import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../core/index.js';
import { add, mul } from '../../ops/arithmetic.js';
import { Module } from '../../ops/module.js';
import { decodeTree, encodeTree, loadModule, loadTree, saveModule, saveTree } from '../../ops/state.js';

/** y = x * w + b, with a buffer counting calls: built from arithmetic only. */
class Affine extends Module {
  w: Tensor;
  b: Tensor;
  calls: Float32Array;
  constructor(n: number, rng = new Random(1)) {
    super();
    this.w = Tensor.randn([n], 1, rng, true);
    this.b = Tensor.randn([n], 1, rng, true);
    this.calls = this.registerBuffer('calls', new Float32Array(1));
  }
  forward(x: Tensor): Tensor {
    if (this.training) this.calls[0]++;
    return add(mul(x, this.w), this.b);
  }
}

class Cell extends Module {
  ops: Module[];
  frozen = Tensor.ones([3]); // requiresGrad false: not a parameter
  scale = 2; // not a member
  alphas = [Tensor.zeros([2], true), Tensor.zeros([2], true)];
  constructor(n: number, rng: Random) {
    super();
    this.ops = [new Affine(n, rng), new Affine(n, rng)];
  }
  forward(x: Tensor): Tensor {
    return this.ops.reduce((h, op) => op.forward(h) as Tensor, x);
  }
}

class Net extends Module {
  stem: Affine;
  cells: Cell[];
  head: Affine;
  cache: Tensor | null = null;
  constructor(rng = new Random(7)) {
    super();
    this.stem = new Affine(4, rng);
    this.cells = [new Cell(4, rng), new Cell(4, rng)];
    this.head = new Affine(4, rng);
  }
  forward(x: Tensor): Tensor {
    let h = this.stem.forward(x);
    for (const c of this.cells) h = c.forward(h);
    this.cache = this.head.forward(h); // an output computed from parameters: not a parameter
    return this.cache;
  }
}

/** Packs 1-bit signs as extra state, to exercise the hook. */
class Packed extends Affine {
  packed = new Uint32Array(1);
  override extraState() {
    let bits = 0;
    for (let i = 0; i < this.w.size; i++) if (this.w.data[i] >= 0) bits |= 1 << i;
    this.packed[0] = bits >>> 0;
    return { packedSigns: this.packed };
  }
  loaded: Uint32Array | null = null;
  override loadExtraState(s: Record<string, Float32Array | Uint32Array>) {
    this.loaded = s.packedSigns as Uint32Array;
  }
}

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'cpnas-module-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('Module discovery', () => {
  it('names parameters with dotted paths, in field order, arrays as field.i', () => {
    const net = new Net();
    net.forward(Tensor.ones([4]));
    // module by module (depth-first), each module's own parameters in field order, as PyTorch does
    expect(net.namedParameters().map((e) => e[0])).toEqual([
      'stem.w', 'stem.b',
      'cells.0.alphas.0', 'cells.0.alphas.1', 'cells.0.ops.0.w', 'cells.0.ops.0.b', 'cells.0.ops.1.w', 'cells.0.ops.1.b',
      'cells.1.alphas.0', 'cells.1.alphas.1', 'cells.1.ops.0.w', 'cells.1.ops.0.b', 'cells.1.ops.1.w', 'cells.1.ops.1.b',
      'head.w', 'head.b',
    ]);
    expect(net.numParameters()).toBe(2 * 4 * 6 + 2 * 2 * 2);
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  it('lists children and modules depth-first, self first', () => {
    const net = new Net();
    expect(net.namedChildren().map((e) => e[0])).toEqual(['stem', 'cells.0', 'cells.1', 'head']);
    expect(net.children().length).toBe(4);
    expect(net.namedModules().map((e) => e[0])).toEqual([
      '', 'stem', 'cells.0', 'cells.0.ops.0', 'cells.0.ops.1', 'cells.1', 'cells.1.ops.0', 'cells.1.ops.1', 'head',
    ]);
    expect(net.modules()[0]).toBe(net);
  });

  it('lists a shared tensor or module once, and skips unowned references', () => {
    class Shared extends Module {
      a: Affine;
      b: Affine;
      declare teacher: Module;
      constructor() {
        super();
        this.a = new Affine(2);
        this.b = this.a;
        this.setUnowned('teacher', new Affine(2));
      }
      forward(x: Tensor) { return this.b.forward(this.a.forward(x)); }
    }
    const s = new Shared();
    expect(s.namedParameters().map((e) => e[0])).toEqual(['a.w', 'a.b']);
    expect(s.teacher).toBeInstanceOf(Affine);
    expect(s.modules().length).toBe(2);
  });

  it('looks inside nested arrays', () => {
    class Grid extends Module {
      rows = [[new Affine(1), new Affine(1)], [new Affine(1)]];
      forward(x: Tensor) { return x; }
    }
    expect(new Grid().namedChildren().map((e) => e[0])).toEqual(['rows.0.0', 'rows.0.1', 'rows.1.0']);
  });

  it('collects buffers with dotted names', () => {
    const net = new Net();
    expect(net.namedBuffers().map((e) => e[0])).toEqual([
      'stem.calls', 'cells.0.ops.0.calls', 'cells.0.ops.1.calls', 'cells.1.ops.0.calls', 'cells.1.ops.1.calls', 'head.calls',
    ]);
    expect(() => net.registerBuffer('a.b', new Float32Array(1))).toThrow(/no '\.'/);
  });

  it('propagates train() and eval() to every module', () => {
    const net = new Net();
    expect(net.eval()).toBe(net);
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.forward(Tensor.ones([4]));
    expect(net.stem.calls[0]).toBe(0);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.cells[1].train(false);
    expect(net.cells[1].ops[0].training).toBe(false);
    expect(net.cells[0].ops[0].training).toBe(true);
  });

  it('zeroGrad clears every gradient', () => {
    const net = new Net();
    const y = net.forward(Tensor.ones([4]));
    y.backward(new Float32Array(4).fill(1));
    expect(net.parameters().some((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('prints its tree', () => {
    const s = new Net().toString();
    expect(s).toContain('(cells.0): Cell(');
    expect(s).toContain('(ops.1): Affine()');
  });
});

describe('state', () => {
  it('round-trips through stateDict: a fresh module gives equal outputs', () => {
    const a = new Net(new Random(1)), b = new Net(new Random(2));
    a.stem.calls[0] = 5;
    const x = Tensor.of([0.5, -1, 2, 3]);
    expect(b.forward(x).toArray()).not.toEqual(a.forward(x).toArray());
    const versions = b.parameters().map((p) => p.version);
    const state = a.stateDict({ epoch: 3 });
    expect(state.json.format).toBe('cpnas-state');
    expect(state.json.meta).toEqual({ epoch: 3 });
    expect(state.json.entries.find((e) => e.name === 'stem.calls')).toMatchObject({ kind: 'buffer', shape: [1], dtype: 'f32' });
    b.loadStateDict(state);
    expect(b.forward(x).toArray()).toEqual(a.forward(x).toArray());
    expect(b.stem.calls[0]).toBe(a.stem.calls[0]); // the buffer came along (and both counted one forward since)
    expect(b.parameters().every((p, i) => p.version > versions[i])).toBe(true);
  });

  it('loads from a blob that does not start on a 4-byte boundary', () => {
    const a = new Net(new Random(1)), b = new Net(new Random(2));
    const st = a.stateDict();
    const shifted = new Uint8Array(st.blob.length + 1);
    shifted.set(st.blob, 1);
    b.loadStateDict({ json: st.json, blob: shifted.subarray(1) });
    expect(b.parameters().map((p) => p.toArray())).toEqual(a.parameters().map((p) => p.toArray()));
  });

  it('saves and loads files (json + bin), keeping meta', () => {
    const dir = tmp();
    const a = new Net(new Random(3)), b = new Net(new Random(4));
    const paths = saveModule(a, join(dir, 'child'), { note: 'hi' });
    expect(paths.json.endsWith('child.json') && paths.bin.endsWith('child.bin')).toBe(true);
    expect(loadModule(b, join(dir, 'child.json'))).toEqual({ note: 'hi' });
    const x = Tensor.of([1, 2, 3, 4]);
    expect(b.forward(x).toArray()).toEqual(a.forward(x).toArray());
    // a folder gets model.json/bin inside it
    expect(saveModule(a, dir).json).toBe(join(dir, 'model.json'));
  });

  it('refuses a blob from another save', () => {
    const dir = tmp();
    saveModule(new Net(new Random(5)), join(dir, 'm1'));
    saveModule(new Net(new Random(6)), join(dir, 'm2'));
    writeFileSync(join(dir, 'm1.bin'), readFileSync(join(dir, 'm2.bin')));
    expect(() => loadModule(new Net(), join(dir, 'm1'))).toThrow(/does not match/);
    expect(() => loadModule(new Net(), join(dir, 'nothere'))).toThrow(/cannot read .*nothere\.json/);
  });

  it('names missing and unexpected keys, and shape mismatches with both shapes', () => {
    const a = new Net();
    const state = a.stateDict();
    class Smaller extends Module {
      stem = new Affine(4);
      forward(x: Tensor) { return x; }
    }
    expect(() => new Smaller().loadStateDict(state)).toThrow(/unexpected keys .*cells\.0\.alphas\.0/);
    new Smaller().loadStateDict(state, { strict: false }); // fine without strict
    class Bigger extends Net {
      extra = Tensor.zeros([2], true);
    }
    expect(() => new Bigger().loadStateDict(state)).toThrow(/missing key extra/);
    class Wider extends Module {
      stem = new Affine(5);
      forward(x: Tensor) { return x; }
    }
    const w = new Wider();
    const before = w.stem.b.toArray();
    expect(() => w.loadStateDict(state, { strict: false })).toThrow(/stem\.w has shape \[5\] here but \[4\] in the saved state/);
    expect(w.stem.b.toArray()).toEqual(before); // nothing written when anything is wrong
    expect(() => w.loadStateDict({ json: { ...state.json, format: 'x' } as never, blob: state.blob })).toThrow(/not a cpnas module state/);
  });

  it('saves and restores extra state (u32) through the hook', () => {
    const a = new Packed(5, new Random(9)), b = new Packed(5, new Random(10));
    const st = a.stateDict();
    expect(st.json.entries.map((e) => `${e.name}:${e.kind}:${e.dtype}`)).toEqual(['w:param:f32', 'b:param:f32', 'calls:buffer:f32', 'packedSigns:extra:u32']);
    b.loadStateDict(st);
    expect(b.loaded![0]).toBe(a.packed[0]);
  });

  it('round-trips trees with typed arrays and non-finite numbers, in memory and on disk', () => {
    const tree = { step: 3, lr: 0.1, best: -Infinity, nan: NaN, slots: [Float32Array.of(1, 2.5), null], rng: Uint32Array.of(1, 2, 0xffffffff), name: 'x' };
    const { json, blob } = encodeTree(tree);
    expect(decodeTree(json, blob)).toEqual(tree);
    const dir = tmp();
    saveTree(join(dir, 'opt'), tree);
    const back = loadTree(join(dir, 'opt')) as typeof tree;
    expect(back).toEqual(tree);
    expect(back.slots[0]).toBeInstanceOf(Float32Array);
    expect(back.rng).toBeInstanceOf(Uint32Array);
  });
});
