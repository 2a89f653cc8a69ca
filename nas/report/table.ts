/**
 * The comparison table of an ablation (strategies x seeds on one budget), as in the paper's figure
 * comparing CP-NAS, BNAS, PC-DARTS and random search: Child accuracy mean ± std over the seeds, Parent
 * accuracy, search time. Markdown for people, JSON for programs.
 */

/** One finished (or failed) run of the ablation. Accuracies are fractions 0-1. */
export interface AblationRun {
  strategy: string;
  seed: number;
  childAccuracy: number | null;
  parentAccuracy: number | null;
  searchSeconds: number | null;
  trainSeconds: number | null;
  ops: number | null;
  outDir: string;
  /** Set when the run failed; its numbers are then null. */
  error?: string;
}

export interface Stat {
  mean: number;
  /** Sample standard deviation (n - 1); 0 for a single value. */
  std: number;
  n: number;
}

export interface AblationRow {
  strategy: string;
  runs: number;
  failed: number;
  childAccuracy: Stat | null;
  parentAccuracy: Stat | null;
  searchSeconds: Stat | null;
  trainSeconds: Stat | null;
  ops: Stat | null;
}

/** Mean and sample standard deviation of the finite values; null when there is none. */
export function stat(values: readonly (number | null | undefined)[]): Stat | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (!v.length) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std, n: v.length };
}

/** One row per strategy, in the order the strategies first appear. */
export function summarizeAblation(runs: readonly AblationRun[]): AblationRow[] {
  const strategies = [...new Set(runs.map((r) => r.strategy))];
  return strategies.map((strategy) => {
    const mine = runs.filter((r) => r.strategy === strategy);
    const ok = mine.filter((r) => !r.error);
    return {
      strategy,
      runs: mine.length,
      failed: mine.length - ok.length,
      childAccuracy: stat(ok.map((r) => r.childAccuracy)),
      parentAccuracy: stat(ok.map((r) => r.parentAccuracy)),
      searchSeconds: stat(ok.map((r) => r.searchSeconds)),
      trainSeconds: stat(ok.map((r) => r.trainSeconds)),
      ops: stat(ok.map((r) => r.ops)),
    };
  });
}

/** `93.12 ± 0.84` (percent) or `–`. */
export function pctStat(s: Stat | null): string {
  if (!s) return '–';
  return s.n > 1 ? `${(s.mean * 100).toFixed(2)} ± ${(s.std * 100).toFixed(2)}` : (s.mean * 100).toFixed(2);
}

function secStat(s: Stat | null): string {
  if (!s) return '–';
  return s.n > 1 ? `${s.mean.toFixed(1)} ± ${s.std.toFixed(1)}` : s.mean.toFixed(1);
}

function opsStat(s: Stat | null): string {
  if (!s) return '–';
  return s.mean >= 1e6 ? `${(s.mean / 1e6).toFixed(2)} M` : s.mean >= 1e3 ? `${(s.mean / 1e3).toFixed(1)} k` : String(Math.round(s.mean));
}

/** The Markdown table, columns aligned so it also reads well in a terminal. */
export function ablationMarkdown(rows: readonly AblationRow[]): string {
  const header = ['strategy', 'seeds', 'Child acc. % (mean ± std)', 'Parent acc. % (mean ± std)', 'search s', 'train s', 'Child OPs'];
  const body = rows.map((r) => [
    r.strategy,
    r.failed ? `${r.runs - r.failed}/${r.runs}` : String(r.runs),
    pctStat(r.childAccuracy),
    pctStat(r.parentAccuracy),
    secStat(r.searchSeconds),
    secStat(r.trainSeconds),
    opsStat(r.ops),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n') + '\n';
}

/** The JSON document: budget, every run and the summary rows. */
export function ablationJson(runs: readonly AblationRun[], rows: readonly AblationRow[], budget: unknown): object {
  return { budget, runs, summary: rows };
}
