import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CpnasError, Random } from '../../core/index.js';
import {
  ImageDataset, centerCrop, computeNormalization, identityNormalization, resizeArea, searchSplit, type Dataset, type SampleShape,
} from '../../data/index.js';

/** n samples of shape; pixel value depends on sample, channel and position; label = i % classes. */
function makeDataset(n: number, shape: SampleShape = [2, 5, 6], classes = 3, normalized = false): ImageDataset {
  const [c, h, w] = shape;
  const pixels = Uint8Array.from({ length: n * c * h * w }, (_, k) => (k * 31 + (k >> 3)) & 255);
  const labels = Int32Array.from({ length: n }, (_, i) => i % classes);
  const normalization = normalized ? computeNormalization(pixels, shape) : identityNormalization(c);
  return new ImageDataset({
    name: 'test', split: 'train', shape, classNames: Array.from({ length: classes }, (_, k) => `c${k}`), pixels, labels, normalization,
    augmentation: { cropPadding: 1, flip: true, cutout: 0 },
  });
}

function collect(ds: Dataset, batchSize: number, opts: Parameters<Dataset['batches']>[1]): { indices: number[][]; x: number[][]; y: number[][] } {
  const out = { indices: [] as number[][], x: [] as number[][], y: [] as number[][] };
  for (const b of ds.batches(batchSize, opts)) {
    out.indices.push(Array.from(b.indices));
    out.x.push(Array.from(b.x.data));
    out.y.push(Array.from(b.y));
  }
  return out;
}

