/**
 * CIFAR-10 and CIFAR-100, binary version (https://www.cs.toronto.edu/~kriz/cifar.html).
 * A file is a run of records: the label byte(s), then 3,072 pixel bytes: the red 32x32 plane, then
 * green, then blue, each row-major. That is already C, H, W order, so a record's pixels are copied
 * as one block.
 *   CIFAR-10:  data_batch_1.bin ... data_batch_5.bin (train, 5 x 10,000), test_batch.bin (10,000);
 *              1 label byte (0..9); class names in batches.meta.txt.
 *   CIFAR-100: train.bin (50,000), test.bin (10,000); 2 label bytes, coarse (0..19) then fine (0..99);
 *              names in coarse_label_names.txt / fine_label_names.txt.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { CpnasError } from '../core/index.js';
import { findDataFolder, readBytes, readNames, type RawDataset, type RawSplit } from './files.js';

export const CIFAR_PIXELS = 3 * 32 * 32;
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR100_TRAIN_FILE = 'train.bin';
export const CIFAR100_TEST_FILE = 'test.bin';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

export type Cifar100Label = 'fine' | 'coarse';

/** The layout of one variant's records. */
export interface CifarFormat {
  where: string;
  /** Label bytes before the pixels, and the number of classes each may name. */
  labelLimits: number[];
  /** Which label byte becomes the sample's label. */
  labelIndex: number;
  labelNames: string[];
}

export function cifar10Format(): CifarFormat {
  return { where: 'cifar10', labelLimits: [10], labelIndex: 0, labelNames: ['label'] };
}

export function cifar100Format(label: Cifar100Label = 'fine'): CifarFormat {
  return { where: 'cifar100', labelLimits: [20, 100], labelIndex: label === 'coarse' ? 0 : 1, labelNames: ['coarse label', 'fine label'] };
}

/**
 * Reads record files into one split. Sizes are checked for all files before any is read; each label
 * byte is checked against its range. Errors name the file and the byte offset.
 */
export function readCifarFiles(files: string[], format: CifarFormat): RawSplit {
  const recordSize = format.labelLimits.length + CIFAR_PIXELS;
  const counts = files.map((file) => {
    const size = statSync(file).size;
    checkRecordSize(format.where, file, size, recordSize);
    return size / recordSize;
  });
  const total = counts.reduce((a, b) => a + b, 0);
  const pixels = new Uint8Array(total * CIFAR_PIXELS);
  const labels = new Int32Array(total);
  let first = 0;
  files.forEach((file, f) => {
    const bytes = readBytes(format.where, file);
    // the file may have changed since stat
    checkRecordSize(format.where, file, bytes.length, recordSize);
    if (bytes.length / recordSize !== counts[f]) {
      throw new CpnasError(format.where, `${file} changed size while being read`);
    }
    parseCifarRecords(bytes, file, format, pixels, labels, first);
    first += counts[f];
  });
  return { pixels, labels };
}

/** Parses one file's bytes into `pixels` / `labels` starting at sample `first`. */
export function parseCifarRecords(bytes: Uint8Array, file: string, format: CifarFormat,
  pixels: Uint8Array, labels: Int32Array, first: number): void {
  const nLabels = format.labelLimits.length;
  const recordSize = nLabels + CIFAR_PIXELS;
  checkRecordSize(format.where, file, bytes.length, recordSize);
  const n = bytes.length / recordSize;
  for (let r = 0; r < n; r++) {
    const offset = r * recordSize;
    for (let k = 0; k < nLabels; k++) {
      const v = bytes[offset + k];
      if (v >= format.labelLimits[k]) {
        throw new CpnasError(format.where, `${file}: record ${r} (byte offset ${offset + k}) has ${format.labelNames[k]} ${v}, ` +
          `outside 0..${format.labelLimits[k] - 1}`);
      }
    }
    labels[first + r] = bytes[offset + format.labelIndex];
    pixels.set(bytes.subarray(offset + nLabels, offset + recordSize), (first + r) * CIFAR_PIXELS);
  }
}

function checkRecordSize(where: string, file: string, size: number, recordSize: number): void {
  if (size === 0) throw new CpnasError(where, `${file} is empty (expected ${recordSize}-byte records)`);
  const rem = size % recordSize;
  if (rem !== 0) {
    const whole = (size - rem) / recordSize;
    throw new CpnasError(where, `${file} is truncated or not a CIFAR file: its ${size} bytes are not a whole number of ` +
      `${recordSize}-byte records (the record at byte offset ${whole * recordSize} has only ${rem} bytes)`);
  }
}

