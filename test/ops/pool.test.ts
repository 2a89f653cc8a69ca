import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../core/index.js';
import { arbPoolSettings, arbTensor, type PoolSettings } from '../../ops/arbitraries.js';
import { formatGradCheck, gradCheck } from '../../ops/gradcheck.js';
import { avgPool2d, globalAvgPool2d, maxPool2d } from '../../ops/pool.js';

// Gradient tolerance: |analytic - numeric| <= 1e-3 + 1e-2 |numeric| (gradCheck defaults, eps 1e-3).
// Max-pool inputs are generated pairwise >= 0.01 apart, so no finite difference crosses a tie.

/** Naive pooling in float64: each window's cells inside the image. */
function reference(x: Tensor, s: PoolSettings, kind: 'max' | 'avg'): number[] {
  const out: number[] = [];
  for (let nc = 0; nc < s.N * s.C; nc++) {
    for (let p = 0; p < s.P; p++) {
      for (let q = 0; q < s.Q; q++) {
        const cells: number[] = [];
        for (let i = 0; i < s.kernel; i++) {
          for (let j = 0; j < s.kernel; j++) {
            const h = p * s.stride - s.padding + i, w = q * s.stride - s.padding + j;
            if (h >= 0 && h < s.H && w >= 0 && w < s.W) cells.push(x.data[(nc * s.H + h) * s.W + w]);
          }
        }
        out.push(kind === 'max' ? Math.max(...cells) : cells.reduce((a, b) => a + b, 0) / cells.length);
      }
    }
  }
  return out;
}

const arbCase = arbPoolSettings().chain((s) => fc.tuple(fc.constant(s), arbTensor([s.N, s.C, s.H, s.W], { min: -3, max: 3, minGap: 0.01 })));

describe('maxPool2d / avgPool2d', () => {
  it('forward matches a naive reference (average excludes padded cells)', () => {
    fc.assert(fc.property(arbCase, ([s, x]) => {
      const opts = { kernel: s.kernel, stride: s.stride, padding: s.padding };
      const m = maxPool2d(x, opts);
      expect(m.shape).toEqual([s.N, s.C, s.P, s.Q]);
      expect(m.toArray()).toEqual(reference(x, s, 'max'));
      const a = avgPool2d(x, opts);
      expect(a.shape).toEqual([s.N, s.C, s.P, s.Q]);
      reference(x, s, 'avg').forEach((v, i) => expect(a.data[i]).toBeCloseTo(v, 5));
    }), { numRuns: 60 });
  });

  it('gradients match central differences', () => {
    fc.assert(fc.property(arbCase, ([s, x]) => {
      const opts = { kernel: s.kernel, stride: s.stride, padding: s.padding };
      for (const f of [maxPool2d, avgPool2d]) {
        const rep = gradCheck((t) => f(t, opts), [x]);
        expect(rep.ok, `${f.name} ${JSON.stringify(s)}: ${formatGradCheck(rep, [x])}`).toBe(true);
      }
    }), { numRuns: 30 });
  });

  it('3x3 stride 1 padding 1 (the DARTS pools) keeps the size; the corner averages 4 cells', () => {
    const x = Tensor.from(Float32Array.from({ length: 9 }, (_, i) => i + 1), [1, 1, 3, 3]);
    const a = avgPool2d(x, { kernel: 3, stride: 1, padding: 1 });
    expect(a.shape).toEqual([1, 1, 3, 3]);
    expect(a.data[0]).toBeCloseTo((1 + 2 + 4 + 5) / 4, 6);
    expect(maxPool2d(x, { kernel: 3, stride: 1, padding: 1 }).toArray()).toEqual([5, 6, 6, 8, 9, 9, 8, 9, 9]);
    expect(maxPool2d(x, { kernel: 2 }).shape).toEqual([1, 1, 1, 1]); // stride defaults to the kernel
    expect(avgPool2d(Tensor.zeros([1, 1, 5, 4]), { kernel: [3, 1], stride: [1, 2] }).shape).toEqual([1, 1, 3, 2]);
  });

  it('rejects bad settings, naming the op and the shapes', () => {
    const x = Tensor.zeros([2, 3, 4, 4]);
    expect(() => maxPool2d(Tensor.zeros([3, 4, 4]), { kernel: 2 })).toThrow(/^maxPool2d: expects x of shape \[N,C,H,W\], got \[3,4,4\]/);
    expect(() => avgPool2d(x, { kernel: 2, padding: 2 })).toThrow(/^avgPool2d: padding 2x2 is more than half the kernel 2x2 \(x \[2,3,4,4\]\)/);
    expect(() => avgPool2d(x, { kernel: 5 })).toThrow(/^avgPool2d: input 4x4 is smaller than the kernel 5x5/);
    expect(() => maxPool2d(x, { kernel: 2, stride: 0 })).toThrow(/^maxPool2d: stride must be an integer >= 1/);
  });
});

describe('globalAvgPool2d', () => {
  it('averages each channel and spreads the gradient evenly', () => {
    fc.assert(fc.property(arbPoolSettings().chain((s) => arbTensor([s.N, s.C, s.H, s.W])), (x) => {
      const [N, C, H, W] = x.shape;
      const y = globalAvgPool2d(x);
      expect(y.shape).toEqual([N, C]);
      for (let nc = 0; nc < N * C; nc++) {
        let s = 0;
        for (let i = 0; i < H * W; i++) s += x.data[nc * H * W + i];
        expect(y.data[nc]).toBeCloseTo(s / (H * W), 5);
      }
      const rep = gradCheck(globalAvgPool2d, [x]);
      expect(rep.ok, formatGradCheck(rep, [x])).toBe(true);
    }), { numRuns: 25 });
    expect(() => globalAvgPool2d(Tensor.zeros([2, 3]))).toThrow(/^globalAvgPool2d: expects x of shape \[N,C,H,W\], got \[2,3\]/);
  });
});
