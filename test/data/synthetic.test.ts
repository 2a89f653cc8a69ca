import { describe, expect, it } from 'vitest';
import { loadDataset, makeSynthetic } from '../../data/index.js';
import { gratingOf } from '../../data/synthetic.js';

describe('synthetic gratings', () => {
  it('is deterministic for a seed and different for another', () => {
    const a = makeSynthetic({ seed: 3, train: 50, val: 10, test: 10 });
    const b = makeSynthetic({ seed: 3, train: 50, val: 10, test: 10 });
    const c = makeSynthetic({ seed: 4, train: 50, val: 10, test: 10 });
    const same = (x: Uint8Array, y: Uint8Array) => Buffer.compare(x, y) === 0;
    expect(same(a.train.pixels, b.train.pixels)).toBe(true);
    expect(Array.from(a.test.labels)).toEqual(Array.from(b.test.labels));
    expect(same(a.train.pixels, c.train.pixels)).toBe(false);
    const viaLoad = loadDataset('synthetic', { seed: 3, synthetic: { train: 50, val: 10, test: 10 } });
    expect(same(viaLoad.train.pixels, a.train.pixels)).toBe(true);
  });

  it('honours size, channels, classes and counts, with balanced labels', () => {
    const d = loadDataset('synthetic', { synthetic: { size: 8, channels: 1, classes: 4, train: 41, val: 8, test: 12 } });
    expect(d.info.shape).toEqual([1, 8, 8]);
    expect(d.info.sizes).toEqual({ train: 41, val: 8, test: 12 });
    expect(d.train.classNames).toEqual(['class0', 'class1', 'class2', 'class3']);
    expect(Array.from(d.train.classCounts())).toEqual([11, 10, 10, 10]);
    expect(() => makeSynthetic({ classes: 0 })).toThrow(/synthetic: classes must be a whole number >= 1, got 0/);
  });

  it('classes are told apart by oriented frequency filters (what a small CNN learns)', () => {
    const classes = 10;
    const size = 16;
    const raw = makeSynthetic({ seed: 1, size, channels: 3, classes, train: 300, val: 0, test: 0 });
    let correct = 0;
    const plane = size * size;
    const centre = (size - 1) / 2;
    for (let i = 0; i < 300; i++) {
      let best = -1;
      let bestEnergy = -Infinity;
      for (let k = 0; k < classes; k++) {
        const { angle, period } = gratingOf(k, classes);
        const fx = (2 * Math.PI * Math.cos(angle)) / period;
        const fy = (2 * Math.PI * Math.sin(angle)) / period;
        let re = 0;
        let im = 0;
        for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
          const v = raw.train.pixels[i * 3 * plane + y * size + x] / 255 - 0.5;
          const t = fx * (x - centre) + fy * (y - centre);
          re += v * Math.cos(t);
          im += v * Math.sin(t);
        }
        const energy = re * re + im * im;
        if (energy > bestEnergy) {
          bestEnergy = energy;
          best = k;
        }
      }
      if (best === raw.train.labels[i]) correct++;
    }
    expect(correct / 300).toBeGreaterThan(0.9);
  });
});
