import { describe, expect, it } from 'vitest';
import { countOps } from '../../binary/count.js';
import { Random } from '../../core/index.js';
import {
  CostTable, budgetedGenotype, checkBudgetFeasible, smallestCost, unfitOperations, type BudgetNetwork,
} from '../../nas/budget.js';
import { CELL_TYPES, edgeKey, genotypeEdges } from '../../nas/genotype.js';
import { GenotypeNetwork } from '../../nas/network.js';
import { randomGenotype } from '../../nas/strategies/random.js';
import type { Genotype } from '../../nas/types.js';

const NET: BudgetNetwork = { inputShape: [1, 8, 8], numClasses: 4, cells: 3, channels: 4, nodes: 4, binarizers: { activation: 'approx', weight: 'scaled' }, childBlock: 'bireal' };
const PRIMS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'dil_conv_3x3'];

describe('CostTable', () => {
  const table = CostTable.build(NET, PRIMS);

  for (const childBlock of ['bireal', 'paper'] as const) {
    it(`gives exactly the OPs and bytes countOps measures on the whole Child network (${childBlock} form)`, () => {
      const net = { ...NET, childBlock };
      const t = childBlock === NET.childBlock ? table : CostTable.build(net, PRIMS);
      const rng = new Random(5);
      for (let i = 0; i < 4; i++) {
        const g = randomGenotype(PRIMS, NET.nodes, rng);
        const c = countOps(new GenotypeNetwork(g, { ...net, inputChannels: 1, binary: true }), [1, 1, 8, 8]);
        const cost = t.costOf(g);
        expect(cost.ops).toBeCloseTo(c.ops, 6);
        expect(cost.bytes).toBe(c.sizeBytes);
      }
    });
  }

  it('refuses a budget below the smallest possible network, naming the flag and the minimum', () => {
    const min = smallestCost(table);
    expect(() => checkBudgetFeasible(table, { maxOps: min.ops - 1, maxBytes: null })).toThrow(/--max-ops .* below the .* OPs of the smallest possible network/);
    expect(() => checkBudgetFeasible(table, { maxOps: null, maxBytes: min.bytes - 1 })).toThrow(/--max-bytes .* below/);
    expect(() => checkBudgetFeasible(table, { maxOps: min.ops, maxBytes: min.bytes })).not.toThrow();
    expect(() => budgetedGenotype(table, { maxOps: min.ops - 1, maxBytes: null }, () => 0)).toThrow(/below/);
  });

  it('returns the best-scored genotype within the budget, never one over it (checked against enumeration)', () => {
    const small: BudgetNetwork = { ...NET, nodes: 2 };
    const prims = ['none', 'max_pool_3x3', 'skip_connect', 'sep_conv_3x3'];
    const t = CostTable.build(small, prims);
    const rng = new Random(11);
    const scores = new Map<string, number>();
    const score = (e: string, op: string) => {
      const k = `${e}|${op}`;
      if (!scores.has(k)) scores.set(k, rng.next());
      return scores.get(k)!;
    };
    // every genotype of the 2-node space
    const ops = prims.filter((p) => p !== 'none');
    const cellChoices: [string, number][][] = [];
    const pairs: [number, number][] = [[0, 1], [0, 2], [1, 2]];
    for (const a of ops) for (const b of ops) for (const [f0, f1] of pairs) for (const c of ops) for (const d of ops) {
      cellChoices.push([[a, 0], [b, 1], [c, f0], [d, f1]]);
    }
    const all: Genotype[] = [];
    for (const n of cellChoices) for (const r of cellChoices) all.push({ normal: n, normalConcat: [2, 3], reduce: r, reduceConcat: [2, 3] });
    const total = (g: Genotype) => CELL_TYPES.reduce((s, cell) => s + genotypeEdges(g, cell).reduce((u, e) => u + score(edgeKey(cell, e.from, e.to), e.op), 0), 0);
    const costs = all.map((g) => t.costOf(g));
    const opsSorted = [...new Set(costs.map((c) => c.ops))].sort((a, b) => a - b);
    for (const q of [0.05, 0.3, 0.6, 1]) {
      const maxOps = opsSorted[Math.floor(q * (opsSorted.length - 1))];
      let best = -Infinity;
      all.forEach((g, i) => { if (costs[i].ops <= maxOps) best = Math.max(best, total(g)); });
      const r = budgetedGenotype(t, { maxOps, maxBytes: null }, score);
      expect(r.optimal).toBe(true);
      expect(r.cost.ops).toBeLessThanOrEqual(maxOps);
      expect(total(r.genotype)).toBeCloseTo(best, 9);
    }
    // a bytes budget too
    const bytes = [...new Set(costs.map((c) => c.bytes))].sort((a, b) => a - b);
    const maxBytes = bytes[Math.floor(bytes.length / 3)];
    const r = budgetedGenotype(t, { maxOps: null, maxBytes }, score);
    expect(r.cost.bytes).toBeLessThanOrEqual(maxBytes);
    let best = -Infinity;
    all.forEach((g, i) => { if (costs[i].bytes <= maxBytes) best = Math.max(best, total(g)); });
    expect(total(r.genotype)).toBeCloseTo(best, 9);
  });

  it('names the operations that cannot fit anywhere', () => {
    const min = smallestCost(table);
    expect(unfitOperations(table, { maxOps: min.ops, maxBytes: null })).toEqual(expect.arrayContaining(['sep_conv_3x3', 'dil_conv_3x3']));
    expect(unfitOperations(table, { maxOps: min.ops, maxBytes: null })).not.toContain('max_pool_3x3');
    expect(unfitOperations(table, { maxOps: 1e12, maxBytes: null })).toEqual([]);
  });
});
