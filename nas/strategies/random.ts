/**
 * Random search, the paper's weakest baseline: a genotype drawn uniformly from the search space
 * (for every intermediate node, 2 different input nodes, each with an operation other than `none`),
 * reproducible from the seed. No training is involved.
 */
import { Random } from '../../core/index.js';
import { CELL_TYPES, edgeKey } from '../genotype.js';
import type { Genotype } from '../types.js';
import type { Strategy } from './context.js';

export function randomGenotype(primitives: readonly string[], nodes: number, rng: Random): Genotype {
  const ops = primitives.filter((p) => p !== 'none');
  const g: Partial<Genotype> = {};
  for (const cell of CELL_TYPES) {
    const entries: [string, number][] = [];
    for (let to = 2; to < nodes + 2; to++) {
      const inputs = rng.permutation(to).slice(0, 2).sort();
      for (const from of inputs) entries.push([ops[rng.int(ops.length)], from]);
    }
    g[cell] = entries;
    g[cell === 'normal' ? 'normalConcat' : 'reduceConcat'] = Array.from({ length: nodes }, (_, i) => i + 2);
  }
  return g as Genotype;
}

export const randomStrategy: Strategy = (ctx) => {
  const s = ctx.settings;
  const genotype = randomGenotype(s.primitives, s.nodes, new Random(s.seed));
  const strength: { [edge: string]: number } = {};
  for (const cell of CELL_TYPES) {
    const list = cell === 'normal' ? genotype.normal : genotype.reduce;
    list.forEach(([, from], i) => (strength[edgeKey(cell, from, 2 + Math.floor(i / 2))] = 1));
  }
  ctx.progress({ phase: 'search', done: 1, total: 1, label: 'random genotype drawn' });
  return { genotype, history: ctx.history, strength };
};
