import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CpnasError } from '../../core/index.js';
import { decimalsOf, lineChart, niceTicks, percentTick } from '../../nas/report/chart.js';
import { genotypeCellSvg, keptOps, renderReportHtml, reportCurvesCsv } from '../../nas/report/html.js';
import { indicatorCharts, indicatorSeries, parseEdge } from '../../nas/report/indicator.js';
import { labelBox, placeLabels, samplePath, type PathPiece, type Point } from '../../nas/report/labels.js';
import { cellSvg, edgesFromPairs } from '../../nas/report/svg.js';
import { ablationMarkdown, pctStat, stat, summarizeAblation, type AblationRun } from '../../nas/report/table.js';
import { listRunFiles, writeRunReports } from '../../nas/report/write.js';
import { colorOf, esc } from '../../nas/report/xml.js';
import type { ArchWeightsRecord, HistoryRecord } from '../../nas/types.js';
import { GENOTYPE, PRIMITIVES, cpHistory, edgeKeys, result } from './report-fixtures.js';
import { checkWellFormed } from './report-xml.js';

describe('cell SVG', () => {
  it('draws a well-formed DAG with every operation name and the node labels', () => {
    const svg = genotypeCellSvg(GENOTYPE, 'normal');
    expect(checkWellFormed(svg)).toEqual([]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    for (const [op] of GENOTYPE.normal) expect(svg).toContain(`>${op}</text>`);
    // 8 kept edges + 4 edges into the output
    expect(svg.match(/<path class="edge"/g)?.length).toBe(12);
    expect(svg.match(/<g class="node">/g)?.length).toBe(7);
    expect(svg).toContain('k-2</tspan>');
    expect(svg).toContain('k-1</tspan>');
    expect(svg).toContain('>k</tspan>');
    expect(svg).toContain('marker-end="url(#normal-arrow)"');
  });

  it('places nodes in layers left to right (a node sits right of every input it reads)', () => {
    const svg = cellSvg(edgesFromPairs(GENOTYPE.normal));
    const xs = [...svg.matchAll(/<g class="node"><rect x="([\d.]+)"/g)].map((m) => Number(m[1]));
    const edges = edgesFromPairs(GENOTYPE.normal);
    for (const e of edges) expect(xs[e.to]).toBeGreaterThan(xs[e.from]);
    expect(xs[6]).toBeGreaterThan(Math.max(...xs.slice(0, 6)));
  });

  it('escapes names and ids so that odd operation names stay valid XML', () => {
    const svg = cellSvg([{ op: 'conv<7>&"x"', from: 0, to: 2 }, { op: 'skip', from: 1, to: 2 }], { title: 'a & b', idPrefix: '1 bad id' });
    expect(checkWellFormed(svg)).toEqual([]);
    expect(svg).toContain('conv&lt;7&gt;&amp;&quot;x&quot;');
    expect(svg).toContain('id="id-1-bad-id-arrow"');
  });

  it('refuses an edge that does not go forward', () => {
    expect(() => cellSvg([{ op: 'skip_connect', from: 3, to: 2 }])).toThrow(CpnasError);
    expect(() => cellSvg([{ op: 'skip_connect', from: 0, to: 1 }])).toThrow(/does not go from an earlier node/);
  });

  it('draws any cell the genotype format allows (property)', () => {
    const cell = fc.integer({ min: 1, max: 6 }).chain((nodes) =>
      fc.tuple(...Array.from({ length: nodes }, (_, j) => fc.tuple(fc.integer({ min: 0, max: j + 1 }), fc.integer({ min: 0, max: j + 1 }), fc.constantFrom('sep_conv_3x3', 'max_pool_3x3', 'my_op')))),
    );
    fc.assert(fc.property(cell, (nodes) => {
      const edges = nodes.flatMap(([a, b, op], j) => [{ op, from: a, to: j + 2 }, { op, from: b, to: j + 2 }]);
      const svg = cellSvg(edges);
      expect(checkWellFormed(svg)).toEqual([]);
      expect(svg.match(/<g class="node">/g)?.length).toBe(nodes.length + 3);
    }), { numRuns: 50 });
  });
});

describe('line chart', () => {
  it('is well-formed, with a polyline per series and a legend', () => {
    const svg = lineChart([
      { name: 'train', points: [[1, 0.5], [2, 0.6], [3, 0.7]] },
      { name: 'val <b>', points: [[1, 0.4], [2, Number.NaN], [3, 0.65]] },
    ], { title: 'acc', xLabel: 'epoch', yLabel: 'accuracy' });
    expect(checkWellFormed(svg)).toEqual([]);
    expect(svg.match(/<polyline/g)?.length).toBe(1); // the NaN splits 'val' into two single points
    expect(svg.match(/<circle class="point"/g)?.length).toBe(5); // short curves get markers, and the lone points too
    expect(svg).toContain('val &lt;b&gt;');
  });

  it('says "no data" when there is nothing to draw', () => {
    const svg = lineChart([], { title: 'empty' });
    expect(checkWellFormed(svg)).toEqual([]);
    expect(svg).toContain('no data');
  });

  it('niceTicks covers the range with increasing round steps (property)', () => {
    fc.assert(fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), (a, b) => {
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      const t = niceTicks(lo, hi);
      expect(t.length).toBeGreaterThanOrEqual(2);
      expect(t[0]).toBeLessThanOrEqual(lo + 1e-9 * Math.max(1, Math.abs(lo)));
      expect(t[t.length - 1]).toBeGreaterThanOrEqual(hi - 1e-9 * Math.max(1, Math.abs(hi)));
      for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThan(t[i - 1]);
    }), { numRuns: 200 });
  });
});

