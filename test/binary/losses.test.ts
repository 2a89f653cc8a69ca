import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../core/index.js';
import { BinaryConv2d } from '../../binary/binary-conv.js';
import { CenterLoss, DEFAULT_CENTER_THETA, centerLoss } from '../../binary/center-loss.js';
import { DEFAULT_CP_LAMBDA, cpLoss } from '../../binary/cp-loss.js';
import { Conv2d } from '../../ops/layers.js';
import { gradCheck } from '../../ops/gradcheck.js';

describe('cpLoss', () => {
  const rng = new Random(11);
  const child = [new BinaryConv2d(3, 4, 3, { rng }), new BinaryConv2d(4, 2, 1, { rng })];
  const parent = [new Conv2d(3, 4, 3, { rng }), new Conv2d(4, 2, 1, { rng })];

  it('is (λ/2) Σ_l Σ_c MSE(H_c, Ĥ_c) with the Parent as a fixed target', () => {
    const loss = cpLoss(child, parent, { lambda: 0.3 });
    let want = 0;
    for (let l = 0; l < 2; l++) {
      const hat = child[l].reconstructedWeight().data, H = parent[l].weight.data;
      const K = child[l].weight.shape[0], per = hat.length / K;
      for (let c = 0; c < K; c++) {
        let s = 0;
        for (let i = c * per; i < (c + 1) * per; i++) s += (H[i] - hat[i]) ** 2;
        want += s / per;
      }
    }
    expect(loss.item()).toBeCloseTo((0.3 / 2) * want, 6);
    loss.backward();
    expect(parent[0].weight.grad).toBeNull();
    expect(child[0].weight.grad).not.toBeNull();
  });

  it('passes a finite-difference gradient check through Ĥ', () => {
    // the loss's own gradient, with respect to the reconstructed weights (sign has no useful finite difference)
    const H1 = Tensor.randn([4, 3, 3, 3], 0.2, rng), H2 = Tensor.randn([2, 4, 1, 1], 0.2, rng);
    const hat1 = Tensor.randn([4, 3, 3, 3], 0.2, rng, true), hat2 = Tensor.randn([2, 4, 1, 1], 0.2, rng, true);
    const rep = gradCheck((a, b) => cpLoss([{ reconstructedWeight: () => a }, { reconstructedWeight: () => b }], [{ weight: H1 }, { weight: H2 }], { lambda: 2 }), [hat1, hat2]);
    expect(rep.ok).toBe(true);
  });

  it('reaches the Child weights through the straight-through estimator', () => {
    const layer = new BinaryConv2d(2, 3, 3, { rng: new Random(3) });
    layer.weight.data[0] = 1.5; // outside the clip: no gradient there
    layer.weight.markChanged();
    const target = new Conv2d(2, 3, 3, { rng: new Random(4) });
    const lambda = 0.5;
    cpLoss([layer], [target], { lambda }).backward();
    const hat = layer.reconstructedWeight().data, H = target.weight.data, per = 18;
    const g = layer.weight.grad!.data;
    // d/dŵ of (λ/2) Σ_c mean_c (ŵ - H)² = λ (ŵ - H) / per, then the clipped identity
    for (let i = 0; i < g.length; i++) {
      const want = Math.abs(layer.weight.data[i]) <= 1 ? (lambda * (hat[i] - H[i])) / per : 0;
      expect(g[i]).toBeCloseTo(want, 7);
    }
    expect(g[0]).toBe(0);
  });

  it('names the layer whose shapes differ, and the counts when they differ', () => {
    expect(() => cpLoss(child, [parent[1], parent[0]])).toThrow(/cpLoss: layer 0: Child weight \[4,3,3,3\] and Parent weight \[2,4,1,1\] differ/);
    expect(() => cpLoss(child, [parent[0]])).toThrow(/Child has 2 conv layers but the Parent has 1/);
  });

  it('has a documented default λ', () => {
    const a = cpLoss(child, parent).item(), b = cpLoss(child, parent, { lambda: DEFAULT_CP_LAMBDA }).item();
    expect(a).toBe(b);
  });
});

describe('center loss', () => {
  const labels = [0, 2, 1, 2, 0];

  it('is (θ/2) Σ_s ||f_s - c_y||² / N and passes a gradient check', () => {
    const rng = new Random(5);
    const centers = Float32Array.from({ length: 3 * 4 }, () => rng.uniform(-1, 1));
    const f = Tensor.randn([5, 4], 1, rng, true);
    const loss = centerLoss(f, labels, centers, 3, { theta: 0.7 });
    let s = 0;
    for (let i = 0; i < 5; i++) for (let j = 0; j < 4; j++) s += (f.data[i * 4 + j] - centers[labels[i] * 4 + j]) ** 2;
    expect(loss.item()).toBeCloseTo((0.7 / 2) * (s / 5), 5);
    expect(centerLoss(f, labels, centers, 3, { theta: 0.7, reduction: 'sum' }).item()).toBeCloseTo((0.7 / 2) * s, 5);
    expect(gradCheck((t) => centerLoss(t, labels, centers, 3, { theta: 0.7 }), [f]).ok).toBe(true);
  });

  it('CenterLoss flattens [N, C, H, W] features and checks out in eval mode (frozen centers)', () => {
    const rng = new Random(6);
    const m = new CenterLoss(3, 2 * 2 * 2, { theta: 0.5 });
    m.centers.set(Float32Array.from({ length: 24 }, () => rng.uniform(-1, 1)));
    m.eval();
    const f = Tensor.randn([5, 2, 2, 2], 1, rng, true);
    const before = m.centers.slice();
    const rep = gradCheck((t) => m.forward(t, labels), [f]);
    expect(rep.ok).toBe(true);
    expect(Array.from(m.centers)).toEqual(Array.from(before));
  });

  it('moves the centers towards the class means in training mode (Wen et al. rule)', () => {
    const m = new CenterLoss(2, 1, { rate: 0.5 });
    m.centers.set([1, 5]);
    const f = Tensor.from([3, 5, 100], [3, 1]);
    m.forward(f, [0, 0, 1]);
    // class 0: n = 2, c -= 0.5 * ((1-3) + (1-5)) / 3 = +1  -> 2;  class 1: c -= 0.5 * (5-100) / 2 -> 28.75
    expect(Array.from(m.centers)).toEqual([2, 28.75]);
    const state = m.stateDict();
    expect(state.json.entries.map((e) => e.name)).toEqual(['centers']);
  });

  it('has documented defaults and readable errors', () => {
    const m = new CenterLoss(2, 3);
    expect(m.theta).toBe(DEFAULT_CENTER_THETA);
    expect(() => m.forward(Tensor.zeros([2, 4]), [0, 1])).toThrow(/features \[2,4\] have 4 values per sample, the centers 3/);
    expect(() => m.forward(Tensor.zeros([2, 3]), [0, 2])).toThrow(/label 2 of sample 1 is out of range for 2 classes/);
  });
});
