/**
 * Genotypes as plain data (DARTS genotypes.py): validation with errors for people, JSON round trip,
 * edge naming, and the derivation of a genotype from per-edge strengths (the 2 strongest incoming edges
 * of every intermediate node, never `none`).
 */
import { CpnasError, Random } from '../core/index.js';
import { hasOperation, listOperations } from './operations.js';
import type { CellType, EdgeKey, Genotype, GenotypeTie } from './types.js';

export const CELL_TYPES: readonly CellType[] = ['normal', 'reduce'];

/** `"normal:0-2"`: the edge from node `from` to node `to` of a cell type. */
export function edgeKey(cell: CellType, from: number, to: number): EdgeKey {
  return `${cell}:${from}-${to}`;
}

export function parseEdgeKey(key: EdgeKey): { cell: CellType; from: number; to: number } {
  const m = /^(normal|reduce):(\d+)-(\d+)$/.exec(key);
  if (!m) throw new CpnasError('edge', `"${key}" is not an edge name like "normal:0-2"`);
  return { cell: m[1] as CellType, from: Number(m[2]), to: Number(m[3]) };
}

/**
 * The edges of one cell with `nodes` intermediate nodes, in DARTS order: node 2 reads 0 and 1, node 3
 * reads 0, 1, 2, ... (2 + 3 + 4 + 5 = 14 edges for 4 nodes).
 */
export function cellEdges(nodes: number): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  for (let to = 2; to < nodes + 2; to++) for (let from = 0; from < to; from++) out.push({ from, to });
  return out;
}

/** Every searched edge: the normal cell's then the reduction cell's. */
export function allEdgeKeys(nodes: number): EdgeKey[] {
  const keys: EdgeKey[] = [];
  for (const cell of CELL_TYPES) for (const { from, to } of cellEdges(nodes)) keys.push(edgeKey(cell, from, to));
  return keys;
}

/** The (op, from, to) triples of one cell of a genotype. */
export function genotypeEdges(g: Genotype, cell: CellType): { op: string; from: number; to: number }[] {
  const list = cell === 'normal' ? g.normal : g.reduce;
  return list.map(([op, from], i) => ({ op, from, to: 2 + Math.floor(i / 2) }));
}

/** A short description of a value for an error message; never recursing deeper than a few levels. */
function describe(v: unknown, depth = 0): string {
  if (Array.isArray(v)) {
    if (depth >= 3) return '[...]';
    const s = `[${v.slice(0, 4).map((x) => describe(x, depth + 1)).join(',')}${v.length > 4 ? ',...' : ''}]`;
    return s.length > 60 ? s.slice(0, 57) + '...' : s;
  }
  if (v !== null && typeof v === 'object') return depth >= 3 ? '{...}' : `{${Object.keys(v).slice(0, 4).join(',')}${Object.keys(v).length > 4 ? ',...' : ''}}`;
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s;
}

/**
 * Checks that `value` is a well-formed genotype and returns it (a clean copy). Refuses, with a message
 * naming the entry: a missing field, a wrong number of entries (2 per intermediate node), an unknown
 * operation, `none`, an input node that does not precede the node, the same input twice for one node,
 * and a concat list naming anything but intermediate nodes.
 */
