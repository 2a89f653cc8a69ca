import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random, Tensor, getBackend, noGrad, withBackend, type Backend } from '../../core/index.js';
import { BinaryConv2d } from '../../binary/binary-conv.js';
import { approxSign, scaledSign } from '../../binary/binarizers.js';
import { conv2d } from '../../ops/conv.js';

interface Setup {
  N: number; C: number; H: number; W: number; K: number; kernel: number;
  stride: number; padding: number; dilation: number; groups: number; seed: number;
}

const arbSetup: fc.Arbitrary<Setup> = fc.record({
  N: fc.integer({ min: 1, max: 2 }),
  cPer: fc.constantFrom(1, 2, 3, 5, 33),
  kPer: fc.integer({ min: 1, max: 5 }),
  groups: fc.integer({ min: 1, max: 3 }),
  depthwise: fc.boolean(),
  kernel: fc.integer({ min: 1, max: 3 }),
  stride: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 2 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  extra: fc.integer({ min: 0, max: 3 }),
  seed: fc.integer({ min: 0, max: 1e9 }),
}).map((s) => {
  const groups = s.depthwise ? 4 : s.groups, cPer = s.depthwise ? 1 : s.cPer;
  const H = Math.max(1, s.dilation * (s.kernel - 1) + 1 - 2 * s.padding) + s.extra;
  return { N: s.N, C: groups * cPer, H, W: H + 1, K: groups * s.kPer, kernel: s.kernel, stride: s.stride, padding: s.padding, dilation: s.dilation, groups, seed: s.seed };
});

function make(s: Setup, opts: { bias?: boolean } = {}): { layer: BinaryConv2d; x: Tensor } {
  const rng = new Random(s.seed);
  const layer = new BinaryConv2d(s.C, s.K, s.kernel, { stride: s.stride, padding: s.padding, dilation: s.dilation, groups: s.groups, bias: opts.bias, rng });
  const x = Tensor.randn([s.N, s.C, s.H, s.W], 1, rng);
  return { layer, x };
}

/** |a - b| <= 1e-6 · max(1, |b|) everywhere (the two paths round a sum of ±alpha differently at most once). */
function expectClose(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= 1e-6 * Math.max(1, Math.abs(b[i])))) {
      throw new Error(`element ${i}: ${a[i]} vs ${b[i]}`);
    }
  }
}

/** A backend that counts xnorConv2d calls and otherwise delegates to the active one. */
function countingBackend(): { be: Backend; calls: () => number } {
  const base = getBackend();
  let n = 0;
  const be: Backend = { ...base, xnorConv2d: (...args) => { n++; base.xnorConv2d(...args); } };
  return { be, calls: () => n };
}

