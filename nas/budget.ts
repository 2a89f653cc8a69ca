/**
 * Search under a budget of OPs or bytes, counted as binary/count.ts's `countOps` counts them on the
 * final 1-bit Child (OPs = BOPs / 64 + FLOPs; bytes = ceil(binary params / 8) + 4 * float params).
 *
 * The cost of a genotype network is additive: the stem, the cells' input preprocessing and the
 * classifier cost the same whatever the genotype (the `base`), and every kept (edge, operation) adds
 * the cost of that operation in every cell of its type. So one table, measured once with countOps on
 * each operation at its place in the network, gives the exact cost of any genotype
 * (`CostTable.costOf`), and tests check it against countOps of the whole network.
 *
 * `budgetedGenotype` finds the genotype with the highest total score (a strategy's rating of every
 * (edge, operation)) whose cost fits the budget, by an exact depth-first branch and bound over the
 * intermediate nodes (each node picks 2 different inputs and an operation other than `none` on each):
 * per node, options dominated in score and cost are dropped; a branch is cut when even the cheapest
 * completion is over budget, or when even the best completion cannot beat the best genotype found.
 * The search stops after `maxVisits` branches and then returns the best genotype found so far (always
 * within the budget), saying that optimality was not proven.
 */
import { countOps } from '../binary/count.js';
import { CpnasError, Random } from '../core/index.js';
import type { Module } from '../ops/module.js';
import { CELL_TYPES, allEdgeKeys, deriveGenotype, edgeKey, genotypeEdges } from './genotype.js';
import { GenotypeNetwork } from './network.js';
import { createOperation } from './operations.js';
import { reductionCells } from './supernet.js';
import type { BinarizerSettings, CellType, ChildBlock, EdgeKey, EdgeOpValues, Genotype } from './types.js';

/** A budget: null fields are unbounded. */
export interface Budget {
  maxOps: number | null;
  maxBytes: number | null;
}

/** The additive parts of a network's cost (countOps' fields). */
export interface CostParts {
  bops: number;
  flops: number;
  binaryParams: number;
  floatParams: number;
}

/** What a budget is measured on: the final Child network of the training stage. */
export interface BudgetNetwork {
  /** [C, H, W] of one image. */
  inputShape: readonly number[];
  numClasses: number;
  cells: number;
  channels: number;
  nodes: number;
  binarizers: BinarizerSettings;
  /** The form of the 1-bit Child (units.ts). */
  childBlock: ChildBlock;
}

export interface GenotypeCost {
  ops: number;
  bytes: number;
  parts: CostParts;
}

const ZERO: CostParts = { bops: 0, flops: 0, binaryParams: 0, floatParams: 0 };

function addParts(a: CostParts, b: CostParts, sign = 1): CostParts {
  return {
    bops: a.bops + sign * b.bops, flops: a.flops + sign * b.flops,
    binaryParams: a.binaryParams + sign * b.binaryParams, floatParams: a.floatParams + sign * b.floatParams,
  };
}

/** OPs of cost parts (Bi-Real / ReActNet convention, as countOps). */
export function opsOf(p: CostParts): number {
  return p.bops / 64 + p.flops;
}

/** Bytes of cost parts (as countOps' sizeBytes). */
export function bytesOf(p: CostParts): number {
  return Math.ceil(p.binaryParams / 8) + 4 * p.floatParams;
}

function partsOf(m: Module, inputShape: number[]): CostParts {
  const c = countOps(m, inputShape);
  return { bops: c.bops, flops: c.flops, binaryParams: c.binaryParams, floatParams: c.floatParams };
}

/** The layout of the cells of a network: type, channels C and input resolution of every cell. */
function cellLayout(net: BudgetNetwork): { type: CellType; C: number; H: number; W: number }[] {
  const reductions = reductionCells(net.cells);
  let C = net.channels, H = net.inputShape[1], W = net.inputShape[2];
  const out: { type: CellType; C: number; H: number; W: number }[] = [];
  for (let i = 0; i < net.cells; i++) {
    const reduction = reductions.has(i);
    if (reduction) C *= 2;
    out.push({ type: reduction ? 'reduce' : 'normal', C, H, W });
    if (reduction) {
      H = Math.ceil(H / 2);
      W = Math.ceil(W / 2);
    }
  }
  return out;
}

