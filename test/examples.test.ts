import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main as dcpMain } from '../examples/dcp-tangent-step.js';
import { main as dnaMain } from '../examples/dna-block-distillation.js';
import { main as gradcheckMain } from '../examples/gradcheck-custom-op.js';
import { accuracy, main as trainMain, makeCnn } from '../examples/train-cnn.js';
import { loadModule } from '../ops/state.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('examples', () => {
  it('gradcheck-custom-op: the custom ops pass, the buggy one is caught', () => {
    const lines: string[] = [];
    const r = gradcheckMain({ runs: 15, log: (l) => lines.push(l) });
    expect(r.softplusOk).toBe(true);
    expect(r.swishOk).toBe(true);
    expect(r.buggyCaught).toBe(true);
    expect(r.counterexample).toMatch(/^x \[/);
    expect(lines.join('\n')).toMatch(/softplus: gradient agrees/);
  });

  it('train-cnn: a short run lowers the loss, learns, and saves a model that reloads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpnas-example-'));
    dirs.push(dir);
    const lines: string[] = [];
    const r = trainMain({ epochs: 2, trainSize: 600, testSize: 200, saveTo: join(dir, 'cnn'), log: (l) => lines.push(l) });
    expect(r.history.length).toBe(2);
    expect(r.history[1].loss).toBeLessThan(r.history[0].loss);
    expect(r.history[1].testAccuracy).toBeGreaterThan(0.3); // 10 classes: chance is 0.1
    expect(lines.some((l) => /^epoch 2\/2 .* test \d+\.\d%/.test(l))).toBe(true);

    const fresh = makeCnn(3, 10, 8);
    loadModule(fresh, join(dir, 'cnn'));
    expect(accuracy(fresh, r.test)).toBe(r.history[1].testAccuracy);
  });

  it('dcp-tangent-step: the Child step is corrected along the Parent direction', () => {
    const lines: string[] = [];
    const r = dcpMain((l) => lines.push(l));
    expect(r.D).toBeGreaterThan(0);
    expect(r.cosStep).not.toBe(r.cosPlain);
    expect(lines.join('\n')).toMatch(/after tangent propagation/);
  });

  it('dna-block-distillation: a Child block learns the Parent block, and candidates get ratings', () => {
    const r = dnaMain(() => {});
    expect(r.after).toBeLessThan(r.before);
    expect(Object.keys(r.ratings)).toEqual(['none', 'max_pool_3x3', 'skip_connect', 'sep_conv_3x3']);
  });
});
