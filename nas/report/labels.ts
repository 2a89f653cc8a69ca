/**
 * Placing the operation name of every edge of a cell drawing where it touches no line: each edge is
 * sampled into points (every ~2 px along its Bézier pieces), and each label tries positions along its
 * own edge, above and below it, nearest the middle first, keeping the first box that holds no point
 * of any edge, no node and no label placed before it. When every position is taken it keeps the one
 * with the fewest collisions. Greedy, in edge order: small cells need nothing cleverer.
 */

export interface Point {
  x: number;
  y: number;
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A piece of an edge's path: a cubic Bézier (four points) or a straight line (two). */
export type PathPiece = readonly [Point, Point, Point, Point] | readonly [Point, Point];

/** Points every ~`spacing` px along the pieces. */
export function samplePath(pieces: readonly PathPiece[], spacing = 2): Point[] {
  const out: Point[] = [];
  for (const p of pieces) {
    const chord = Math.hypot(p[p.length - 1].x - p[0].x, p[p.length - 1].y - p[0].y);
    const hull = p.length === 4 ? chord + Math.hypot(p[1].x - p[0].x, p[1].y - p[0].y) + Math.hypot(p[3].x - p[2].x, p[3].y - p[2].y) : chord;
    const n = Math.max(2, Math.ceil(hull / spacing));
    for (let i = 0; i <= n; i++) out.push(p.length === 4 ? cubicAt(p, i / n) : { x: p[0].x + ((p[1].x - p[0].x) * i) / n, y: p[0].y + ((p[1].y - p[0].y) * i) / n });
  }
  return out;
}

function cubicAt(p: readonly [Point, Point, Point, Point], t: number): Point {
  const u = 1 - t;
  const a = u * u * u;
  const b = 3 * u * u * t;
  const c = 3 * u * t * t;
  const d = t * t * t;
  return { x: a * p[0].x + b * p[1].x + c * p[2].x + d * p[3].x, y: a * p[0].y + b * p[1].y + c * p[2].y + d * p[3].y };
}

/** Approximate box of a label in an 11 px sans-serif font, centred on x, baseline at y. */
export function labelBox(text: string, x: number, baseline: number, fontSize = 11): Box {
  const w = text.length * fontSize * 0.56 + 2;
  return { x: x - w / 2, y: baseline - fontSize * 0.8, w, h: fontSize };
}

function inside(p: Point, b: Box, pad: number): boolean {
  return p.x >= b.x - pad && p.x <= b.x + b.w + pad && p.y >= b.y - pad && p.y <= b.y + b.h + pad;
}

function overlaps(a: Box, b: Box, pad: number): boolean {
  return a.x < b.x + b.w + pad && b.x < a.x + a.w + pad && a.y < b.y + b.h + pad && b.y < a.y + a.h + pad;
}

export interface LabelRequest {
  text: string;
  /** The samples of this label's own edge (positions are tried along it). */
  path: readonly Point[];
}

/**
 * The baseline centre of every label (text-anchor middle), and how many edge points, nodes and labels
 * the labels that found no free place still touch (0 when every label is clear). `edges` are the
 * samples of every drawn edge (labelled or not), `nodes` the node boxes, `bounds` the drawing's box.
 */
export function placeLabels(requests: readonly LabelRequest[], edges: readonly (readonly Point[])[], nodes: readonly Box[], bounds: Box): { at: Point[]; collisions: number } {
  const placed: Box[] = [];
  let collisions = 0;
  // from the middle of the edge outwards, in 5 % steps
  const fractions = [0.5, ...Array.from({ length: 9 }, (_, i) => [0.45 - 0.05 * i, 0.55 + 0.05 * i]).flat(), 0.03, 0.97];
  const at = requests.map((req) => {
    let best: { at: Point; box: Box; hits: number } | null = null;
    for (const f of fractions) {
      const p = req.path[Math.min(req.path.length - 1, Math.round(f * (req.path.length - 1)))];
      for (const dy of [-4, 13, -10, 19, -16, 25, -22, 31]) {
        const at = { x: p.x, y: p.y + dy };
        const box = labelBox(req.text, at.x, at.y);
        if (box.x < bounds.x || box.y < bounds.y || box.x + box.w > bounds.x + bounds.w || box.y + box.h > bounds.y + bounds.h) continue;
        let hits = 0;
        for (const pts of edges) for (const q of pts) if (inside(q, box, 1)) hits++;
        for (const n of nodes) if (overlaps(box, n, 2)) hits += 100;
        for (const l of placed) if (overlaps(box, l, 1)) hits += 100;
        if (!best || hits < best.hits) best = { at, box, hits };
        if (hits === 0) break;
      }
      if (best?.hits === 0) break;
    }
    const chosen = best ?? { at: req.path[Math.floor(req.path.length / 2)], box: labelBox(req.text, 0, 0), hits: 0 };
    placed.push(chosen.box);
    collisions += chosen.hits;
    return chosen.at;
  });
  return { at, collisions };
}
