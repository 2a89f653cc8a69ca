import { describe, expect, it } from 'vitest';
import { CpnasError, Random, Tensor, check, shapeStr } from '../../core/index.js';
import { mul } from '../../ops/arithmetic.js';

describe('Tensor', () => {
  it('constructors set shape, size and values', () => {
    expect(Tensor.zeros([2, 3]).toArray()).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Tensor.ones([2]).toArray()).toEqual([1, 1]);
    expect(Tensor.full([2, 2], 7).toArray()).toEqual([7, 7, 7, 7]);
    const s = Tensor.scalar(3);
    expect(s.shape).toEqual([]);
    expect(s.rank).toBe(0);
    expect(s.item()).toBe(3);
    const t = Tensor.of([[1, 2, 3], [4, 5, 6]], true);
    expect(t.shape).toEqual([2, 3]);
    expect(t.size).toBe(6);
    expect(t.requiresGrad).toBe(true);
    expect(t.toArray()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Tensor.of(5).shape).toEqual([]);
    expect(String(t)).toBe('Tensor[2,3] (requiresGrad)');
  });

  it('from wraps a Float32Array without copying, and copies plain arrays', () => {
    const d = Float32Array.of(1, 2, 3, 4);
    const t = Tensor.from(d, [2, 2]);
    expect(t.data).toBe(d);
    expect(Tensor.from([1, 2, 3]).shape).toEqual([3]);
    expect(Object.isFrozen(t.shape)).toBe(true);
  });

  it('rejects data that does not fit the shape, and invalid shapes', () => {
    expect(() => Tensor.from(Float32Array.of(1, 2, 3), [2, 2])).toThrow(/^Tensor: data has 3 values but shape \[2,2\] needs 4/);
    expect(() => Tensor.zeros([2, -1])).toThrow(/^Tensor: invalid shape \[2,-1\]/);
    expect(() => Tensor.zeros([1.5])).toThrow(CpnasError);
    expect(() => Tensor.zeros([2]).item()).toThrow(/^item: tensor of shape \[2\] has 2 values, not 1/);
  });

  it('randn and rand draw from the given generator', () => {
    const a = Tensor.randn([100], 2, new Random(1));
    const b = Tensor.randn([100], 2, new Random(1));
    expect(a.toArray()).toEqual(b.toArray());
    const u = Tensor.rand([1000], -1, 3, new Random(2));
    expect(u.toArray().every((v) => v >= -1 && v <= 3)).toBe(true);
    const m = u.toArray().reduce((x, y) => x + y, 0) / 1000;
    expect(m).toBeCloseTo(1, 0);
    expect(Tensor.randn([3], 1, new Random(3), true).requiresGrad).toBe(true);
  });

  it('detach shares values, clone copies them; both leave the graph', () => {
    const x = Tensor.of([1, 2], true);
    const y = mul(x, 2);
    const d = y.detach(), c = y.clone();
    expect(d.data).toBe(y.data);
    expect(c.data).not.toBe(y.data);
    expect(c.toArray()).toEqual([2, 4]);
    expect(d.requiresGrad || c.requiresGrad).toBe(false);
    expect(d.node).toBeNull();
  });

  it('backward needs a gradient for non-scalar outputs; zeroGrad clears; markChanged bumps version', () => {
    const x = Tensor.of([1, 2], true);
    const y = mul(x, x);
    expect(() => y.backward()).toThrow(/^backward: a gradient is needed for a non-scalar output of shape \[2\]/);
    expect(() => y.backward(Float32Array.of(1))).toThrow(/^backward: gradient has 1 values but the output \[2\] has 2/);
    y.backward(Tensor.of([1, 1]));
    expect(x.grad!.toArray()).toEqual([2, 4]);
    // a second backward accumulates
    mul(x, x).backward(Float32Array.of(1, 1));
    expect(x.grad!.toArray()).toEqual([4, 8]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    const v = x.version;
    x.markChanged();
    expect(x.version).toBe(v + 1);
  });
});

describe('errors', () => {
  it('CpnasError names where it happened; check throws only on failure', () => {
    const e = new CpnasError('conv2d', 'bad');
    expect(e.message).toBe('conv2d: bad');
    expect(e.where).toBe('conv2d');
    expect(e.name).toBe('CpnasError');
    expect(shapeStr([8, 3, 32, 32])).toBe('[8,3,32,32]');
    expect(() => check(true, 'x', () => 'never')).not.toThrow();
    expect(() => check(0, 'op', () => 'why')).toThrow(/^op: why$/);
  });
});
