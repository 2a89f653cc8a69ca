import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random, Tensor, noGrad } from '../../core/index.js';
import { conv2d } from '../../ops/conv.js';
import {
  AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, GlobalAvgPool2d, Identity, Linear, MaxPool2d, ReLU, Sequential,
} from '../../ops/layers.js';
import { crossEntropy } from '../../ops/loss.js';
import { Module } from '../../ops/module.js';
import { Adam } from '../../ops/optim/adam.js';
import { loadModule, saveModule } from '../../ops/state.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function smallNet(rng: Random): Sequential {
  return new Sequential(
    new Conv2d(3, 4, 3, { padding: 1, rng }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
    new Conv2d(4, 4, 3, { padding: 1, groups: 2, bias: true, rng }), new BatchNorm2d(4, { affine: false }), new ReLU(),
    new GlobalAvgPool2d(), new Linear(4, 3, true, rng),
  );
}

describe('Conv2d', () => {
  it('makes a [out, in/groups, kh, kw] weight, PyTorch-uniform in ±1/sqrt(fanIn), reproducible from rng', () => {
    const c = new Conv2d(4, 6, [3, 5], { groups: 2, bias: true, rng: new Random(1) });
    expect(c.weight.shape).toEqual([6, 2, 3, 5]);
    expect(c.bias!.shape).toEqual([6]);
    const bound = 1 / Math.sqrt(2 * 3 * 5);
    expect(c.weight.data.every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(Math.max(...c.weight.data.map(Math.abs))).toBeGreaterThan(0.8 * bound);
    expect(new Conv2d(4, 6, [3, 5], { groups: 2, bias: true, rng: new Random(1) }).weight.toArray()).toEqual(c.weight.toArray());
    expect(c.namedParameters().map((e) => e[0])).toEqual(['weight', 'bias']);
    expect(new Conv2d(3, 8, 3).bias).toBeNull();
  });

  it('computes conv2d with its settings', () => {
    const c = new Conv2d(2, 3, 3, { stride: 2, padding: 1, dilation: 1, rng: new Random(2) });
    const x = Tensor.randn([2, 2, 7, 7], 1, new Random(3));
    const y = c.forward(x);
    expect(y.shape).toEqual([2, 3, 4, 4]);
    expect(y.toArray()).toEqual(conv2d(x, c.weight, null, { stride: 2, padding: 1 }).toArray());
    expect(c.toString()).toBe('Conv2d(2, 3, kernel=3, stride=2, padding=1)');
  });

  it('checks its arguments', () => {
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(/Conv2d: groups 2 must divide both inChannels 3 and outChannels 4/);
    expect(() => new Conv2d(0, 4, 3)).toThrow(/inChannels must be a positive integer/);
  });
});

describe('BatchNorm2d', () => {
  it('has weight/bias parameters and runningMean/runningVar buffers', () => {
    const bn = new BatchNorm2d(3);
    expect(bn.namedParameters().map((e) => e[0])).toEqual(['weight', 'bias']);
    expect(bn.namedBuffers().map((e) => e[0])).toEqual(['runningMean', 'runningVar']);
    expect(Array.from(bn.running!.var)).toEqual([1, 1, 1]);
    const plain = new BatchNorm2d(3, { affine: false });
    expect(plain.parameters()).toEqual([]);
    expect(plain.toString()).toBe('BatchNorm2d(3, affine=false)');
    expect(new BatchNorm2d(3, { trackRunningStats: false }).namedBuffers()).toEqual([]);
  });

  it('tracks statistics in training and uses them in eval', () => {
    const bn = new BatchNorm2d(2, { momentum: 0.5 });
    const x = Tensor.randn([4, 2, 3, 3], 2, new Random(4));
    const y = bn.forward(x);
    // training output is normalized per channel
    let m = 0;
    for (let i = 0; i < 9 * 4; i++) m += y.data[Math.floor(i / 9) * 18 + (i % 9)];
    expect(m / 36).toBeCloseTo(0, 5);
    expect(bn.running!.mean[0]).not.toBe(0);
    bn.eval();
    const mean = bn.running!.mean[1], v = bn.running!.var[1];
    const z = bn.forward(Tensor.full([1, 2, 1, 1], 3));
    expect(z.data[1]).toBeCloseTo((3 - mean) / Math.sqrt(v + 1e-5), 5);
    const before = Array.from(bn.running!.mean);
    bn.forward(x);
    expect(Array.from(bn.running!.mean)).toEqual(before); // eval does not update
  });
});

describe('Linear', () => {
  it('computes x Wᵀ + b', () => {
    const l = new Linear(3, 2, true, new Random(5));
    expect(l.weight.shape).toEqual([2, 3]);
    l.weight.data.set([1, 2, 3, 4, 5, 6]);
    l.bias!.data.set([0.5, -1]);
    expect(l.forward(Tensor.of([[1, 0, -1], [2, 1, 0]])).toArray()).toEqual([-1.5, -3, 4.5, 12]);
    expect(new Linear(3, 2, false).parameters().length).toBe(1);
    expect(l.toString()).toBe('Linear(3, 2)');
  });
});

describe('Sequential and the small layers', () => {
  it('names its layers 0, 1, ... and nests', () => {
    class Net extends Module {
      features = smallNet(new Random(6));
      forward(x: Tensor) { return this.features.forward(x); }
    }
    const net = new Net();
    expect(net.namedParameters().map((e) => e[0])).toEqual([
      'features.0.weight', 'features.1.weight', 'features.1.bias', 'features.4.weight', 'features.4.bias',
      'features.8.weight', 'features.8.bias',
    ]);
    expect(net.namedBuffers().map((e) => e[0])).toEqual([
      'features.1.runningMean', 'features.1.runningVar', 'features.5.runningMean', 'features.5.runningVar',
    ]);
    expect(net.features.length).toBe(9);
    expect(net.features.at(-1)).toBeInstanceOf(Linear);
    expect(net.toString()).toContain('(features): Sequential(\n    (0): Conv2d(3, 4, kernel=3, padding=1)\n');
    expect(net.forward(Tensor.randn([2, 3, 8, 8], 1, new Random(7))).shape).toEqual([2, 3]);
  });

  it('pools, flattens, and passes through', () => {
    const x = Tensor.randn([2, 3, 6, 6], 1, new Random(8));
    expect(new MaxPool2d(2).forward(x).shape).toEqual([2, 3, 3, 3]);
    expect(new MaxPool2d(3, { stride: 1, padding: 1 }).forward(x).shape).toEqual([2, 3, 6, 6]);
    expect(new AvgPool2d(3, { stride: 2, padding: 1 }).forward(x).shape).toEqual([2, 3, 3, 3]);
    expect(new GlobalAvgPool2d().forward(x).shape).toEqual([2, 3]);
    expect(new Flatten().forward(x).shape).toEqual([2, 108]);
    expect(new Identity().forward(x)).toBe(x);
    expect(new ReLU().forward(Tensor.of([-1, 2])).toArray()).toEqual([0, 2]);
    const d = new Dropout(0.5, new Random(9));
    const ones = Tensor.ones([1000]);
    const kept = d.forward(ones).toArray().filter((v) => v !== 0);
    expect(kept.every((v) => v === 2)).toBe(true);
    expect(kept.length).toBeGreaterThan(400);
    expect(d.eval().forward(ones).toArray()).toEqual(ones.toArray());
  });
});

describe('training and state', () => {
  it('a tiny model fits a fixed batch: the loss falls', () => {
    const rng = new Random(10);
    const net = smallNet(rng);
    const x = Tensor.randn([8, 3, 8, 8], 1, rng);
    const y = Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1]);
    const opt = new Adam(net, { lr: 0.05 });
    const losses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const loss = crossEntropy(net.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      losses.push(loss.item());
    }
    expect(losses.at(-1)!).toBeLessThan(0.3 * losses[0]);
  });

  it('saves and loads a conv/BN model: eval outputs match', () => {
    const a = smallNet(new Random(11));
    const x = Tensor.randn([4, 3, 8, 8], 1, new Random(12));
    a.forward(x); // move the running statistics off their start
    a.eval();
    const dir = mkdtempSync(join(tmpdir(), 'cpnas-layers-'));
    dirs.push(dir);
    saveModule(a, join(dir, 'net'), { epoch: 1 });
    const b = smallNet(new Random(13)).eval();
    expect(loadModule(b, join(dir, 'net'))).toEqual({ epoch: 1 });
    expect(noGrad(() => b.forward(x)).toArray()).toEqual(noGrad(() => a.forward(x)).toArray());
    expect(() => smallNet(new Random(1)).push(new Linear(3, 3)).loadStateDict(a.stateDict())).toThrow(/missing keys 9\.weight, 9\.bias/);
  });
});
