/**
 * The CLI with the real engine and data, on the tiny preset (seconds): one search + training run, in
 * process through main(), writing every file of a run folder.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readChildFile } from '../../binary/runtime/node.js';
import { checkWellFormed } from '../nas/report-xml.js';
import { cli, tempDir } from './helpers.js';

const root = tempDir('cpnas-e2e-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('cpnas search --preset tiny --dataset synthetic writes all files', async () => {
  const out = join(root, 'tiny');
  // three operations per edge instead of the preset's four keep the test short (two abandonment rounds)
  const r = await cli(['search', '--preset', 'tiny', '--dataset', 'synthetic', '--primitives', 'none,max_pool_3x3,sep_conv_3x3', '--limit', '128', '--out', out, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  for (const f of ['run.json', 'genotype.json', 'history.jsonl', 'result.json', 'cell-normal.svg', 'cell-reduce.svg', 'report.html', 'child/model.safetensors', 'parent/model.safetensors']) {
    expect(existsSync(join(out, f)), f).toBe(true);
  }
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
  for (const model of [result.child, result.parent]) {
    expect(model.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(model.testAccuracy).toBeLessThanOrEqual(1);
  }
  expect(result.ops).toBeGreaterThan(0);
  expect(result.sizeBytes).toBeGreaterThan(0);
  expect(result.child.sizeBytes).toBeLessThan(result.parent.sizeBytes);
  expect(result.searchSeconds).toBeGreaterThan(0);
  expect(result.trainSeconds).toBeGreaterThan(0);
  expect(result.seed).toBe(0);
  expect(result.settings.search.strategy).toBe('cp');
  expect(result.settings.train.cells).toBe(3);

  const genotype = JSON.parse(readFileSync(join(out, 'genotype.json'), 'utf8'));
  const svg = readFileSync(join(out, 'cell-normal.svg'), 'utf8');
  expect(checkWellFormed(svg)).toEqual([]);
  for (const [op] of genotype.normal) expect(svg).toContain(`>${op}</text>`);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  expect(checkWellFormed(html, 'html')).toEqual([]);
  expect(html).toContain('Indicator per edge');
  expect(html).toContain('Training: accuracy per epoch');
  expect(html).not.toMatch(/https?:/);

  expect(r.stdout).toMatch(/Child \(1-bit W\/A\)\s+\d+\.\d\d %/);
  expect(r.stdout).toContain('report.html');
  expect(r.stderr).toMatch(/^search: 100%/m);

  // evaluate the saved Child through the bit-packed path
  const ev = await cli(['eval', '--model', join(out, 'child'), '--json', '--quiet']);
  expect(ev.code, ev.stderr).toBe(0);
  const evaluation = JSON.parse(ev.stdout);
  expect(evaluation.kind).toBe('child');
  expect(evaluation.testAccuracy).toBeCloseTo(result.child.testAccuracy, 6);

  // export the Child alone, and evaluate the file on the runtime: the same test accuracy
  const file = join(root, 'tiny.cpnas-child');
  const ex = await cli(['export', '--model', out, '--out', file, '--json', '--quiet']);
  expect(ex.code, ex.stderr).toBe(0);
  const sizes = JSON.parse(ex.stdout);
  expect(statSync(file).size).toBe(sizes.bytes);
  expect(sizes.bytes).toBeLessThan(sizes.childModelBytes);
  expect(sizes.bytes).toBeLessThan(sizes.parentModelBytes);
  const evFile = await cli(['eval', '--model', file, '--json', '--quiet']);
  expect(evFile.code, evFile.stderr).toBe(0);
  const fromFile = JSON.parse(evFile.stdout);
  expect(fromFile.exported).toBe(true);
  expect(fromFile.images).toBe(evaluation.images);
  expect(fromFile.testAccuracy).toBe(evaluation.testAccuracy);
  // --floats f16: a smaller file, evaluated on the same images (its accuracy may differ by a near-tie)
  const half = join(root, 'tiny-f16.cpnas-child');
  const exHalf = await cli(['export', '--model', out, '--out', half, '--floats', 'f16', '--json', '--quiet']);
  expect(exHalf.code, exHalf.stderr).toBe(0);
  expect(JSON.parse(exHalf.stdout).floats).toBe('f16');
  expect(statSync(half).size).toBeLessThan(sizes.bytes);
  const evHalf = await cli(['eval', '--model', half, '--json', '--quiet']);
  expect(evHalf.code, evHalf.stderr).toBe(0);
  expect(JSON.parse(evHalf.stdout).images).toBe(evaluation.images);
  // --floats q8: 8-bit codes, smaller again, and the runtime evaluates it (meta records the storage)
  const q8 = join(root, 'tiny-q8.cpnas-child');
  const exQ8 = await cli(['export', '--model', out, '--out', q8, '--floats', 'q8', '--json', '--quiet']);
  expect(exQ8.code, exQ8.stderr).toBe(0);
  expect(JSON.parse(exQ8.stdout).floats).toBe('q8');
  expect(statSync(q8).size).toBe(JSON.parse(exQ8.stdout).bytes);
  expect(statSync(q8).size).toBeLessThan(sizes.bytes);
  const evQ8 = await cli(['eval', '--model', q8, '--json', '--quiet']);
  expect(evQ8.code, evQ8.stderr).toBe(0);
  const fromQ8 = JSON.parse(evQ8.stdout);
  expect(fromQ8.exported).toBe(true);
  expect(fromQ8.images).toBe(evaluation.images);
  expect(fromQ8.testAccuracy).toBeGreaterThanOrEqual(0);
  expect(readChildFile(q8).meta.floats).toBe('q8');
  for (const bad of ['f8', 'Q8', '']) {
    const badFloats = await cli(['export', '--model', out, '--out', join(root, 'q.cpnas-child'), '--floats', bad, '--quiet']);
    expect(badFloats.code, bad).toBe(2);
    expect(badFloats.stderr).toMatch(/--floats.*f32, f16, q8/);
    expect(badFloats.stderr.trim().split('\n')).toHaveLength(1);
  }
  expect(existsSync(join(root, 'q.cpnas-child'))).toBe(false);
  // bad input: a Parent, a damaged file
  const parentExport = await cli(['export', '--model', join(out, 'parent'), '--out', join(root, 'p.cpnas-child'), '--quiet']);
  expect(parentExport.code).toBe(2);
  expect(parentExport.stderr).toMatch(/--model.*Parent/);
  expect(existsSync(join(root, 'p.cpnas-child'))).toBe(false);
  const damaged = join(root, 'damaged.cpnas-child');
  writeFileSync(damaged, readFileSync(file).subarray(0, 100));
  const bad = await cli(['eval', '--model', damaged, '--quiet']);
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  expect(bad.stderr).toContain('damaged.cpnas-child');
});