export function validateGenotype(value: unknown, opts: { nodes?: number } = {}): Genotype {
  const where = 'genotype';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CpnasError(where, `expected an object { normal, normalConcat, reduce, reduceConcat }, got ${describe(value)}`);
  }
  const v = value as Record<string, unknown>;
  for (const field of ['normal', 'normalConcat', 'reduce', 'reduceConcat']) {
    if (!(field in v)) throw new CpnasError(where, `missing field "${field}" (a genotype has normal, normalConcat, reduce, reduceConcat)`);
  }
  const extra = Object.keys(v).filter((k) => !['normal', 'normalConcat', 'reduce', 'reduceConcat'].includes(k));
  if (extra.length) throw new CpnasError(where, `unexpected field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `"${k}"`).join(', ')}`);

  let nodes = opts.nodes;
  if (nodes === undefined) {
    if (!Array.isArray(v.normal)) throw new CpnasError(where, `"normal" must be a list of [operation, fromNode] pairs, got ${describe(v.normal)}`);
    if (v.normal.length === 0 || v.normal.length % 2 !== 0) {
      throw new CpnasError(where, `"normal" has ${v.normal.length} entries; a genotype has 2 per intermediate node (8 for 4 nodes)`);
    }
    nodes = v.normal.length / 2;
  }
  const out: Partial<Genotype> = {};
  for (const cell of CELL_TYPES) {
    const list = v[cell];
    if (!Array.isArray(list)) throw new CpnasError(where, `"${cell}" must be a list of [operation, fromNode] pairs, got ${describe(list)}`);
    if (list.length !== 2 * nodes) {
      throw new CpnasError(where, `"${cell}" has ${list.length} entries but ${2 * nodes} are needed (2 per intermediate node, ${nodes} nodes)`);
    }
    const entries: [string, number][] = [];
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      const at = `${cell}[${i}]`;
      if (!Array.isArray(e) || e.length !== 2) throw new CpnasError(where, `${at} must be a pair [operation, fromNode], got ${describe(e)}`);
      const [op, from] = e as [unknown, unknown];
      if (typeof op !== 'string') throw new CpnasError(where, `${at}: the operation must be a name (string), got ${describe(op)}`);
      if (op === 'none') throw new CpnasError(where, `${at} is "none": a genotype never keeps the zero operation`);
      if (!hasOperation(op)) {
        throw new CpnasError(where, `${at} uses unknown operation "${op}" (registered: ${listOperations().filter((o) => o !== 'none').join(', ')})`);
      }
      const to = 2 + Math.floor(i / 2);
      if (typeof from !== 'number' || !Number.isInteger(from) || from < 0 || from >= to) {
        throw new CpnasError(where, `${at} ("${op}") reads node ${describe(from)}, but it feeds node ${to}, which can only read nodes 0..${to - 1} (0 and 1 are the cell inputs)`);
      }
      entries.push([op, from]);
    }
    for (let i = 0; i < entries.length; i += 2) {
      if (entries[i][1] === entries[i + 1][1]) {
        throw new CpnasError(where, `${cell}[${i}] and ${cell}[${i + 1}] both read node ${entries[i][1]}: node ${2 + i / 2} needs 2 different inputs`);
      }
    }
    const concatField = `${cell}Concat` as 'normalConcat' | 'reduceConcat';
    const concat = v[concatField];
    if (!Array.isArray(concat) || concat.length === 0) {
      throw new CpnasError(where, `"${concatField}" must be a non-empty list of intermediate nodes (e.g. [2, 3, 4, 5]), got ${describe(concat)}`);
    }
    for (const n of concat) {
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 2 || n >= nodes + 2) {
        throw new CpnasError(where, `"${concatField}" names node ${describe(n)}, but the intermediate nodes are 2..${nodes + 1}`);
      }
    }
    if (new Set(concat).size !== concat.length) throw new CpnasError(where, `"${concatField}" names a node twice: ${describe(concat)}`);
    out[cell] = entries;
    out[concatField] = [...(concat as number[])];
  }
  return out as Genotype;
}

/** A genotype as pretty JSON text (the genotype.json of a run folder). */
export function genotypeToJSON(g: Genotype): string {
  const pairs = (l: [string, number][]) => `[\n${l.map(([op, n]) => `    [${JSON.stringify(op)}, ${n}]`).join(',\n')}\n  ]`;
  return `{\n  "normal": ${pairs(g.normal)},\n  "normalConcat": ${JSON.stringify(g.normalConcat)},\n`
    + `  "reduce": ${pairs(g.reduce)},\n  "reduceConcat": ${JSON.stringify(g.reduceConcat)}\n}\n`;
}

