import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CpnasError } from '../../core/index.js';
import { lineChart, niceTicks } from '../../nas/report/chart.js';
import { genotypeCellSvg, keptOps, renderReportHtml } from '../../nas/report/html.js';
import { indicatorSeries, parseEdge } from '../../nas/report/indicator.js';
import { cellSvg, edgesFromPairs } from '../../nas/report/svg.js';
import { ablationMarkdown, pctStat, stat, summarizeAblation, type AblationRun } from '../../nas/report/table.js';
import { listRunFiles, writeRunReports } from '../../nas/report/write.js';
import { esc } from '../../nas/report/xml.js';
import type { ArchWeightsRecord, HistoryRecord } from '../../nas/types.js';
import { GENOTYPE, cpHistory, edgeKeys, result } from './report-fixtures.js';
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
    expect(svg.match(/<circle/g)?.length).toBe(2);
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

describe('indicator', () => {
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
    expect(files).toEqual(['cell-normal.svg', 'cell-reduce.svg', 'checkpoints/', 'child/model.json', 'genotype.json', 'report.html', 'result.json']);
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
