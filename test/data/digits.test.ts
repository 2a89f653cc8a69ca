import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Random } from '../../core/index.js';
import { DIGITS_SPLIT, DIGITS_SPLIT_SEED, loadDataset, searchSplit } from '../../data/index.js';
import { mnistPackageFolder } from '../../data/digits.js';

describe('digits (the mnist package, offline)', () => {
  const data = loadDataset('digits');

  it('has 10 classes, 28x28 gray images and the documented 7,000 / 1,000 / 2,000 split', () => {
    expect(DIGITS_SPLIT).toEqual({ train: 7000, val: 1000, test: 2000 });
    expect(data.info.sizes).toEqual(DIGITS_SPLIT);
    expect(data.info.shape).toEqual([1, 28, 28]);
    expect(data.train.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    for (const split of [data.train, data.val, data.test]) {
      const counts = Array.from(split.classCounts());
      const share = split.length / 10;
      // a random split keeps every class near a tenth
      for (const c of counts) expect(Math.abs(c - share)).toBeLessThan(share * 0.35);
    }
    expect(data.info.normalization.mean[0]).toBeGreaterThan(0.1);
    expect(data.info.normalization.mean[0]).toBeLessThan(0.16);
  });

  it('holds exactly the package digits, at the positions the fixed split puts them', () => {
    const folder = mnistPackageFolder();
    const perClass = Array.from({ length: 10 }, (_, d) => JSON.parse(readFileSync(join(folder, `${d}.json`), 'utf8')).data as number[]);
    const offsets = [0];
    for (const a of perClass) offsets.push(offsets[offsets.length - 1] + a.length / 784);
    expect(offsets[10]).toBe(10000);
    const order = new Random(DIGITS_SPLIT_SEED).permutation(10000);
    const check = (ds: typeof data.train, i: number, global: number) => {
      const cls = offsets.findIndex((o, k) => global >= o && global < offsets[k + 1]);
      const within = global - offsets[cls];
      expect(ds.labels[i]).toBe(cls);
      const expected = perClass[cls].slice(within * 784, (within + 1) * 784).map((v) => Math.round(v * 255));
      expect(Array.from(ds.rawImage(i))).toEqual(expected);
    };
    check(data.train, 0, order[0]);
    check(data.train, 6999, order[6999]);
    check(data.val, 0, order[7000]);
    check(data.test, 1999, order[9999]);
  });

  it('is the same on every load, whatever the seed; shrinks and limits on request', () => {
    const again = loadDataset('digits', { seed: 123 });
    expect(again.train.labels).toEqual(data.train.labels);
    const small = loadDataset('digits', { imageSize: 16, limit: { train: 100, val: 10, test: 20 } });
    expect(small.info.shape).toEqual([1, 16, 16]);
    expect(small.info.originalShape).toEqual([1, 28, 28]);
    expect(small.info.sizes).toEqual({ train: 100, val: 10, test: 20 });
    expect(Array.from(small.train.labels)).toEqual(Array.from(data.train.labels.subarray(0, 100)));
    const cropped = loadDataset('digits', { crop: 20, imageSize: 10, limit: 5 });
    expect(cropped.train.shape).toEqual([1, 10, 10]);
    expect(cropped.info.sizes).toEqual({ train: 5, val: 5, test: 5 });
    const [batch] = small.train.batches(32, { augment: true, shuffle: true, seed: 1 });
    expect(batch.x.shape).toEqual([32, 1, 16, 16]);
    const { searchTrain, searchVal } = searchSplit(small.train, 0);
    expect(searchTrain.length + searchVal.length).toBe(100);
  });
});
