import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../core/index.js';
import { arbShape, arbTensor } from '../../ops/arbitraries.js';
import { formatGradCheck, gradCheck } from '../../ops/gradcheck.js';
import { abs, clamp, exp, hardtanh, log, neg, pow, relu, sigmoid, sqrt, tanh } from '../../ops/unary.js';

// Tolerance for every gradient check here: |analytic - numeric| <= 1e-3 + 1e-2 |numeric|
// (gradCheck's defaults, eps = 1e-3, central differences accumulated in float64).
const shapes = arbShape({ maxRank: 3, maxDim: 4 });

interface Case {
  name: string;
  fn: (x: Tensor) => Tensor;
  ref: (v: number) => number;
  /** value range, and distance kept from kinks at 0 / at the clamp bounds */
  min: number; max: number; minAbs?: number;
  avoid?: number[];
}

const cases: Case[] = [
  { name: 'neg', fn: neg, ref: (v) => -v, min: -3, max: 3 },
  { name: 'exp', fn: exp, ref: Math.exp, min: -2, max: 2 },
  { name: 'log', fn: log, ref: Math.log, min: 0.2, max: 4 },
  { name: 'sqrt', fn: sqrt, ref: Math.sqrt, min: 0.2, max: 4 },
  { name: 'pow 3', fn: (x) => pow(x, 3), ref: (v) => v ** 3, min: -2, max: 2 },
  { name: 'pow 2', fn: (x) => pow(x, 2), ref: (v) => v ** 2, min: -2, max: 2 },
  { name: 'pow -0.5', fn: (x) => pow(x, -0.5), ref: (v) => v ** -0.5, min: 0.3, max: 3 },
  { name: 'abs', fn: abs, ref: Math.abs, min: -2, max: 2, minAbs: 0.01 },
  { name: 'relu', fn: relu, ref: (v) => Math.max(v, 0), min: -2, max: 2, minAbs: 0.01 },
  { name: 'sigmoid', fn: sigmoid, ref: (v) => 1 / (1 + Math.exp(-v)), min: -4, max: 4 },
  { name: 'tanh', fn: tanh, ref: Math.tanh, min: -3, max: 3 },
  { name: 'clamp', fn: (x) => clamp(x, -0.5, 0.7), ref: (v) => Math.min(Math.max(v, -0.5), 0.7), min: -2, max: 2, avoid: [-0.5, 0.7] },
  { name: 'hardtanh', fn: hardtanh, ref: (v) => Math.min(Math.max(v, -1), 1), min: -2, max: 2, avoid: [-1, 1] },
];

/** Moves values within 0.01 of a kink 0.02 away from it. */
function avoid(t: Tensor, points: number[] | undefined): Tensor {
  if (!points) return t;
  for (let i = 0; i < t.size; i++) for (const p of points) if (Math.abs(t.data[i] - p) < 0.01) t.data[i] = p + 0.02;
  return t;
}

describe('unary ops', () => {
  for (const c of cases) {
    it(`${c.name}: forward matches Math, gradient matches central differences`, () => {
      fc.assert(fc.property(arbTensor(shapes, { min: c.min, max: c.max, minAbs: c.minAbs }), (x0) => {
        const x = avoid(x0, c.avoid);
        const y = c.fn(x);
        expect(y.shape).toEqual(x.shape);
        for (let i = 0; i < x.size; i++) expect(y.data[i]).toBeCloseTo(c.ref(x.data[i]), 5);
        const rep = gradCheck(c.fn, [x]);
        expect(rep.ok, formatGradCheck(rep, [x])).toBe(true);
      }), { numRuns: 15 });
    });
  }

  it('relu, abs, clamp and hardtanh gradients at and beyond their kinks', () => {
    const x = Tensor.of([-2, -1, 0, 0.5, 1, 2], true);
    relu(x).backward(new Float32Array(6).fill(1));
    expect(x.grad!.toArray()).toEqual([0, 0, 0, 1, 1, 1]);
    x.zeroGrad();
    abs(x).backward(new Float32Array(6).fill(1));
    expect(x.grad!.toArray()).toEqual([-1, -1, 0, 1, 1, 1]);
    x.zeroGrad();
    clamp(x, -1, 1).backward(new Float32Array(6).fill(1));
    expect(x.grad!.toArray()).toEqual([0, 1, 1, 1, 1, 0]);
    x.zeroGrad();
    hardtanh(x).backward(new Float32Array(6).fill(1));
    expect(x.grad!.toArray()).toEqual([0, 0, 1, 1, 0, 0]);
    expect(hardtanh(x).toArray()).toEqual([-1, -1, 0, 0.5, 1, 1]);
  });

  it('sigmoid and tanh saturate without NaN', () => {
    const x = Tensor.of([-1000, 1000], true);
    expect(sigmoid(x).toArray()).toEqual([0, 1]);
    expect(tanh(x).toArray()).toEqual([-1, 1]);
  });

  it('rejects bad arguments, naming the op', () => {
    expect(() => clamp(Tensor.zeros([2, 3]), 1, 0)).toThrow(/^clamp: lower bound 1 is above upper bound 0 \(x \[2,3\]\)/);
    expect(() => pow(Tensor.zeros([2]), NaN)).toThrow(/^pow: exponent must be a number/);
  });
});