/** Parses and validates genotype JSON text. */
export function parseGenotype(text: string, opts: { nodes?: number } = {}): Genotype {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CpnasError('genotype', `not valid JSON (${(e as Error).message})`);
  }
  return validateGenotype(value, opts);
}

/** One line per cell: `normal: 2 <- sep_conv_3x3(0), skip_connect(1) | 3 <- ...`. */
export function formatGenotype(g: Genotype): string {
  return CELL_TYPES.map((cell) => {
    const edges = genotypeEdges(g, cell);
    const parts: string[] = [];
    for (let i = 0; i < edges.length; i += 2) {
      parts.push(`${edges[i].to} <- ${edges[i].op}(${edges[i].from}), ${edges[i + 1].op}(${edges[i + 1].from})`);
    }
    const concat = cell === 'normal' ? g.normalConcat : g.reduceConcat;
    return `${cell}: ${parts.join(' | ')} => concat ${concat.join(',')}`;
  }).join('\n');
}

/** Strengths closer than this (relative) are equal: means of accuracies are exact fractions up to rounding. */
const TIE = 1e-9;

/**
 * Derives a genotype from the operation kept on every edge and its strength: for every intermediate
 * node, its 2 strongest incoming edges. Edges whose kept op is `none` or missing are never chosen.
 * Where edges of equal strength compete for a place, a draw from `rng` (seeded: the same search gives
 * the same genotype) decides, and each such tie is pushed to `ties`.
 */
export function deriveGenotype(
  kept: { [edge: EdgeKey]: { op: string; strength: number } }, nodes: number,
  opts: { rng?: Random; ties?: GenotypeTie[] } = {},
): Genotype {
  const rng = opts.rng ?? new Random(0);
  const g: Partial<Genotype> = {};
  for (const cell of CELL_TYPES) {
    const entries: [string, number][] = [];
    for (let to = 2; to < nodes + 2; to++) {
      const candidates: { op: string; from: number; strength: number }[] = [];
      for (let from = 0; from < to; from++) {
        const k = kept[edgeKey(cell, from, to)];
        if (k && k.op !== 'none') candidates.push({ op: k.op, from, strength: k.strength });
      }
      if (candidates.length < 2) {
        throw new CpnasError('deriveGenotype', `node ${to} of the ${cell} cell has ${candidates.length} incoming edge(s) with an operation other than "none"; 2 are needed`);
      }
      candidates.sort((a, b) => b.strength - a.strength);
      const same = (a: number, b: number) => Math.abs(a - b) <= TIE * Math.max(1, Math.abs(a), Math.abs(b));
      const second = candidates[1].strength;
      const above = candidates.filter((c) => c.strength > second && !same(c.strength, second));
      const tied = candidates.filter((c) => same(c.strength, second));
      let two: typeof candidates;
      if (above.length + tied.length > 2) {
        const places = 2 - above.length;
        const order = rng.permutation(tied.length);
        const drawn = Array.from({ length: places }, (_, i) => tied[order[i]]);
        two = [...above, ...drawn];
        opts.ties?.push({
          cell, node: to, strength: second,
          tied: tied.map((c) => c.from), chosen: drawn.map((c) => c.from).sort((a, b) => a - b),
        });
      } else {
        two = candidates.slice(0, 2);
      }
      for (const c of two.sort((a, b) => a.from - b.from)) entries.push([c.op, c.from]);
    }
    g[cell] = entries;
    g[cell === 'normal' ? 'normalConcat' : 'reduceConcat'] = Array.from({ length: nodes }, (_, i) => i + 2);
  }
  return g as Genotype;
}

/** One line per tie: "normal node 3: inputs 0, 1, 2 tied at 0.8125, drew 0, 2". */
export function formatTies(ties: readonly GenotypeTie[]): string[] {
  return ties.map((t) => `${t.cell} node ${t.node}: inputs ${t.tied.join(', ')} tied at strength ${t.strength.toPrecision(6)}, drew ${t.chosen.join(', ')}`);
}