describe('chart ticks, markers and labels', () => {
  it('labels ticks at the precision of their step', () => {
    expect(decimalsOf(0.025)).toBe(3);
    expect(decimalsOf(2.5)).toBe(1);
    expect(decimalsOf(20)).toBe(0);
    expect(percentTick(0.225, 0.025)).toBe('22.5%');
    expect(percentTick(0.25, 0.025)).toBe('25.0%');
    const svg = lineChart([{ name: 'acc', points: [[1, 0.19], [2, 0.2], [3, 0.3]] }], { yFormat: percentTick });
    const labels = [...svg.matchAll(/text-anchor="end" fill="#555">([^<]+)</g)].map((m) => m[1]);
    expect(labels).toContain('22.5%');
    expect(labels.every((l) => /^\d+\.\d%$/.test(l))).toBe(true);
    // distinct labels for distinct ticks
    expect(new Set(labels).size).toBe(labels.length);
  });

  it('gives a one-epoch curve whole-number x ticks and a marker, and labels both axes', () => {
    const svg = lineChart([{ name: 'val', points: [[1, 0.5]] }], { xLabel: 'epoch', yLabel: 'accuracy', compact: true });
    const xLabels = [...svg.matchAll(/text-anchor="middle" fill="#555">([^<]+)</g)].map((m) => m[1]);
    expect(xLabels).toEqual(['0', '1', '2']);
    expect(svg.match(/<circle class="point"/g)).toHaveLength(1);
    expect(svg).toContain('>epoch</text>');
    expect(svg).toContain('>accuracy</text>');
  });

  it('draws markers on short curves only, and a cross where asked', () => {
    const short = lineChart([{ name: 's', points: [[1, 1], [2, 2], [3, 1.5]], crosses: [3] }]);
    expect(short.match(/<circle class="point"/g)).toHaveLength(3);
    expect(short.match(/<path class="cross"/g)).toHaveLength(1);
    const long = lineChart([{ name: 'l', points: Array.from({ length: 40 }, (_, i) => [i, Math.sin(i)] as const) }]);
    expect(long).not.toContain('class="point"');
  });

  it('gives every DARTS primitive its own colour (none is not grey like skip_connect)', () => {
    expect(new Set(PRIMITIVES.map(colorOf)).size).toBe(PRIMITIVES.length);
    expect(colorOf('none')).not.toBe(colorOf('skip_connect'));
  });

  it('places edge labels where no line, node or other label is', () => {
    // a horizontal line through the middle: the label goes above or below it, not on it
    const line: PathPiece[] = [[{ x: 0, y: 50 }, { x: 200, y: 50 }]];
    const samples = samplePath(line);
    const { at: [at], collisions } = placeLabels([{ text: 'sep_conv_3x3', path: samples }], [samples], [], { x: 0, y: 0, w: 200, h: 100 });
    expect(collisions).toBe(0);
    const box = labelBox('sep_conv_3x3', at.x, at.y);
    expect(box.y + box.h < 50 || box.y > 50).toBe(true);
    // the real drawings: no label box holds a point of any edge (the fixture, and the dense reduction
    // cell of a tiny search: eight edges from the two inputs)
    const DENSE = { ...GENOTYPE, reduce: [['max_pool_3x3', 0], ['max_pool_3x3', 1], ['skip_connect', 0], ['max_pool_3x3', 1], ['skip_connect', 0], ['max_pool_3x3', 1], ['max_pool_3x3', 0], ['sep_conv_3x3', 1]] as [string, number][] };
    for (const [g, cell] of [[GENOTYPE, 'normal'], [GENOTYPE, 'reduce'], [DENSE, 'reduce']] as const) {
      const svg = genotypeCellSvg(g, cell);
      const edges = [...svg.matchAll(/<path class="edge" d="([^"]+)"/g)].map((m) => samplePath(parsePath(m[1])));
      const texts = [...svg.matchAll(/<text class="op" x="([\d.-]+)" y="([\d.-]+)"[^>]*>([^<]+)</g)];
      expect(texts).toHaveLength(8);
      for (const [, x, y, text] of texts) {
        const b = labelBox(text, Number(x), Number(y));
        const hits = edges.flat().filter((p) => p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h);
        expect(hits, `${cell}: ${text} at ${x},${y}`).toEqual([]);
      }
    }
  });
});

