/**
 * The indicator of every edge over the rounds, as small multiples (one line chart per edge, one line
 * per operation, ending with a cross in the round that abandoned it) and as a table of what each
 * round abandoned. For darts the same charts show softmax(alpha) per epoch.
 *
 * What is plotted is what ranks the operations, centred on the edge: for cp / bnas the mean credit
 * z̄(o) of eq. 4.16 minus the mean over the edge's operations that round, in percentage points. The
 * softmax e(o) is monotone in z̄(o), so the order is the same, but e(o) itself sits at about 1/K for
 * every operation (0.3350 against 0.3314) and would draw K lines on top of each other. For darts it is
 * softmax(α) − 1/K. The raw e(o) stays in the tooltips, the abandonment table and the CSV.
 */
import type { ArchWeightsRecord, CellType, EdgeOpValues, HistoryRecord, RoundRecord } from '../types.js';
import { renderChart, type ChartSpec, type Series } from './chart.js';
import { colorOf, esc } from './xml.js';

export interface ParsedEdge {
  key: string;
  cell: CellType;
  from: number;
  to: number;
}

/** Reads `"normal:0-2"`; null for a key of another form. */
export function parseEdge(key: string): ParsedEdge | null {
  const m = /^(normal|reduce):(\d+)-(\d+)$/.exec(key);
  return m ? { key, cell: m[1] as CellType, from: Number(m[2]), to: Number(m[3]) } : null;
}

/** `c_{k-2} → 0` style name of an edge. */
export function edgeTitle(e: ParsedEdge): string {
  const node = (n: number) => (n === 0 ? 'c_{k-2}' : n === 1 ? 'c_{k-1}' : String(n - 2));
  return `${node(e.from)} → ${node(e.to)}`;
}

/** The edges of one cell type that appear in the values, ordered by target then source node. */
export function edgesOf(cell: CellType, snapshots: readonly EdgeOpValues[]): ParsedEdge[] {
  const keys = new Set<string>();
  for (const s of snapshots) for (const k of Object.keys(s)) keys.add(k);
  return [...keys]
    .map(parseEdge)
    .filter((e): e is ParsedEdge => e !== null && e.cell === cell)
    .sort((a, b) => a.to - b.to || a.from - b.from);
}

/** One indicator snapshot per round (cp / bnas) or per epoch (darts alpha). */
export interface IndicatorSeries {
  /** `round` or `epoch`. */
  unit: string;
  /** Quantity shown: `e(o)` (eq. 4.16) or `softmax(α)`. */
  quantity: string;
  steps: number[];
  values: EdgeOpValues[];
  /** Per step, what ranks the operations, centred on the edge (see the file's header). */
  centred: EdgeOpValues[];
  /** Axis title of `centred`. */
  centredLabel: string;
  /** Per step, the operation abandoned on each edge (cp / bnas only). */
  abandoned: ({ [edge: string]: string } | null)[];
}

/** Gathers the indicator snapshots of a history; null when it holds none (random search). */
export function indicatorSeries(history: readonly HistoryRecord[]): IndicatorSeries | null {
  const rounds = history.filter((r): r is RoundRecord => r.type === 'round').sort((a, b) => a.round - b.round);
  if (rounds.length) {
    // bnas abandons by its UCB score, so that is what ranks its operations; histories written before
    // meanCredit was recorded fall back to e(o) − 1/K.
    const ucb = rounds[0].strategy === 'bnas';
    const credit = !ucb && rounds.every((r) => r.meanCredit && Object.keys(r.meanCredit).length);
    return {
      unit: 'round',
      quantity: rounds[0].strategy === 'bnas' ? 'UCB score m + c·sqrt(2 ln N / n)' : 'e(o)',
      steps: rounds.map((r) => r.round),
      values: rounds.map((r) => r.indicator),
      centred: rounds.map((r) => centre(credit ? r.meanCredit : r.indicator)),
      centredLabel: ucb ? 'UCB − edge mean (×100)' : credit ? 'z̄ − edge mean (pp)' : 'e(o) − 1/K (pp)',
      abandoned: rounds.map((r) => r.abandoned),
    };
  }
  const alphas = history.filter((r): r is ArchWeightsRecord => r.type === 'alpha').sort((a, b) => a.epoch - b.epoch);
  if (alphas.length) {
    return {
      unit: 'epoch', quantity: 'softmax(α)', steps: alphas.map((r) => r.epoch), values: alphas.map((r) => r.weights),
      centred: alphas.map((r) => centre(r.weights)), centredLabel: 'softmax(α) − 1/K (pp)', abandoned: alphas.map(() => null),
    };
  }
  return null;
}

