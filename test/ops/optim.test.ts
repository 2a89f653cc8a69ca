import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../core/index.js';
import { Adam } from '../../ops/optim/adam.js';
import { clipGradNorm } from '../../ops/optim/clip.js';
import { CosineAnnealingLR } from '../../ops/optim/schedule.js';
import { SGD } from '../../ops/optim/sgd.js';
import { decodeTree, encodeTree, type Tree } from '../../ops/state.js';
import type { Optimizer, OptimizerState } from '../../ops/optim/optimizer.js';

function param(values: number[]): Tensor {
  return Tensor.from(Float32Array.from(values), [values.length], true);
}

/** Runs steps with the given gradients (one list per step) and returns the parameter after each. */
function run(opt: Optimizer, p: Tensor, grads: number[][]): number[][] {
  return grads.map((g) => {
    p.grad = Tensor.from(Float32Array.from(g));
    opt.step();
    return p.toArray();
  });
}

describe('SGD', () => {
  it('plain step with coupled weight decay: p -= lr * (g + wd * p)', () => {
    const p = param([1, -2]);
    const [after] = run(new SGD([p], { lr: 0.1, weightDecay: 0.1 }), p, [[0.5, 1]]);
    expect(after[0]).toBeCloseTo(1 - 0.1 * (0.5 + 0.1), 6);
    expect(after[1]).toBeCloseTo(-2 - 0.1 * (1 - 0.2), 6);
  });

  it('momentum: the first buffer is the gradient, then buf = mu * buf + g', () => {
    const p = param([1]);
    const out = run(new SGD([p], { lr: 0.1, momentum: 0.9 }), p, [[1], [1], [1]]);
    // buf 1, 1.9, 2.71
    expect(out.map((v) => v[0])).toEqual([0.9, 0.71, 0.439].map((v) => expect.closeTo(v, 6)));
  });

  it('nesterov: update with g + mu * buf', () => {
    const p = param([1]);
    const out = run(new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true }), p, [[1], [1]]);
    // step 1: 1 + 0.9*1 = 1.9; step 2: buf 1.9, 1 + 0.9*1.9 = 2.71
    expect(out.map((v) => v[0])).toEqual([0.81, 0.539].map((v) => expect.closeTo(v, 6)));
  });

  it('dampening scales the gradient entering the buffer after the first step', () => {
    const p = param([1]);
    const out = run(new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.5 }), p, [[1], [1]]);
    expect(out.map((v) => v[0])).toEqual([0.9, 0.76].map((v) => expect.closeTo(v, 6)));
  });

  it('skips parameters without a gradient, marks updated ones changed', () => {
    const a = param([1]), b = param([1]);
    const opt = new SGD([a, b], { lr: 1 });
    a.grad = Tensor.of([1]);
    opt.step();
    expect([a.data[0], b.data[0]]).toEqual([0, 1]);
    expect([a.version, b.version]).toEqual([1, 0]);
  });

  it('checks its arguments', () => {
    expect(() => new SGD([param([1])], { lr: -1 })).toThrow(/SGD: lr must be/);
    expect(() => new SGD([param([1])], { lr: 0.1, nesterov: true })).toThrow(/nesterov needs momentum/);
    expect(() => new SGD([Tensor.of([1])], { lr: 0.1 })).toThrow(/not a leaf tensor that requires gradients/);
    const p = param([1]);
    expect(() => new SGD([p, p], { lr: 0.1 })).toThrow(/listed twice/);
  });
});

describe('Adam', () => {
  it('matches hand-computed steps with bias correction', () => {
    const p = param([1]);
    const out = run(new Adam([p], { lr: 0.1 }), p, [[2], [1], [-0.5]]);
    expect(out.map((v) => v[0])).toEqual([0.9000000005, 0.8067820372085104, 0.7504158999804387].map((v) => expect.closeTo(v, 6)));
  });

  it('adds coupled L2 weight decay to the gradient', () => {
    const p = param([1]);
    const out = run(new Adam([p], { lr: 0.1, weightDecay: 0.5 }), p, [[2], [1]]);
    expect(out[1][0]).toBeCloseTo(0.8046965062953229, 6);
  });

  it('agrees with a scalar reference on random gradients', () => {
    fc.assert(fc.property(
      fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 8 }),
      fc.float({ min: Math.fround(1e-4), max: Math.fround(0.5), noNaN: true }),
      fc.float({ min: 0, max: Math.fround(0.1), noNaN: true }),
      (gs, lr, wd) => {
        const p = param([0.3]);
        const opt = new Adam([p], { lr, weightDecay: wd });
        let w = 0.3, m = 0, v = 0;
        gs.forEach((g0, k) => {
          const t = k + 1;
          p.grad = Tensor.of([g0]);
          opt.step();
          const g = g0 + wd * w;
          m = 0.9 * m + 0.1 * g;
          v = 0.999 * v + 0.001 * g * g;
          w = Math.fround(w - (lr / (1 - 0.9 ** t)) * m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** t) + 1e-8));
        });
        expect(p.data[0]).toBeCloseTo(w, 4);
      },
    ), { numRuns: 100, seed: 11 });
  });
});

