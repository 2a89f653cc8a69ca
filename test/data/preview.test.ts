import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodePng, loadDataset, renderGridPng, renderGridSvg } from '../../data/index.js';

function chunks(png: Uint8Array): { type: string; data: Uint8Array }[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: { type: string; data: Uint8Array }[] = [];
  let o = 8;
  while (o < png.length) {
    const len = view.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    const data = png.subarray(o + 8, o + 8 + len);
    expect(view.getUint32(o + 8 + len)).toBe(crc32(png.subarray(o + 4, o + 8 + len)));
    out.push({ type, data });
    o += 12 + len;
  }
  return out;
}

describe('image grid', () => {
  it('encodes a valid PNG (signature, CRCs, rows with filter bytes)', () => {
    const rgb = Uint8Array.from({ length: 3 * 2 * 3 }, (_, k) => k * 10);
    const png = encodePng(3, 2, rgb);
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const cs = chunks(png);
    expect(cs.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const ihdr = new DataView(cs[0].data.buffer, cs[0].data.byteOffset);
    expect([ihdr.getUint32(0), ihdr.getUint32(4), cs[0].data[8], cs[0].data[9]]).toEqual([3, 2, 8, 2]);
    const raw = inflateSync(cs[1].data);
    expect(Array.from(raw)).toEqual([0, ...rgb.subarray(0, 9), 0, ...rgb.subarray(9)]);
  });

  it('draws the first samples with their labels, as PNG or SVG', () => {
    const data = loadDataset('synthetic', { synthetic: { size: 8, train: 20, val: 2, test: 2 } });
    const png = renderGridPng(data.train, { count: 6, cols: 3, scale: 2 });
    const ihdr = chunks(png)[0].data;
    const width = new DataView(ihdr.buffer, ihdr.byteOffset).getUint32(0);
    const pixels = inflateSync(chunks(png).find((c) => c.type === 'IDAT')!.data);
    // the first tile starts 4 pixels in; its top-left pixel is sample 0's pixel (0, 0) in R, G, B
    const row = 4 * (width * 3 + 1) + 1;
    const first = data.train.rawImage(0);
    expect(Array.from(pixels.subarray(row + 4 * 3, row + 4 * 3 + 3))).toEqual([first[0], first[64], first[128]]);
    const svg = renderGridSvg(data.train, { count: 5 });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<text /g)).toHaveLength(5);
    expect(svg).toContain(`>${data.train.labels[0]} class${data.train.labels[0]}</text>`);
  });
});
