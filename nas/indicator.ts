/**
 * The CP indicator (paper eq. 4.15 and 4.16): each sampled architecture earns the credit
 *   z = beta * (A_P - A_C) + A_C
 * for every (edge, operation) it used; after a round, each edge's operations are scored by
 *   e(o_k) = exp(mean_k z) / sum_k' exp(mean_k' z)
 * and the lowest-scored operation of every edge is abandoned. The state is plain JSON, so a checkpoint
 * can carry it.
 */
import { CpnasError } from '../core/index.js';
import type { EdgeKey, EdgeOpValues } from './types.js';

/** Eq. 4.15: the credit of one architecture from its Child and Parent validation accuracies. */
export function cpCredit(accChild: number, accParent: number | null, beta: number): number {
  if (accParent === null || beta === 0) return accChild;
  return beta * (accParent - accChild) + accChild;
}

/** Eq. 4.16: softmax of the mean credits of one edge's operations. */
export function edgeSoftmax(meanCredit: { [op: string]: number }): { [op: string]: number } {
  const ops = Object.keys(meanCredit);
  let m = -Infinity;
  for (const o of ops) m = Math.max(m, meanCredit[o]);
  let s = 0;
  const e: { [op: string]: number } = {};
  for (const o of ops) {
    e[o] = Math.exp(meanCredit[o] - m);
    s += e[o];
  }
  for (const o of ops) e[o] /= s;
  return e;
}

export interface IndicatorState {
  /** Operations still on every edge, in primitive order. */
  remaining: { [edge: EdgeKey]: string[] };
  /** Credits collected this round: per edge, per operation, one z per measurement. */
  credits: { [edge: EdgeKey]: { [op: string]: number[] } };
  /** The indicator of the last finished round (empty before the first). */
  last: EdgeOpValues;
  /** Rounds finished. */
  rounds: number;
}

export interface RoundOutcome {
  K: number;
  indicator: EdgeOpValues;
  meanCredit: EdgeOpValues;
  abandoned: { [edge: EdgeKey]: string };
  remaining: { [edge: EdgeKey]: string[] };
}

export class CpIndicator {
  private s: IndicatorState;

  constructor(edges: EdgeKey[], primitives: string[]) {
    const remaining: IndicatorState['remaining'] = {};
    const credits: IndicatorState['credits'] = {};
    for (const e of edges) {
      remaining[e] = [...primitives];
      credits[e] = {};
    }
    this.s = { remaining, credits, last: {}, rounds: 0 };
  }

  static fromState(state: IndicatorState): CpIndicator {
    const ind = new CpIndicator([], []);
    ind.s = structuredClone(state);
    return ind;
  }

  /** A copy of the state, for checkpoints. */
  state(): IndicatorState {
    return structuredClone(this.s);
  }

  get edges(): EdgeKey[] {
    return Object.keys(this.s.remaining);
  }

  /** Operations left on an edge. */
  remaining(edge: EdgeKey): readonly string[] {
    return this.s.remaining[edge];
  }

  /** Operations per edge (the same on every edge). */
  get K(): number {
    const edges = this.edges;
    return edges.length ? this.s.remaining[edges[0]].length : 0;
  }

  get rounds(): number {
    return this.s.rounds;
  }

  /** Credits z to every (edge, op) that an architecture used. */
  credit(architecture: { [edge: EdgeKey]: string }, z: number): void {
    for (const [edge, op] of Object.entries(architecture)) {
      const rem = this.s.remaining[edge];
      if (!rem) throw new CpnasError('indicator', `unknown edge "${edge}"`);
      if (!rem.includes(op)) throw new CpnasError('indicator', `operation "${op}" is not on edge ${edge} any more (left: ${rem.join(', ')})`);
      (this.s.credits[edge][op] ??= []).push(z);
    }
  }

  /**
   * Ends a round: scores every edge (eq. 4.16) and abandons its lowest-scored operation. Ties go to the
   * operation listed first. An edge never keeps `none` as its last operation (a genotype cannot hold it),
   * so when abandoning the lowest one would leave only `none`, `none` goes instead.
   */
  endRound(): RoundOutcome {
    const K = this.K;
    if (K <= 1) throw new CpnasError('indicator', 'every edge already keeps a single operation');
    const indicator: EdgeOpValues = {}, meanCredit: EdgeOpValues = {};
    const abandoned: { [edge: EdgeKey]: string } = {};
    for (const edge of this.edges) {
      const ops = this.s.remaining[edge];
      const means: { [op: string]: number } = {};
      for (const op of ops) {
        const c = this.s.credits[edge][op];
        if (!c || c.length === 0) throw new CpnasError('indicator', `operation "${op}" of edge ${edge} was never measured this round`);
        let sum = 0;
        for (const z of c) sum += z;
        means[op] = sum / c.length;
      }
      const e = edgeSoftmax(means);
      const order = [...ops].sort((a, b) => e[a] - e[b] || ops.indexOf(a) - ops.indexOf(b));
      let victim = order[0];
      if (victim !== 'none' && ops.length === 2 && ops.includes('none')) victim = 'none';
      abandoned[edge] = victim;
      indicator[edge] = e;
      meanCredit[edge] = means;
      this.s.remaining[edge] = ops.filter((o) => o !== victim);
      this.s.credits[edge] = {};
    }
    this.s.last = indicator;
    this.s.rounds++;
    return { K, indicator, meanCredit, abandoned, remaining: structuredClone(this.s.remaining) };
  }

  /**
   * The operation each edge keeps and its strength: the best remaining operation other than `none`,
   * scored by the last round's indicator.
   */
  kept(): { [edge: EdgeKey]: { op: string; strength: number } } {
    const out: { [edge: EdgeKey]: { op: string; strength: number } } = {};
    for (const edge of this.edges) {
      const last = this.s.last[edge] ?? {};
      let best: string | null = null;
      for (const op of this.s.remaining[edge]) {
        if (op === 'none') continue;
        if (best === null || (last[op] ?? 0) > (last[best] ?? 0)) best = op;
      }
      if (best !== null) out[edge] = { op: best, strength: last[best] ?? 0 };
    }
    return out;
  }
}
