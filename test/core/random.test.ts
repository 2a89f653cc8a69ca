import { describe, expect, it } from 'vitest';
import { Random, Tensor, defaultRandom, manualSeed } from '../../core/index.js';

describe('Random', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new Random(42), b = new Random(42), c = new Random(43);
    const xs = Array.from({ length: 10 }, () => a.nextUint32());
    expect(Array.from({ length: 10 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 10 }, () => c.nextUint32())).not.toEqual(xs);
    // seed 0 is a valid seed (splitmix never leaves an all-zero state)
    const z = new Random(0);
    expect(new Set(Array.from({ length: 100 }, () => z.nextUint32())).size).toBe(100);
  });

  it('next, uniform and int stay in range and look uniform', () => {
    const r = new Random(1);
    const n = 20000;
    const buckets = new Array(10).fill(0);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = r.next();
      expect(v >= 0 && v < 1).toBe(true);
      buckets[Math.floor(v * 10)]++;
      sum += v;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    for (const b of buckets) expect(Math.abs(b - n / 10)).toBeLessThan(n / 10 * 0.08);
    for (let i = 0; i < 1000; i++) {
      const u = r.uniform(-3, 5);
      expect(u >= -3 && u < 5).toBe(true);
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
    }
  });

  it('normal has mean 0 and variance 1', () => {
    const r = new Random(2);
    const n = 40000;
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) { const v = r.normal(); s += v; s2 += v * v; }
    expect(s / n).toBeCloseTo(0, 1);
    expect(s2 / n).toBeCloseTo(1, 1);
  });

  it('shuffle and permutation give permutations', () => {
    const r = new Random(3);
    const p = r.permutation(50);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...p]).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    const arr = ['a', 'b', 'c', 'd'];
    expect(r.shuffle(arr)).toBe(arr);
    expect([...arr].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('fork gives an independent, reproducible stream', () => {
    const a = new Random(9), b = new Random(9);
    const fa = a.fork(), fb = b.fork();
    const xs = Array.from({ length: 5 }, () => fa.next());
    expect(Array.from({ length: 5 }, () => fb.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => a.next())).not.toEqual(xs);
  });

  it('getState / setState resume the exact stream, including a pending normal', () => {
    const r = new Random(5);
    r.normal(); // leaves a spare
    const state = r.getState();
    const expected = [r.normal(), r.next(), r.normal()];
    const s = new Random(123);
    s.setState(JSON.parse(JSON.stringify(state.map((v) => (Number.isNaN(v) ? null : v)))));
    expect([s.normal(), s.next(), s.normal()]).toEqual(expected);
    // and without a spare
    const q = new Random(6);
    const st = q.getState();
    expect(Number.isNaN(st[4])).toBe(true);
    const e2 = [q.normal(), q.normal()];
    const q2 = new Random(0);
    q2.setState(st);
    expect([q2.normal(), q2.normal()]).toEqual(e2);
  });

  it('manualSeed reseeds the process-wide generator used by default', () => {
    manualSeed(77);
    const a = Tensor.randn([5]).toArray();
    expect(defaultRandom()).toBeInstanceOf(Random);
    manualSeed(77);
    expect(Tensor.randn([5]).toArray()).toEqual(a);
    manualSeed(78);
    expect(Tensor.randn([5]).toArray()).not.toEqual(a);
  });
});
