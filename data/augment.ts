/**
 * Training-time augmentation, the standard CIFAR recipe of DARTS and its followers: a random crop
 * after zero-padding (4 pixels at 32x32), a horizontal flip with probability 1/2, and optionally
 * cutout (one square set to 0 after normalization). It runs while a batch is made: each output pixel
 * is read from the source bytes at its shifted (and mirrored) position, through the normalization
 * table, so augmenting costs no more memory than a plain batch.
 */
import { CpnasError, type Random } from '../core/index.js';
import type { SampleShape } from './dataset.js';

export interface AugmentOptions {
  /** Random crop: pad each side by this many zero pixels, then crop back to H x W. 0 = off. */
  cropPadding?: number;
  /** Mirror left-right with probability 1/2. */
  flip?: boolean;
  /** Cutout: side of the square set to 0 (in normalized units), centered on a uniform pixel and
   *  clipped at the borders. 0 = off. */
  cutout?: number;
}

export type AugmentSettings = Required<AugmentOptions>;

/** The CIFAR default, scaled with the image size: padding 4 at 32x32 (2 at 16x16), flip, no cutout. */
export function cifarAugmentation(height: number): AugmentSettings {
  return { cropPadding: Math.max(1, Math.round(height / 8)), flip: true, cutout: 0 };
}

/** Settings a batch uses: null when augmentation is off or does nothing. */
export function resolveAugment(
  augment: boolean | AugmentOptions, fallback: AugmentSettings | null, shape: SampleShape,
): AugmentSettings | null {
  if (augment === false) return null;
  const s: AugmentSettings = augment === true
    ? (fallback ?? { cropPadding: 0, flip: false, cutout: 0 })
    : { cropPadding: augment.cropPadding ?? 0, flip: augment.flip ?? false, cutout: augment.cutout ?? 0 };
  const [, h, w] = shape;
  for (const key of ['cropPadding', 'cutout'] as const) {
    const v = s[key];
    if (!Number.isInteger(v) || v < 0 || v > Math.max(h, w)) {
      throw new CpnasError('augment', `${key} must be a whole number in 0..${Math.max(h, w)} for ${h}x${w} images, got ${v}`);
    }
  }
  return s.cropPadding === 0 && !s.flip && s.cutout === 0 ? null : s;
}

/**
 * Writes one augmented, normalized sample. `src` is the offset of its bytes in `pixels`, `lut` the
 * per-channel normalization table ([c * 256 + byte]); padded pixels are black (byte 0), as when a
 * padded image is normalized. Draws, in order: crop offsets (y, x), flip, cutout center (y, x).
 */
export function augmentInto(
  pixels: Uint8Array, src: number, lut: Float32Array, out: Float32Array, dst: number,
  c: number, h: number, w: number, s: AugmentSettings, rng: Random,
): void {
  const pad = s.cropPadding;
  const dy = pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
  const dx = pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
  const flip = s.flip && rng.next() < 0.5;
  const plane = h * w;
  for (let ch = 0; ch < c; ch++) {
    const base = ch * 256;
    const black = lut[base];
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      const row = dst + ch * plane + y * w;
      if (sy < 0 || sy >= h) {
        out.fill(black, row, row + w);
        continue;
      }
      const srcRow = src + ch * plane + sy * w;
      for (let x = 0; x < w; x++) {
        // output (y, x) = flip(crop(pad(img)))(y, x) = img(y + dy, (flip ? w - 1 - x : x) + dx)
        const sx = (flip ? w - 1 - x : x) + dx;
        out[row + x] = sx >= 0 && sx < w ? lut[base + pixels[srcRow + sx]] : black;
      }
    }
  }
  if (s.cutout > 0) {
    const cy = rng.int(h);
    const cx = rng.int(w);
    const y0 = Math.max(0, cy - (s.cutout >> 1));
    const y1 = Math.min(h, cy - (s.cutout >> 1) + s.cutout);
    const x0 = Math.max(0, cx - (s.cutout >> 1));
    const x1 = Math.min(w, cx - (s.cutout >> 1) + s.cutout);
    for (let ch = 0; ch < c; ch++) {
      for (let y = y0; y < y1; y++) {
        const row = dst + ch * plane + y * w;
        out.fill(0, row + x0, row + x1);
      }
    }
  }
}