describe('BinaryConv2d', () => {
  it('trains on conv(sign(x), alpha ⊙ sign(w))', () => {
    const s: Setup = { N: 2, C: 3, H: 5, W: 6, K: 4, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, seed: 1 };
    const { layer, x } = make(s);
    const y = layer.forward(x);
    const want = noGrad(() => conv2d(approxSign(x), scaledSign(layer.weight), null, { padding: 1 }));
    expect(Array.from(y.data)).toEqual(Array.from(want.data));
    expect(y.requiresGrad).toBe(true);
  });

  it('evaluates on the bit-packed path with the training-mode values (property)', () => {
    fc.assert(fc.property(arbSetup, fc.boolean(), (s, bias) => {
      const { layer, x } = make(s, { bias });
      const train = noGrad(() => layer.forward(x));
      layer.eval();
      const { be, calls } = countingBackend();
      const evalY = withBackend(be, () => noGrad(() => layer.forward(x)));
      expect(calls()).toBe(1);
      expect(evalY.shape).toEqual(train.shape);
      expectClose(evalY.data, train.data);
    }), { numRuns: 60 });
  });

  it('stays differentiable in eval mode when gradients are wanted (float path)', () => {
    const { layer, x } = make({ N: 1, C: 2, H: 4, W: 4, K: 2, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, seed: 2 });
    layer.eval();
    const { be, calls } = countingBackend();
    const y = withBackend(be, () => layer.forward(x));
    expect(calls()).toBe(0);
    expect(y.requiresGrad).toBe(true);
  });

  it('back-propagates through the estimators', () => {
    const { layer, x } = make({ N: 2, C: 3, H: 5, W: 5, K: 2, kernel: 3, stride: 2, padding: 1, dilation: 1, groups: 1, seed: 3 });
    x.requiresGrad = true;
    const gy = Tensor.randn([2, 2, 3, 3], 1, new Random(9));
    layer.forward(x).backward(gy);
    // the same graph by hand: leaves for the binarized values, then each estimator's local gradient
    const xb = noGrad(() => approxSign(x)), wb = noGrad(() => scaledSign(layer.weight));
    const xl = new Tensor(xb.data, xb.shape, true), wl = new Tensor(wb.data, wb.shape, true);
    conv2d(xl, wl, null, { stride: 2, padding: 1 }).backward(gy);
    const gx = xl.grad!.data.map((g, i) => (Math.abs(x.data[i]) < 1 ? g * (2 - 2 * Math.abs(x.data[i])) : 0));
    const gw = wl.grad!.data.map((g, i) => (Math.abs(layer.weight.data[i]) <= 1 ? g : 0));
    expectClose(x.grad!.data, gx);
    expectClose(layer.weight.grad!.data, gw);
  });

  it('packs weights once and re-packs when the weight version changes', () => {
    const { layer } = make({ N: 1, C: 40, H: 3, W: 3, K: 3, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, seed: 4 });
    const p1 = layer.packedWeights();
    expect(p1).toBeInstanceOf(Uint32Array);
    expect(p1.length).toBe(Math.ceil((3 * 40 * 9) / 32)); // one dense stream of 3 filters x 40 channels x 9 taps
    expect(layer.packedWeights()).toBe(p1);
    layer.weight.data[0] = -Math.abs(layer.weight.data[0]) - 0.5; // filter 0, channel 0, tap 0: now negative
    expect(layer.packedWeights()).toBe(p1); // not marked: the cache stands
    layer.weight.markChanged();
    const p2 = layer.packedWeights();
    expect(p2).not.toBe(p1);
    expect(p2[0] & 1).toBe(1);
  });

  it('exposes alpha ⊙ sign(w) as a differentiable reconstructed weight', () => {
    const { layer } = make({ N: 1, C: 2, H: 3, W: 3, K: 2, kernel: 3, stride: 1, padding: 0, dilation: 1, groups: 1, seed: 5 });
    const hat = layer.reconstructedWeight();
    expect(hat.requiresGrad).toBe(true);
    expect(Array.from(hat.data)).toEqual(Array.from(scaledSign(layer.weight).data));
    const alpha = layer.scales();
    for (let k = 0; k < 2; k++) expect(Math.abs(hat.data[k * 18])).toBe(alpha[k]);
  });

  it('saves and loads the packed weights as extra state', () => {
    const s: Setup = { N: 2, C: 5, H: 4, W: 4, K: 3, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, seed: 6 };
    const { layer, x } = make(s);
    const state = layer.stateDict();
    const names = state.json.entries.map((e) => `${e.name}:${e.dtype}`);
    expect(names).toEqual(expect.arrayContaining(['weight:f32', 'packedSigns:u32', 'alpha:f32']));
    const other = make({ ...s, seed: 7 }).layer;
    other.loadStateDict(state);
    expect(Array.from(other.packedWeights())).toEqual(Array.from(layer.packedWeights()));
    other.eval();
    layer.eval();
    const a = noGrad(() => layer.forward(x)), b = noGrad(() => other.forward(x));
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });

  it('keeps its packed weights within 1/30 of the float weights\' bytes (conv_s, conv_m, conv_l, depthwise)', () => {
    for (const [C, K, groups] of [[16, 16, 1], [64, 64, 1], [128, 128, 1], [64, 64, 64]]) {
      const layer = new BinaryConv2d(C, K, 3, { padding: 1, groups, rng: new Random(1) });
      expect(layer.packedWeights().byteLength / (layer.weight.size * 4)).toBeLessThanOrEqual(1 / 30);
    }
  });

  it('loads a state of the earlier packed format (key packedWeight) only non-strictly, packing again', () => {
    const s: Setup = { N: 1, C: 5, H: 4, W: 4, K: 3, kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, seed: 8 };
    const { layer } = make(s);
    const state = layer.stateDict();
    for (const e of state.json.entries) if (e.name === 'packedSigns') (e as { name: string }).name = 'packedWeight';
    const other = make({ ...s, seed: 9 }).layer;
    expect(() => other.loadStateDict(state)).toThrow(/missing key packedSigns; unexpected key packedWeight/);
    other.loadStateDict(state, { strict: false });
    expect(Array.from(other.packedWeights())).toEqual(Array.from(layer.packedWeights()));
  });

  it('rejects unknown binarizer names and reports its settings', () => {
    expect(() => new BinaryConv2d(2, 2, 3, { activation: 'nope' })).toThrow(/unknown binarizer "nope"/);
    expect(new BinaryConv2d(2, 4, 3, { padding: 1, activation: 'ste' }).toString()).toBe('BinaryConv2d(2, 4, kernel=3, padding=1, activation=ste, weight=scaled)');
  });

  it('fails with the input and weight shapes when channels do not match', () => {
    const layer = new BinaryConv2d(3, 4, 3);
    expect(() => layer.forward(Tensor.zeros([1, 5, 4, 4]))).toThrow(/BinaryConv2d: input has 5 channels, weight expects 3.*\[1,5,4,4\] vs \[4,3,3,3\]/);
  });
});
