/**
 * The statistics of an experiment grid, small enough to check by hand:
 * - mean and sample standard deviation (n - 1);
 * - a 95 % percentile bootstrap confidence interval of the mean (Efron & Tibshirani, "An Introduction
 *   to the Bootstrap", ch. 13): B resamples with replacement of the n values, the 2.5th and 97.5th
 *   percentiles of their means (linear interpolation between order statistics, as numpy's default);
 *   the resampling draws from a seeded generator, so a table is reproducible;
 * - paired differences: for two strategies run on the same seeds, the per-seed differences d_s = a_s - b_s,
 *   their mean, std and bootstrap interval (resampling seeds, which keeps each pair together), the number
 *   of seeds where a wins, and the two-sided sign-flip (permutation) p-value of the mean difference,
 *   exact over all 2^n sign patterns for n <= 16.
 * With one value the interval is that value (no spread can be estimated); with none, null.
 */
import { CpnasError, Random } from '../../core/index.js';

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1); 0 for one value. */
  std: number;
  /** 95 % bootstrap interval of the mean. */
  ciLow: number;
  ciHigh: number;
}

export interface PairedSummary extends Summary {
  /** Seeds where the first is higher, lower, equal. */
  wins: number;
  losses: number;
  ties: number;
  /** Two-sided sign-flip p-value of the mean difference (1 when n = 0 or every difference is 0). */
  p: number;
  /** The seeds paired. */
  seeds: number[];
}

export const DEFAULT_BOOTSTRAP = { resamples: 10000, seed: 0, level: 0.95 } as const;

export function mean(v: readonly number[]): number {
  if (!v.length) throw new CpnasError('mean', 'needs at least one value');
  let s = 0;
  for (const x of v) s += x;
  return s / v.length;
}

/** Sample standard deviation (n - 1); 0 for a single value. */
export function std(v: readonly number[]): number {
  if (v.length < 2) return 0;
  const m = mean(v);
  let s = 0;
  for (const x of v) s += (x - m) ** 2;
  return Math.sqrt(s / (v.length - 1));
}

/** The q-quantile (0..1) of sorted values, interpolating linearly between order statistics. */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) throw new CpnasError('quantile', 'needs at least one value');
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Percentile bootstrap interval of the mean. */
export function bootstrapCI(
  values: readonly number[], opts: { resamples?: number; seed?: number; level?: number } = {},
): [number, number] {
  const n = values.length;
  if (!n) throw new CpnasError('bootstrapCI', 'needs at least one value');
  const B = opts.resamples ?? DEFAULT_BOOTSTRAP.resamples;
  const level = opts.level ?? DEFAULT_BOOTSTRAP.level;
  if (!(level > 0 && level < 1)) throw new CpnasError('bootstrapCI', `level must be in (0, 1), got ${level}`);
  if (!(Number.isInteger(B) && B >= 1)) throw new CpnasError('bootstrapCI', `resamples must be a positive integer, got ${B}`);
  if (n === 1) return [values[0], values[0]];
  const rng = new Random(opts.seed ?? DEFAULT_BOOTSTRAP.seed);
  const means = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[rng.int(n)];
    means[b] = s / n;
  }
  means.sort();
  const alpha = (1 - level) / 2;
  return [quantile(means as unknown as number[], alpha), quantile(means as unknown as number[], 1 - alpha)];
}

export function summarize(values: readonly number[], opts?: { resamples?: number; seed?: number }): Summary | null {
  if (!values.length) return null;
  const [ciLow, ciHigh] = bootstrapCI(values, opts);
  return { n: values.length, mean: mean(values), std: std(values), ciLow, ciHigh };
}

/** Two-sided p-value of the mean of d under random sign flips (exact up to n = 16, else 20,000 seeded draws). */
export function signFlipP(d: readonly number[], seed = 0): number {
  const n = d.length;
  if (!n) return 1;
  const observed = Math.abs(mean(d));
  if (observed === 0) return 1;
  const tol = 1e-12 * Math.max(1, observed);
  let extreme = 0, total = 0;
  const count = (signs: (i: number) => number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += signs(i) * d[i];
    total++;
    if (Math.abs(s / n) >= observed - tol) extreme++;
  };
  if (n <= 16) {
    for (let mask = 0; mask < 1 << n; mask++) count((i) => ((mask >> i) & 1 ? -1 : 1));
  } else {
    const rng = new Random(seed);
    for (let k = 0; k < 20000; k++) count(() => (rng.next() < 0.5 ? -1 : 1));
  }
  return extreme / total;
}

/**
 * Paired differences a - b over the seeds both have (seed -> value maps); null when no seed is shared.
 */
export function pairedDifference(
  a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>, opts?: { resamples?: number; seed?: number },
): PairedSummary | null {
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
  if (!seeds.length) return null;
  const d = seeds.map((s) => a.get(s)! - b.get(s)!);
  const base = summarize(d, opts)!;
  return {
    ...base,
    wins: d.filter((x) => x > 0).length,
    losses: d.filter((x) => x < 0).length,
    ties: d.filter((x) => x === 0).length,
    p: signFlipP(d, opts?.seed),
    seeds,
  };
}
