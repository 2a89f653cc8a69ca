import { describe, expect, it } from 'vitest';
import {
  allEdgeKeys, cellEdges, deriveGenotype, edgeKey, formatGenotype, formatTies, genotypeToJSON, parseEdgeKey, parseGenotype, validateGenotype,
} from '../../nas/genotype.js';
import { Random } from '../../core/index.js';
import type { Genotype, GenotypeTie } from '../../nas/types.js';

/** DARTS_V2 from DARTS genotypes.py. */
const DARTS_V2: Genotype = {
  normal: [['sep_conv_3x3', 0], ['sep_conv_3x3', 1], ['sep_conv_3x3', 0], ['sep_conv_3x3', 1], ['sep_conv_3x3', 1], ['skip_connect', 0], ['skip_connect', 0], ['dil_conv_3x3', 2]],
  normalConcat: [2, 3, 4, 5],
  reduce: [['max_pool_3x3', 0], ['max_pool_3x3', 1], ['skip_connect', 2], ['max_pool_3x3', 1], ['max_pool_3x3', 0], ['skip_connect', 2], ['skip_connect', 2], ['max_pool_3x3', 1]],
  reduceConcat: [2, 3, 4, 5],
};

function withNormal(i: number, entry: unknown): unknown {
  const g = structuredClone(DARTS_V2) as unknown as { normal: unknown[] };
  g.normal[i] = entry;
  return g;
}

describe('edges', () => {
  it('has 14 edges per cell with 4 nodes, in DARTS order', () => {
    const edges = cellEdges(4);
    expect(edges.length).toBe(14);
    expect(edges.slice(0, 5)).toEqual([{ from: 0, to: 2 }, { from: 1, to: 2 }, { from: 0, to: 3 }, { from: 1, to: 3 }, { from: 2, to: 3 }]);
    expect(allEdgeKeys(4).length).toBe(28);
    expect(parseEdgeKey(edgeKey('reduce', 3, 5))).toEqual({ cell: 'reduce', from: 3, to: 5 });
    expect(() => parseEdgeKey('normal-0-2')).toThrow(/not an edge name/);
  });
});

