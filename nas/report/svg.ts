/**
 * A searched cell drawn as a DAG in SVG, the way the DARTS paper draws its cells: the two inputs
 * c_{k-2} and c_{k-1} on the left, the intermediate nodes in layers, the output c_{k} on the right,
 * one arrow per kept edge with its operation name on it. Pure string building: no DOM, no fonts read.
 */
import { CpnasError } from '../../core/index.js';
import { placeLabels, samplePath, type PathPiece, type Point } from './labels.js';
import { colorOf, esc, num } from './xml.js';

/**
 * One kept edge of a cell. Node ids follow the genotype: 0 = c_{k-2}, 1 = c_{k-1}, 2 + j = intermediate
 * node j.
 */
export interface CellEdge {
  op: string;
  from: number;
  to: number;
}

export interface CellDrawingOptions {
  /** Caption over the drawing (e.g. `normal cell`). */
  title?: string;
  /** Intermediate nodes concatenated into the output; default: every intermediate node. */
  concat?: readonly number[];
  /** Prefix of element ids, so that several drawings can share one HTML page. */
  idPrefix?: string;
}

const NODE_W = 64;
const NODE_H = 30;
const COL_GAP = 118;
const ROW_GAP = 22;
const LEVEL_H = 24;
const MARGIN = 14;
const TITLE_H = 26;

/** Turns a DARTS-style list of `[op, from]` pairs (two per intermediate node) into edges. */
export function edgesFromPairs(pairs: readonly (readonly [string, number])[], perNode = 2): CellEdge[] {
  return pairs.map(([op, from], i) => ({ op, from, to: 2 + Math.floor(i / perNode) }));
}

interface Drawn {
  from: number;
  to: number;
  /** null for the dashed edges into the output (concatenation). */
  op: string | null;
  /** Edges between neighbouring layers are drawn straight across; longer ones as arcs over or under. */
  side: 'direct' | 'above' | 'below';
  level: number;
}

/**
 * The SVG of one cell: a layered layout (inputs left, each intermediate node one layer right of its
 * deepest input, the output last); edges between neighbouring layers go straight across, longer edges
 * arc over or under the row, nested so that no two arcs (or their labels) share a height where they
 * overlap. Throws a CpnasError for an edge that does not point forward.
 */
export function cellSvg(edges: readonly CellEdge[], options: CellDrawingOptions = {}): string {
  // A dense cell (many edges between two columns) leaves its labels no free place: draw it again with
  // the rows further apart until every label sits clear of the lines, keeping the best try.
  let best: { svg: string; collisions: number } | null = null;
  for (const [rowGap, colGap] of [[ROW_GAP, COL_GAP], [2 * ROW_GAP, COL_GAP], [2 * ROW_GAP, 1.5 * COL_GAP], [3 * ROW_GAP, 2 * COL_GAP]]) {
    const drawn = drawCell(edges, options, rowGap, colGap);
    if (!best || drawn.collisions < best.collisions) best = drawn;
    if (drawn.collisions === 0) break;
  }
  return best!.svg;
}