/** The exact cost of every (edge, operation) choice and of the rest of the network. */
export class CostTable {
  private constructor(
    readonly net: BudgetNetwork,
    readonly primitives: readonly string[],
    /** Cost of everything but the cells' operations. */
    readonly base: CostParts,
    /** Cost of operation op on an edge, summed over every cell of the edge's type. */
    readonly edges: { [edge: EdgeKey]: { [op: string]: CostParts } },
  ) {}

  static build(net: BudgetNetwork, primitives: readonly string[]): CostTable {
    const ops = primitives.filter((p) => p !== 'none');
    if (ops.length === 0) throw new CpnasError('budget', 'the primitives hold no operation other than "none"');
    const rng = new Random(0);
    const edges: { [edge: EdgeKey]: { [op: string]: CostParts } } = {};
    for (const cell of cellLayout(net)) {
      for (let to = 2; to < net.nodes + 2; to++) {
        for (let from = 0; from < to; from++) {
          const key = edgeKey(cell.type, from, to);
          const row = (edges[key] ??= {});
          const stride = cell.type === 'reduce' && from < 2 ? 2 : 1;
          const H = cell.type === 'reduce' && from >= 2 ? Math.ceil(cell.H / 2) : cell.H;
          const W = cell.type === 'reduce' && from >= 2 ? Math.ceil(cell.W / 2) : cell.W;
          for (const op of ops) {
            const m = createOperation(op, cell.C, stride, { binary: true, affine: true, binarizers: net.binarizers, childBlock: net.childBlock, rng });
            row[op] = addParts(row[op] ?? ZERO, partsOf(m, [1, cell.C, H, W]));
          }
        }
      }
    }
    // the base: a whole network minus its operations (any genotype gives the same base)
    const probe = cheapestGenotype(net.nodes, ops[0]);
    const whole = partsOf(new GenotypeNetwork(probe, { ...net, inputChannels: net.inputShape[0], binary: true, rng }), [1, ...net.inputShape]);
    let base = whole;
    for (const cell of CELL_TYPES) {
      for (const { op, from, to } of genotypeEdges(probe, cell)) base = addParts(base, edges[edgeKey(cell, from, to)][op], -1);
    }
    return new CostTable(net, [...primitives], base, edges);
  }

  /** The same table over fewer primitives. */
  restrict(primitives: readonly string[]): CostTable {
    const edges: { [edge: EdgeKey]: { [op: string]: CostParts } } = {};
    for (const [e, row] of Object.entries(this.edges)) edges[e] = Object.fromEntries(Object.entries(row).filter(([op]) => primitives.includes(op)));
    return new CostTable(this.net, [...primitives], this.base, edges);
  }

  /** Cost of one (edge, operation) choice. */
  edgeCost(edge: EdgeKey, op: string): CostParts {
    const c = this.edges[edge]?.[op];
    if (!c) throw new CpnasError('budget', `no cost known for operation "${op}" on edge ${edge}`);
    return c;
  }

  /** The exact cost of a genotype's network (equal to countOps of its Child). */
  costOf(g: Genotype): GenotypeCost {
    let parts = this.base;
    for (const cell of CELL_TYPES) {
      for (const { op, from, to } of genotypeEdges(g, cell)) parts = addParts(parts, this.edgeCost(edgeKey(cell, from, to), op));
    }
    return { ops: opsOf(parts), bytes: bytesOf(parts), parts };
  }
}

function cheapestGenotype(nodes: number, op: string): Genotype {
  const cell = (): [string, number][] => {
    const e: [string, number][] = [];
    for (let to = 2; to < nodes + 2; to++) e.push([op, 0], [op, 1]);
    return e;
  };
  const concat = Array.from({ length: nodes }, (_, i) => i + 2);
  return { normal: cell(), normalConcat: concat, reduce: cell(), reduceConcat: [...concat] };
}

