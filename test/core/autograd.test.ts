import { describe, expect, it } from 'vitest';
import { Tensor, noGrad } from '../../core/index.js';
import { add, mul, sub, div } from '../../ops/arithmetic.js';

describe('autograd', () => {
  it('accumulates gradients through a shared input (d/dx of x*x + x = 2x + 1)', () => {
    const x = Tensor.of([1, -2, 3], true);
    const y = add(mul(x, x), x);
    y.backward(Float32Array.of(1, 1, 1));
    expect(x.grad!.toArray()).toEqual([3, -3, 7]);
  });

  it('broadcasts and sums gradients back to the input shape', () => {
    const a = Tensor.of([[1, 2, 3], [4, 5, 6]], true);
    const b = Tensor.of([10, 20, 30], true);
    const y = div(sub(a, b), 2);
    y.backward(new Float32Array(6).fill(1));
    expect(a.grad!.toArray()).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(b.grad!.toArray()).toEqual([-1, -1, -1]);
  });

  it('records nothing under noGrad', () => {
    const x = Tensor.of([1, 2], true);
    const y = noGrad(() => mul(x, 3));
    expect(y.requiresGrad).toBe(false);
    expect(() => y.backward()).toThrow(/does not require gradients/);
  });
});
