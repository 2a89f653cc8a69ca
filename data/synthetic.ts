/**
 * `synthetic`: seeded, labelled images that a small CNN learns in a few epochs, for tests and quick
 * demos. Class k is a sinusoidal grating (stripes) with its own orientation and period:
 *   orientation  theta = pi * (k mod A) / A,  A = min(classes, 4)
 *   period       one of L = ceil(classes / A) levels from 8 down to 3 pixels, level floor(k / A)
 * Each sample draws a random phase (so the stripes move), a contrast in [0.6, 1], a gain per channel in
 * [0.7, 1], an orientation jitter of +-5 degrees, and adds Gaussian pixel noise; labels are balanced
 * (each class `count / classes` times, +-1) in a shuffled order. Meant for up to ~16 classes.
 */
import { CpnasError, Random } from '../core/index.js';
import type { RawDataset, RawSplit } from './files.js';

export interface SyntheticOptions {
  /** Height = width, pixels. Default 16. */
  size?: number;
  /** Default 3. */
  channels?: number;
  /** Default 10. */
  classes?: number;
  /** Samples per split. Defaults 2,000 / 500 / 500. */
  train?: number;
  val?: number;
  test?: number;
  /** Standard deviation of the pixel noise, in [0, 1] units. Default 0.1. */
  noise?: number;
  /** Default: loadDataset's seed, else 0. */
  seed?: number;
}

export const SYNTHETIC_DEFAULTS = { size: 16, channels: 3, classes: 10, train: 2000, val: 500, test: 500, noise: 0.1, seed: 0 };

export function makeSynthetic(opts: SyntheticOptions = {}): RawDataset {
  const o = { ...SYNTHETIC_DEFAULTS, ...definedOnly(opts) };
  const positive = { size: o.size, channels: o.channels, classes: o.classes };
  for (const [key, v] of Object.entries(positive)) {
    if (!Number.isInteger(v) || v < 1) throw new CpnasError('synthetic', `${key} must be a whole number >= 1, got ${v}`);
  }
  for (const key of ['train', 'val', 'test'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 0) throw new CpnasError('synthetic', `${key} must be a whole number >= 0, got ${o[key]}`);
  }
  if (!(o.noise >= 0)) throw new CpnasError('synthetic', `noise must be >= 0, got ${o.noise}`);
  if (o.classes > 256) throw new CpnasError('synthetic', `at most 256 classes, got ${o.classes}`);
  const root = new Random(o.seed);
  const rngs = [root.fork(), root.fork(), root.fork()];
  return {
    shape: [o.channels, o.size, o.size],
    classNames: Array.from({ length: o.classes }, (_, k) => `class${k}`),
    train: makeSplit(o.train, o, rngs[0]),
    val: makeSplit(o.val, o, rngs[1]),
    test: makeSplit(o.test, o, rngs[2]),
    source: `synthetic gratings (seed ${o.seed}, noise ${o.noise})`,
  };
}

/** The orientation (radians) and period (pixels) of class k. */
export function gratingOf(k: number, classes: number): { angle: number; period: number } {
  const a = Math.min(classes, 4);
  const levels = Math.ceil(classes / a);
  const level = Math.floor(k / a);
  const period = levels === 1 ? 5 : 8 * Math.pow(3 / 8, level / (levels - 1));
  return { angle: (Math.PI * (k % a)) / a, period };
}

function makeSplit(count: number, o: typeof SYNTHETIC_DEFAULTS, rng: Random): RawSplit {
  const { size, channels, classes, noise } = o;
  const plane = size * size;
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % classes;
  rng.shuffle(labels);
  const pixels = new Uint8Array(count * channels * plane);
  const center = (size - 1) / 2;
  for (let i = 0; i < count; i++) {
    const { angle, period } = gratingOf(labels[i], classes);
    const theta = angle + ((rng.next() - 0.5) * 10 * Math.PI) / 180;
    const fx = (2 * Math.PI * Math.cos(theta)) / period;
    const fy = (2 * Math.PI * Math.sin(theta)) / period;
    const phase = rng.uniform(0, 2 * Math.PI);
    const contrast = rng.uniform(0.6, 1);
    for (let ch = 0; ch < channels; ch++) {
      const amp = 0.5 * contrast * rng.uniform(0.7, 1);
      let p = (i * channels + ch) * plane;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const v = 0.5 + amp * Math.sin(fx * (x - center) + fy * (y - center) + phase) + noise * rng.normal();
          pixels[p++] = Math.round(255 * Math.min(1, Math.max(0, v)));
        }
      }
    }
  }
  return { pixels, labels };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
