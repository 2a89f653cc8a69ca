/**
 * Line charts in SVG for the report: learning curves of the search and of the training stage, and the
 * small multiples of the indicator per edge. Axes with round tick values labelled at the precision of
 * their step (22.5 % stays 22.5 %), axis titles, one polyline per series with point markers where a
 * curve has few points, optional cross marks (an abandoned operation), a legend; nothing else.
 * A chart is data first (ChartSpec), so the same curves can be written as CSV beside the page.
 */
import { SERIES_COLORS, esc, num } from './xml.js';

export interface Series {
  name: string;
  /** `[x, y]` pairs; non-finite values are skipped (they break the line). */
  points: readonly (readonly [number, number])[];
  color?: string;
  dashed?: boolean;
  /** x values whose point gets a cross mark (e.g. the round an operation was abandoned). */
  crosses?: readonly number[];
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
  /** Tick label format, given the tick step; default: short numbers at the step's precision. */
  yFormat?: (v: number, step: number) => string;
  xFormat?: (v: number, step: number) => string;
  /** Integer x values (epochs, rounds): ticks at whole numbers only (default: when every x is one). */
  xInteger?: boolean;
  /** Draw a marker on every point (default: on curves with at most 12 points). */
  markers?: boolean;
  /** A horizontal reference line (e.g. 0 for values centred on the edge's mean). */
  yRule?: number;
  /** Draw the legend (default: when there is more than one series). */
  legend?: boolean;
  /** Smaller fonts and margins for small multiples. */
  compact?: boolean;
}

/**
 * Round tick values covering [lo, hi], about `target` of them. With `integer`, the step is a whole
 * number (epochs and rounds have no 2.5th), and a single value gets one unit either side.
 */
