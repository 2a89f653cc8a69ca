import { describe, expect, it } from 'vitest';
import { Random } from '../../core/index.js';
import { CpIndicator, cpCredit, edgeSoftmax } from '../../nas/indicator.js';
import { architectureAt, drawOrders } from '../../nas/sampling.js';

describe('cpCredit (eq. 4.15)', () => {
  it('is beta * (A_P - A_C) + A_C', () => {
    expect(cpCredit(0.6, 0.9, 1)).toBeCloseTo(0.9, 12);
    expect(cpCredit(0.6, 0.9, 0.5)).toBeCloseTo(0.75, 12);
    expect(cpCredit(0.6, 0.9, 2)).toBeCloseTo(1.2, 12);
    expect(cpCredit(0.8, 0.7, 1.5)).toBeCloseTo(0.65, 12);
  });
  it('is the Child accuracy alone with beta = 0 or without a Parent', () => {
    expect(cpCredit(0.6, 0.9, 0)).toBe(0.6);
    expect(cpCredit(0.6, null, 1)).toBe(0.6);
  });
});

describe('edgeSoftmax (eq. 4.16)', () => {
  it('matches hand-computed values', () => {
    // exp(0.5), exp(0.7), exp(0.2) normalized
    const a = Math.exp(0.5), b = Math.exp(0.7), c = Math.exp(0.2), s = a + b + c;
    const e = edgeSoftmax({ x: 0.5, y: 0.7, z: 0.2 });
    expect(e.x).toBeCloseTo(a / s, 12);
    expect(e.y).toBeCloseTo(b / s, 12);
    expect(e.z).toBeCloseTo(c / s, 12);
    expect(e.x).toBeCloseTo(0.3376, 4); // 1.64872 / 4.88387
    expect(e.y).toBeCloseTo(0.4123, 4); // 2.01375 / 4.88387
    expect(e.z).toBeCloseTo(0.2501, 4); // 1.22140 / 4.88387
  });
  it('is stable for large credits', () => {
    const e = edgeSoftmax({ a: 1000, b: 1000 });
    expect(e.a).toBeCloseTo(0.5, 12);
  });
});

