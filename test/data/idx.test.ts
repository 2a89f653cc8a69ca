import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CpnasError } from '../../core/index.js';
import { encodeIdx, FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, loadDataset, parseIdx, readIdxDataset } from '../../data/index.js';
import { idxBytes, tempDir, writeIdxSet } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CpnasError);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('IDX reader', () => {
  for (const gzip of [false, true]) {
    it(`reads ${gzip ? 'gzipped' : 'plain'} files back pixel for pixel (H != W, so no transposition hides)`, () => {
      const set = writeIdxSet(dir, { n: 12, m: 3, h: 5, w: 4, gzip });
      const raw = readIdxDataset('mnist', dir, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect(raw.shape).toEqual([1, 5, 4]);
      expect(Array.from(raw.train.pixels)).toEqual(Array.from(set.trainPixels));
      expect(Array.from(raw.train.labels)).toEqual(set.trainLabels);
      expect(Array.from(raw.test.pixels)).toEqual(Array.from(set.testPixels));
      expect(Array.from(raw.test.labels)).toEqual(set.testLabels);

      const data = loadDataset('mnist', { dataDir: dir, valCount: 2, normalization: 'none' });
      expect(data.info.sizes).toEqual({ train: 10, val: 2, test: 3 });
      // pixel (y=3, x=1) of val sample 1 = train file image 11
      expect(data.val.rawImage(1)[3 * 4 + 1]).toBe(set.trainPixels[11 * 20 + 13]);
      expect(data.val.image(1)[13]).toBeCloseTo(set.trainPixels[11 * 20 + 13] / 255, 6);
      expect(Array.from(data.val.labels)).toEqual(set.trainLabels.slice(10));
    });
  }

  it("the 'idx' set takes its classes from the labels", () => {
    writeIdxSet(dir, { n: 10, m: 2, h: 3, w: 3, classes: 4 });
    const data = loadDataset('idx', { dataDir: dir, valCount: 1 });
    expect(data.info.classNames).toEqual(['0', '1', '2', '3']);
  });

  it('a wrong magic number, an unsupported type, truncation and trailing bytes each have their own error', () => {
    const file = join(dir, 'f.idx');
    const good = idxBytes([3, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const bad = good.slice();
    bad[0] = 1;
    bad[1] = 2;
    expect(message(() => parseIdx(bad, file))).toBe(`idx: ${file}: bad magic number 0x01020803 at byte offset 0; an IDX file starts ` +
      'with two zero bytes, a type byte and the number of dimensions (0x00000803 for images, 0x00000801 for labels)');
    const float = good.slice();
    float[2] = 0x0d;
    expect(message(() => parseIdx(float, file))).toBe(`idx: ${file}: data type 0x0d (float) at byte offset 2 is not supported; only unsigned bytes (0x08) are read`);
    expect(message(() => parseIdx(good.subarray(0, 26), file))).toBe(`idx: ${file} is truncated: dimensions 3x2x2 need 28 bytes but the file has 26; ` +
      'it ends at byte offset 26, inside item 2 (which starts at byte offset 24)');
    expect(message(() => parseIdx(good.subarray(0, 10), file))).toBe(`idx: ${file} is truncated: the header of 3 dimensions needs 16 bytes but the file has 10`);
    expect(message(() => parseIdx(Uint8Array.from([...good, 0, 0]), file))).toBe(`idx: ${file} has 2 bytes past the end of the 3x2x2 data, ` +
      'from byte offset 28; are the dimensions in its header right?');
  });

  it('errors in a loaded set name the file; gzipped files count offsets in the decompressed data', () => {
    writeIdxSet(dir, { n: 6, m: 2, h: 4, w: 4, gzip: true });
    const file = join(dir, 'train-images-idx3-ubyte.gz');
    const plain = idxBytes([6, 4, 4], new Uint8Array(6 * 16));
    writeFileSync(file, gzipSync(plain.subarray(0, 100)));
    expect(message(() => loadDataset('mnist', { dataDir: dir }))).toBe(`mnist: ${file} is truncated: dimensions 6x4x4 need 112 bytes but ` +
      'the file has 100; it ends at byte offset 100, inside item 5 (which starts at byte offset 96) (offsets in the decompressed data)');
    const zipped = gzipSync(plain);
    writeFileSync(file, zipped.subarray(0, zipped.length - 12));
    expect(message(() => loadDataset('mnist', { dataDir: dir }))).toMatch(
      new RegExp(`^mnist: ${file.replace(/[.]/g, '\\.')} looks gzipped but cannot be decompressed \\(.*\\); is it truncated\\?$`));
  });

  it('labels out of range, and image / label counts that disagree', () => {
    writeIdxSet(dir, { n: 6, m: 2, h: 4, w: 4 });
    const labels = join(dir, 'train-labels-idx1-ubyte');
    writeFileSync(labels, idxBytes([6], [0, 1, 2, 3, 10, 5]));
    expect(message(() => loadDataset('mnist', { dataDir: dir }))).toBe(`mnist: ${labels}: label 4 (byte offset 12) is 10, outside 0..9`);
    writeFileSync(labels, idxBytes([5], [0, 1, 2, 3, 4]));
    expect(message(() => loadDataset('mnist', { dataDir: dir }))).toBe(
      `mnist: ${join(dir, 'train-images-idx3-ubyte')} has 6 images but ${labels} has 5 labels`);
    writeFileSync(labels, idxBytes([6, 1], [0, 1, 2, 3, 4, 5]));
    expect(message(() => loadDataset('mnist', { dataDir: dir }))).toBe(`mnist: ${labels} has 2 dimensions (6x1); labels need 1 (N)`);
  });

  it('a missing folder or file says which folder and which files it expected', () => {
    const missing = join(dir, 'absent');
    expect(message(() => loadDataset('fashion-mnist', { dataDir: missing }))).toBe(`fashion-mnist: data folder ${missing} does not exist; ` +
      'expected it to hold train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte ' +
      '(MNIST-style IDX files, plain or .gz)');
    writeIdxSet(dir, { n: 4, m: 2, h: 2, w: 2 });
    rmSync(join(dir, 't10k-labels-idx1-ubyte'));
    expect(message(() => loadDataset('mnist', { dataDir: dir }))).toBe(`mnist: data folder ${dir} is missing t10k-labels-idx1-ubyte or ` +
      't10k-labels-idx1-ubyte.gz or t10k-labels.idx1-ubyte or t10k-labels.idx1-ubyte.gz; expected train-images-idx3-ubyte, ' +
      'train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (MNIST-style IDX files, plain or .gz)');
    expect(message(() => loadDataset('mnist'))).toMatch(/^mnist: no data folder given: pass dataDir \(--data DIR\)/);
  });

  it('encode then parse is the identity (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }).chain((dims) => {
        const n = dims.reduce((a, b) => a * b, 1);
        return fc.tuple(fc.constant(dims), fc.uint8Array({ minLength: n, maxLength: n }));
      }),
      ([dims, data]) => {
        const parsed = parseIdx(encodeIdx(dims, data), 'p');
        expect(parsed.dims).toEqual(dims);
        expect(Array.from(parsed.data)).toEqual(Array.from(data));
        expect(Array.from(encodeIdx(dims, data))).toEqual(Array.from(idxBytes(dims, data)));
      },
    ), { numRuns: 50 });
  });
});

describe('fashion-mnist from the Debian package', () => {
  const installed = existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
  it.skipIf(!installed)(`reads ${FASHION_MNIST_DIR} by default`, () => {
    const data = loadDataset('fashion-mnist', { limit: { train: 10, val: 5, test: 5 } });
    expect(data.info.source).toBe(FASHION_MNIST_DIR);
    expect(data.info.shape).toEqual([1, 28, 28]);
    expect(data.info.classNames).toEqual(FASHION_MNIST_CLASSES);
    // the first training labels of Fashion-MNIST, as published
    expect(Array.from(data.train.labels)).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(data.info.sizes).toEqual({ train: 10, val: 5, test: 5 });
    expect(readFileSync(join(FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz')).length).toBeGreaterThan(0);
  });
});