/** Budget from settings' numbers (0 or absent = unbounded); null when neither bound is set. */
export function budgetOf(maxOps: number | null | undefined, maxBytes: number | null | undefined): Budget | null {
  const o = maxOps && maxOps > 0 ? maxOps : null;
  const b = maxBytes && maxBytes > 0 ? maxBytes : null;
  return o === null && b === null ? null : { maxOps: o, maxBytes: b };
}

export function fits(cost: { ops: number; bytes: number }, budget: Budget): boolean {
  return (budget.maxOps === null || cost.ops <= budget.maxOps) && (budget.maxBytes === null || cost.bytes <= budget.maxBytes);
}

/** "12,345 OPs and 6,789 bytes" style description of a budget. */
export function describeBudget(b: Budget): string {
  const parts: string[] = [];
  if (b.maxOps !== null) parts.push(`--max-ops ${b.maxOps}`);
  if (b.maxBytes !== null) parts.push(`--max-bytes ${b.maxBytes}`);
  return parts.join(' and ');
}

/** One way a node can be fed: two (edge, op) choices, their score and their cost. */
interface NodeOption {
  cell: CellType;
  to: number;
  picks: [{ from: number; op: string }, { from: number; op: string }];
  score: number;
  parts: CostParts;
}

function nodeOptions(table: CostTable, cell: CellType, to: number, score: (edge: EdgeKey, op: string) => number): NodeOption[] {
  const ops = table.primitives.filter((p) => p !== 'none');
  const singles: { from: number; op: string; score: number; parts: CostParts }[][] = [];
  for (let from = 0; from < to; from++) {
    const key = edgeKey(cell, from, to);
    singles.push(ops.map((op) => ({ from, op, score: score(key, op), parts: table.edgeCost(key, op) })));
  }
  const options: NodeOption[] = [];
  for (let a = 0; a < to; a++) {
    for (let b = a + 1; b < to; b++) {
      for (const x of singles[a]) {
        for (const y of singles[b]) {
          options.push({ cell, to, picks: [{ from: x.from, op: x.op }, { from: y.from, op: y.op }], score: x.score + y.score, parts: addParts(x.parts, y.parts) });
        }
      }
    }
  }
  // best first; among equal scores the cheaper; then the earlier inputs (deterministic)
  options.sort((p, q) => q.score - p.score || opsOf(p.parts) - opsOf(q.parts) || bytesOf(p.parts) - bytesOf(q.parts));
  // drop options dominated by an earlier one (a score at least as high at no higher cost in each part)
  const kept: NodeOption[] = [];
  for (const o of options) {
    const dominated = kept.some((k) => k.score >= o.score && k.parts.bops <= o.parts.bops && k.parts.flops <= o.parts.flops
      && k.parts.binaryParams <= o.parts.binaryParams && k.parts.floatParams <= o.parts.floatParams);
    if (!dominated) kept.push(o);
  }
  return kept;
}

export interface BudgetedResult {
  genotype: Genotype;
  cost: GenotypeCost;
  score: number;
  /** False when the search stopped at maxVisits before proving the genotype optimal. */
  optimal: boolean;
  visits: number;
}

function minOver(options: NodeOption[], f: (p: CostParts) => number): number {
  let m = Infinity;
  for (const o of options) m = Math.min(m, f(o.parts));
  return m;
}

/** The smallest OPs and the smallest bytes any genotype of the table's space can have (each on its own). */
export function smallestCost(table: CostTable): { ops: number; bytes: number } {
  let ops = opsOf(table.base), binary = table.base.binaryParams, float = table.base.floatParams;
  for (const cell of CELL_TYPES) {
    for (let to = 2; to < table.net.nodes + 2; to++) {
      const opts = nodeOptions(table, cell, to, () => 0);
      ops += minOver(opts, opsOf);
      // bytes: minimize binary/8 + 4 float as a real number; the ceiling of the minimum is the minimum
      let best = Infinity, bb = 0, bf = 0;
      for (const o of opts) {
        const v = o.parts.binaryParams / 8 + 4 * o.parts.floatParams;
        if (v < best) [best, bb, bf] = [v, o.parts.binaryParams, o.parts.floatParams];
      }
      binary += bb;
      float += bf;
    }
  }
  return { ops, bytes: Math.ceil(binary / 8) + 4 * float };
}

