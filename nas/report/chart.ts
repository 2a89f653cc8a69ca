/**
 * Line charts in SVG for the report: learning curves of the search and of the training stage, and the
 * small multiples of the indicator per edge. Axes with round tick values, one polyline per series, a
 * legend; nothing else.
 */
import { SERIES_COLORS, esc, num } from './xml.js';

export interface Series {
  name: string;
  /** `[x, y]` pairs; non-finite values are skipped (they break the line). */
  points: readonly (readonly [number, number])[];
  color?: string;
  dashed?: boolean;
}

export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Fixed y range; default: the data's, widened to round ticks. */
  yMin?: number;
  yMax?: number;
  /** Tick label format; default: short numbers. */
  yFormat?: (v: number) => string;
  xFormat?: (v: number) => string;
  /** Draw the legend (default: when there is more than one series). */
  legend?: boolean;
  /** Smaller fonts and margins for small multiples. */
  compact?: boolean;
}

/** Round tick values covering [lo, hi], about `target` of them. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi < lo) [lo, hi] = [hi, lo];
  // A flat (or numerically flat) range gets some room around it.
  if (hi - lo <= 1e-9 * Math.max(1, Math.abs(lo), Math.abs(hi))) {
    const pad = Math.abs(lo) < 1e-9 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  // ticks cover [lo, hi] exactly: the first at or below lo, the last at or above hi
  let start = Math.floor(lo / step) * step;
  if (start > lo) start -= step;
  const ticks: number[] = [];
  for (let i = 0; ticks.length < 2 || ticks[ticks.length - 1] < hi; i++) {
    ticks.push(Math.round(start / step + i) * step);
    if (ticks.length > 60) break;
  }
  return ticks;
}

/** Short tick labels: `0.25`, `1.5k`, `12`. */
export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${num(v / 1e6)}M`;
  if (a >= 1e4) return `${num(v / 1e3)}k`;
  if (a === 0 || a >= 1) return num(Math.round(v * 100) / 100);
  return String(Number(v.toPrecision(2)));
}

/** An SVG line chart. With no finite point it draws the axes and says `no data`. */
export function lineChart(series: readonly Series[], options: ChartOptions = {}): string {
  const compact = options.compact ?? false;
  const width = options.width ?? (compact ? 220 : 520);
  const height = options.height ?? (compact ? 140 : 300);
  const font = compact ? 9 : 11;
  const showLegend = options.legend ?? series.length > 1;
  const left = compact ? 34 : 52;
  const right = compact ? 8 : 14;
  const top = (options.title ? (compact ? 18 : 24) : 8) + (showLegend ? Math.ceil(series.length / (compact ? 3 : 4)) * (font + 5) : 0);
  const bottom = compact ? 22 : options.xLabel ? 40 : 26;
  const plotW = Math.max(10, width - left - right);
  const plotH = Math.max(10, height - top - bottom);

  const finite = series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const xs = finite.map((p) => p[0]);
  const ys = finite.map((p) => p[1]);
  const xTicks = finite.length ? niceTicks(Math.min(...xs), Math.max(...xs), compact ? 3 : 6) : [0, 1];
  const yTicks = niceTicks(options.yMin ?? (ys.length ? Math.min(...ys) : 0), options.yMax ?? (ys.length ? Math.max(...ys) : 1), compact ? 3 : 5);
  const x0 = xTicks[0];
  const x1 = xTicks[xTicks.length - 1];
  const y0 = options.yMin ?? yTicks[0];
  const y1 = options.yMax ?? yTicks[yTicks.length - 1];
  const sx = (x: number) => left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (y: number) => top + plotH - ((y - y0) / (y1 - y0 || 1)) * plotH;
  const fy = options.yFormat ?? shortNumber;
  const fx = options.xFormat ?? shortNumber;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="${font}" role="img" aria-label="${esc(options.title ?? 'chart')}">`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  if (options.title) {
    out.push(`<text x="${num(left + plotW / 2)}" y="${compact ? 12 : 16}" text-anchor="middle" font-weight="bold" font-size="${font + 1}">${esc(options.title)}</text>`);
  }
  // grid and ticks
  for (const t of yTicks) {
    if (t < y0 - 1e-12 || t > y1 + 1e-12) continue;
    const y = sy(t);
    out.push(`<line x1="${left}" y1="${num(y)}" x2="${num(left + plotW)}" y2="${num(y)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 4}" y="${num(y + font / 3)}" text-anchor="end" fill="#555">${esc(fy(t))}</text>`);
  }
  for (const t of xTicks) {
    const x = sx(t);
    out.push(`<line x1="${num(x)}" y1="${num(top + plotH)}" x2="${num(x)}" y2="${num(top + plotH + 4)}" stroke="#888"/>`);
    out.push(`<text x="${num(x)}" y="${num(top + plotH + 5 + font)}" text-anchor="middle" fill="#555">${esc(fx(t))}</text>`);
  }
  out.push(`<rect x="${left}" y="${top}" width="${num(plotW)}" height="${num(plotH)}" fill="none" stroke="#888"/>`);
  if (options.xLabel && !compact) {
    out.push(`<text x="${num(left + plotW / 2)}" y="${height - 6}" text-anchor="middle" fill="#333">${esc(options.xLabel)}</text>`);
  }
  if (options.yLabel && !compact) {
    out.push(`<text transform="translate(12 ${num(top + plotH / 2)}) rotate(-90)" text-anchor="middle" fill="#333">${esc(options.yLabel)}</text>`);
  }
  if (!finite.length) {
    out.push(`<text x="${num(left + plotW / 2)}" y="${num(top + plotH / 2)}" text-anchor="middle" fill="#999">no data</text>`);
  }

  series.forEach((s, i) => {
    const color = s.color ?? SERIES_COLORS[i % SERIES_COLORS.length];
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    // A non-finite value breaks the line into segments.
    const segments: string[][] = [[]];
    for (const [x, y] of s.points) {
      if (Number.isFinite(x) && Number.isFinite(y)) segments[segments.length - 1].push(`${num(sx(x))},${num(sy(y))}`);
      else if (segments[segments.length - 1].length) segments.push([]);
    }
    for (const seg of segments) {
      if (seg.length === 1) {
        const [cx, cy] = seg[0].split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}"><title>${esc(s.name)}</title></circle>`);
      } else if (seg.length > 1) {
        out.push(`<polyline points="${seg.join(' ')}" fill="none" stroke="${color}" stroke-width="${compact ? 1.3 : 1.8}"${dash}><title>${esc(s.name)}</title></polyline>`);
      }
    }
  });

  if (showLegend) {
    const perRow = compact ? 3 : 4;
    const colW = plotW / perRow;
    series.forEach((s, i) => {
      const color = s.color ?? SERIES_COLORS[i % SERIES_COLORS.length];
      const lx = left + (i % perRow) * colW;
      const ly = (options.title ? (compact ? 18 : 24) : 8) + Math.floor(i / perRow) * (font + 5) + font / 2;
      const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
      out.push(`<line x1="${num(lx)}" y1="${num(ly)}" x2="${num(lx + 14)}" y2="${num(ly)}" stroke="${color}" stroke-width="2"${dash}/>`);
      out.push(`<text x="${num(lx + 18)}" y="${num(ly + font / 3)}" fill="#333">${esc(s.name)}</text>`);
    });
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