describe('Dataset', () => {
  it('holds raw bytes and hands out normalized values through one table per channel', () => {
    const ds = makeDataset(4, [2, 5, 6], 3, true);
    const { mean, std } = ds.normalization;
    const img = ds.image(3);
    const raw = ds.rawImage(3);
    for (let k = 0; k < raw.length; k++) {
      const ch = k < 30 ? 0 : 1;
      expect(img[k]).toBeCloseTo((raw[k] / 255 - mean[ch]) / std[ch], 5);
    }
    expect(ds.images.subarray(3 * 60, 4 * 60)).toEqual(img);
    // normalized with its own statistics, every channel has mean 0 and std 1
    for (let ch = 0; ch < 2; ch++) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < 4; i++) for (let p = 0; p < 30; p++) {
        const v = ds.images[i * 60 + ch * 30 + p];
        s += v;
        s2 += v * v;
      }
      expect(s / 120).toBeCloseTo(0, 5);
      expect(Math.sqrt(s2 / 120)).toBeCloseTo(1, 4);
    }
  });

  it('computeNormalization matches a direct computation', () => {
    const shape: SampleShape = [3, 4, 4];
    const pixels = Uint8Array.from({ length: 5 * 48 }, (_, k) => (k * k * 7 + 11) & 255);
    const { mean, std } = computeNormalization(pixels, shape);
    for (let ch = 0; ch < 3; ch++) {
      const vals: number[] = [];
      for (let i = 0; i < 5; i++) for (let p = 0; p < 16; p++) vals.push(pixels[i * 48 + ch * 16 + p] / 255);
      const m = vals.reduce((a, b) => a + b, 0) / vals.length;
      const sd = Math.sqrt(vals.reduce((a, b) => a + (b - m) ** 2, 0) / vals.length);
      expect(mean[ch]).toBeCloseTo(m, 12);
      expect(std[ch]).toBeCloseTo(sd, 12);
    }
    expect(computeNormalization(new Uint8Array(16).fill(9), [1, 4, 4]).std).toEqual([1]);
  });

  it('batches in order: x, y and indices agree with the samples; the last batch is short unless dropped', () => {
    const ds = makeDataset(10);
    const batches = [...ds.batches(4)];
    expect(batches.map((b) => b.x.shape)).toEqual([[4, 2, 5, 6], [4, 2, 5, 6], [2, 2, 5, 6]]);
    expect(batches.map((b) => Array.from(b.indices))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(ds.numBatches(4)).toBe(3);
    expect(ds.numBatches(4, true)).toBe(2);
    expect([...ds.batches(4, { dropLast: true })]).toHaveLength(2);
    const fresh = [...ds.batches(4, { reuse: false })];
    expect(Array.from(fresh[1].x.data.subarray(60, 120))).toEqual(Array.from(ds.image(5)));
    expect(Array.from(fresh[2].y)).toEqual([8 % 3, 9 % 3]);
    expect(fresh[0].x.data.buffer).not.toBe(fresh[1].x.data.buffer);
    // by default one buffer serves the whole pass
    expect(batches[0].x.data.buffer).toBe(batches[2].x.data.buffer);
  });

  it('shuffling is deterministic for a seed, new on every pass, and covers every sample once (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 12 }), fc.integer(), (n, bs, seed) => {
      const ds = makeDataset(n, [1, 2, 2]);
      const a = collect(ds, bs, { shuffle: true, seed, reuse: false });
      const b = collect(ds, bs, { shuffle: true, seed, reuse: false });
      expect(a).toEqual(b);
      const seen = a.indices.flat().sort((p, q) => p - q);
      expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
      a.indices.forEach((idx, k) => expect(a.y[k]).toEqual(idx.map((i) => ds.labels[i])));
    }), { numRuns: 60 });
    const ds = makeDataset(50, [1, 2, 2]);
    const rng = new Random(3);
    const epochs = ds.batches(50, { shuffle: true, rng });
    const [e1] = [...epochs];
    const first = Array.from(e1.indices);
    const [e2] = [...epochs];
    expect(Array.from(e2.indices)).not.toEqual(first);
    expect(collect(ds, 50, { shuffle: true, seed: 1 }).indices).not.toEqual(collect(ds, 50, { shuffle: true, seed: 2 }).indices);
  });

  it('augmentation keeps shapes, is seeded, and is a crop of the zero-padded image, maybe mirrored', () => {
    const ds = makeDataset(6, [2, 5, 6]);
    const a = collect(ds, 4, { augment: true, seed: 9, reuse: false });
    const b = collect(ds, 4, { augment: true, seed: 9, reuse: false });
    expect(a).toEqual(b);
    expect(a.x.map((x) => x.length)).toEqual([4 * 60, 2 * 60]);
    expect(collect(ds, 6, { augment: true, seed: 10 }).x.flat()).not.toEqual(a.x.flat());
    // every augmented sample equals one of the (2p+1)^2 * 2 shifted/mirrored versions of its source
    const [c, h, w] = ds.shape;
    for (const batch of ds.batches(6, { augment: { cropPadding: 1, flip: true }, seed: 4 })) {
      for (let k = 0; k < 6; k++) {
        const src = ds.image(k);
        const got = Array.from(batch.x.data.subarray(k * 60, (k + 1) * 60));
        const candidates: number[][] = [];
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) for (const flip of [false, true]) {
          const out: number[] = [];
          for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
            const sy = y + dy;
            const sx = (flip ? w - 1 - x : x) + dx;
            out.push(sy >= 0 && sy < h && sx >= 0 && sx < w ? src[ch * h * w + sy * w + sx] : 0);
          }
          candidates.push(out);
        }
        expect(candidates.some((cand) => cand.every((v, i) => Math.abs(v - got[i]) < 1e-6))).toBe(true);
      }
    }
  });

  it('cutout zeroes one clipped square in every channel; flip alone mirrors or keeps', () => {
    const shape: SampleShape = [3, 8, 8];
    const pixels = new Uint8Array(20 * 192).fill(200);
    const ds = new ImageDataset({
      name: 't', split: 'train', shape, classNames: ['a'], pixels, labels: new Int32Array(20), normalization: identityNormalization(3),
    });
    for (const b of ds.batches(20, { augment: { cutout: 4 }, seed: 1 })) {
      for (let k = 0; k < 20; k++) {
        const zeros = [0, 1, 2].map((ch) => Array.from(b.x.data.subarray(k * 192 + ch * 64, k * 192 + (ch + 1) * 64)).filter((v) => v === 0).length);
        expect(zeros[0]).toBe(zeros[1]);
        expect(zeros[0]).toBe(zeros[2]);
        expect([4, 6, 8, 9, 12, 16]).toContain(zeros[0]); // a 4x4 square, clipped to 2 or 3 rows/cols at borders
      }
    }
    const ramp = new ImageDataset({
      name: 't', split: 'train', shape: [1, 1, 4], classNames: ['a'], pixels: Uint8Array.of(0, 51, 102, 153),
      labels: new Int32Array(1), normalization: identityNormalization(1),
    });
    const seen = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      for (const b of ramp.batches(1, { augment: { flip: true }, seed })) seen.add(Array.from(b.x.data, (v) => Math.round(v * 255)).join(','));
    }
    expect([...seen].sort()).toEqual(['0,51,102,153', '153,102,51,0']);
  });

  it('take, subset and the DARTS search split', () => {
    const ds = makeDataset(11);
    const first = ds.take(4);
    expect(first.length).toBe(4);
    expect(first.rawImage(3)).toEqual(ds.rawImage(3));
    const sub = ds.subset([7, 2]);
    expect(Array.from(sub.labels)).toEqual([ds.labels[7], ds.labels[2]]);
    expect(sub.rawImage(0)).toEqual(ds.rawImage(7));
    const { searchTrain, searchVal } = searchSplit(ds, 5);
    expect(searchTrain.length).toBe(5);
    expect(searchVal.length).toBe(6);
    expect(searchTrain.split).toBe('search-train');
    expect(searchVal.normalization).toBe(ds.normalization);
    expect(() => ds.rawImage(11)).toThrow(CpnasError);
  });

  it('search halves are disjoint, cover the train set and depend only on the seed (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 60 }), fc.integer(), (n, seed) => {
      // give each sample a unique first byte pattern so halves can be matched back to the source
      const ds = new ImageDataset({
        name: 't', split: 'train', shape: [1, 1, 2], classNames: ['a', 'b'],
        pixels: Uint8Array.from({ length: 2 * n }, (_, k) => (k % 2 === 0 ? (k >> 1) & 255 : (k >> 9) & 255)),
        labels: Int32Array.from({ length: n }, (_, i) => i % 2), normalization: identityNormalization(1),
      });
      const ids = (d: Dataset) => Array.from({ length: d.length }, (_, i) => d.rawImage(i)[0] + 256 * d.rawImage(i)[1]);
      const a = searchSplit(ds, seed);
      const b = searchSplit(ds, new Random(seed));
      expect(ids(a.searchTrain)).toEqual(ids(b.searchTrain));
      const all = [...ids(a.searchTrain), ...ids(a.searchVal)].sort((p, q) => p - q);
      expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(a.searchTrain.length).toBe(Math.floor(n / 2));
    }), { numRuns: 40 });
  });

  it('bad arguments raise CpnasErrors that say what is wrong', () => {
    const ds = makeDataset(3);
    expect(() => ds.batches(0)).toThrow(/batches\(0\): the batch size must be a whole number >= 1/);
    expect(() => ds.batches(2, { augment: { cropPadding: 9 } })).toThrow(/augment: cropPadding must be a whole number in 0\.\.6 for 5x6 images, got 9/);
    expect(() => new ImageDataset({
      name: 'x', split: 'train', shape: [1, 2, 2], classNames: ['a'], pixels: new Uint8Array(7), labels: new Int32Array(2),
      normalization: identityNormalization(1),
    })).toThrow('x (train): 7 pixel bytes do not make 2 samples of shape [1,2,2] (8 bytes)');
  });
});

