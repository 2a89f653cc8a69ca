import { describe, expect, it } from 'vitest';
import { Tensor } from '../../core/index.js';
import { architectStep } from '../../nas/architect.js';
import { mul, sub } from '../../ops/arithmetic.js';
import { SGD } from '../../ops/optim/sgd.js';
import { sum } from '../../ops/reduce.js';

/**
 * L_train(w, a) = sum((w - a)^2) / 2 and L_val(w, a) = sum(w^2 * a). One virtual step
 * w' = w - xi (w - a) = (1 - xi) w + xi a, so the exact gradient of L_val(w'(a), a) is
 * w'^2 + xi * 2 w' a, which the DARTS formula gives exactly for these quadratics.
 */
function setup(secondOrder: boolean) {
  const w = Tensor.from(Float32Array.of(0.5, -1, 2), [3], true);
  const a = Tensor.from(Float32Array.of(0.3, 0.7, -0.2), [3], true);
  const trainX = Tensor.zeros([1]), valX = Tensor.zeros([1]);
  const loss = (x: Tensor) => {
    if (x === trainX) {
      const d = sub(w, a);
      return mul(sum(mul(d, d)), 0.5);
    }
    return sum(mul(mul(w, w), a));
  };
  const opt = new SGD([a], { lr: 1 });
  return { w, a, trainX, valX, loss, opt, secondOrder };
}

describe('architectStep', () => {
  it('first order: the gradient of L_val at the current weights', () => {
    const s = setup(false);
    const before = s.a.data.slice();
    architectStep({ loss: s.loss, weights: [s.w], alphas: [s.a], optimizer: s.opt, secondOrder: false, weightDecay: 0 },
      { x: s.trainX, y: new Int32Array(1) }, { x: s.valX, y: new Int32Array(1) }, 0.1);
    const grad = Array.from(before, (v, i) => v - s.a.data[i]);
    [0.25, 1, 4].forEach((g, i) => expect(grad[i]).toBeCloseTo(g, 5)); // w^2
    expect(Array.from(s.w.data)).toEqual([0.5, -1, 2]);
  });

  it('second order: matches the exact unrolled gradient and restores the weights', () => {
    const s = setup(true);
    const xi = 0.1;
    const before = s.a.data.slice(), w0 = s.w.data.slice();
    architectStep({ loss: s.loss, weights: [s.w], alphas: [s.a], optimizer: s.opt, secondOrder: true, weightDecay: 0 },
      { x: s.trainX, y: new Int32Array(1) }, { x: s.valX, y: new Int32Array(1) }, xi);
    const grad = Array.from(before, (v, i) => v - s.a.data[i]);
    for (let i = 0; i < 3; i++) {
      const wp = (1 - xi) * w0[i] + xi * before[i];
      expect(grad[i]).toBeCloseTo(wp * wp + xi * 2 * wp * before[i], 3);
    }
    expect(Array.from(s.w.data)).toEqual(Array.from(w0));
  });
});