export function niceTicks(lo: number, hi: number, target = 5, integer = false): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi < lo) [lo, hi] = [hi, lo];
  // A flat (or numerically flat) range gets some room around it.
  if (hi - lo <= 1e-9 * Math.max(1, Math.abs(lo), Math.abs(hi))) {
    const pad = integer || Math.abs(lo) < 1e-9 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  if (integer) step = step < 1 ? 1 : step === 2.5 ? 2 : Math.round(step);
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

/** Decimals needed to write every multiple of `step` exactly: 0.025 -> 3, 2.5 -> 1, 20 -> 0. */
export function decimalsOf(step: number): number {
  if (!Number.isFinite(step) || step <= 0) return 2;
  for (let d = 0; d < 10; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 10;
}

/** Short tick labels at the step's precision: `0.25`, `1.5k`, `12`, `22.5`. */
export function shortNumber(v: number, step?: number): string {
  const a = Math.abs(v);
  if (a >= 1e6 && (step === undefined || step >= 1e5)) return `${num(v / 1e6)}M`;
  if (a >= 1e4 && (step === undefined || step >= 1e3)) return `${num(v / 1e3)}k`;
  if (step !== undefined) return fixed(v, decimalsOf(step));
  if (a === 0 || a >= 1) return num(Math.round(v * 100) / 100);
  return String(Number(v.toPrecision(2)));
}

/** A fraction as a percentage at the step's precision: ticks 0.225, 0.25 -> `22.5%`, `25.0%`. */
export function percentTick(v: number, step: number): string {
  return `${fixed(v * 100, decimalsOf(step * 100))}%`;
}

function fixed(v: number, decimals: number): string {
  const s = v.toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** The step between ticks (1 when there is only one). */
function stepOf(ticks: readonly number[]): number {
  return ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
}

/** A chart as data: what `lineChart` draws and what the report's CSV lists. */
export interface ChartSpec {
  series: readonly Series[];
  options: ChartOptions;
}

/** Draws a ChartSpec. */
export function renderChart(spec: ChartSpec): string {
  return lineChart(spec.series, spec.options);
}

/** CSV-quotes a field when it needs it. */
export function csvField(v: string | number): string {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Every point of every series of the charts, one row each: `section,chart,series,x,y`. */
export function chartsCsv(charts: readonly { section: string; spec: ChartSpec }[]): string {
  const rows = ['section,chart,series,x,y'];
  for (const { section, spec } of charts) {
    for (const s of spec.series) {
      for (const [x, y] of s.points) rows.push([section, spec.options.title ?? '', s.name, x, y].map(csvField).join(','));
    }
  }
  return rows.join('\n') + '\n';
}

/** An SVG line chart. With no finite point it draws the axes and says `no data`. */
export function lineChart(series: readonly Series[], options: ChartOptions = {}): string {
  const compact = options.compact ?? false;
  const width = options.width ?? (compact ? 220 : 520);
  const height = options.height ?? (compact ? 140 : 300);
  const font = compact ? 9 : 11;
  const showLegend = options.legend ?? series.length > 1;
  const left = (compact ? 34 : 52) + (compact && options.yLabel ? 10 : 0);
  const right = compact ? 8 : 14;
  const top = (options.title ? (compact ? 18 : 24) : 8) + (showLegend ? Math.ceil(series.length / (compact ? 3 : 4)) * (font + 5) : 0);
  const bottom = compact ? (options.xLabel ? 30 : 22) : options.xLabel ? 40 : 26;
  const plotW = Math.max(10, width - left - right);
  const plotH = Math.max(10, height - top - bottom);

  const finite = series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const xs = finite.map((p) => p[0]);
  const ys = finite.map((p) => p[1]);
  const xInteger = options.xInteger ?? (xs.length > 0 && xs.every(Number.isInteger));
  const xTicks = finite.length ? niceTicks(Math.min(...xs), Math.max(...xs), compact ? 3 : 6, xInteger) : [0, 1];
  const yTicks = niceTicks(options.yMin ?? (ys.length ? Math.min(...ys) : 0), options.yMax ?? (ys.length ? Math.max(...ys) : 1), compact ? 3 : 5);
  const xStep = stepOf(xTicks);
  const yStep = stepOf(yTicks);
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
    out.push(`<text x="${left - 4}" y="${num(y + font / 3)}" text-anchor="end" fill="#555">${esc(fy(t, yStep))}</text>`);
  }
  for (const t of xTicks) {
    const x = sx(t);
    out.push(`<line x1="${num(x)}" y1="${num(top + plotH)}" x2="${num(x)}" y2="${num(top + plotH + 4)}" stroke="#888"/>`);
    out.push(`<text x="${num(x)}" y="${num(top + plotH + 5 + font)}" text-anchor="middle" fill="#555">${esc(fx(t, xStep))}</text>`);
  }
  out.push(`<rect x="${left}" y="${top}" width="${num(plotW)}" height="${num(plotH)}" fill="none" stroke="#888"/>`);
  if (options.xLabel) {
    out.push(`<text class="axis-label" x="${num(left + plotW / 2)}" y="${height - (compact ? 3 : 6)}" text-anchor="middle" fill="#333">${esc(options.xLabel)}</text>`);
  }
  if (options.yLabel) {
    out.push(`<text class="axis-label" transform="translate(${compact ? 9 : 12} ${num(top + plotH / 2)}) rotate(-90)" text-anchor="middle" fill="#333">${esc(options.yLabel)}</text>`);
  }
  if (options.yRule !== undefined && options.yRule >= y0 && options.yRule <= y1) {
    out.push(`<line x1="${left}" y1="${num(sy(options.yRule))}" x2="${num(left + plotW)}" y2="${num(sy(options.yRule))}" stroke="#999" stroke-dasharray="2 2"/>`);
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
      if (seg.length > 1) {
        out.push(`<polyline points="${seg.join(' ')}" fill="none" stroke="${color}" stroke-width="${compact ? 1.3 : 1.8}"${dash}><title>${esc(s.name)}</title></polyline>`);
      }
    }
    // Markers where a line alone would hide the points: a single point, or a short curve.
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const mark = options.markers ?? pts.length <= 12;
    for (const [x, y] of pts) {
      const lone = segments.some((seg) => seg.length === 1 && seg[0] === `${num(sx(x))},${num(sy(y))}`);
      if (!mark && !lone) continue;
      out.push(`<circle class="point" cx="${num(sx(x))}" cy="${num(sy(y))}" r="${compact ? 2 : 2.6}" fill="${color}"><title>${esc(s.name)}: ${esc(fx(x, xStep))}, ${esc(fy(y, yStep / 10))}</title></circle>`);
    }
    for (const cx of s.crosses ?? []) {
      const p = pts.find(([x]) => x === cx);
      if (!p) continue;
      const X = sx(p[0]);
      const Y = sy(p[1]);
      const r = compact ? 3.5 : 4.5;
      out.push(`<path class="cross" d="M${num(X - r)},${num(Y - r)}L${num(X + r)},${num(Y + r)}M${num(X - r)},${num(Y + r)}L${num(X + r)},${num(Y - r)}" stroke="${color}" stroke-width="2"><title>${esc(s.name)} abandoned at ${esc(fx(p[0], xStep))}</title></path>`);
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