/** Each edge's values minus their mean over the edge, in percentage points (x 100). */
export function centre(values: EdgeOpValues): EdgeOpValues {
  const out: EdgeOpValues = {};
  for (const [edge, perOp] of Object.entries(values)) {
    const ops = Object.keys(perOp);
    const mean = ops.reduce((a, o) => a + perOp[o], 0) / Math.max(1, ops.length);
    out[edge] = Object.fromEntries(ops.map((o) => [o, (perOp[o] - mean) * 100]));
  }
  return out;
}

/** The operation names that appear in the snapshots, in first-seen order. */
export function opsOf(values: readonly EdgeOpValues[]): string[] {
  const ops: string[] = [];
  for (const snap of values) for (const perOp of Object.values(snap)) for (const op of Object.keys(perOp)) if (!ops.includes(op)) ops.push(op);
  return ops;
}

/** The chart of every edge of one cell type: one line per operation, a cross where it was abandoned. */
export function indicatorCharts(ind: IndicatorSeries, cell: CellType, kept?: Map<string, string>): { edge: ParsedEdge; spec: ChartSpec }[] {
  const ops = opsOf(ind.values);
  return edgesOf(cell, ind.values).map((edge) => {
    const series: Series[] = ops
      .filter((op) => ind.centred.some((v) => v[edge.key]?.[op] !== undefined))
      .map((op) => ({
        name: op,
        color: colorOf(op),
        points: ind.steps.map((s, i) => [s, ind.centred[i][edge.key]?.[op] ?? Number.NaN] as const),
        crosses: ind.steps.filter((_, i) => ind.abandoned[i]?.[edge.key] === op),
      }));
    const keptOp = kept?.get(edge.key);
    const title = `${edgeTitle(edge)}${keptOp ? `: ${keptOp}` : ''}`;
    return {
      edge,
      spec: { series, options: { compact: true, legend: false, title, width: 236, height: 150, xLabel: ind.unit, yLabel: ind.centredLabel, yRule: 0, markers: true } },
    };
  });
}

/** Small multiples for one cell type: a grid of compact line charts, one per edge. */
export function indicatorSmallMultiples(ind: IndicatorSeries, cell: CellType, kept?: Map<string, string>): string {
  const charts = indicatorCharts(ind, cell, kept);
  if (!charts.length) return '<p class="muted">No indicator recorded for this cell.</p>';
  return `<div class="grid">${charts.map((c) => `<figure class="multiple">${renderChart(c.spec)}</figure>`).join('')}</div>`;
}

/** The legend shared by the small multiples: one colour per operation, and the abandonment cross. */
export function opLegend(ops: readonly string[], crosses = true): string {
  const items = ops.map((op) => `<span><i style="background:${colorOf(op)}"></i>${esc(op)}</span>`);
  if (crosses) items.push('<span><b class="x">✕</b>abandoned in that round</span>');
  return `<p class="legend">${items.join(' ')}</p>`;
}

/** Table: rows are the edges of a cell, columns the rounds, each cell the operation abandoned then. */
export function abandonmentTable(ind: IndicatorSeries, cell: CellType): string {
  if (!ind.abandoned.some((a) => a)) return '';
  const edges = edgesOf(cell, ind.values);
  const head = `<tr><th>edge</th>${ind.steps.map((s) => `<th>${esc(ind.unit)} ${s}</th>`).join('')}</tr>`;
  const rows = edges.map((e) => {
    const cells = ind.abandoned.map((a, i) => {
      const op = a?.[e.key];
      const value = op !== undefined ? ind.values[i][e.key]?.[op] : undefined;
      return op
        ? `<td style="color:${colorOf(op)}" title="e = ${value === undefined ? '?' : value.toFixed(4)}">${esc(op)}</td>`
        : '<td></td>';
    });
    return `<tr><th>${esc(edgeTitle(e))}</th>${cells.join('')}</tr>`;
  });
  return `<table class="abandon"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}
