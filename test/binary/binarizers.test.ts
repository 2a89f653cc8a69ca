import { describe, expect, it } from 'vitest';
import { Tensor, noGrad } from '../../core/index.js';
import { approxSign, getBinarizer, listBinarizers, registerBinarizer, scaledSign, steSign } from '../../binary/binarizers.js';

/** Values on both sides of every kink of the estimators (0, ±1), including the kinks themselves. */
const probe = [-2, -1.0001, -1, -0.75, -0.5, -0.25, -0, 0, 0.25, 0.5, 0.9999, 1, 1.5, 3];

/** Gradient of sum(f(x) * g) with respect to x, for a fixed upstream gradient g. */
function gradOf(f: (x: Tensor) => Tensor, xs: number[], g: number[], shape = [xs.length]): number[] {
  const x = Tensor.from(Float32Array.from(xs), shape, true);
  f(x).backward(Float32Array.from(g));
  return x.grad!.toArray();
}

describe('activation binarizers', () => {
  const g = probe.map((_, i) => 0.5 + i); // a non-constant upstream gradient

  it('forward sign(x) with sign(0) = sign(-0) = +1', () => {
    for (const f of [steSign, approxSign]) {
      expect(f(Tensor.from(probe)).toArray()).toEqual(probe.map((v) => (v >= 0 ? 1 : -1)));
    }
  });

  it('ste: gradient is the clipped identity, 1 where |x| <= 1', () => {
    const want = probe.map((v, i) => (Math.abs(v) <= 1 ? g[i] : 0));
    expect(gradOf(steSign, probe, g)).toEqual(want);
  });

  it('approx: gradient is 2 - 2|x| where |x| < 1, else 0 (Bi-Real)', () => {
    const got = gradOf(approxSign, probe, g);
    probe.forEach((v, i) => {
      const want = Math.abs(v) < 1 ? g[i] * (2 - 2 * Math.abs(Math.fround(v))) : 0;
      expect(got[i]).toBeCloseTo(want, 5);
    });
    expect(got[probe.indexOf(1)]).toBe(0);
    expect(got[probe.indexOf(0)]).toBe(2 * g[probe.indexOf(0)]);
  });

  it('records nothing under noGrad', () => {
    const x = Tensor.from([0.5, -0.5], [2], true);
    expect(noGrad(() => approxSign(x)).requiresGrad).toBe(false);
  });
});

describe('weight binarizer (scaled)', () => {
  // two filters of 2x1x2: alpha_0 = mean(|.|) = 0.5, alpha_1 = 1.5; the 0 binarizes to +alpha
  const w0 = [0.2, -0.8, 0, -1, 3, -1, 1.5, -0.5];

  it('forward alpha_k * sign(w) with alpha_k = mean(|w_k|) per output filter', () => {
    const w = Tensor.from(Float32Array.from(w0), [2, 2, 1, 2]);
    expect(scaledSign(w).toArray()).toEqual([0.5, -0.5, 0.5, -0.5, 1.5, -1.5, 1.5, -1.5]);
  });

  it('gradient goes straight through, clipped where |w| > 1', () => {
    const g = [1, 2, 3, 4, 5, 6, 7, 8];
    const got = gradOf(scaledSign, w0, g, [2, 2, 1, 2]);
    expect(got).toEqual(w0.map((v, i) => (Math.abs(v) <= 1 ? g[i] : 0)));
  });
});

describe('binarizer registry', () => {
  it('holds the built-in names and finds them', () => {
    expect(listBinarizers()).toEqual(expect.arrayContaining(['ste', 'approx', 'scaled', 'sign']));
    expect(getBinarizer('ste')).toBe(steSign);
  });

  it('takes a new binarizer in one call', () => {
    registerBinarizer('test-double', (x) => x);
    const x = Tensor.from([1, 2]);
    expect(getBinarizer('test-double')(x)).toBe(x);
  });

  it('names the known binarizers when a name is unknown', () => {
    expect(() => getBinarizer('nope')).toThrow(/unknown binarizer "nope" \(known: ste, approx, scaled, sign/);
  });
});
