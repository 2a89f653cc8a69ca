/**
 * The indicator of every edge over the rounds, as small multiples (one line chart per edge, one line
 * per operation, ending when the operation is abandoned) and as a table of what each round abandoned.
 * For darts the same charts show softmax(alpha) per epoch.
 */
import type { ArchWeightsRecord, CellType, EdgeOpValues, HistoryRecord, RoundRecord } from '../types.js';
import { lineChart, type Series } from './chart.js';
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
  /** Per step, the operation abandoned on each edge (cp / bnas only). */
  abandoned: ({ [edge: string]: string } | null)[];
}

/** Gathers the indicator snapshots of a history; null when it holds none (random search). */
export function indicatorSeries(history: readonly HistoryRecord[]): IndicatorSeries | null {
  const rounds = history.filter((r): r is RoundRecord => r.type === 'round').sort((a, b) => a.round - b.round);
  if (rounds.length) {
    return {
      unit: 'round',
      quantity: rounds[0].strategy === 'bnas' ? 'UCB score m + c·sqrt(2 ln N / n)' : 'e(o)',
      steps: rounds.map((r) => r.round),
      values: rounds.map((r) => r.indicator),
      abandoned: rounds.map((r) => r.abandoned),
    };
  }
  const alphas = history.filter((r): r is ArchWeightsRecord => r.type === 'alpha').sort((a, b) => a.epoch - b.epoch);
  if (alphas.length) {
    return { unit: 'epoch', quantity: 'softmax(α)', steps: alphas.map((r) => r.epoch), values: alphas.map((r) => r.weights), abandoned: alphas.map(() => null) };
  }
  return null;
}

/** The operation names that appear in the snapshots, in first-seen order. */
export function opsOf(values: readonly EdgeOpValues[]): string[] {
  const ops: string[] = [];
  for (const snap of values) for (const perOp of Object.values(snap)) for (const op of Object.keys(perOp)) if (!ops.includes(op)) ops.push(op);
  return ops;
}

/** Small multiples for one cell type: a grid of compact line charts, one per edge. */
export function indicatorSmallMultiples(ind: IndicatorSeries, cell: CellType, kept?: Map<string, string>): string {
  const edges = edgesOf(cell, ind.values);
  if (!edges.length) return '<p class="muted">No indicator recorded for this cell.</p>';
  const ops = opsOf(ind.values);
  const charts = edges.map((edge) => {
    const series: Series[] = ops
      .filter((op) => ind.values.some((v) => v[edge.key]?.[op] !== undefined))
      .map((op) => ({
        name: op,
        color: colorOf(op),
        points: ind.steps.map((s, i) => [s, ind.values[i][edge.key]?.[op] ?? Number.NaN] as const),
      }));
    const keptOp = kept?.get(edge.key);
    const title = `${edgeTitle(edge)}${keptOp ? `: ${keptOp}` : ''}`;
    return `<figure class="multiple">${lineChart(series, { compact: true, legend: false, title, width: 220, height: 130 })}</figure>`;
  });
  return `<div class="grid">${charts.join('')}</div>`;
}

/** The legend shared by the small multiples: one colour per operation. */
export function opLegend(ops: readonly string[]): string {
  return `<p class="legend">${ops.map((op) => `<span><i style="background:${colorOf(op)}"></i>${esc(op)}</span>`).join(' ')}</p>`;
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