function drawCell(edges: readonly CellEdge[], options: CellDrawingOptions, ROW_GAP: number, COL_GAP: number): { svg: string; collisions: number } {
  const prefix = sanitizeId(options.idPrefix ?? 'cell');
  for (const e of edges) {
    if (!Number.isInteger(e.from) || !Number.isInteger(e.to) || e.from < 0 || e.to < 2 || e.from >= e.to) {
      throw new CpnasError('cellSvg', `edge ${e.from} -> ${e.to} (${e.op}) does not go from an earlier node to an intermediate node`);
    }
  }
  const nInter = edges.length ? Math.max(...edges.map((e) => e.to)) - 1 : 0;
  const OUT = nInter + 2;
  const concat = (options.concat ?? range(nInter).map((j) => j + 2)).filter((n) => n >= 2 && n < OUT);

  // Layer of a node: inputs at 0, an intermediate node one right of its deepest predecessor.
  const layer: number[] = [0, 0];
  for (let n = 2; n < OUT; n++) {
    const preds = edges.filter((e) => e.to === n).map((e) => layer[e.from] ?? 0);
    layer[n] = 1 + (preds.length ? Math.max(...preds) : 0);
  }
  layer[OUT] = 1 + Math.max(0, ...layer);
  const columns: number[][] = range(layer[OUT] + 1).map(() => []);
  for (let n = 0; n <= OUT; n++) columns[layer[n]].push(n);
  // Vertical slot of a node within its column, centred on the row: ..., -1, 0, 1, ... (half steps when even).
  const slot: number[] = [];
  for (const col of columns) col.forEach((n, i) => { slot[n] = i - (col.length - 1) / 2; });

  // An edge between neighbouring layers goes straight across. A longer one is an arc over or under
  // the row: it leaves a node through its top (bottom) face when the node is the top (bottom) one of
  // its column, else through its side and the gap beside it, so it never crosses a node.
  // Arcs that overlap get different heights (levels), the shorter one inside.
  const all: Drawn[] = [
    ...edges.map((e) => ({ from: e.from, to: e.to, op: e.op as string | null, side: 'direct' as Drawn['side'], level: 0 })),
    ...concat.map((n) => ({ from: n, to: OUT, op: null, side: 'direct' as Drawn['side'], level: 0 })),
  ];
  const span = (e: Drawn) => layer[e.to] - layer[e.from];
  const arcs = all.filter((e) => span(e) > 1).sort((a, b) => span(a) - span(b) || a.from - b.from);
  const overlaps = (a: Drawn, b: Drawn) => layer[a.from] < layer[b.to] && layer[b.from] < layer[a.to];
  // Only the top node of a column may use its top face, only the bottom node its bottom face.
  const faceAllows = (n: number, side: 'above' | 'below') => {
    const col = columns[layer[n]];
    return side === 'above' ? col[0] === n : col[col.length - 1] === n;
  };
  for (const arc of arcs) {
    const levelOn = (side: 'above' | 'below') => 1 + Math.max(0, ...arcs.filter((o) => o !== arc && o.side === side && overlaps(o, arc)).map((o) => o.level));
    const score = (side: 'above' | 'below') => levelOn(side) + (faceAllows(arc.from, side) ? 0 : 0.5) + (faceAllows(arc.to, side) ? 0 : 0.5);
    const prefer: 'above' | 'below' = arc.op === null ? 'below' : 'above';
    const other = prefer === 'above' ? 'below' : 'above';
    const side = score(other) < score(prefer) ? other : prefer;
    arc.side = side;
    arc.level = levelOn(side);
  }
  const levelsAbove = Math.max(0, ...arcs.filter((a) => a.side === 'above').map((a) => a.level));
  const levelsBelow = Math.max(0, ...arcs.filter((a) => a.side === 'below').map((a) => a.level));

  const title = options.title ?? '';
  const slots = slot.filter((v) => v !== undefined);
  const rowTop = Math.min(...slots) * (NODE_H + ROW_GAP) - NODE_H / 2; // relative to the row's centre
  const rowBottom = Math.max(...slots) * (NODE_H + ROW_GAP) + NODE_H / 2;
  const midY = MARGIN + (title ? TITLE_H : 0) + levelsAbove * LEVEL_H + (levelsAbove ? 8 : 0) - rowTop;
  const width = 2 * MARGIN + (layer[OUT] + 1) * NODE_W + layer[OUT] * COL_GAP;
  const height = midY + rowBottom + levelsBelow * LEVEL_H + (levelsBelow ? 8 : 0) + MARGIN;
  const pos = (n: number) => ({ x: MARGIN + layer[n] * (NODE_W + COL_GAP), y: midY + slot[n] * (NODE_H + ROW_GAP) - NODE_H / 2 });

  // Which face of a node each end uses; ends sharing a face are spread along it.
  type Face = 'left' | 'right' | 'top' | 'bottom';
  const faceOf = (e: Drawn, leaving: boolean): Face => {
    if (e.side === 'direct') return leaving ? 'right' : 'left';
    const n = leaving ? e.from : e.to;
    if (faceAllows(n, e.side)) return e.side === 'above' ? 'top' : 'bottom';
    return leaving ? 'right' : 'left';
  };
  const ends = new Map<string, number[]>();
  const endKey = (i: number, leaving: boolean) => {
    const e = all[i];
    const face = faceOf(e, leaving);
    // on a top or bottom face, leaving ends use the right half and arriving ends the left half
    return `${leaving ? e.from : e.to}:${face}${face === 'top' || face === 'bottom' ? (leaving ? ':out' : ':in') : ''}`;
  };
  all.forEach((_, i) => {
    pushTo(ends, endKey(i, true), i);
    pushTo(ends, endKey(i, false), i);
  });
  // Order the ends on a face by where their edges go, so that they do not cross right at the node.
  const otherY = (i: number, leaving: boolean) => {
    const e = all[i];
    const n = leaving ? e.to : e.from;
    return e.side === 'above' ? -1e6 + e.level : e.side === 'below' ? 1e6 - e.level : slot[n];
  };
  for (const [key, ids] of ends) {
    const leaving = key.endsWith(':out') || key.includes(':right');
    ids.sort((a, b) => otherY(a, leaving) - otherY(b, leaving) || a - b);
  }
  const offset = (i: number, leaving: boolean, length: number) => {
    const ids = ends.get(endKey(i, leaving)) ?? [];
    return ids.length < 2 ? 0 : (ids.indexOf(i) / (ids.length - 1) - 0.5) * length;
  };
  const point = (i: number, leaving: boolean): { x: number; y: number; face: Face } => {
    const e = all[i];
    const n = leaving ? e.from : e.to;
    const p = pos(n);
    const face = faceOf(e, leaving);
    if (face === 'left' || face === 'right') {
      return { x: face === 'right' ? p.x + NODE_W : p.x, y: p.y + NODE_H / 2 + offset(i, leaving, NODE_H - 6), face };
    }
    const x = p.x + (leaving ? NODE_W * 0.72 : NODE_W * 0.28) + offset(i, leaving, NODE_W * 0.36);
    return { x, y: face === 'top' ? p.y : p.y + NODE_H, face };
  };

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" font-family="Helvetica, Arial, sans-serif" font-size="12" role="img" aria-label="${esc(title || 'cell')}">`,
    `<defs><marker id="${prefix}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>`,
    `<rect x="0" y="0" width="${num(width)}" height="${num(height)}" fill="#ffffff"/>`,
  );
  if (title) parts.push(`<text x="${num(width / 2)}" y="${num(MARGIN + 12)}" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);

  const R = 12; // corner radius of the arcs
  const P = (x: number, y: number): Point => ({ x, y });
  const paths: { d: string; samples: Point[] }[] = all.map((e, i) => {
    const a = point(i, true);
    const b = point(i, false);
    const pieces: PathPiece[] = [];
    if (e.side === 'direct') {
      const dx = (b.x - a.x) * 0.45;
      pieces.push([P(a.x, a.y), P(a.x + dx, a.y), P(b.x - dx, b.y), P(b.x, b.y)]);
    } else {
      const up = e.side === 'above';
      const y = up ? midY + rowTop - 6 - (e.level - 0.5) * LEVEL_H : midY + rowBottom + 6 + (e.level - 0.5) * LEVEL_H;
      const g = COL_GAP / 2;
      const startEnd = a.face === 'right' ? a.x + g : a.x + R;
      pieces.push(a.face === 'right'
        ? [P(a.x, a.y), P(a.x + g * 0.8, a.y), P(a.x + g * 0.2, y), P(startEnd, y)]
        : [P(a.x, a.y), P(a.x, y), P(a.x, y), P(startEnd, y)]);
      const endStart = b.face === 'left' ? b.x - g : b.x - R;
      pieces.push([P(startEnd, y), P(endStart, y)]);
      pieces.push(b.face === 'left'
        ? [P(endStart, y), P(b.x - g * 0.2, y), P(b.x - g * 0.8, b.y), P(b.x, b.y)]
        : [P(endStart, y), P(b.x, y), P(b.x, y), P(b.x, b.y)]);
    }
    const d = pieces.map((p, k) => (k === 0 ? `M${num(p[0].x)},${num(p[0].y)} ` : '') + (p.length === 4
      ? `C${num(p[1].x)},${num(p[1].y)} ${num(p[2].x)},${num(p[2].y)} ${num(p[3].x)},${num(p[3].y)}`
      : `L${num(p[1].x)},${num(p[1].y)}`)).join(' ');
    return { d, samples: samplePath(pieces) };
  });
  // Labels go where they touch no edge, node or other label (labels.ts).
  const labelled = all.map((e, i) => ({ e, i })).filter(({ e }) => e.op !== null);
  const nodeBoxes = range(OUT + 1).map((n) => ({ ...pos(n), w: NODE_W, h: NODE_H }));
  const { at, collisions } = placeLabels(
    labelled.map(({ e, i }) => ({ text: e.op as string, path: paths[i].samples })),
    paths.map((p) => p.samples),
    nodeBoxes,
    { x: 0, y: title ? MARGIN + 14 : 0, w: width, h: height - (title ? MARGIN + 14 : 0) },
  );
  const labels: string[] = [];
  all.forEach((e, i) => {
    const color = e.op === null ? '#aaaaaa' : colorOf(e.op);
    const dash = e.op === null ? ' stroke-dasharray="4 3"' : '';
    parts.push(`<path class="edge" d="${paths[i].d}" fill="none" stroke="${color}" stroke-width="1.6"${dash} marker-end="url(#${prefix}-arrow)"><title>${esc(nodeName(e.from, OUT))} → ${esc(nodeName(e.to, OUT))}${e.op ? `: ${esc(e.op)}` : ''}</title></path>`);
  });
  labelled.forEach(({ e }, k) => {
    const color = colorOf(e.op as string);
    labels.push(`<text class="op" x="${num(at[k].x)}" y="${num(at[k].y)}" text-anchor="middle" font-size="11" fill="${color}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${esc(e.op as string)}</text>`);
  });
  parts.push(...labels);

  for (let n = 0; n <= OUT; n++) {
    const { x, y } = pos(n);
    const fill = n < 2 ? '#c7e9c0' : n === OUT ? '#f6e8a6' : '#cfe3f7';
    parts.push(
      `<g class="node"><rect x="${num(x)}" y="${num(y)}" width="${NODE_W}" height="${NODE_H}" rx="6" fill="${fill}" stroke="#555"/>` +
        `<text x="${num(x + NODE_W / 2)}" y="${num(y + NODE_H / 2 + 4)}" text-anchor="middle">${nodeLabel(n, OUT)}</text></g>`,
    );
  }
  parts.push('</svg>');
  return { svg: parts.join('\n') + '\n', collisions };
}

/** Plain-text name of a node, for tooltips. */
function nodeName(n: number, out: number): string {
  if (n === 0) return 'c_{k-2}';
  if (n === 1) return 'c_{k-1}';
  if (n === out) return 'c_{k}';
  return String(n - 2);
}

/** The node's label with subscripts drawn as tspans. */
function nodeLabel(n: number, out: number): string {
  const sub = (s: string) => `c<tspan baseline-shift="sub" font-size="9">${esc(s)}</tspan>`;
  if (n === 0) return sub('k-2');
  if (n === 1) return sub('k-1');
  if (n === out) return sub('k');
  return String(n - 2);
}

function pushTo<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function range(n: number): number[] {
  return Array.from({ length: Math.max(0, n) }, (_, i) => i);
}

/** Ids must be XML names: keep letters, digits, `-` and `_`. */
export function sanitizeId(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9_-]/g, '-');
  return /^[A-Za-z_]/.test(clean) ? clean : `id-${clean}`;
}
