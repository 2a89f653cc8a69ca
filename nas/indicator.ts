/**
 * The CP indicator (paper eq. 4.15 and 4.16): each sampled architecture earns the credit
 *   z = beta * (A_P - A_C) + A_C
 * for every (edge, operation) it used; after a round, each edge's operations are scored by
 *   e(o_k) = exp(mean_k z) / sum_k' exp(mean_k' z)
 * and the lowest-scored operation of every edge is abandoned. The genotype's edge strengths are the
 * mean credits of the kept operations over the whole search. The state is plain JSON, so a checkpoint
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
  /** Every credit of the whole search, per edge and operation: [sum, count] (the genotype's strengths). */
  totals: { [edge: EdgeKey]: { [op: string]: [number, number] } };
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

/** What an edge keeps for the genotype: its operation and its strength (the mean credit of the search). */
export interface KeptOperation {
  op: string;
  /** Mean of every credit z the operation earned on this edge over the whole search. */
  strength: number;
  /** How many credits that mean is made of. */
  credits: number;
}

export class CpIndicator {
  private s: IndicatorState;

  constructor(edges: EdgeKey[], primitives: string[]) {
    const remaining: IndicatorState['remaining'] = {};
    const credits: IndicatorState['credits'] = {};
    const totals: IndicatorState['totals'] = {};
    for (const e of edges) {
      remaining[e] = [...primitives];
      credits[e] = {};
      totals[e] = {};
    }
    this.s = { remaining, credits, totals, last: {}, rounds: 0 };
  }

  static fromState(state: IndicatorState): CpIndicator {
    const ind = new CpIndicator([], []);
    ind.s = structuredClone(state);
    if (!ind.s.totals) throw new CpnasError('indicator', 'the saved indicator state has no credit totals (a checkpoint from an older cpnas): start the search again');
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
      const t = (this.s.totals[edge][op] ??= [0, 0]);
      t[0] += z;
      t[1]++;
    }
  }

  /**
   * Ends a round: scores every edge (eq. 4.16) and abandons its lowest-scored operation. Equal scores
   * go to the operation listed first in the primitives (the abandoned operation is recorded either
   * way). `noneRule` 'abandon': an edge never keeps `none` as its last operation (a genotype cannot
   * hold it), so when abandoning the lowest one would leave only `none`, `none` goes instead;
   * 'rank': `none` is ranked like any operation.
   */
  endRound(noneRule: 'abandon' | 'rank' = 'abandon'): RoundOutcome {
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
        means[op] = sum / c.length; // z-bar of eq. 4.16
      }
      const e = edgeSoftmax(means);
      const order = [...ops].sort((a, b) => e[a] - e[b] || ops.indexOf(a) - ops.indexOf(b));
      let victim = order[0];
      if (noneRule === 'abandon' && victim !== 'none' && ops.length === 2 && ops.includes('none')) victim = 'none';
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
   * The operation each edge keeps and its strength for the genotype: the remaining operation other
   * than `none` with the highest mean credit over the whole search (ties: the one listed first), and
   * that mean as the strength. The mean credit is an absolute score, comparable across edges, where
   * the last round's softmax only compares an edge's last two operations with each other. An edge
   * left with `none` alone keeps nothing.
   */
  kept(): { [edge: EdgeKey]: KeptOperation } {
    const out: { [edge: EdgeKey]: KeptOperation } = {};
    for (const edge of this.edges) {
      let best: KeptOperation | null = null;
      for (const op of this.s.remaining[edge]) {
        if (op === 'none') continue;
        const [sum, count] = this.s.totals[edge][op] ?? [0, 0];
        const strength = count > 0 ? sum / count : 0;
        if (best === null || strength > best.strength) best = { op, strength, credits: count };
      }
      if (best !== null) out[edge] = best;
    }
    return out;
  }
}