describe('CpIndicator', () => {
  it('averages T credits, scores with a softmax and abandons the worst operation of every edge', () => {
    const ind = new CpIndicator(['normal:0-2', 'reduce:0-2'], ['none', 'a', 'b']);
    // repetition 1: three architectures
    ind.credit({ 'normal:0-2': 'a', 'reduce:0-2': 'none' }, 0.5);
    ind.credit({ 'normal:0-2': 'b', 'reduce:0-2': 'a' }, 0.7);
    ind.credit({ 'normal:0-2': 'none', 'reduce:0-2': 'b' }, 0.2);
    // repetition 2
    ind.credit({ 'normal:0-2': 'b', 'reduce:0-2': 'b' }, 0.9);
    ind.credit({ 'normal:0-2': 'a', 'reduce:0-2': 'a' }, 0.3);
    ind.credit({ 'normal:0-2': 'none', 'reduce:0-2': 'none' }, 0.4);
    const out = ind.endRound();
    // normal: a = (0.5+0.3)/2 = 0.4, b = (0.7+0.9)/2 = 0.8, none = (0.2+0.4)/2 = 0.3
    expect(out.meanCredit['normal:0-2']).toEqual({ none: expect.closeTo(0.3, 12), a: expect.closeTo(0.4, 12), b: expect.closeTo(0.8, 12) });
    const s = Math.exp(0.3) + Math.exp(0.4) + Math.exp(0.8);
    expect(out.indicator['normal:0-2'].b).toBeCloseTo(Math.exp(0.8) / s, 12);
    expect(out.indicator['normal:0-2'].none).toBeCloseTo(Math.exp(0.3) / s, 12);
    expect(out.abandoned['normal:0-2']).toBe('none');
    // reduce: none = (0.5+0.4)/2 = 0.45, a = (0.7+0.3)/2 = 0.5, b = (0.2+0.9)/2 = 0.55
    expect(out.meanCredit['reduce:0-2'].none).toBeCloseTo(0.45, 12);
    expect(out.meanCredit['reduce:0-2'].b).toBeCloseTo(0.55, 12);
    expect(out.abandoned['reduce:0-2']).toBe('none');
    expect(out.K).toBe(3);
    expect(ind.K).toBe(2);
    expect(out.remaining['normal:0-2']).toEqual(['a', 'b']);

    // round 2: abandon a on normal (0.6 < 0.65), b on reduce (0.1 < 0.2)
    ind.credit({ 'normal:0-2': 'a', 'reduce:0-2': 'a' }, 0.6);
    ind.credit({ 'normal:0-2': 'b', 'reduce:0-2': 'b' }, 0.1);
    ind.credit({ 'normal:0-2': 'a', 'reduce:0-2': 'b' }, 0.6);
    ind.credit({ 'normal:0-2': 'b', 'reduce:0-2': 'a' }, 1.2);
    const out2 = ind.endRound();
    expect(out2.abandoned).toEqual({ 'normal:0-2': 'a', 'reduce:0-2': 'b' });
    expect(ind.K).toBe(1);
    const kept = ind.kept();
    expect(kept['normal:0-2'].op).toBe('b');
    // the kept strength is b's mean credit over the whole search: (0.7 + 0.9 + 0.1 + 1.2) / 4 = 0.725
    expect(kept['normal:0-2'].strength).toBeCloseTo(0.725, 12);
    expect(kept['normal:0-2'].credits).toBe(4);
    // reduce keeps a: (0.7 + 0.3 + 0.6 + 1.2) / 4 = 0.7
    expect(kept['reduce:0-2']).toEqual({ op: 'a', strength: expect.closeTo(0.7, 12), credits: 4 });
  });

  it("noneRule 'abandon' removes `none` when it would be left alone with one rival; 'rank' ranks it", () => {
    const run = (rule: 'abandon' | 'rank') => {
      const ind = new CpIndicator(['normal:0-2'], ['none', 'a']);
      ind.credit({ 'normal:0-2': 'none' }, 0.9);
      ind.credit({ 'normal:0-2': 'a' }, 0.1);
      const out = ind.endRound(rule);
      return { abandoned: out.abandoned['normal:0-2'], kept: ind.kept() };
    };
    expect(run('abandon')).toEqual({ abandoned: 'none', kept: { 'normal:0-2': { op: 'a', strength: expect.closeTo(0.1, 12), credits: 1 } } });
    // ranked, none wins and the edge keeps nothing for the genotype
    expect(run('rank')).toEqual({ abandoned: 'a', kept: {} });
  });

  it('never leaves `none` as the last operation of an edge', () => {
    const ind = new CpIndicator(['normal:0-2'], ['none', 'a']);
    ind.credit({ 'normal:0-2': 'none' }, 0.9);
    ind.credit({ 'normal:0-2': 'a' }, 0.1);
    expect(ind.endRound().abandoned['normal:0-2']).toBe('none');
    expect(ind.remaining('normal:0-2')).toEqual(['a']);
  });

  it('breaks ties towards the operation listed first', () => {
    const ind = new CpIndicator(['normal:0-2'], ['a', 'b', 'c']);
    for (const op of ['a', 'b', 'c']) ind.credit({ 'normal:0-2': op }, 0.5);
    expect(ind.endRound().abandoned['normal:0-2']).toBe('a');
  });

  it('refuses credits for unknown or abandoned operations and rounds with unmeasured ones', () => {
    const ind = new CpIndicator(['normal:0-2'], ['a', 'b']);
    expect(() => ind.credit({ 'normal:9-9': 'a' }, 1)).toThrow(/unknown edge "normal:9-9"/);
    expect(() => ind.credit({ 'normal:0-2': 'zzz' }, 1)).toThrow(/"zzz" is not on edge normal:0-2/);
    ind.credit({ 'normal:0-2': 'a' }, 1);
    expect(() => ind.endRound()).toThrow(/"b" of edge normal:0-2 was never measured/);
  });

  it('round-trips its state through JSON', () => {
    const ind = new CpIndicator(['normal:0-2', 'normal:1-2'], ['x', 'y']);
    ind.credit({ 'normal:0-2': 'x', 'normal:1-2': 'y' }, 0.25);
    const copy = CpIndicator.fromState(JSON.parse(JSON.stringify(ind.state())));
    copy.credit({ 'normal:0-2': 'y', 'normal:1-2': 'x' }, 0.75);
    ind.credit({ 'normal:0-2': 'y', 'normal:1-2': 'x' }, 0.75);
    expect(copy.endRound()).toEqual(ind.endRound());
  });
});

describe('sampling without replacement', () => {
  it('gives every operation of every edge exactly one architecture per repetition', () => {
    const remaining = { e1: ['a', 'b', 'c', 'd'], e2: ['a', 'b', 'c', 'd'], e3: ['p', 'q', 'r', 's'] };
    const orders = drawOrders(remaining, new Random(7));
    for (const edge of Object.keys(remaining)) {
      const seen = [0, 1, 2, 3].map((e) => architectureAt(orders, e)[edge]);
      expect([...seen].sort()).toEqual([...remaining[edge as keyof typeof remaining]].sort());
    }
  });
  it('is reproducible from the generator state', () => {
    const remaining = { e1: ['a', 'b', 'c'], e2: ['a', 'b', 'c'] };
    expect(drawOrders(remaining, new Random(3))).toEqual(drawOrders(remaining, new Random(3)));
  });
});
