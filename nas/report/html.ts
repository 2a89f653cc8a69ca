/**
 * report.html of a run: one self-contained page (inline CSS, inline SVG, the data inline as JSON; no
 * script, font or image from the network) with the results, the two cells, the indicator of every edge
 * over the rounds, the learning curves of the search and of the training, and the settings.
 */
import type { CellType, Genotype, HistoryRecord, RunResult, SearchSettings, TrainSettings } from '../types.js';
import { chartsCsv, renderChart, type ChartSpec } from './chart.js';
import { searchCurves, trainingCurves } from './curves.js';
import { budgetSummary, dnaRatingTables } from './family.js';
import { abandonmentTable, indicatorCharts, indicatorSeries, indicatorSmallMultiples, opLegend, opsOf } from './indicator.js';
import { cellSvg, edgesFromPairs } from './svg.js';
import { bytes, count, duration, esc, pct } from './xml.js';

export interface ReportInput {
  genotype: Genotype;
  history: readonly HistoryRecord[];
  /** Absent when only the search ran (`--no-train`). */
  result?: RunResult | null;
  searchSettings?: SearchSettings | null;
  trainSettings?: TrainSettings | null;
  dataset?: string;
  /** Files of the run folder, listed at the end. */
  files?: readonly string[];
  /** Search time when there is no result (search only). */
  searchSeconds?: number;
  /** ISO time stamp shown in the header (default: none, so that reports are reproducible). */
  createdAt?: string;
  /** Name of the CSV with every curve's points, written beside the page (linked when given). */
  csvFile?: string;
}

/** The CSV of every curve the report draws: `section,chart,series,x,y`, one row per point. */
export function reportCurvesCsv(input: Pick<ReportInput, 'genotype' | 'history'>): string {
  const charts: { section: string; spec: ChartSpec }[] = [];
  const ind = indicatorSeries(input.history);
  if (ind) {
    const kept = keptOps(input.genotype);
    for (const cell of ['normal', 'reduce'] as const) {
      for (const c of indicatorCharts(ind, cell, kept)) {
        charts.push({ section: `indicator ${cell} ${ind.centredLabel}`, spec: c.spec });
        // the raw quantity too, for whoever wants e(o) itself
        const raw = c.spec.series.map((s) => ({ ...s, points: ind.steps.map((st, i) => [st, ind.values[i][c.edge.key]?.[s.name] ?? Number.NaN] as const) }));
        charts.push({ section: `indicator ${cell} ${ind.quantity}`, spec: { series: raw, options: c.spec.options } });
      }
    }
  }
  for (const spec of searchCurves(input.history)) charts.push({ section: 'search', spec });
  for (const spec of trainingCurves(input.history)) charts.push({ section: 'training', spec });
  return chartsCsv(charts);
}

/** The SVG of one cell of a genotype. */
export function genotypeCellSvg(genotype: Genotype, cell: CellType, idPrefix: string = cell): string {
  const pairs = cell === 'normal' ? genotype.normal : genotype.reduce;
  const concat = cell === 'normal' ? genotype.normalConcat : genotype.reduceConcat;
  return cellSvg(edgesFromPairs(pairs), { title: `${cell === 'normal' ? 'Normal' : 'Reduction'} cell`, concat, idPrefix });
}

/** The kept operation of every edge, keyed `"normal:0-2"`. */
export function keptOps(genotype: Genotype): Map<string, string> {
  const kept = new Map<string, string>();
  for (const cell of ['normal', 'reduce'] as const) {
    for (const e of edgesFromPairs(cell === 'normal' ? genotype.normal : genotype.reduce)) kept.set(`${cell}:${e.from}-${e.to}`, e.op);
  }
  return kept;
}

