/**
 * The small pieces every report shares: XML escaping, number formatting and a stable colour per
 * operation name. Reports are built as strings, so escaping happens in one place.
 */

/** Escapes text for XML/HTML element content and attribute values. */
export function esc(text: string | number): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A coordinate with at most 2 decimals, so SVG stays short and diffs stay stable. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return '0';
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

/** A fraction 0-1 as a percentage with 2 decimals (`0.9527` -> `95.27 %`); `–` when unknown. */
export function pct(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)} %`;
}

/** Seconds as `42.1 s`, `3 min 05 s` or `2 h 03 min`. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Bytes as `812 B`, `12.3 KiB`, `4.56 MiB`. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(2)} MiB`;
}

/** A large count as `1.23 M`, `45.6 k`, `789`. */
export function count(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(Math.round(n));
}

/**
 * Colours of the DARTS primitives, eight distinct hues (Tableau 10 minus the greys, and black for
 * `none`, so that `none` and `skip_connect` never look alike); an operation added through the registry
 * gets one from its name.
 */
const OP_COLORS: Record<string, string> = {
  none: '#222222',
  max_pool_3x3: '#1f77b4',
  avg_pool_3x3: '#17becf',
  skip_connect: '#e377c2',
  sep_conv_3x3: '#d62728',
  sep_conv_5x5: '#ff7f0e',
  dil_conv_3x3: '#2ca02c',
  dil_conv_5x5: '#9467bd',
};

/** A stable colour for an operation (or a series) name. */
export function colorOf(name: string): string {
  const known = OP_COLORS[name];
  if (known) return known;
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return `hsl(${h % 360}, 60%, 42%)`;
}

/** Series colours for charts, in order. */
export const SERIES_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
