/**
 * The report's pieces for the CP-NAS family's other strategies and for budgets: the KL term, the
 * cross-entropy and the gradient discrepancy D of a dcp search per architecture step; the per-block
 * feature losses and the candidate ratings of a dna search; and the budget of a search against the
 * genotype's OPs and bytes.
 */
import type { BudgetRecord, DcpStepRecord, DnaBlockRecord, DnaRatingRecord, HistoryRecord } from '../types.js';
import type { ChartSpec, Series } from './chart.js';
import { esc } from './xml.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#7f7f7f'];

/** dcp: the KL term, CE and D of the Child's architecture steps; the Parent's CE. */
export function dcpCurves(history: readonly HistoryRecord[]): ChartSpec[] {
  const steps = history.filter((r): r is DcpStepRecord => r.type === 'dcp');
  if (!steps.length) return [];
  const child = steps.filter((r) => r.phase === 'child'), parent = steps.filter((r) => r.phase === 'parent');
  const at = (rs: DcpStepRecord[], f: (r: DcpStepRecord) => number) => rs.map((r, i) => [i + 1, f(r)] as const);
  const loss: Series[] = [
    { name: 'KL(Parent || Child)', points: at(child, (r) => r.kl), color: COLORS[2] },
    { name: 'Child CE', points: at(child, (r) => r.ce), color: COLORS[1] },
    { name: 'Parent CE', points: at(parent, (r) => r.ce), color: COLORS[0], dashed: true },
  ];
  return [
    { series: loss, options: { title: 'dcp: the Child-Parent KL term and the cross-entropies (validation batch of each step)', xLabel: 'architecture step', yLabel: 'loss' } },
    {
      series: [{ name: 'D = ||dG/dα̂ − dF_P/dα||²', points: at(child, (r) => r.discrepancy), color: COLORS[3] }],
      options: { title: 'dcp: the gradient discrepancy of tangent propagation (eq. 4.31)', xLabel: 'Child architecture step', yLabel: 'D', legend: false },
    },
  ];
}

/** dna: every block's feature loss per training epoch, and the sorted losses of its rated paths. */
export function dnaCurves(history: readonly HistoryRecord[]): ChartSpec[] {
  const blocks = history.filter((r): r is DnaBlockRecord => r.type === 'dna-block');
  const ratings = history.filter((r): r is DnaRatingRecord => r.type === 'dna-rating');
  const charts: ChartSpec[] = [];
  if (blocks.length) {
    charts.push({
      series: blocks.map((b) => ({ name: `block ${b.block + 1} (cells ${b.cells.join(', ')})`, points: b.losses.map((l, i) => [i + 1, l] as const), color: COLORS[b.block % COLORS.length] })),
      options: { title: 'dna: feature loss of each block against the Parent (MSE of standardized maps, sampled paths)', xLabel: 'epoch', yLabel: 'loss' },
    });
  }
  if (ratings.length) {
    charts.push({
      series: ratings.map((r) => ({ name: `block ${r.block + 1}`, points: r.paths.map((p) => p.loss).sort((a, b) => a - b).map((l, i) => [i + 1, l] as const), color: COLORS[r.block % COLORS.length] })),
      options: { title: 'dna: rated paths of each block, best first (validation feature loss)', xLabel: 'path rank', yLabel: 'loss' },
    });
  }
  return charts;
}

/** dna: the rating of every (edge, operation) of every block, the best of each edge in bold. */
export function dnaRatingTables(history: readonly HistoryRecord[]): string {
  const ratings = history.filter((r): r is DnaRatingRecord => r.type === 'dna-rating');
  return ratings.map((r) => {
    const edges = Object.keys(r.ratings);
    const ops = edges.length ? Object.keys(r.ratings[edges[0]]) : [];
    const rows = edges.map((e) => {
      const row = r.ratings[e];
      const best = Math.min(...ops.map((o) => row[o]));
      return `<tr><th>${esc(e)}</th>${ops.map((o) => `<td>${row[o] === best ? '<b>' : ''}${esc(row[o].toFixed(4))}${row[o] === best ? '</b>' : ''}</td>`).join('')}</tr>`;
    }).join('');
    return `<h3>Block ${r.block + 1}: mean loss of the paths using each candidate (lower is better)</h3>`
      + `<table class="results"><thead><tr><th>edge</th>${ops.map((o) => `<th>${esc(o)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>`;
  }).join('');
}

/** The budget of the search and the genotype's OPs and bytes (empty without a budget). */
export function budgetSummary(history: readonly HistoryRecord[]): string {
  const b = history.filter((r): r is BudgetRecord => r.type === 'budget').pop();
  if (!b) return '';
  const parts: string[] = [];
  if (b.maxOps !== null) parts.push(`OPs ${Math.round(b.ops).toLocaleString('en-US')} of at most ${b.maxOps.toLocaleString('en-US')}`);
  if (b.maxBytes !== null) parts.push(`size ${b.bytes.toLocaleString('en-US')} bytes of at most ${b.maxBytes.toLocaleString('en-US')}`);
  const notes: string[] = [];
  if (b.excluded.length) notes.push(`left out of the search because they fit nowhere: ${b.excluded.join(', ')}`);
  if (b.rederived) notes.push(`the strategy's own genotype was over the budget and was re-derived under it${b.optimal === false ? ' (best found, optimality not proven)' : ''}`);
  return `<p><b>Budget</b> (final 1-bit Child): ${esc(parts.join(' · '))}${notes.length ? `; ${esc(notes.join('; '))}` : ''}.</p>`;
}
