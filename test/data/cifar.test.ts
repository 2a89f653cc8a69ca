import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CpnasError } from '../../core/index.js';
import { cifar10Format, cifar100Format, encodeCifarRecords, parseCifarRecords } from '../../data/cifar.js';
import { CIFAR10_CLASSES, loadDataset, readCifar10, readCifar100 } from '../../data/index.js';
import { cifarRecord, concat, knownPixel, tempDir, writeCifar10 } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

function errorOf(fn: () => unknown): CpnasError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CpnasError);
    return e as CpnasError;
  }
  throw new Error('expected an error');
}

describe('CIFAR-10 binary reader', () => {
  it('reads every pixel (R, G, B planes, row-major) and label back exactly', () => {
    const expected = writeCifar10(dir, 3, 4);
    const raw = readCifar10(dir);
    expect(raw.shape).toEqual([3, 32, 32]);
    expect(raw.classNames).toEqual(CIFAR10_CLASSES);
    expect(Array.from(raw.train.labels)).toEqual(expected.train);
    expect(Array.from(raw.test.labels)).toEqual(expected.test);
    for (let s = 0; s < 15; s++) {
      const [f, r] = [Math.floor(s / 3), s % 3];
      for (let ch = 0; ch < 3; ch++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
        const got = raw.train.pixels[s * 3072 + ch * 1024 + y * 32 + x];
        if (got !== knownPixel(f, r, ch, y, x)) throw new Error(`sample ${s} c${ch} (${y},${x}): ${got}`);
      }
    }
    expect(raw.test.pixels[3 * 3072 + 2 * 1024 + 31 * 32 + 5]).toBe(knownPixel(5, 3, 2, 31, 5));
  });

  it('loadDataset: val is the end of the training files; raw and normalized access agree', () => {
    const expected = writeCifar10(dir, 3, 4);
    const data = loadDataset('cifar10', { dataDir: dir, valCount: 2 });
    expect(data.info.sizes).toEqual({ train: 13, val: 2, test: 4 });
    expect(Array.from(data.train.labels)).toEqual(expected.train.slice(0, 13));
    expect(Array.from(data.val.labels)).toEqual(expected.train.slice(13));
    // val sample 1 is record 2 of data_batch_5.bin
    const raw = data.val.rawImage(1);
    expect(raw[1 * 1024 + 4 * 32 + 9]).toBe(knownPixel(4, 2, 1, 4, 9));
    const { mean, std } = data.info.normalization;
    const img = data.val.image(1);
    const k = 2 * 1024 + 17 * 32 + 30;
    expect(img[k]).toBeCloseTo((raw[k] / 255 - mean[2]) / std[2], 5);
    expect(data.val.images[1 * 3072 + k]).toBe(img[k]);
    // the train split's statistics
    let s = 0;
    for (let i = 0; i < 13; i++) for (let p = 0; p < 1024; p++) s += data.train.pixels[i * 3072 + p];
    expect(mean[0]).toBeCloseTo(s / (13 * 1024) / 255, 10);
    const plain = loadDataset('cifar10', { dataDir: dir, valCount: 2, normalization: 'none' });
    expect(plain.test.image(0)[5]).toBeCloseTo(knownPixel(5, 0, 0, 0, 5) / 255, 6);
  });

  it('finds the files in a cifar-10-batches-bin subfolder, and reads class names from batches.meta.txt', () => {
    const sub = join(dir, 'cifar-10-batches-bin');
    mkdirSync(sub);
    writeCifar10(sub, 1, 1);
    writeFileSync(join(sub, 'batches.meta.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n');
    const raw = readCifar10(dir);
    expect(raw.source).toBe(sub);
    expect(raw.classNames).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
  });

  it('a truncated file names the file and the byte offset of the partial record', () => {
    writeCifar10(dir, 3, 4);
    const file = join(dir, 'data_batch_2.bin');
    writeFileSync(file, readFileSync(file).subarray(0, 3 * 3073 - 10));
    const e = errorOf(() => readCifar10(dir));
    expect(e.message).toBe(`cifar10: ${file} is truncated or not a CIFAR file: its 9209 bytes are not a whole number of ` +
      '3073-byte records (the record at byte offset 6146 has only 3063 bytes)');
  });

  it('a label out of range names the file, the record and the byte offset', () => {
    writeCifar10(dir, 3, 4);
    const file = join(dir, 'test_batch.bin');
    const bytes = readFileSync(file);
    bytes[2 * 3073] = 10;
    writeFileSync(file, bytes);
    expect(errorOf(() => readCifar10(dir)).message).toBe(`cifar10: ${file}: record 2 (byte offset 6146) has label 10, outside 0..9`);
  });

  it('a missing folder, a missing file and no folder at all each say what was expected', () => {
    const missing = join(dir, 'nope');
    expect(errorOf(() => readCifar10(missing)).message).toBe(`cifar10: data folder ${missing} does not exist; expected it to hold ` +
      'data_batch_1.bin ... data_batch_5.bin and test_batch.bin (the CIFAR-10 binary version)');
    writeCifar10(dir, 1, 1);
    rmSync(join(dir, 'data_batch_3.bin'));
    expect(errorOf(() => loadDataset('cifar10', { dataDir: dir })).message).toBe(`cifar10: data folder ${dir} is missing data_batch_3.bin; ` +
      'expected data_batch_1.bin ... data_batch_5.bin and test_batch.bin (the CIFAR-10 binary version)');
    expect(errorOf(() => loadDataset('cifar10')).message).toMatch(/^cifar10: no data folder given: pass dataDir \(--data DIR\)/);
  });

  it('an empty file is reported as such', () => {
    writeCifar10(dir, 1, 1);
    writeFileSync(join(dir, 'data_batch_1.bin'), new Uint8Array(0));
    expect(errorOf(() => readCifar10(dir)).message).toMatch(/data_batch_1\.bin is empty/);
  });

  it('encode then parse is the identity (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(
        fc.uint8Array({ minLength: n * 3072, maxLength: n * 3072 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }),
      )),
      ([pixels, labels]) => {
        const bytes = encodeCifarRecords(pixels, [labels]);
        const n = labels.length;
        const outPixels = new Uint8Array(n * 3072);
        const outLabels = new Int32Array(n);
        parseCifarRecords(bytes, 'x.bin', cifar10Format(), outPixels, outLabels, 0);
        expect(Buffer.compare(outPixels, pixels)).toBe(0);
        expect(Array.from(outLabels)).toEqual(labels);
      },
    ), { numRuns: 25 });
  });
});

