import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatModelSummary, modelSummary } from '../../cli/commands/summary.js';
import { countOps } from '../../binary/count.js';
import { GenotypeNetwork } from '../../nas/network.js';
import type { Genotype } from '../../nas/types.js';
import { saveSafetensors } from '../../ops/state.js';
import { cli } from './helpers.js';

const GENOTYPE: Genotype = {
  normal: [['sep_conv_3x3', 0], ['skip_connect', 1], ['dil_conv_3x3', 0], ['max_pool_3x3', 2]],
  normalConcat: [2, 3],
  reduce: [['max_pool_3x3', 0], ['sep_conv_3x3', 1], ['skip_connect', 2], ['avg_pool_3x3', 0]],
  reduceConcat: [2, 3],
};
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function saved(binary: boolean): { dir: string; net: GenotypeNetwork } {
  const dir = mkdtempSync(join(tmpdir(), 'cpnas-summary-'));
  dirs.push(dir);
  const config = { inputChannels: 1, numClasses: 4, cells: 3, channels: 4, nodes: 2, binary, binarizers: { activation: 'approx', weight: 'scaled' } };
  const net = new GenotypeNetwork(GENOTYPE, config);
  saveSafetensors(net, join(dir, 'model.safetensors'), { kind: binary ? 'child' : 'parent', genotype: GENOTYPE, config, classNames: ['a', 'b', 'c', 'd'], inputShape: [1, 8, 8], testAccuracy: 0.5 });
  return { dir, net };
}

describe('cpnas summary', () => {
  for (const binary of [true, false]) {
    it(`lists every layer of a ${binary ? 'Child' : 'Parent'}, and its rows add up to countOps' totals`, async () => {
      const { dir, net } = saved(binary);
      const s = await modelSummary(dir);
      const c = countOps(net, [1, 1, 8, 8]);
      const sum = (k: 'params' | 'bops' | 'flops' | 'bytes') => s.rows.reduce((a, r) => a + r[k], 0);
      expect(sum('bops')).toBe(c.bops);
      expect(sum('flops')).toBe(c.flops);
      expect(Math.abs(sum('bytes') - c.sizeBytes)).toBeLessThan(1); // the model rounds its bit stream up to whole bytes once
      expect(sum('params')).toBe(net.parameters().reduce((a, p) => a + p.size, 0));
      expect(s.rows.some((r) => r.bits === 1)).toBe(binary);
      expect(s.rows[0]).toMatchObject({ name: 'stem', kind: 'conv', bits: 32 });
      expect(s.rows.find((r) => r.name === 'classifier')).toMatchObject({ kind: 'linear', outputShape: [4] });
      const text = formatModelSummary(s);
      expect(text).toMatch(/^layer\s+type\s+output shape\s+params\s+weights\s+BOPs\s+FLOPs\s+bytes$/m);
      expect(text).toMatch(/^total\s/m);
    });
  }

  it('prints the table from the CLI, as JSON too, and names --model when it is missing', async () => {
    const { dir } = saved(true);
    const r = await cli(['summary', '--model', dir, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('BinaryConv2d');
    expect(r.stdout).toContain('1-bit');
    const j = await cli(['summary', '--model', dir, '--json', '--quiet']);
    expect(JSON.parse(j.stdout).kind).toBe('child');
    const bad = await cli(['summary', '--quiet']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--model.*required/);
  });
});