/** Reads the M / C / L path data that cellSvg writes. */
function parsePath(d: string): PathPiece[] {
  const nums = (s: string) => s.trim().split(/[ ,]+/).map(Number);
  const pieces: PathPiece[] = [];
  let cur: Point = { x: 0, y: 0 };
  for (const m of d.matchAll(/([MCL])([^MCL]*)/g)) {
    const v = nums(m[2]);
    if (m[1] === 'M') cur = { x: v[0], y: v[1] };
    else if (m[1] === 'L') { pieces.push([cur, { x: v[0], y: v[1] }]); cur = { x: v[0], y: v[1] }; }
    else { const end = { x: v[4], y: v[5] }; pieces.push([cur, { x: v[0], y: v[1] }, { x: v[2], y: v[3] }, end]); cur = end; }
  }
  return pieces;
}

describe('indicator', () => {
  it('plots the mean credit centred on each edge, with a cross in the round that abandoned an operation', () => {
    const history = cpHistory();
    const ind = indicatorSeries(history)!;
    const round1 = history.find((r) => r.type === 'round' && r.round === 1);
    if (round1?.type !== 'round') throw new Error('fixture');
    const credit = round1.meanCredit['normal:0-2'];
    const mean = Object.values(credit).reduce((a, b) => a + b, 0) / Object.keys(credit).length;
    for (const [op, z] of Object.entries(credit)) expect(ind.centred[0]['normal:0-2'][op]).toBeCloseTo((z - mean) * 100, 9);
    expect(ind.centredLabel).toMatch(/z̄/);
    const charts = indicatorCharts(ind, 'normal', keptOps(GENOTYPE));
    expect(charts).toHaveLength(14);
    const chart = charts.find((c) => c.edge.key === 'normal:0-2')!;
    // 7 rounds abandon 7 of the 8 operations: 7 crosses, each on the last point of its line
    const crossed = chart.spec.series.filter((s) => s.crosses?.length);
    expect(crossed).toHaveLength(7);
    for (const s of crossed) {
      const last = s.points.filter(([, y]) => Number.isFinite(y)).at(-1)!;
      expect(s.crosses).toEqual([last[0]]);
    }
    expect(chart.spec.options.xLabel).toBe('round');
    expect(chart.spec.options.yLabel).toBe(ind.centredLabel);
  });


  it('reads edge keys and gathers one snapshot per round', () => {
    expect(parseEdge('reduce:1-4')).toEqual({ key: 'reduce:1-4', cell: 'reduce', from: 1, to: 4 });
    expect(parseEdge('bogus')).toBeNull();
    const ind = indicatorSeries(cpHistory());
    expect(ind?.unit).toBe('round');
    expect(ind?.steps).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(Object.keys(ind!.values[0])).toHaveLength(28);
  });

  it('maps the genotype to its kept operation per edge', () => {
    const kept = keptOps(GENOTYPE);
    expect(kept.get('normal:0-2')).toBe('sep_conv_3x3');
    expect(kept.get('normal:4-5')).toBe('dil_conv_5x5');
    expect(kept.size).toBe(16);
  });
});

