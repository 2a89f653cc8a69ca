/**
 * The one dataset type every reader returns: raw pixels of all samples in one Uint8Array (N*C*H*W,
 * row-major, values 0..255), labels in one Int32Array, and the per-channel normalization that turns a
 * byte into the float the network sees. A batch is made by typed-array copies through a 256-entry
 * lookup table per channel; no object is ever made per image or per pixel.
 */
import { CpnasError, Random, Tensor, check, defaultRandom } from '../core/index.js';
import { augmentInto, resolveAugment, type AugmentOptions, type AugmentSettings } from './augment.js';

/** Sample shape: channels, height, width. */
export type SampleShape = readonly [c: number, h: number, w: number];

/** Per-channel mean and standard deviation, in pixel units scaled to [0, 1]. */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export interface BatchOptions {
  /** Visit the samples in a random order (a new permutation on every pass). Default false. */
  shuffle?: boolean;
  /** Where shuffling and augmentation draw from. Default: `new Random(seed)` if `seed` is given,
   *  otherwise the process-wide `defaultRandom()`. */
  rng?: Random;
  seed?: number;
  /** Training-time augmentation: `true` uses the dataset's default (`dataset.augmentation`; none for
   *  data where it makes no sense), or give the settings. Default false. */
  augment?: boolean | AugmentOptions;
  /** Drop the last batch when it is smaller than `batchSize`. Default false. */
  dropLast?: boolean;
  /** Reuse one buffer for every batch of a pass (default true): a batch's `x` and `y` are overwritten
   *  by the next one, so `x.clone()` a batch to keep it. `false` allocates fresh arrays per batch. */
  reuse?: boolean;
}

export interface Batch {
  /** Normalized (and possibly augmented) images, [B, C, H, W]. */
  x: Tensor;
  /** Class labels, B entries. */
  y: Int32Array;
  /** The dataset positions of the B samples. */
  indices: Int32Array;
}

export interface Dataset {
  /** The dataset's name (`digits`, `cifar10`, ...). */
  readonly name: string;
  /** Which part this is: `train`, `val`, `test`, `search-train`, `search-val`, ... */
  readonly split: string;
  readonly shape: SampleShape;
  readonly classNames: readonly string[];
  readonly numClasses: number;
  readonly length: number;
  /** Raw pixels, N*C*H*W bytes (0..255), before normalization. */
  readonly pixels: Uint8Array;
  /** Normalized images, N*C*H*W floats; made on first access and kept (4x the memory of `pixels`:
   *  training code should prefer `batches()`). */
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly normalization: Normalization;
  /** The augmentation `augment: true` applies, or null where none suits the data. */
  readonly augmentation: AugmentSettings | null;
  /** The raw bytes of sample i (a view, not a copy). */
  rawImage(i: number): Uint8Array;
  /** The normalized values of sample i, written into `out` if given. */
  image(i: number, out?: Float32Array): Float32Array;
  /** A new dataset of the given samples, in the given order (pixels copied). */
  subset(indices: ArrayLike<number>, split?: string): Dataset;
  /** The first n samples (a budget); a view sharing this dataset's memory. */
  take(n: number): Dataset;
  /** Batches of one pass over the data; iterating the result again starts a new pass. */
  batches(batchSize: number, opts?: BatchOptions): Iterable<Batch>;
  numBatches(batchSize: number, dropLast?: boolean): number;
  /** How many samples each class has. */
  classCounts(): Int32Array;
}

export interface ImageDatasetInit {
  name: string;
  split: string;
  shape: SampleShape;
  classNames: readonly string[];
  pixels: Uint8Array;
  labels: Int32Array;
  normalization: Normalization;
  augmentation?: AugmentSettings | null;
}

export class ImageDataset implements Dataset {
  readonly name: string;
  readonly split: string;
  readonly shape: SampleShape;
  readonly classNames: readonly string[];
  readonly length: number;
  readonly pixels: Uint8Array;
  readonly labels: Int32Array;
  readonly normalization: Normalization;
  readonly augmentation: AugmentSettings | null;
  /** Per channel, the float each byte value normalizes to: [c * 256 + v]. */
  private readonly lut: Float32Array;
  private cachedImages: Float32Array | null = null;