/** CIFAR-10 from `dir` (or its `cifar-10-batches-bin` subfolder). */
export function readCifar10(dir: string | undefined): RawDataset {
  const files = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  const folder = findDataFolder('cifar10', dir, files.map((f) => [f]), 'the CIFAR-10 binary version', ['cifar-10-batches-bin']);
  const format = cifar10Format();
  return {
    shape: [3, 32, 32],
    classNames: readNames(join(folder, 'batches.meta.txt'), 10) ?? [...CIFAR10_CLASSES],
    train: readCifarFiles(CIFAR10_TRAIN_FILES.map((f) => join(folder, f)), format),
    test: readCifarFiles([join(folder, CIFAR10_TEST_FILE)], format),
    source: folder,
  };
}

/** CIFAR-100 from `dir` (or its `cifar-100-binary` subfolder), with its fine (100) or coarse (20) labels. */
export function readCifar100(dir: string | undefined, label: Cifar100Label = 'fine'): RawDataset {
  if (label !== 'fine' && label !== 'coarse') {
    throw new CpnasError('cifar100', `label must be 'fine' or 'coarse', got '${String(label)}'`);
  }
  const files = [CIFAR100_TRAIN_FILE, CIFAR100_TEST_FILE];
  const folder = findDataFolder('cifar100', dir, files.map((f) => [f]), 'the CIFAR-100 binary version', ['cifar-100-binary']);
  const format = cifar100Format(label);
  const classNames = label === 'fine'
    ? readNames(join(folder, 'fine_label_names.txt'), 100) ?? [...CIFAR100_FINE_CLASSES]
    : readNames(join(folder, 'coarse_label_names.txt'), 20) ?? [...CIFAR100_COARSE_CLASSES];
  return {
    shape: [3, 32, 32],
    classNames,
    train: readCifarFiles([join(folder, CIFAR100_TRAIN_FILE)], format),
    test: readCifarFiles([join(folder, CIFAR100_TEST_FILE)], format),
    source: folder,
  };
}

/** Encodes records in the binary format (for tests, benchmarks and exporting): labels[k] holds the
 *  label bytes of every record for label slot k. */
export function encodeCifarRecords(pixels: Uint8Array, labels: ArrayLike<number>[]): Uint8Array {
  const n = pixels.length / CIFAR_PIXELS;
  if (!Number.isInteger(n) || labels.some((l) => l.length !== n)) {
    throw new CpnasError('encodeCifarRecords', `${pixels.length} pixel bytes and label arrays of ${labels.map((l) => l.length).join(', ')} do not agree`);
  }
  const recordSize = labels.length + CIFAR_PIXELS;
  const out = new Uint8Array(n * recordSize);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < labels.length; k++) out[r * recordSize + k] = labels[k][r];
    out.set(pixels.subarray(r * CIFAR_PIXELS, (r + 1) * CIFAR_PIXELS), r * recordSize + labels.length);
  }
  return out;
}

export const CIFAR100_COARSE_CLASSES = [
  'aquatic_mammals', 'fish', 'flowers', 'food_containers', 'fruit_and_vegetables', 'household_electrical_devices',
  'household_furniture', 'insects', 'large_carnivores', 'large_man-made_outdoor_things', 'large_natural_outdoor_scenes',
  'large_omnivores_and_herbivores', 'medium_mammals', 'non-insect_invertebrates', 'people', 'reptiles', 'small_mammals',
  'trees', 'vehicles_1', 'vehicles_2',
];

export const CIFAR100_FINE_CLASSES = [
  'apple', 'aquarium_fish', 'baby', 'bear', 'beaver', 'bed', 'bee', 'beetle', 'bicycle', 'bottle', 'bowl', 'boy',
  'bridge', 'bus', 'butterfly', 'camel', 'can', 'castle', 'caterpillar', 'cattle', 'chair', 'chimpanzee', 'clock',
  'cloud', 'cockroach', 'couch', 'crab', 'crocodile', 'cup', 'dinosaur', 'dolphin', 'elephant', 'flatfish', 'forest',
  'fox', 'girl', 'hamster', 'house', 'kangaroo', 'keyboard', 'lamp', 'lawn_mower', 'leopard', 'lion', 'lizard',
  'lobster', 'man', 'maple_tree', 'motorcycle', 'mountain', 'mouse', 'mushroom', 'oak_tree', 'orange', 'orchid',
  'otter', 'palm_tree', 'pear', 'pickup_truck', 'pine_tree', 'plain', 'plate', 'poppy', 'porcupine', 'possum',
  'rabbit', 'raccoon', 'ray', 'road', 'rocket', 'rose', 'sea', 'seal', 'shark', 'shrew', 'skunk', 'skyscraper',
  'snail', 'snake', 'spider', 'squirrel', 'streetcar', 'sunflower', 'sweet_pepper', 'table', 'tank', 'telephone',
  'television', 'tiger', 'tractor', 'train', 'trout', 'tulip', 'turtle', 'wardrobe', 'whale', 'willow_tree', 'wolf',
  'woman', 'worm',
];