describe('report.html', () => {
  const html = renderReportHtml({ genotype: GENOTYPE, history: cpHistory(), result: result(), dataset: 'digits', files: ['genotype.json', 'report.html'] });

  it('is well-formed, self-contained HTML', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(checkWellFormed(html, 'html')).toEqual([]);
    // no network: no URL of any kind, no external script, stylesheet or image
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
    expect(html).not.toMatch(/<(script|img|link|iframe)[^>]*\s(src|href)=/i);
    expect(html).not.toMatch(/@import|url\((?!#)/);
  });

  it('holds both cells, the indicator per edge, the curves, the results and the data', () => {
    expect(html.match(/<svg/g)!.length).toBeGreaterThanOrEqual(2 + 28 + 4);
    for (const [op] of [...GENOTYPE.normal, ...GENOTYPE.reduce]) expect(html).toContain(op);
    expect(html).toContain('Indicator per edge');
    expect(html).toContain('Operation abandoned on each edge');
    expect(html).toContain('91.23 %');
    expect(html).toContain('97.12 %');
    expect(html).toContain('Training: accuracy per epoch');
    expect(html).toContain('Search: accuracy of each sampled architecture');
    const data = /<script type="application\/json" id="cpnas-data">([^<]*)<\/script>/.exec(html);
    expect(data).not.toBeNull();
    const parsed = JSON.parse(data![1]) as { result: { child: { testAccuracy: number } }; history: unknown[] };
    expect(parsed.result.child.testAccuracy).toBe(0.9123);
    expect(parsed.history).toHaveLength(cpHistory().length);
    // marker ids are unique within the page
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('cannot be broken out of by data: a </script> inside a value stays inside the JSON', () => {
    const history: HistoryRecord[] = [{ type: 'genotype', strategy: 'cp', genotype: GENOTYPE, strength: { 'x</script><b>': 1 }, searchSeconds: 1 }];
    const page = renderReportHtml({ genotype: GENOTYPE, history });
    expect(checkWellFormed(page, 'html')).toEqual([]);
    expect(page.match(/<\/script>/g)).toHaveLength(1);
  });

  it('renders a search-only run and a darts run (softmax(alpha) per epoch)', () => {
    const weights = Object.fromEntries(edgeKeys().map((k) => [k, { sep_conv_3x3: 0.6, skip_connect: 0.4 }]));
    const alpha: ArchWeightsRecord[] = [1, 2].map((epoch) => ({ type: 'alpha', strategy: 'darts', epoch, weights }));
    const page = renderReportHtml({ genotype: GENOTYPE, history: alpha, searchSeconds: 12 });
    expect(checkWellFormed(page, 'html')).toEqual([]);
    expect(page).toContain('softmax(α) per epoch');
    expect(page).toContain('Search only');
    const random = renderReportHtml({ genotype: GENOTYPE, history: [] });
    expect(checkWellFormed(random, 'html')).toEqual([]);
    expect(random).not.toContain('Indicator per edge');
  });
});

describe('writeRunReports', () => {
  const dirs: string[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

  it('writes the SVG cells, report.html and result.json, and lists the folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpnas-report-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'genotype.json'), JSON.stringify(GENOTYPE));
    mkdirSync(join(dir, 'child'));
    writeFileSync(join(dir, 'child', 'model.json'), '{}');
    mkdirSync(join(dir, 'checkpoints', 'search'), { recursive: true });
    const files = writeRunReports(dir, { genotype: GENOTYPE, history: cpHistory(), result: result() });
    expect(files).toEqual(['cell-normal.svg', 'cell-reduce.svg', 'checkpoints/', 'child/model.json', 'genotype.json', 'report-curves.csv', 'report.html', 'result.json']);
    const csv = readFileSync(join(dir, 'report-curves.csv'), 'utf8');
    expect(csv).toBe(reportCurvesCsv({ genotype: GENOTYPE, history: cpHistory() }));
    const page = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(page).toContain('<a href="report-curves.csv">');
    expect(page).toContain('<a href="child/model.json">');
    expect(listRunFiles(dir)).toEqual(files);
    expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
    const res = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    expect(res.child.testAccuracy).toBe(0.9123);
    expect(res.parent.testAccuracy).toBe(0.9712);
    for (const key of ['ops', 'sizeBytes', 'searchSeconds', 'trainSeconds', 'settings', 'seed']) expect(res).toHaveProperty(key);
    expect(checkWellFormed(readFileSync(join(dir, 'cell-reduce.svg'), 'utf8'))).toEqual([]);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('child/model.json');
  });
});

describe('ablation table', () => {
  const run = (strategy: string, seed: number, child: number | null, error?: string): AblationRun => ({
    strategy, seed, childAccuracy: child, parentAccuracy: child === null ? null : child + 0.05, searchSeconds: 10 + seed, trainSeconds: 5, ops: 1.5e6, outDir: `x/${strategy}-${seed}`, ...(error ? { error } : {}),
  });

  it('computes mean and sample standard deviation', () => {
    expect(stat([1, 2, 3])).toEqual({ mean: 2, std: 1, n: 3 });
    expect(stat([0.5])).toEqual({ mean: 0.5, std: 0, n: 1 });
    expect(stat([null, Number.NaN])).toBeNull();
    expect(pctStat(stat([0.9, 0.92]))).toBe('91.00 ± 1.41');
    expect(pctStat(null)).toBe('–');
  });

  it('summarizes per strategy, counts failures, and prints an aligned Markdown table', () => {
    const rows = summarizeAblation([run('cp', 0, 0.9), run('cp', 1, 0.92), run('bnas', 0, 0.88), run('bnas', 1, null, 'boom')]);
    expect(rows.map((r) => r.strategy)).toEqual(['cp', 'bnas']);
    expect(rows[1]).toMatchObject({ runs: 2, failed: 1 });
    const md = ablationMarkdown(rows);
    const lines = md.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[0]).toContain('Child acc. % (mean ± std)');
    expect(lines[2]).toContain('91.00 ± 1.41');
    expect(lines[3]).toContain('1/2');
    expect(lines[1]).toMatch(/^\|-+\|-+:\|/);
  });

  it('escapes what it prints into XML', () => {
    expect(esc(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
  });
});
