/**
 * The comparison of an experiment grid: one row per strategy and setting point, with the Child's test
 * accuracy (mean ± std over seeds, 95 % bootstrap interval), the paired difference against the
 * reference row on the same seeds (CP-NAS at its base settings by default) with its interval, wins and
 * sign-flip p-value, the Parent's accuracy, the search seconds and the training images the search drew.
 * Markdown and CSV for people and spreadsheets; the rows themselves go to JSON.
 */
import { groupKey, pointLabel } from './grid.js';
import { pairedDifference, summarize, type PairedSummary, type Summary } from './stats.js';

/** One run's outcome (finished or failed). Accuracies are fractions 0-1. */
export interface ExperimentRecord {
  id: string;
  strategy: string;
  seed: number;
  point: { [key: string]: number };
  childAccuracy: number | null;
  parentAccuracy: number | null;
  searchSeconds: number | null;
  trainSeconds: number | null;
  /** Training images the search drew (null: unknown). */
  images: number | null;
  budget: 'matched' | 'capped' | 'unmatched' | 'none';
  error?: string;
}

export interface ExperimentRow {
  key: string;
  strategy: string;
  point: { [key: string]: number };
  runs: number;
  failed: number;
  child: Summary | null;
  parent: Summary | null;
  searchSeconds: Summary | null;
  images: Summary | null;
  /** Child accuracy minus the reference row's, paired by seed (null for the reference row itself). */
  vsReference: PairedSummary | null;
  budget: string;
}

export interface Reference {
  strategy: string;
  point: { [key: string]: number };
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

export function summarizeExperiment(records: readonly ExperimentRecord[], reference: Reference | null, opts?: { resamples?: number; seed?: number }): ExperimentRow[] {
  const groups = new Map<string, ExperimentRecord[]>();
  for (const r of records) {
    const k = groupKey(r);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const refKey = reference ? groupKey(reference) : null;
  const bySeed = (rs: readonly ExperimentRecord[]) => new Map(rs.filter((r) => !r.error && finite(r.childAccuracy)).map((r) => [r.seed, r.childAccuracy as number]));
  const refSeeds = refKey && groups.has(refKey) ? bySeed(groups.get(refKey)!) : null;
  return [...groups].map(([key, rs]) => {
    const ok = rs.filter((r) => !r.error);
    const budgets = [...new Set(rs.map((r) => r.budget))];
    return {
      key,
      strategy: rs[0].strategy,
      point: rs[0].point,
      runs: rs.length,
      failed: rs.length - ok.length,
      child: summarize(ok.map((r) => r.childAccuracy).filter(finite), opts),
      parent: summarize(ok.map((r) => r.parentAccuracy).filter(finite), opts),
      searchSeconds: summarize(ok.map((r) => r.searchSeconds).filter(finite), opts),
      images: summarize(ok.map((r) => r.images).filter(finite), opts),
      vsReference: refSeeds && key !== refKey ? pairedDifference(bySeed(rs), refSeeds, opts) : null,
      budget: budgets.join('/'),
    };
  });
}

const pct = (v: number) => (v * 100).toFixed(2);
const pp = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}`;

function accCell(s: Summary | null): string {
  if (!s) return '–';
  return s.n > 1 ? `${pct(s.mean)} ± ${pct(s.std)}` : pct(s.mean);
}

function ciCell(s: Summary | null): string {
  return s && s.n > 1 ? `[${pct(s.ciLow)}, ${pct(s.ciHigh)}]` : '–';
}

function diffCell(d: PairedSummary | null, isRef: boolean): string {
  if (isRef) return 'reference';
  if (!d) return '–';
  return `${pp(d.mean)} [${pp(d.ciLow)}, ${pp(d.ciHigh)}] ${d.wins}/${d.losses}${d.ties ? `/${d.ties}` : ''} p=${d.p.toFixed(2)}`;
}

function secCell(s: Summary | null): string {
  if (!s) return '–';
  return s.n > 1 ? `${s.mean.toFixed(1)} ± ${s.std.toFixed(1)}` : s.mean.toFixed(1);
}

function imagesCell(s: Summary | null): string {
  return s ? String(Math.round(s.mean)) : '–';
}

export const TABLE_COLUMNS = [
  'strategy', 'settings', 'seeds', 'Child acc. % (mean ± std)', 'Child 95 % CI', 'Δ Child vs reference, pp [95 % CI] wins/losses p',
  'Parent acc. %', 'search s', 'search images', 'budget',
] as const;

/** The Markdown table (columns aligned for a terminal). */
export function experimentMarkdown(rows: readonly ExperimentRow[], reference: Reference | null): string {
  const refKey = reference ? groupKey(reference) : null;
  const body = rows.map((r) => [
    r.strategy,
    pointLabel(r.point) ? Object.entries(r.point).map(([k, v]) => `${k}=${v}`).join(' ') : '–',
    r.failed ? `${r.runs - r.failed}/${r.runs}` : String(r.runs),
    accCell(r.child),
    ciCell(r.child),
    diffCell(r.vsReference, r.key === refKey),
    accCell(r.parent),
    secCell(r.searchSeconds),
    imagesCell(r.images),
    r.budget,
  ]);
  const header = [...TABLE_COLUMNS];
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? `${'-'.repeat(w + 2)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n') + '\n';
}

function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line per row, every number in full (accuracies as fractions). */
export function experimentCsv(rows: readonly ExperimentRow[]): string {
  const header = [
    'strategy', 'settings', 'runs', 'failed', 'child_mean', 'child_std', 'child_ci_low', 'child_ci_high',
    'diff_mean', 'diff_ci_low', 'diff_ci_high', 'diff_wins', 'diff_losses', 'diff_p', 'diff_seeds',
    'parent_mean', 'parent_std', 'search_seconds_mean', 'search_seconds_std', 'search_images_mean', 'budget',
  ];
  const lines = rows.map((r) => [
    r.strategy, Object.entries(r.point).map(([k, v]) => `${k}=${v}`).join(' '), r.runs, r.failed,
    r.child?.mean ?? null, r.child?.std ?? null, r.child?.ciLow ?? null, r.child?.ciHigh ?? null,
    r.vsReference?.mean ?? null, r.vsReference?.ciLow ?? null, r.vsReference?.ciHigh ?? null,
    r.vsReference?.wins ?? null, r.vsReference?.losses ?? null, r.vsReference?.p ?? null, r.vsReference?.seeds.length ?? null,
    r.parent?.mean ?? null, r.parent?.std ?? null, r.searchSeconds?.mean ?? null, r.searchSeconds?.std ?? null,
    r.images?.mean ?? null, r.budget,
  ].map(csvField).join(','));
  return [header.join(','), ...lines].join('\n') + '\n';
}
