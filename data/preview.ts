/**
 * A look at the data: a grid of a dataset's first samples with their labels, as PNG (encoded here
 * with node:zlib; labels drawn as class numbers in a 3x5 pixel font) or as SVG (the same grid embedded
 * as a PNG, labels as text with the class names). Raw pixels are shown, before normalization.
 */
import { deflateSync } from 'node:zlib';
import { CpnasError } from '../core/index.js';
import type { Dataset } from './dataset.js';

export interface GridOptions {
  /** How many samples, from the first. Default 32 (or fewer if the dataset is smaller). */
  count?: number;
  /** Samples per row. Default 8. */
  cols?: number;
  /** Pixels per image pixel. Default 3. */
  scale?: number;
}

interface Layout {
  count: number;
  cols: number;
  rows: number;
  scale: number;
  tile: number;
  cellW: number;
  cellH: number;
  gap: number;
  labelH: number;
}

const GLYPH_SCALE = 2;
/** 3x5 bitmaps of the digits, rows top to bottom, 3 bits each. */
const DIGIT_FONT = ['111101101101111', '010110010010111', '111001111100111', '111001111001111', '101101111001001',
  '111100111001111', '111100111101111', '111001001001001', '111101111101111', '111101111001111'];

function layout(ds: Dataset, opts: GridOptions, labelH: number): Layout {
  const count = Math.min(opts.count ?? 32, ds.length);
  const cols = Math.max(1, Math.min(opts.cols ?? 8, count));
  const scale = opts.scale ?? 3;
  if (count < 1) throw new CpnasError('preview', `${ds.name} (${ds.split}) has no samples to show`);
  if (!Number.isInteger(scale) || scale < 1) throw new CpnasError('preview', `scale must be a whole number >= 1, got ${scale}`);
  const tile = ds.shape[2] * scale;
  const gap = 4;
  return {
    count, cols, rows: Math.ceil(count / cols), scale, tile, gap, labelH,
    cellW: Math.max(tile, 4 * 4 * GLYPH_SCALE) + gap, cellH: ds.shape[1] * scale + labelH + gap,
  };
}

/** The grid as RGB bytes; with `numbers`, each sample's class number is drawn under it, otherwise
 *  `labelH` blank pixels are left there (for SVG text). */
export function gridImage(ds: Dataset, opts: GridOptions = {}, numbers = true, labelH = 2):
  { width: number; height: number; rgb: Uint8Array; layout: Layout } {
  const L = layout(ds, opts, numbers ? 5 * GLYPH_SCALE + 4 : labelH);
  const [c, h, w] = ds.shape;
  const width = L.cols * L.cellW + L.gap;
  const height = L.rows * L.cellH + L.gap;
  const rgb = new Uint8Array(width * height * 3).fill(235);
  for (let i = 0; i < L.count; i++) {
    const ox = L.gap + (i % L.cols) * L.cellW;
    const oy = L.gap + Math.floor(i / L.cols) * L.cellH;
    const img = ds.rawImage(i);
    for (let y = 0; y < h * L.scale; y++) {
      for (let x = 0; x < w * L.scale; x++) {
        const p = Math.floor(y / L.scale) * w + Math.floor(x / L.scale);
        const o = ((oy + y) * width + ox + x) * 3;
        // three channels as RGB; any other count shows the first channel in gray
        rgb[o] = img[p];
        rgb[o + 1] = c === 3 ? img[h * w + p] : img[p];
        rgb[o + 2] = c === 3 ? img[2 * h * w + p] : img[p];
      }
    }
    if (numbers) drawNumber(rgb, width, ox, oy + h * L.scale + 2, ds.labels[i]);
  }
  return { width, height, rgb, layout: L };
}

function drawNumber(rgb: Uint8Array, width: number, x0: number, y0: number, n: number): void {
  const text = String(n);
  for (let k = 0; k < text.length; k++) {
    const glyph = DIGIT_FONT[text.charCodeAt(k) - 48];
    for (let gy = 0; gy < 5; gy++) {
      for (let gx = 0; gx < 3; gx++) {
        if (glyph[gy * 3 + gx] !== '1') continue;
        for (let sy = 0; sy < GLYPH_SCALE; sy++) {
          for (let sx = 0; sx < GLYPH_SCALE; sx++) {
            const o = ((y0 + gy * GLYPH_SCALE + sy) * width + x0 + k * 4 * GLYPH_SCALE + gx * GLYPH_SCALE + sx) * 3;
            rgb[o] = 20;
            rgb[o + 1] = 20;
            rgb[o + 2] = 160;
          }
        }
      }
    }
  }
}

export function renderGridPng(ds: Dataset, opts: GridOptions = {}): Uint8Array {
  const { width, height, rgb } = gridImage(ds, opts, true);
  return encodePng(width, height, rgb);
}

export function renderGridSvg(ds: Dataset, opts: GridOptions = {}): string {
  const { width, height, rgb, layout: L } = gridImage(ds, opts, false, 14);
  const png = Buffer.from(encodePng(width, height, rgb)).toString('base64');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">`);
  out.push(`<image width="${width}" height="${height}" style="image-rendering:pixelated" href="data:image/png;base64,${png}"/>`);
  for (let i = 0; i < L.count; i++) {
    const x = L.gap + (i % L.cols) * L.cellW;
    const y = L.gap + Math.floor(i / L.cols) * L.cellH + ds.shape[1] * L.scale + 11;
    const label = ds.labels[i];
    const name = ds.classNames[label] ?? '';
    const text = name === String(label) ? name : `${label} ${name}`.trim();
    out.push(`<text x="${x}" y="${y}">${escapeXml(text)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// ---- PNG ------------------------------------------------------------------------------------------

/** Encodes 8-bit RGB (or gray, with channels = 1) as PNG: signature, IHDR, one zlib IDAT, IEND. */
export function encodePng(width: number, height: number, pixels: Uint8Array, channels: 1 | 3 = 3): Uint8Array {
  if (pixels.length !== width * height * channels) {
    throw new CpnasError('encodePng', `${pixels.length} bytes do not make a ${width}x${height} image of ${channels} channels`);
  }
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 3 ? 2 : 0; // color type: truecolor or grayscale
  const chunks = [chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const signature = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);
  const out = new Uint8Array(signature.length + chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const part of [signature, ...chunks]) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let k = 0; k < 4; k++) out[4 + k] = type.charCodeAt(k);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

let crcTable: Uint32Array | null = null;

export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
