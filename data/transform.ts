/**
 * Image-size changes applied once at load time, because search budgets shrink images (28 -> 16,
 * 32 -> 16): a center crop, and a resize by area averaging (each output pixel is the mean of the
 * source area it covers, fractional overlaps weighted; the same as OpenCV's INTER_AREA when
 * shrinking). Results are rounded back to bytes, so the dataset keeps one byte per pixel.
 */
import { CpnasError } from '../core/index.js';
import type { SampleShape } from './dataset.js';

/** Crops the central `size` x `size` square of every sample. */
export function centerCrop(pixels: Uint8Array, shape: SampleShape, size: number): Uint8Array {
  const [c, h, w] = shape;
  if (!Number.isInteger(size) || size < 1 || size > h || size > w) {
    throw new CpnasError('centerCrop', `crop size ${size} must be a whole number in 1..${Math.min(h, w)} for ${h}x${w} images`);
  }
  if (size === h && size === w) return pixels;
  const n = pixels.length / (c * h * w);
  const y0 = (h - size) >> 1;
  const x0 = (w - size) >> 1;
  const out = new Uint8Array(n * c * size * size);
  let dst = 0;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const planeStart = (i * c + ch) * h * w;
      for (let y = 0; y < size; y++) {
        const row = planeStart + (y0 + y) * w + x0;
        out.set(pixels.subarray(row, row + size), dst);
        dst += size;
      }
    }
  }
  return out;
}

/** Resizes every sample to `outH` x `outW` by area averaging (separable: rows, then columns). */
export function resizeArea(pixels: Uint8Array, shape: SampleShape, outH: number, outW: number): Uint8Array {
  const [c, h, w] = shape;
  for (const v of [outH, outW]) {
    if (!Number.isInteger(v) || v < 1) throw new CpnasError('resizeArea', `output size ${outH}x${outW} must be whole numbers >= 1`);
  }
  if (outH === h && outW === w) return pixels;
  const n = pixels.length / (c * h * w);
  const rows = areaWeights(h, outH);
  const cols = areaWeights(w, outW);
  const tmp = new Float64Array(h * outW); // one plane resized along x
  const out = new Uint8Array(n * c * outH * outW);
  let dst = 0;
  for (let p = 0; p < n * c; p++) {
    const src = p * h * w;
    for (let y = 0; y < h; y++) {
      for (let ox = 0; ox < outW; ox++) {
        let acc = 0;
        const { index, weight, start, end } = cols;
        for (let k = start[ox]; k < end[ox]; k++) acc += weight[k] * pixels[src + y * w + index[k]];
        tmp[y * outW + ox] = acc;
      }
    }
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        let acc = 0;
        const { index, weight, start, end } = rows;
        for (let k = start[oy]; k < end[oy]; k++) acc += weight[k] * tmp[index[k] * outW + ox];
        out[dst++] = Math.min(255, Math.max(0, Math.round(acc)));
      }
    }
  }
  return out;
}

interface AreaWeights {
  index: Int32Array;
  weight: Float64Array;
  start: Int32Array;
  end: Int32Array;
}

/** For each output cell o, the source cells overlapping [o * in/out, (o+1) * in/out) and their share. */
function areaWeights(inSize: number, outSize: number): AreaWeights {
  const scale = inSize / outSize;
  const index: number[] = [];
  const weight: number[] = [];
  const start = new Int32Array(outSize);
  const end = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const lo = o * scale;
    const hi = (o + 1) * scale;
    start[o] = index.length;
    for (let i = Math.floor(lo); i < Math.min(inSize, Math.ceil(hi)); i++) {
      const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
      if (overlap > 1e-12) {
        index.push(i);
        weight.push(overlap / scale);
      }
    }
    end[o] = index.length;
  }
  return { index: Int32Array.from(index), weight: Float64Array.from(weight), start, end };
}