  constructor(init: ImageDatasetInit) {
    const [c, h, w] = init.shape;
    const where = `${init.name} (${init.split})`;
    check(c > 0 && h > 0 && w > 0 && [c, h, w].every(Number.isInteger), where, () => `bad sample shape [${init.shape.join(',')}]`);
    const sampleSize = c * h * w;
    const n = init.labels.length;
    check(init.pixels.length === n * sampleSize, where,
      () => `${init.pixels.length} pixel bytes do not make ${n} samples of shape [${c},${h},${w}] (${n * sampleSize} bytes)`);
    check(init.normalization.mean.length === c && init.normalization.std.length === c, where,
      () => `normalization has ${init.normalization.mean.length} means and ${init.normalization.std.length} stds for ${c} channels`);
    this.name = init.name;
    this.split = init.split;
    this.shape = Object.freeze([c, h, w] as const);
    this.classNames = Object.freeze([...init.classNames]);
    this.length = n;
    this.pixels = init.pixels;
    this.labels = init.labels;
    this.normalization = init.normalization;
    this.augmentation = init.augmentation ?? null;
    this.lut = normalizationTable(init.normalization);
  }

  get numClasses(): number {
    return this.classNames.length;
  }

  get sampleSize(): number {
    return this.shape[0] * this.shape[1] * this.shape[2];
  }

  get images(): Float32Array {
    if (!this.cachedImages) {
      const out = new Float32Array(this.pixels.length);
      for (let i = 0; i < this.length; i++) this.normalizeInto(i, out, i * this.sampleSize);
      this.cachedImages = out;
    }
    return this.cachedImages;
  }

  rawImage(i: number): Uint8Array {
    this.checkIndex('rawImage', i);
    return this.pixels.subarray(i * this.sampleSize, (i + 1) * this.sampleSize);
  }

  image(i: number, out = new Float32Array(this.sampleSize)): Float32Array {
    this.checkIndex('image', i);
    this.normalizeInto(i, out, 0);
    return out;
  }