describe('optimizer state', () => {
  const grads = (rng: Random, n: number, steps: number) => Array.from({ length: steps }, () => Array.from({ length: n }, () => rng.normal()));

  for (const make of [
    (ps: Tensor[]) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
    (ps: Tensor[]) => new Adam(ps, { lr: 0.01, weightDecay: 1e-3 }),
  ]) {
    it(`resumes ${make([param([0])]).type} exactly from a saved state (through encodeTree)`, () => {
      const g = grads(new Random(3), 4, 10);
      const a = param([1, 2, 3, 4]);
      const optA = make([a]);
      run(optA, a, g.slice(0, 5));
      optA.lr *= 0.5;
      const { json, blob } = encodeTree(optA.state() as Tree);
      const snapshot = a.toArray();
      run(optA, a, g.slice(5));

      const b = param(snapshot);
      const optB = make([b]);
      optB.loadState(decodeTree(json, blob) as OptimizerState);
      expect(optB.lr).toBe(optA.lr);
      run(optB, b, g.slice(5));
      expect(b.toArray()).toEqual(a.toArray());
    });
  }

  it('refuses a state for another type or another model', () => {
    const p = param([1, 2]);
    const sgd = new SGD([p], { lr: 0.1, momentum: 0.9 });
    expect(() => new Adam([p], { lr: 0.1 }).loadState(sgd.state())).toThrow(/for "SGD", not Adam/);
    expect(() => new SGD([param([1])], { lr: 0.1 }).loadState(sgd.state())).toThrow(/parameter 0 \[1\] has 1 values but the state has 2/);
    expect(() => new SGD([p, param([1])], { lr: 0.1 }).loadState(sgd.state())).toThrow(/1 parameters but this optimizer has 2/);
  });

  it('takes a module (anything with parameters()) and clears gradients', () => {
    const p = param([1]);
    const opt = new SGD({ parameters: () => [p] }, { lr: 0.1 });
    p.grad = Tensor.of([1]);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
  });
});

describe('clipGradNorm', () => {
  it('scales gradients to the max norm and returns the norm before clipping', () => {
    const a = param([0, 0]), b = param([0]), c = param([5]);
    a.grad = Tensor.of([3, 0]);
    b.grad = Tensor.of([4]);
    const norm = clipGradNorm([a, b, c], 1);
    expect(norm).toBeCloseTo(5, 6);
    expect(a.grad.data[0]).toBeCloseTo(0.6, 5);
    expect(b.grad.data[0]).toBeCloseTo(0.8, 5);
  });

  it('leaves small gradients alone, reports non-finite norms', () => {
    const a = param([0]);
    a.grad = Tensor.of([0.5]);
    expect(clipGradNorm([a], 1)).toBeCloseTo(0.5, 6);
    expect(a.grad.data[0]).toBe(0.5);
    a.grad = Tensor.of([NaN]);
    expect(clipGradNorm([a], 1)).toBeNaN();
    expect(() => clipGradNorm([a], 1, { errorIfNonfinite: true })).toThrow(/gradient norm is NaN/);
    expect(() => clipGradNorm([a], 0)).toThrow(/maxNorm must be a positive number/);
  });
});

describe('CosineAnnealingLR', () => {
  it('follows the closed form and stays at etaMin past tMax', () => {
    const opt = new SGD([param([0])], { lr: 0.1 });
    const s = new CosineAnnealingLR(opt, { tMax: 4, etaMin: 0.01 });
    const lrs = [opt.lr];
    for (let i = 0; i < 5; i++) {
      s.step();
      lrs.push(opt.lr);
    }
    const cos = (t: number) => 0.01 + 0.09 * (1 + Math.cos((Math.PI * t) / 4)) / 2;
    expect(lrs).toEqual([cos(0), cos(1), cos(2), cos(3), 0.01, 0.01].map((v) => expect.closeTo(v, 12)));
    expect(lrs[2]).toBeCloseTo(0.055, 12);
  });

  it('warms up linearly, then anneals from the base lr', () => {
    const opt = new SGD([param([0])], { lr: 1 });
    const s = new CosineAnnealingLR(opt, { tMax: 5, warmup: 3 });
    const lrs = [opt.lr];
    for (let i = 0; i < 5; i++) {
      s.step();
      lrs.push(s.lr);
    }
    expect(lrs).toEqual([0.25, 0.5, 0.75, 1, 0.5, 0].map((v) => expect.closeTo(v, 12)));
  });

  it('resumes from its state', () => {
    const optA = new SGD([param([0])], { lr: 0.2 });
    const a = new CosineAnnealingLR(optA, { tMax: 10 });
    a.step();
    a.step();
    const optB = new SGD([param([0])], { lr: 0.2 });
    const b = new CosineAnnealingLR(optB, { tMax: 10 });
    b.loadState(a.state());
    expect(optB.lr).toBe(optA.lr);
    a.step();
    b.step();
    expect(optB.lr).toBe(optA.lr);
    expect(() => new CosineAnnealingLR(optA, { tMax: 0 })).toThrow(/tMax must be a positive integer/);
  });
});
