import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random, Tensor, manualSeed } from '../../core/index.js';
import { arbShape, arbTensor } from '../../ops/arbitraries.js';
import { dropPath, dropout } from '../../ops/dropout.js';
import { formatGradCheck, gradCheck } from '../../ops/gradcheck.js';

// Gradient tolerance: |analytic - numeric| <= 1e-3 + 1e-2 |numeric| (gradCheck defaults, eps 1e-3);
// the mask is made the same on every call by a Random with a fixed seed.

describe('dropout', () => {
  it('preserves the expectation: the mean of many draws of ones is 1', () => {
    for (const p of [0.1, 0.5, 0.8]) {
      const y = dropout(Tensor.ones([20000]), p, true, new Random(7));
      const kept = y.toArray().filter((v) => v !== 0);
      expect(kept.every((v) => Math.abs(v - 1 / (1 - p)) < 1e-6)).toBe(true);
      expect(kept.length / y.size).toBeCloseTo(1 - p, 1.5);
      expect(y.toArray().reduce((a, b) => a + b, 0) / y.size).toBeCloseTo(1, 1);
    }
  });

  it('gradient is the mask times the scale (and matches central differences)', () => {
    fc.assert(fc.property(arbShape({ maxRank: 3, maxDim: 5 }).chain((s) => arbTensor(s)), fc.double({ min: 0.05, max: 0.9, noNaN: true }), fc.integer(), (x, p, seed) => {
      const y = dropout(x, p, true, new Random(seed));
      y.backward(new Float32Array(y.size).fill(1));
      for (let i = 0; i < x.size; i++) {
        const m = y.data[i] === 0 && x.data[i] !== 0 ? 0 : 1 / (1 - p);
        expect(x.grad!.data[i]).toBeCloseTo(m, 5);
        expect(y.data[i]).toBeCloseTo(x.data[i] * m, 5);
      }
      const rep = gradCheck((t) => dropout(t, p, true, new Random(seed)), [x]);
      expect(rep.ok, formatGradCheck(rep, [x])).toBe(true);
    }), { numRuns: 25 });
  });

  it('is the identity in eval mode and for p = 0; p = 1 drops everything', () => {
    const x = Tensor.of([1, 2, 3], true);
    expect(dropout(x, 0.5, false)).toBe(x);
    expect(dropout(x, 0, true)).toBe(x);
    expect(dropout(x, 1, true).toArray()).toEqual([0, 0, 0]);
  });

  it('is reproducible from the seed (the process-wide generator by default)', () => {
    manualSeed(11);
    const a = dropout(Tensor.ones([50]), 0.5, true).toArray();
    manualSeed(11);
    const b = dropout(Tensor.ones([50]), 0.5, true).toArray();
    expect(a).toEqual(b);
    expect(() => dropout(Tensor.ones([2]), 1.5, true)).toThrow(/^dropout: p must be in \[0, 1\], got 1.5 \(x \[2\]\)/);
  });
});

describe('dropPath', () => {
  it('keeps or drops whole samples, scaled by 1/(1-p), with the expectation preserved', () => {
    const p = 0.3;
    const y = dropPath(Tensor.ones([4000, 2, 3]), p, true, new Random(5));
    let kept = 0;
    for (let n = 0; n < 4000; n++) {
      const s = y.data.slice(n * 6, n * 6 + 6);
      const v = s[0];
      expect(s.every((u) => u === v)).toBe(true);
      expect(v === 0 || Math.abs(v - 1 / (1 - p)) < 1e-6).toBe(true);
      if (v !== 0) kept++;
    }
    expect(kept / 4000).toBeCloseTo(1 - p, 1.5);
    expect(y.toArray().reduce((a, b) => a + b, 0) / y.size).toBeCloseTo(1, 1);
  });

  it('gradient is the per-sample mask times the scale; eval is the identity', () => {
    fc.assert(fc.property(arbShape({ minRank: 2, maxRank: 4, maxDim: 4 }).chain((s) => arbTensor(s)), fc.integer(), (x, seed) => {
      const rep = gradCheck((t) => dropPath(t, 0.5, true, new Random(seed)), [x]);
      expect(rep.ok, formatGradCheck(rep, [x])).toBe(true);
      const y = dropPath(x, 0.5, true, new Random(seed));
      y.backward(new Float32Array(y.size).fill(1));
      const per = x.size / x.shape[0];
      for (let n = 0; n < x.shape[0]; n++) {
        const g = x.grad!.data[n * per];
        expect(g === 0 || g === 2).toBe(true);
        for (let i = 0; i < per; i++) expect(x.grad!.data[n * per + i]).toBe(g);
      }
    }), { numRuns: 25 });
    const x = Tensor.ones([2, 3], true);
    expect(dropPath(x, 0.5, false)).toBe(x);
  });
});
