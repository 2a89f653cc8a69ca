/** Temp folders and hand-built files for the data tests (built byte by byte, not with the readers' encoders). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export function tempDir(prefix = 'cpnas-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A known pixel value for record r of file f, channel ch, row y, column x. */
export function knownPixel(f: number, r: number, ch: number, y: number, x: number): number {
  return (f * 131 + r * 37 + ch * 71 + y * 7 + x * 3 + ((x * y) % 5)) & 255;
}

/** One CIFAR record: label bytes, then R, G, B planes of 32x32, row-major. */
export function cifarRecord(labels: number[], pixel: (ch: number, y: number, x: number) => number): Uint8Array {
  const out = new Uint8Array(labels.length + 3072);
  labels.forEach((l, k) => (out[k] = l));
  let o = labels.length;
  for (let ch = 0; ch < 3; ch++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) out[o++] = pixel(ch, y, x);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** CIFAR-10 folder: 5 train files of `perFile` records and a test file of `testCount`; label of
 *  record r in file f is (f * 3 + r) % 10. Returns the expected labels per split. */
export function writeCifar10(dir: string, perFile = 3, testCount = 4): { train: number[]; test: number[] } {
  const train: number[] = [];
  const test: number[] = [];
  for (let f = 0; f < 6; f++) {
    const n = f < 5 ? perFile : testCount;
    const records: Uint8Array[] = [];
    for (let r = 0; r < n; r++) {
      const label = (f * 3 + r) % 10;
      (f < 5 ? train : test).push(label);
      records.push(cifarRecord([label], (ch, y, x) => knownPixel(f, r, ch, y, x)));
    }
    writeFileSync(join(dir, f < 5 ? `data_batch_${f + 1}.bin` : 'test_batch.bin'), concat(records));
  }
  return { train, test };
}

/** IDX bytes: magic 00 00 08 <rank>, big-endian dims, data. */
export function idxBytes(dims: number[], data: ArrayLike<number>): Uint8Array {
  const header = [0, 0, 8, dims.length];
  for (const d of dims) header.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return Uint8Array.from([...header, ...Array.from(data)]);
}

/** An MNIST-style folder of n train / m test images of h x w; gzip = write .gz files. */
export function writeIdxSet(dir: string, opts: { n: number; m: number; h: number; w: number; gzip?: boolean; classes?: number }):
  { trainPixels: Uint8Array; trainLabels: number[]; testPixels: Uint8Array; testLabels: number[] } {
  const { n, m, h, w } = opts;
  const classes = opts.classes ?? 10;
  const trainPixels = Uint8Array.from({ length: n * h * w }, (_, i) => (i * 29 + 3) & 255);
  const testPixels = Uint8Array.from({ length: m * h * w }, (_, i) => (i * 13 + 100) & 255);
  const trainLabels = Array.from({ length: n }, (_, i) => (i * 7) % classes);
  const testLabels = Array.from({ length: m }, (_, i) => (i * 3 + 1) % classes);
  const files: [string, Uint8Array][] = [
    ['train-images-idx3-ubyte', idxBytes([n, h, w], trainPixels)],
    ['train-labels-idx1-ubyte', idxBytes([n], trainLabels)],
    ['t10k-images-idx3-ubyte', idxBytes([m, h, w], testPixels)],
    ['t10k-labels-idx1-ubyte', idxBytes([m], testLabels)],
  ];
  for (const [name, bytes] of files) {
    if (opts.gzip) writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes));
    else writeFileSync(join(dir, name), bytes);
  }
  return { trainPixels, trainLabels, testPixels, testLabels };
}