  subset(indices: ArrayLike<number>, split = this.split): ImageDataset {
    const size = this.sampleSize;
    const pixels = new Uint8Array(indices.length * size);
    const labels = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      this.checkIndex('subset', i);
      pixels.set(this.pixels.subarray(i * size, (i + 1) * size), k * size);
      labels[k] = this.labels[i];
    }
    return this.derive(split, pixels, labels);
  }

  take(n: number): ImageDataset {
    check(Number.isInteger(n) && n >= 0, `${this.name} (${this.split})`, () => `take(${n}): expected a whole number >= 0`);
    if (n >= this.length) return this;
    return this.derive(this.split, this.pixels.subarray(0, n * this.sampleSize), this.labels.subarray(0, n));
  }

  /** The same samples under another normalization (e.g. the train split's, for val and test). */
  withNormalization(normalization: Normalization): ImageDataset {
    return new ImageDataset({ ...this.init(), normalization });
  }

  numBatches(batchSize: number, dropLast = false): number {
    return dropLast ? Math.floor(this.length / batchSize) : Math.ceil(this.length / batchSize);
  }

  classCounts(): Int32Array {
    const counts = new Int32Array(this.numClasses);
    for (let i = 0; i < this.length; i++) counts[this.labels[i]]++;
    return counts;
  }

  batches(batchSize: number, opts: BatchOptions = {}): Iterable<Batch> {
    const where = `${this.name} (${this.split})`;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new CpnasError(where, `batches(${batchSize}): the batch size must be a whole number >= 1`);
    }
    const rng = opts.rng ?? (opts.seed !== undefined ? new Random(opts.seed) : defaultRandom());
    const augment = resolveAugment(opts.augment ?? false, this.augmentation, this.shape);
    const dropLast = opts.dropLast ?? false;
    const reuse = opts.reuse ?? true;
    const shuffle = opts.shuffle ?? false;
    return { [Symbol.iterator]: () => this.pass(batchSize, rng, shuffle, augment, dropLast, reuse) };
  }

  private *pass(batchSize: number, rng: Random, shuffle: boolean, augment: AugmentSettings | null,
    dropLast: boolean, reuse: boolean): Generator<Batch> {
    const [c, h, w] = this.shape;
    const size = this.sampleSize;
    const order = shuffle ? rng.permutation(this.length) : identity(this.length);
    const count = this.numBatches(batchSize, dropLast);
    let xBuf = new Float32Array(0);
    let yBuf = new Int32Array(0);
    for (let b = 0; b < count; b++) {
      const start = b * batchSize;
      const bs = Math.min(batchSize, this.length - start);
      if (!reuse || xBuf.length === 0) {
        xBuf = new Float32Array(bs * size);
        yBuf = new Int32Array(bs);
      }
      const x = xBuf.subarray(0, bs * size);
      const y = yBuf.subarray(0, bs);
      const indices = order.slice(start, start + bs);
      for (let k = 0; k < bs; k++) {
        const i = indices[k];
        y[k] = this.labels[i];
        if (augment) augmentInto(this.pixels, i * size, this.lut, x, k * size, c, h, w, augment, rng);
        else this.normalizeInto(i, x, k * size);
      }
      yield { x: new Tensor(x, [bs, c, h, w]), y, indices };
    }
  }

  /** Hot path: one sample's bytes through the per-channel lookup table. */
  private normalizeInto(i: number, out: Float32Array, offset: number): void {
    const [c, h, w] = this.shape;
    const plane = h * w;
    const pixels = this.pixels;
    const lut = this.lut;
    let src = i * c * plane;
    let dst = offset;
    for (let ch = 0; ch < c; ch++) {
      const base = ch * 256;
      for (let p = 0; p < plane; p++) out[dst++] = lut[base + pixels[src++]];
    }
  }

  private checkIndex(what: string, i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new CpnasError(`${this.name} (${this.split})`, `${what}: sample index ${i} is outside 0..${this.length - 1}`);
    }
  }

  private init(): ImageDatasetInit {
    return {
      name: this.name, split: this.split, shape: this.shape, classNames: this.classNames, pixels: this.pixels,
      labels: this.labels, normalization: this.normalization, augmentation: this.augmentation,
    };
  }

  private derive(split: string, pixels: Uint8Array, labels: Int32Array): ImageDataset {
    return new ImageDataset({ ...this.init(), split, pixels, labels });
  }
}

/** lut[c * 256 + v] = (v / 255 - mean[c]) / std[c]. */
export function normalizationTable(norm: Normalization): Float32Array {
  const c = norm.mean.length;
  const lut = new Float32Array(c * 256);
  for (let ch = 0; ch < c; ch++) {
    for (let v = 0; v < 256; v++) lut[ch * 256 + v] = (v / 255 - norm.mean[ch]) / norm.std[ch];
  }
  return lut;
}

/**
 * Per-channel mean and standard deviation of raw pixels (scaled to [0, 1]), exact: sums of bytes and
 * of their squares, in int32 per plane (at most 255^2 * H * W) and float64 across planes. A channel
 * with no spread gets std 1 so that nothing divides by zero.
 */
export function computeNormalization(pixels: Uint8Array, shape: SampleShape): Normalization {
  const [c, h, w] = shape;
  const plane = h * w;
  if (plane * 65025 > 0x7fffffff) throw new CpnasError('computeNormalization', `images of ${h}x${w} are too large for int32 plane sums`);
  const n = pixels.length / (c * plane);
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      let s2 = 0;
      for (const end = p + plane; p < end; p++) {
        const v = pixels[p];
        s = (s + v) | 0;
        s2 = (s2 + Math.imul(v, v)) | 0;
      }
      sum[ch] += s;
      sumSq[ch] += s2;
    }
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const m = n > 0 ? sum[ch] / (n * plane) : 0;
    const variance = n > 0 ? Math.max(0, sumSq[ch] / (n * plane) - m * m) : 0;
    mean.push(m / 255);
    std.push(variance > 0 ? Math.sqrt(variance) / 255 : 1);
  }
  return { mean, std };
}

/** No normalization: pixels scaled to [0, 1]. */
export function identityNormalization(channels: number): Normalization {
  return { mean: new Array(channels).fill(0), std: new Array(channels).fill(1) };
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