describe('genotype JSON', () => {
  it('round-trips', () => {
    const text = genotypeToJSON(DARTS_V2);
    expect(parseGenotype(text)).toEqual(DARTS_V2);
    expect(JSON.parse(text)).toEqual(DARTS_V2);
    expect(formatGenotype(DARTS_V2)).toContain('normal: 2 <- sep_conv_3x3(0), sep_conv_3x3(1)');
  });

  it('refuses malformed genotypes with clear errors', () => {
    expect(() => parseGenotype('{ not json')).toThrow(/genotype: not valid JSON/);
    expect(() => validateGenotype([1, 2])).toThrow(/expected an object/);
    const { reduceConcat: _drop, ...missing } = DARTS_V2;
    expect(() => validateGenotype(missing)).toThrow(/missing field "reduceConcat"/);
    expect(() => validateGenotype({ ...DARTS_V2, extra: 1 })).toThrow(/unexpected field "extra"/);
    expect(() => validateGenotype(withNormal(3, ['sep_conv_9x9', 1]))).toThrow(/normal\[3\] uses unknown operation "sep_conv_9x9" \(registered: max_pool_3x3/);
    expect(() => validateGenotype(withNormal(2, ['none', 0]))).toThrow(/normal\[2\] is "none": a genotype never keeps the zero operation/);
    expect(() => validateGenotype(withNormal(1, ['sep_conv_3x3', 2]))).toThrow(/normal\[1\] \("sep_conv_3x3"\) reads node 2, but it feeds node 2, which can only read nodes 0..1/);
    expect(() => validateGenotype(withNormal(7, ['sep_conv_3x3', -1]))).toThrow(/reads node -1/);
    expect(() => validateGenotype(withNormal(7, ['sep_conv_3x3', 1.5]))).toThrow(/reads node 1.5/);
    expect(() => validateGenotype(withNormal(0, 'sep_conv_3x3'))).toThrow(/normal\[0\] must be a pair \[operation, fromNode\]/);
    expect(() => validateGenotype(withNormal(0, [3, 0]))).toThrow(/normal\[0\]: the operation must be a name/);
    expect(() => validateGenotype(withNormal(1, ['sep_conv_3x3', 0]))).toThrow(/normal\[0\] and normal\[1\] both read node 0/);
    expect(() => validateGenotype({ ...DARTS_V2, normal: DARTS_V2.normal.slice(0, 7) })).toThrow(/"normal" has 7 entries; a genotype has 2 per intermediate node/);
    expect(() => validateGenotype({ ...DARTS_V2, reduce: DARTS_V2.reduce.slice(0, 6) })).toThrow(/"reduce" has 6 entries but 8 are needed/);
    expect(() => validateGenotype({ ...DARTS_V2, normalConcat: [2, 3, 6] })).toThrow(/"normalConcat" names node 6, but the intermediate nodes are 2..5/);
    expect(() => validateGenotype({ ...DARTS_V2, reduceConcat: [] })).toThrow(/"reduceConcat" must be a non-empty list/);
    expect(() => validateGenotype({ ...DARTS_V2, reduceConcat: [2, 2] })).toThrow(/names a node twice/);
    expect(() => validateGenotype(DARTS_V2, { nodes: 3 })).toThrow(/"normal" has 8 entries but 6 are needed/);
  });
});

describe('deriveGenotype', () => {
  it('keeps the 2 strongest incoming edges of every node and never none', () => {
    const kept: { [edge: string]: { op: string; strength: number } } = {};
    for (const cell of ['normal', 'reduce'] as const) {
      for (const { from, to } of cellEdges(4)) kept[edgeKey(cell, from, to)] = { op: 'sep_conv_3x3', strength: from / 10 };
    }
    kept['normal:4-5'] = { op: 'none', strength: 1 };
    kept['normal:0-5'] = { op: 'dil_conv_5x5', strength: 0.9 };
    const g = deriveGenotype(kept, 4);
    expect(validateGenotype(g)).toEqual(g);
    // node 5 of the normal cell: 4-5 is none, so 0-5 (0.9) and 3-5 (0.3)
    expect(g.normal.slice(6)).toEqual([['dil_conv_5x5', 0], ['sep_conv_3x3', 3]]);
    // node 4 of the reduction cell: the strongest are 3 (0.3) and 2 (0.2)
    expect(g.reduce.slice(4, 6)).toEqual([['sep_conv_3x3', 2], ['sep_conv_3x3', 3]]);
  });
  it('reports ties for a place and draws them from the seeded generator, not by node order', () => {
    // one node (node 2 reads 0, 1; with 2 nodes node 3 reads 0, 1, 2): strengths 0.5, 0.5, 0.5 for node 3
    const kept: { [edge: string]: { op: string; strength: number } } = {};
    for (const cell of ['normal', 'reduce'] as const) {
      kept[edgeKey(cell, 0, 2)] = { op: 'skip_connect', strength: 0.9 };
      kept[edgeKey(cell, 1, 2)] = { op: 'skip_connect', strength: 0.8 };
      kept[edgeKey(cell, 0, 3)] = { op: 'sep_conv_3x3', strength: 0.5 };
      kept[edgeKey(cell, 1, 3)] = { op: 'sep_conv_3x3', strength: 0.5 };
      kept[edgeKey(cell, 2, 3)] = { op: 'sep_conv_3x3', strength: 0.5 };
    }
    // reduce node 3: 2-3 is the strongest, then 0-3 and 1-3 tie for the second place
    kept['reduce:2-3'] = { op: 'max_pool_3x3', strength: 0.6 };
    const ties: GenotypeTie[] = [];
    const g = deriveGenotype(kept, 2, { rng: new Random(5), ties });
    expect(ties.map((t) => [t.cell, t.node, t.strength, t.tied])).toEqual([['normal', 3, 0.5, [0, 1, 2]], ['reduce', 3, 0.5, [0, 1]]]);
    // the draw: a permutation of the tied edges from Random(5), its first places chosen
    const rng = new Random(5);
    const p1 = rng.permutation(3), p2 = rng.permutation(2);
    expect(ties[0].chosen).toEqual([p1[0], p1[1]].sort());
    expect(ties[1].chosen).toEqual([p2[0]]);
    expect(g.normal.slice(2).map((e) => e[1])).toEqual(ties[0].chosen);
    expect(g.reduce.slice(2).map((e) => e[1])).toEqual([...ties[1].chosen, 2].sort());
    // nodes without ties report nothing, and equal strengths that all fit are no tie
    expect(ties.some((t) => t.node === 2)).toBe(false);
    // across seeds, every tied input gets chosen sometimes (node order does not decide)
    const chosen = new Set<number>();
    for (let seed = 0; seed < 20; seed++) {
      const t: GenotypeTie[] = [];
      deriveGenotype(kept, 2, { rng: new Random(seed), ties: t });
      for (const c of t[0].chosen) chosen.add(c);
    }
    expect([...chosen].sort()).toEqual([0, 1, 2]);
    expect(formatTies(ties)[0]).toMatch(/^normal node 3: inputs 0, 1, 2 tied at strength 0\.500000, drew \d, \d$/);
  });

  it('explains a node without 2 usable edges', () => {
    const kept = { 'normal:0-2': { op: 'none', strength: 1 }, 'normal:1-2': { op: 'skip_connect', strength: 1 } };
    expect(() => deriveGenotype(kept, 1)).toThrow(/node 2 of the normal cell has 1 incoming edge/);
  });
});

describe('finishSearch (how every strategy ends)', () => {
  it('reports and logs a tie of the strongest-operation table (darts, pc-darts, bnas, dcp), drawn from the seed', async () => {
    const { finishSearch, strongestOps } = await import('../../nas/strategies/context.js');
    const { allEdgeKeys } = await import('../../nas/genotype.js');
    const { defaultSearchSettings } = await import('../../nas/settings.js');
    // every edge: none 0.25, max_pool_3x3 0.25, sep_conv_3x3 0.5, except node 3's inputs 0 and 1 (0.6, 0.55)
    const table: Record<string, Record<string, number>> = {};
    for (const e of allEdgeKeys(4)) {
      const sep = e.endsWith(':0-3') ? 0.6 : e.endsWith(':1-3') ? 0.55 : 0.5;
      table[e] = { none: 0.25, max_pool_3x3: 0.25, sep_conv_3x3: sep };
    }
    const kept = strongestOps(table, ['none', 'max_pool_3x3', 'sep_conv_3x3']);
    expect(Object.values(kept).every((k) => k.op === 'sep_conv_3x3')).toBe(true);
    const logged: string[] = [];
    const settings = { ...defaultSearchSettings(), nodes: 4, seed: 3 };
    const ctx = { settings, history: [], log: (l: string) => logged.push(l) } as unknown as Parameters<typeof finishSearch>[0];
    const a = finishSearch(ctx, kept), b = finishSearch(ctx, kept);
    expect(a.genotype).toEqual(b.genotype); // the draw is seeded
    // nodes 4 and 5 of both cells have 4 and 5 equal inputs for 2 places: four ties, logged by each call
    expect(a.ties!.map((t) => `${t.cell}:${t.node}`)).toEqual(['normal:4', 'normal:5', 'reduce:4', 'reduce:5']);
    expect(logged.filter((l) => l.startsWith('tie: ')).length).toBe(8);
    expect(a.strength[Object.keys(kept)[0]]).toBe(0.5);
  });
});
