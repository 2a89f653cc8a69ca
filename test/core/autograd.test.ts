import { describe, expect, it } from 'vitest';
import { Tensor, allocFloat32, attach, backward, enableGrad, noGrad } from '../../core/index.js';
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

describe('autograd: consumed gradients handed back for reuse (core/alloc.ts)', () => {
  const n = 4096; // large enough for the cpu backend to keep

  /** x (leaf) -> op -> double -> sum: op's backward is `back`, given the gradient double produced. */
  function run(back: (g: Float32Array) => Float32Array): Tensor {
    const x = new Tensor(new Float32Array(n).fill(1), [n], true);
    const y = attach(new Tensor(x.data.slice(), [n]), 'test.op', [x], (g) => [back(g)]);
    const z = attach(new Tensor(y.data.map((v) => 2 * v), [n]), 'test.double', [y], (g) => {
      const d = allocFloat32(n);
      for (let i = 0; i < n; i++) d[i] = 2 * g[i];
      return [d];
    });
    enableGrad(() => backward(z, new Float32Array(n).fill(1)));
    return x;
  }

  it('never hands back an array the walk did not allocate (a forward tensor passed as a gradient)', () => {
    const forward = new Float32Array(n).fill(5);
    const x = run(() => forward);
    expect(x.grad?.data[0]).toBe(5);
    // were `forward` handed back, the next allocation of its size would zero it
    for (let i = 0; i < 4; i++) expect(allocFloat32(n).buffer).not.toBe(forward.buffer);
    expect(forward[0]).toBe(5);
  });

  it('never hands back a gradient that an op passed on as a view', () => {
    let seen: Float32Array | null = null;
    const x = run((g) => { seen = g; return g.subarray(0); });
    expect(x.grad?.data[0]).toBe(2);
    expect(seen).not.toBeNull();
    for (let i = 0; i < 4; i++) expect(allocFloat32(n).buffer).not.toBe((seen as unknown as Float32Array).buffer);
  });

  it('a sum it owned, handed back and given out again as a shared gradient, is not summed into in place', () => {
    // Order of the walk: u2, u1 (their gradients for T summed into a new array S, which the walk
    // owns), T (S consumed and handed back), z (S given out again as r, returned for both A and B),
    // w (a second gradient for A). Had S stayed "owned", w's gradient would be added into r in place,
    // and B, which shares r, would get A's sum.
    const ones = new Float32Array(n).fill(1);
    const node = (name: string, parents: Tensor[], back: (g: Float32Array) => (Float32Array | null)[]): Tensor =>
      attach(new Tensor(new Float32Array(n), [n]), name, parents, back);
    const times = (g: Float32Array, k: number): Float32Array => {
      const r = allocFloat32(n);
      for (let i = 0; i < n; i++) r[i] = k * g[i];
      return r;
    };
    const leaf = (): Tensor => new Tensor(new Float32Array(n), [n], true);
    const x0 = leaf(), A = leaf(), B = leaf();
    enableGrad(() => {
      const T = node('T', [x0], () => [null]);
      const u1 = node('u1', [T], (g) => [times(g, 1)]), u2 = node('u2', [T], (g) => [times(g, 2)]);
      const w = node('w', [B, A], (g) => [null, times(g, 3)]);
      const z = node('z', [A, B], (g) => { const r = times(g, 1); return [r, r]; });
      const root = node('root', [w, z, u1, u2], (g) => [times(g, 1), times(g, 1), times(g, 1), times(g, 1)]);
      backward(root, ones);
    });
    expect(A.grad?.data.every((v) => v === 4)).toBe(true);
    expect(B.grad?.data.every((v) => v === 1)).toBe(true);
  });

  it('hands back a consumed gradient that nothing shares, and gives it out again zero-filled', () => {
    let seen: Float32Array | null = null;
    const x = run((g) => { seen = g; const c = allocFloat32(n); c.set(g); return c; });
    expect(x.grad?.data[0]).toBe(2);
    const buffers = Array.from({ length: 4 }, () => allocFloat32(n));
    const again = buffers.find((a) => a.buffer === (seen as unknown as Float32Array).buffer);
    expect(again, 'the consumed gradient is handed out again').toBeDefined();
    expect(again?.every((v) => v === 0)).toBe(true);
  });
});
