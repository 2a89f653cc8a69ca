/**
 * ablation.html: the experiment on one self-contained page (no script, no external file): the budget
 * statement, the comparison table, the curve of the Child's accuracy against every swept setting (the
 * paper's beta curve) with its 95 % bootstrap band, and the search seconds per strategy (the paper's
 * search-cost claim is about these).
 */
import { lineChart, type Series } from '../report/chart.js';
import { colorOf, esc } from '../report/xml.js';
import { groupKey, pointLabel } from './grid.js';
import type { ExperimentRow, Reference } from './table.js';

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){text-align:left}th{background:#f4f4f4}
.ref{background:#eef6ff}.muted{color:#666}svg{margin:.5em 1em .5em 0}`;

const pct = (v: number) => (v * 100).toFixed(2);

function rowHtml(r: ExperimentRow, isRef: boolean): string {
  const c = r.child;
  const d = r.vsReference;
  const cells = [
    esc(r.strategy),
    esc(pointLabel(r.point) ? Object.entries(r.point).map(([k, v]) => `${k}=${v}`).join(' ') : '–'),
    r.failed ? `${r.runs - r.failed}/${r.runs}` : String(r.runs),
    c ? `${pct(c.mean)}${c.n > 1 ? ` ± ${pct(c.std)}` : ''}` : '–',
    c && c.n > 1 ? `[${pct(c.ciLow)}, ${pct(c.ciHigh)}]` : '–',
    isRef ? 'reference' : d ? `${(d.mean * 100).toFixed(2)} [${(d.ciLow * 100).toFixed(2)}, ${(d.ciHigh * 100).toFixed(2)}]` : '–',
    isRef || !d ? '–' : `${d.wins}/${d.losses}${d.ties ? `/${d.ties}` : ''}`,
    isRef || !d ? '–' : d.p.toFixed(3),
    r.parent ? pct(r.parent.mean) : '–',
    r.searchSeconds ? `${r.searchSeconds.mean.toFixed(1)}${r.searchSeconds.n > 1 ? ` ± ${r.searchSeconds.std.toFixed(1)}` : ''}` : '–',
    r.images ? String(Math.round(r.images.mean)) : '–',
    esc(r.budget),
  ];
  return `<tr${isRef ? ' class="ref"' : ''}>${cells.map((x) => `<td>${x}</td>`).join('')}</tr>`;
}

/** Child accuracy against each swept setting, one line per strategy (other swept settings at one value). */
function curves(rows: readonly ExperimentRow[]): string[] {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.point)))];
  const charts: string[] = [];
  for (const key of keys) {
    const series: Series[] = [];
    const byLine = new Map<string, ExperimentRow[]>();
    for (const r of rows) {
      if (!(key in r.point) || !r.child) continue;
      const others = Object.entries(r.point).filter(([k]) => k !== key).map(([k, v]) => `${k}=${v}`).join(' ');
      const line = `${r.strategy}${others ? ` (${others})` : ''}`;
      if (!byLine.has(line)) byLine.set(line, []);
      byLine.get(line)!.push(r);
    }
    for (const [line, rs] of byLine) {
      const sorted = [...rs].sort((a, b) => a.point[key] - b.point[key]);
      const color = colorOf(line);
      series.push({ name: `${line}: mean`, color, points: sorted.map((r) => [r.point[key], r.child!.mean * 100]) });
      if (sorted.some((r) => r.child!.n > 1)) {
        series.push({ name: `${line}: 95 % CI`, color, dashed: true, points: sorted.map((r) => [r.point[key], r.child!.ciLow * 100]) });
        series.push({ name: `${line}: 95 % CI `, color, dashed: true, points: sorted.map((r) => [r.point[key], r.child!.ciHigh * 100]) });
      }
    }
    if (series.length) charts.push(lineChart(series, { title: `Child test accuracy (%) against ${key}`, xLabel: key, yLabel: '%', legend: true }));
  }
  return charts;
}

/** Horizontal bars: mean search seconds of every row, with its std as a whisker. */
function secondsBars(rows: readonly ExperimentRow[]): string {
  const rs = rows.filter((r) => r.searchSeconds);
  if (!rs.length) return '';
  const max = Math.max(...rs.map((r) => r.searchSeconds!.mean + r.searchSeconds!.std), 1e-9);
  const labelW = 220, barW = 420, h = 20;
  const height = rs.length * h + 30;
  const bars = rs.map((r, i) => {
    const s = r.searchSeconds!;
    const y = 10 + i * h;
    const w = (s.mean / max) * barW;
    const whisker = s.n > 1 ? `<line x1="${labelW + ((s.mean - s.std) / max) * barW}" x2="${labelW + ((s.mean + s.std) / max) * barW}" y1="${y + 7}" y2="${y + 7}" stroke="#333"/>` : '';
    return `<text x="${labelW - 6}" y="${y + 11}" text-anchor="end" font-size="11">${esc(r.key)}</text>` +
      `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="14" fill="${colorOf(r.strategy)}"/>${whisker}` +
      `<text x="${labelW + w + 4}" y="${y + 11}" font-size="11">${s.mean.toFixed(1)} s</text>`;
  }).join('');
  return `<svg width="${labelW + barW + 80}" height="${height}" viewBox="0 0 ${labelW + barW + 80} ${height}">${bars}</svg>`;
}

export function experimentHtml(input: { title: string; budgetLines: string[]; rows: readonly ExperimentRow[]; reference: Reference | null; createdAt?: string }): string {
  const refKey = input.reference ? groupKey(input.reference) : null;
  const head = ['strategy', 'settings', 'seeds', 'Child acc. % (mean ± std)', 'Child 95 % CI', 'Δ vs reference, pp [95 % CI]', 'wins/losses', 'p (sign flip)', 'Parent acc. %', 'search s', 'search images', 'budget'];
  const table = `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${input.rows.map((r) => rowHtml(r, r.key === refKey)).join('')}</table>`;
  const charts = curves(input.rows);
  const body = [
    `<h1>${esc(input.title)}</h1>`,
    input.createdAt ? `<p class="muted">${esc(input.createdAt)}</p>` : '',
    `<section><h2>Budget</h2><ul>${input.budgetLines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul></section>`,
    `<section><h2>Child and Parent test accuracy</h2><p>Mean ± sample std over seeds; 95 % percentile bootstrap interval of the mean; the difference to the reference row is paired by seed (its interval resamples seeds; p is the two-sided sign-flip test).</p>${table}</section>`,
    charts.length ? `<section><h2>Accuracy against the swept settings</h2>${charts.join('')}</section>` : '',
    `<section><h2>Search seconds</h2>${secondsBars(input.rows)}</section>`,
  ].join('\n');
  return ['<!doctype html>', '<html lang="en">', '<head>', '<meta charset="utf-8">', `<title>${esc(input.title)}</title>`, `<style>${CSS}</style>`, '</head>', '<body>',
    body.replaceAll(' xmlns="http://www.w3.org/2000/svg"', ''), '</body>', '</html>', ''].join('\n');
}