/** Refuses a budget that no genotype of the space can meet, naming the smallest possible network. */
export function checkBudgetFeasible(table: CostTable, budget: Budget): void {
  const min = smallestCost(table);
  const tooSmall: string[] = [];
  if (budget.maxOps !== null && budget.maxOps < min.ops) tooSmall.push(`--max-ops ${budget.maxOps} is below the ${fmt(min.ops)} OPs`);
  if (budget.maxBytes !== null && budget.maxBytes < min.bytes) tooSmall.push(`--max-bytes ${budget.maxBytes} is below the ${fmt(min.bytes)} bytes`);
  if (tooSmall.length) {
    const n = table.net;
    throw new CpnasError('budget', `${tooSmall.join(' and ')} of the smallest possible network (${n.cells} cells of ${n.channels} channels, ${n.inputShape.join('x')} images, ${table.primitives.filter((p) => p !== 'none').join(', ')})`);
  }
}

export function fmt(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

/**
 * The genotype with the highest total score within the budget (exact branch and bound; see the file
 * header). `score(edge, op)` rates every candidate, higher is better. Throws when no genotype fits.
 */
export function budgetedGenotype(
  table: CostTable, budget: Budget, score: (edge: EdgeKey, op: string) => number, maxVisits = 2_000_000,
): BudgetedResult {
  const nodes: NodeOption[][] = [];
  for (const cell of CELL_TYPES) for (let to = 2; to < table.net.nodes + 2; to++) nodes.push(nodeOptions(table, cell, to, score));
  const n = nodes.length;
  // suffix bounds: best score and least cost of nodes i..n-1
  const bestAfter = new Float64Array(n + 1), opsAfter = new Float64Array(n + 1), bytesAfter = new Float64Array(n + 1);
  for (let i = n - 1; i >= 0; i--) {
    bestAfter[i] = bestAfter[i + 1] + nodes[i][0].score;
    opsAfter[i] = opsAfter[i + 1] + minOver(nodes[i], opsOf);
    bytesAfter[i] = bytesAfter[i + 1] + minOver(nodes[i], (p) => p.binaryParams / 8 + 4 * p.floatParams);
  }
  const maxOps = budget.maxOps ?? Infinity, maxBytes = budget.maxBytes ?? Infinity;
  let best: NodeOption[] | null = null, bestScore = -Infinity, visits = 0, stopped = false;
  const chosen: NodeOption[] = [];
  const dfs = (i: number, parts: CostParts, score: number): void => {
    if (stopped) return;
    if (++visits > maxVisits) {
      stopped = true;
      return;
    }
    if (i === n) {
      if (score > bestScore && opsOf(parts) <= maxOps && bytesOf(parts) <= maxBytes) {
        bestScore = score;
        best = [...chosen];
      }
      return;
    }
    for (const o of nodes[i]) {
      if (score + o.score + bestAfter[i + 1] <= bestScore) break; // sorted by score: nothing later can win
      const next = addParts(parts, o.parts);
      if (opsOf(next) + opsAfter[i + 1] > maxOps) continue;
      if (Math.ceil(next.binaryParams / 8 + 4 * next.floatParams + bytesAfter[i + 1] - 1e-9) > maxBytes) continue;
      chosen.push(o);
      dfs(i + 1, next, score + o.score);
      chosen.pop();
    }
  };
  dfs(0, table.base, 0);
  if (!best) {
    if (stopped) throw new CpnasError('budget', `no genotype within ${describeBudget(budget)} found in ${maxVisits} steps of the search`);
    checkBudgetFeasible(table, budget);
    throw new CpnasError('budget', `no genotype of this search space fits ${describeBudget(budget)} with both bounds at once`);
  }
  const genotype = genotypeFrom(best, table.net.nodes);
  return { genotype, cost: table.costOf(genotype), score: bestScore, optimal: !stopped, visits };
}

function genotypeFrom(options: NodeOption[], nodes: number): Genotype {
  const cells: { [c in CellType]: [string, number][] } = { normal: [], reduce: [] };
  for (const o of options) for (const p of o.picks) cells[o.cell].push([p.op, p.from]);
  const concat = Array.from({ length: nodes }, (_, i) => i + 2);
  return { normal: cells.normal, normalConcat: concat, reduce: cells.reduce, reduceConcat: [...concat] };
}

/**
 * Scores for `budgetedGenotype` from a strategy's result: its own genotype's (edge, op) choices rank
 * first (by their strength), then any per-(edge, op) scores it gave, then every other candidate far
 * below (allowed, so a genotype within the budget is found whenever one exists).
 */
export function scoreFromResult(genotype: Genotype, strength: { [edge: EdgeKey]: number }, scores?: EdgeOpValues): (edge: EdgeKey, op: string) => number {
  const kept = new Map<string, number>();
  for (const cell of CELL_TYPES) {
    for (const { op, from, to } of genotypeEdges(genotype, cell)) {
      const key = edgeKey(cell, from, to);
      kept.set(`${key}|${op}`, strength[key] ?? 1);
    }
  }
  return (edge, op) => {
    const k = kept.get(`${edge}|${op}`);
    if (k !== undefined) return 1e3 + k;
    const s = scores?.[edge]?.[op];
    if (s !== undefined && Number.isFinite(s)) return s;
    return -1e3;
  };
}

/**
 * Which operations cannot fit the budget anywhere: those for which every genotype holding them on any
 * edge is over it (checked against the cheapest completion of the rest of the network, each bound on
 * its own). The indicator strategies leave them out of the search.
 */
export function unfitOperations(table: CostTable, budget: Budget): string[] {
  const min = smallestCost(table);
  const ops = table.primitives.filter((p) => p !== 'none');
  const out: string[] = [];
  for (const op of ops) {
    let fitsSomewhere = false;
    for (const [edge, row] of Object.entries(table.edges)) {
      // lower bound of a genotype holding (edge, op): smallest network + op's cost - the cheapest op of the edge
      let cheapestOps = Infinity, cheapestBytes = Infinity;
      for (const c of Object.values(row)) {
        cheapestOps = Math.min(cheapestOps, opsOf(c));
        cheapestBytes = Math.min(cheapestBytes, c.binaryParams / 8 + 4 * c.floatParams);
      }
      const c = row[op];
      const lowOps = min.ops + opsOf(c) - cheapestOps;
      const lowBytes = min.bytes + c.binaryParams / 8 + 4 * c.floatParams - cheapestBytes;
      if ((budget.maxOps === null || lowOps <= budget.maxOps) && (budget.maxBytes === null || lowBytes <= budget.maxBytes + 1)) {
        fitsSomewhere = true;
        break;
      }
      void edge;
    }
    if (!fitsSomewhere) out.push(op);
  }
  return out;
}

/**
 * The best-scored genotype without a budget: the score is additive, so every edge keeps its best
 * operation other than `none` and every node its 2 best edges (deriveGenotype).
 */
export function bestGenotype(score: (edge: EdgeKey, op: string) => number, primitives: readonly string[], nodes: number): Genotype {
  const kept: { [edge: EdgeKey]: { op: string; strength: number } } = {};
  for (const edge of allEdgeKeys(nodes)) {
    let best: string | null = null;
    for (const op of primitives) if (op !== 'none' && (best === null || score(edge, op) > score(edge, best))) best = op;
    if (best !== null) kept[edge] = { op: best, strength: score(edge, best) };
  }
  return deriveGenotype(kept, nodes);
}