/** The whole page. */
export function renderReportHtml(input: ReportInput): string {
  const { genotype, history, result } = input;
  const search = input.searchSettings ?? result?.settings.search ?? null;
  const train = input.trainSettings ?? result?.settings.train ?? null;
  const dataset = input.dataset ?? result?.dataset ?? '';
  const strategy = search?.strategy ?? '';
  const heading = `cpnas run${dataset ? ` · ${dataset}` : ''}${strategy ? ` · ${strategy}` : ''}`;

  const sections: string[] = [];
  sections.push(`<h1>${esc(heading)}</h1>`);
  if (input.createdAt) sections.push(`<p class="muted">${esc(input.createdAt)}</p>`);
  sections.push(section('Results', resultsTable(input) + budgetSummary(history)));

  sections.push(
    section(
      'Cells',
      `<div class="cells">${genotypeCellSvg(genotype, 'normal', 'rep-normal')}${genotypeCellSvg(genotype, 'reduce', 'rep-reduce')}</div>` +
        `<details><summary>genotype.json</summary><pre>${esc(JSON.stringify(genotype, null, 2))}</pre></details>`,
    ),
  );

  const ind = indicatorSeries(history);
  if (ind) {
    const kept = keptOps(genotype);
    const intro =
      ind.unit === 'round'
        ? '<p>What ranks the operations of every edge after each round: the mean credit z̄(o) of eq. 4.16 minus the mean over the edge\'s operations that round, in percentage points ' +
          '(the indicator e(o) = softmax(z̄) orders them the same way, but sits near 1/K for all of them; hover a point for its value, or see the CSV). ' +
          'Above the dotted zero line an operation does better than the edge\'s average; the lowest one is abandoned, marked ✕, and its line ends there. The title names the operation the edge kept in the genotype (two per node).</p>'
        : '<p>softmax(α) − 1/K of every operation of every edge after each epoch of the differentiable search, in percentage points: above the dotted line an operation weighs more than uniform.</p>';
    const body = (['normal', 'reduce'] as const)
      .map((cell) => {
        const table = abandonmentTable(ind, cell);
        return `<h3>${cell === 'normal' ? 'Normal' : 'Reduction'} cell</h3>${indicatorSmallMultiples(ind, cell, kept)}` +
          (table ? `<details><summary>Operation abandoned on each edge, per round</summary>${table}</details>` : '');
      })
      .join('');
    sections.push(section(`Indicator per edge (${ind.quantity} per ${ind.unit})`, intro + opLegend(opsOf(ind.values), ind.unit === 'round') + body, 'indicator'));
  }

  const sc = searchCurves(history);
  const tc = trainingCurves(history);
  if (sc.length || tc.length) {
    sections.push(
      section(
        'Learning curves',
        (sc.length ? `<h3>Search</h3><div class="charts">${sc.map(renderChart).join('')}</div>` : '') +
          (tc.length ? `<h3>Training</h3><div class="charts">${tc.map(renderChart).join('')}</div>` : '') +
          (input.csvFile ? `<p>Every curve of this page, point by point: <a href="${esc(input.csvFile)}">${esc(input.csvFile)}</a>.</p>` : ''),
      ),
    );
  }

  const dnaTables = dnaRatingTables(history);
  if (dnaTables) sections.push(section('dna: candidate ratings per block', dnaTables));

  const settings: string[] = [];
  if (search) settings.push(`<div><h3>Search</h3>${kvTable(search as unknown as Record<string, unknown>)}</div>`);
  if (train) settings.push(`<div><h3>Training</h3>${kvTable(train as unknown as Record<string, unknown>)}</div>`);
  if (settings.length) sections.push(section('Settings', `<div class="cols">${settings.join('')}</div>`));
  if (input.files?.length) {
    // relative links: they work wherever the run folder is opened from
    sections.push(section('Files', `<ul>${input.files.map((f) => `<li><a href="${esc(f.split('/').map(encodeURIComponent).join('/'))}"><code>${esc(f)}</code></a></li>`).join('')}</ul>`));
  }

  // The data behind the page, for whoever wants to re-plot it (JSON, `<` escaped so it cannot end the tag).
  const data = JSON.stringify({ result: result ?? null, genotype, history, searchSettings: search, trainSettings: train }).replace(/</g, '\\u003c');

  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(heading)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    ...sections.map(inlineSvg),
    `<script type="application/json" id="cpnas-data">${data}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function resultsTable(input: ReportInput): string {
  const r = input.result;
  if (!r) {
    const secs = input.searchSeconds ?? lastGenotypeSeconds(input.history);
    return `<p>Search only (no training stage)${secs !== undefined ? `; search time ${esc(duration(secs))}` : ''}.</p>`;
  }
  const row = (name: string, m: RunResult['child']) =>
    `<tr><th>${name}</th><td>${esc(pct(m.testAccuracy))}</td><td>${esc(count(m.ops))}</td><td>${esc(count(m.bops))}</td><td>${esc(count(m.flops))}</td>` +
    `<td>${esc(count(m.fpParams))}</td><td>${esc(count(m.binaryParams))}</td><td>${esc(bytes(m.sizeBytes))}</td></tr>`;
  return (
    '<table class="results"><thead><tr><th></th><th>test accuracy</th><th>OPs</th><th>BOPs</th><th>FLOPs</th><th>fp params</th><th>1-bit params</th><th>size</th></tr></thead>' +
    `<tbody>${row('Child (1-bit)', r.child)}${row('Parent (full precision)', r.parent)}</tbody></table>` +
    `<p>Search time <b>${esc(duration(r.searchSeconds))}</b> · training time <b>${esc(duration(r.trainSeconds))}</b> · seed ${esc(r.seed)}` +
    `${r.inputShape ? ` · input ${esc(r.inputShape.join('×'))}` : ''}${r.numClasses ? ` · ${esc(r.numClasses)} classes` : ''}. OPs = BOPs / 64 + FLOPs.</p>`
  );
}

function lastGenotypeSeconds(history: readonly HistoryRecord[]): number | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const r = history[i];
    if (r.type === 'genotype') return r.searchSeconds;
  }
  return undefined;
}

function kvTable(obj: Record<string, unknown>): string {
  const rows = Object.entries(obj).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))}</td></tr>`);
  return `<table class="kv"><tbody>${rows.join('')}</tbody></table>`;
}

function section(title: string, body: string, id?: string): string {
  return `<section${id ? ` id="${id}"` : ''}><h2>${esc(title)}</h2>${body}</section>`;
}

/** SVG placed inside HTML needs no namespace declaration; dropping it keeps the page free of URLs. */
function inlineSvg(html: string): string {
  return html.replaceAll(' xmlns="http://www.w3.org/2000/svg"', '');
}

const CSS = `
body { font-family: Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1180px; padding: 0 16px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; } h3 { font-size: 15px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; }
table.results td { text-align: right; } table.kv th { font-weight: normal; color: #555; }
.muted { color: #777; } .cells, .charts, .cols { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(224px, 1fr)); gap: 6px; }
figure { margin: 0; } pre { background: #f6f6f6; padding: 8px; font-size: 12px; overflow: auto; }
.legend span { margin-right: 12px; font-size: 12px; white-space: nowrap; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }
.legend b.x { margin-right: 4px; }
table.abandon td { font-size: 12px; }
`;