describe('CIFAR-100 binary reader', () => {
  function write(trainLabels: [number, number][], testLabels: [number, number][]): void {
    const file = (labels: [number, number][], salt: number) =>
      concat(labels.map((l, r) => cifarRecord(l, (ch, y, x) => knownPixel(salt, r, ch, y, x))));
    writeFileSync(join(dir, 'train.bin'), file(trainLabels, 7));
    writeFileSync(join(dir, 'test.bin'), file(testLabels, 8));
  }

  it('reads fine or coarse labels, as asked, with the pixels after both label bytes', () => {
    write([[3, 97], [19, 0], [0, 55]], [[4, 12]]);
    const fine = readCifar100(dir, 'fine');
    expect(Array.from(fine.train.labels)).toEqual([97, 0, 55]);
    expect(fine.classNames).toHaveLength(100);
    expect(fine.classNames[97]).toBe('wolf');
    const coarse = readCifar100(dir, 'coarse');
    expect(Array.from(coarse.train.labels)).toEqual([3, 19, 0]);
    expect(Array.from(coarse.test.labels)).toEqual([4]);
    expect(coarse.classNames).toHaveLength(20);
    expect(coarse.train.pixels[2 * 3072 + 1024 + 33]).toBe(knownPixel(7, 2, 1, 1, 1));
    expect(Array.from(fine.test.pixels)).toEqual(Array.from(coarse.test.pixels));
    const data = loadDataset('cifar100', { dataDir: dir, cifar100Label: 'coarse', valCount: 1 });
    expect(data.train.numClasses).toBe(20);
    expect(Array.from(data.val.labels)).toEqual([0]);
  });

  it('checks both label bytes and names the one out of range', () => {
    write([[3, 97], [19, 100]], [[4, 12]]);
    const file = join(dir, 'train.bin');
    expect(errorOf(() => readCifar100(dir, 'coarse')).message).toBe(`cifar100: ${file}: record 1 (byte offset 3075) has fine label 100, outside 0..99`);
    write([[3, 97]], [[20, 12]]);
    expect(errorOf(() => readCifar100(dir)).message).toBe(`cifar100: ${join(dir, 'test.bin')}: record 0 (byte offset 0) has coarse label 20, outside 0..19`);
  });

  it('uses 3074-byte records: a CIFAR-10 file is not a CIFAR-100 file', () => {
    writeFileSync(join(dir, 'train.bin'), concat([cifarRecord([1], () => 0), cifarRecord([1], () => 0)]));
    writeFileSync(join(dir, 'test.bin'), cifarRecord([1, 1], () => 0));
    expect(errorOf(() => readCifar100(dir)).message).toMatch(/train\.bin is truncated or not a CIFAR file: its 6146 bytes .* 3074-byte records \(the record at byte offset 3074 has only 3072 bytes\)/);
    expect(() => parseCifarRecords(cifarRecord([1, 1], () => 0), 'y', cifar100Format('fine'), new Uint8Array(3072), new Int32Array(1), 0)).not.toThrow();
  });
});
