/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/), plain or gzipped.
 * A file starts with the magic number: two zero bytes, a type byte (0x08 = unsigned byte) and the
 * number of dimensions; then each dimension as a big-endian uint32; then the values, row-major.
 * Images are 3-D (N, H, W), labels 1-D (N). Gzipped files are recognized by their content (1f 8b),
 * not their name; byte offsets in errors then count in the decompressed data.
 */
import { gunzipSync } from 'node:zlib';
import { CpnasError } from '../core/index.js';
import { findDataFolder, pickFile, readBytes, type RawDataset, type RawSplit } from './files.js';

export interface IdxArray {
  dims: number[];
  /** The values (a view into the file's bytes). */
  data: Uint8Array;
}

const IDX_TYPES: Record<number, string> = {
  0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double',
};

/** Debian's dataset-fashion-mnist package installs the gzipped IDX files here. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const DIGIT_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** The four files of an MNIST-style set, each under the names it is found with. */
export const IDX_FILES = {
  trainImages: idxNames('train-images', 3),
  trainLabels: idxNames('train-labels', 1),
  testImages: idxNames('t10k-images', 3),
  testLabels: idxNames('t10k-labels', 1),
};

function idxNames(stem: string, rank: number): string[] {
  const dashed = `${stem}-idx${rank}-ubyte`;
  const dotted = `${stem}.idx${rank}-ubyte`;
  return [dashed, `${dashed}.gz`, dotted, `${dotted}.gz`];
}

/** Parses an IDX file's bytes (already decompressed); `file` names it in errors. */
export function parseIdx(bytes: Uint8Array, file: string, where = 'idx', gzipped = false): IdxArray {
  const note = gzipped ? ' (offsets in the decompressed data)' : '';
  if (bytes.length < 4) {
    throw new CpnasError(where, `${file} is truncated: ${bytes.length} bytes, shorter than the 4-byte magic number${note}`);
  }
  const magic = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  const type = bytes[2];
  const rank = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(type in IDX_TYPES) || rank === 0) {
    throw new CpnasError(where, `${file}: bad magic number 0x${magic.toString(16).padStart(8, '0')} at byte offset 0${note}; ` +
      'an IDX file starts with two zero bytes, a type byte and the number of dimensions (0x00000803 for images, 0x00000801 for labels)');
  }
  if (type !== 0x08) {
    throw new CpnasError(where, `${file}: data type 0x${type.toString(16).padStart(2, '0')} (${IDX_TYPES[type]}) at byte offset 2 ` +
      'is not supported; only unsigned bytes (0x08) are read');
  }
  const header = 4 + 4 * rank;
  if (bytes.length < header) {
    throw new CpnasError(where, `${file} is truncated: the header of ${rank} dimensions needs ${header} bytes but the file has ${bytes.length}${note}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let k = 0; k < rank; k++) dims.push(view.getUint32(4 + 4 * k, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = header + count;
  const dimStr = dims.join('x');
  if (bytes.length < expected) {
    const itemSize = dims.slice(1).reduce((a, b) => a * b, 1);
    const item = itemSize > 0 ? Math.floor((bytes.length - header) / itemSize) : 0;
    throw new CpnasError(where, `${file} is truncated: dimensions ${dimStr} need ${expected} bytes but the file has ${bytes.length}; ` +
      `it ends at byte offset ${bytes.length}, inside item ${item} (which starts at byte offset ${header + item * itemSize})${note}`);
  }
  if (bytes.length > expected) {
    throw new CpnasError(where, `${file} has ${bytes.length - expected} bytes past the end of the ${dimStr} data, ` +
      `from byte offset ${expected}${note}; are the dimensions in its header right?`);
  }
  return { dims, data: bytes.subarray(header, expected) };
}

/** Reads and parses one IDX file, gunzipping it when its content is gzip. */
export function readIdxFile(file: string, where = 'idx'): IdxArray {
  let bytes = readBytes(where, file);
  const gzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (gzipped) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new CpnasError(where, `${file} looks gzipped but cannot be decompressed (${(e as Error).message}); is it truncated?`);
    }
  }
  return parseIdx(bytes, file, where, gzipped);
}

/** Pairs an image file with its label file; labels must lie in 0..numClasses-1 (if given). */
export function readIdxSplit(imagesFile: string, labelsFile: string, where: string, numClasses?: number): RawSplit & { h: number; w: number } {
  const images = readIdxFile(imagesFile, where);
  const labels = readIdxFile(labelsFile, where);
  if (images.dims.length !== 3) {
    throw new CpnasError(where, `${imagesFile} has ${images.dims.length} dimensions (${images.dims.join('x')}); images need 3 (N x H x W)`);
  }
  if (labels.dims.length !== 1) {
    throw new CpnasError(where, `${labelsFile} has ${labels.dims.length} dimensions (${labels.dims.join('x')}); labels need 1 (N)`);
  }
  if (images.dims[0] !== labels.dims[0]) {
    throw new CpnasError(where, `${imagesFile} has ${images.dims[0]} images but ${labelsFile} has ${labels.dims[0]} labels`);
  }
  const n = labels.dims[0];
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels.data[i];
    if (numClasses !== undefined && v >= numClasses) {
      // the label values start after the 8-byte header (magic + one dimension)
      throw new CpnasError(where, `${labelsFile}: label ${i} (byte offset ${8 + i}) is ${v}, outside 0..${numClasses - 1}`);
    }
    out[i] = v;
  }
  return { pixels: images.data, labels: out, h: images.dims[1], w: images.dims[2] };
}

/**
 * An MNIST-style set from a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each maybe .gz). `classNames` fixes the number of
 * classes; without it the classes are 0..max label.
 */
export function readIdxDataset(where: string, dir: string | undefined, classNames?: string[]): RawDataset {
  const f = IDX_FILES;
  const folder = findDataFolder(where, dir, [f.trainImages, f.trainLabels, f.testImages, f.testLabels], 'MNIST-style IDX files, plain or .gz');
  const numClasses = classNames?.length;
  const train = readIdxSplit(pickFile(folder, f.trainImages), pickFile(folder, f.trainLabels), where, numClasses);
  const test = readIdxSplit(pickFile(folder, f.testImages), pickFile(folder, f.testLabels), where, numClasses);
  if (train.h !== test.h || train.w !== test.w) {
    throw new CpnasError(where, `train images are ${train.h}x${train.w} but test images are ${test.h}x${test.w} (in ${folder})`);
  }
  let names = classNames;
  if (!names) {
    let max = 0;
    for (const l of [train.labels, test.labels]) for (let i = 0; i < l.length; i++) max = Math.max(max, l[i]);
    names = Array.from({ length: max + 1 }, (_, k) => String(k));
  }
  return {
    shape: [1, train.h, train.w],
    classNames: names,
    train: { pixels: train.pixels, labels: train.labels },
    test: { pixels: test.pixels, labels: test.labels },
    source: folder,
  };
}

/** Encodes unsigned bytes as an IDX file (for tests and exporting). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new CpnasError('encodeIdx', `dimensions ${dims.join('x')} need ${count} bytes, got ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + count);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