describe('image size', () => {
  it('area averaging by an integer factor is the block mean; a constant image stays constant', () => {
    const shape: SampleShape = [1, 4, 4];
    const px = Uint8Array.from({ length: 16 }, (_, k) => k * 10);
    expect(Array.from(resizeArea(px, shape, 2, 2))).toEqual([25, 45, 105, 125]);
    const flat = new Uint8Array(2 * 3 * 28 * 28).fill(77);
    expect(resizeArea(flat, [3, 28, 28], 16, 16).every((v) => v === 77)).toBe(true);
  });

  it('28 -> 16 keeps the mean (each source pixel counted once in total)', () => {
    const px = Uint8Array.from({ length: 28 * 28 }, (_, k) => (k * 37) % 256);
    const out = resizeArea(px, [1, 28, 28], 16, 16);
    const mean = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean(out) - mean(px))).toBeLessThan(0.5);
  });

  it('center crop takes the middle', () => {
    const px = Uint8Array.from({ length: 2 * 5 * 5 }, (_, k) => k);
    expect(Array.from(centerCrop(px, [2, 5, 5], 3).subarray(0, 9))).toEqual([6, 7, 8, 11, 12, 13, 16, 17, 18]);
    expect(() => centerCrop(px, [2, 5, 5], 6)).toThrow(/crop size 6 must be a whole number in 1\.\.5 for 5x5 images/);
  });
});
