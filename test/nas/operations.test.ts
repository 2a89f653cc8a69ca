import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BinaryConv2d } from '../../binary/binary-conv.js';
import { Tensor } from '../../core/index.js';
import { loadDataset, searchSplit } from '../../data/index.js';
import { validateGenotype } from '../../nas/genotype.js';
import { MixedOp } from '../../nas/mixed-op.js';
import { createOperation, listOperations, registerOperation, unregisterOperation } from '../../nas/operations.js';
import { makeConv } from '../../nas/primitives.js';
import { runSearch } from '../../nas/search.js';
import { BatchNorm2d, Conv2d, Sequential } from '../../ops/layers.js';

const binarizers = { activation: 'approx', weight: 'scaled' };
const dir = mkdtempSync(join(tmpdir(), 'cpnas-ops-'));
afterAll(() => {
  unregisterOperation('conv_1x3_3x1');
  rmSync(dir, { recursive: true, force: true });
});

describe('operation registry', () => {
  it('holds the 8 DARTS primitives in order', () => {
    expect(listOperations().slice(0, 8)).toEqual([
      'none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5',
    ]);
  });

  it('builds every primitive in both forms with the right output shape', () => {
    const x = Tensor.randn([2, 4, 7, 7], 1);
    for (const name of listOperations().slice(0, 8)) {
      for (const stride of [1, 2]) {
        for (const binary of [false, true]) {
          const op = createOperation(name, 4, stride, { binary, affine: false, binarizers }) as unknown as { forward(x: Tensor): Tensor };
          const y = op.forward(x);
          expect(y.shape, `${name} stride ${stride}`).toEqual([2, 4, stride === 1 ? 7 : 4, stride === 1 ? 7 : 4]);
        }
      }
      const child = createOperation(name, 4, 1, { binary: true, affine: false, binarizers });
      const convs = child.modules().filter((m) => m instanceof Conv2d);
      expect(convs.every((m) => m instanceof BinaryConv2d), name).toBe(true);
    }
  });

  it('refuses bad names, duplicates and replacing none', () => {
    const f = () => new Sequential();
    expect(() => registerOperation('Bad Name', f)).toThrow(/must be a lowercase identifier/);
    expect(() => registerOperation('sep_conv_3x3', f)).toThrow(/"sep_conv_3x3" is already registered \(built in\); pass \{ replace: true \}/);
    expect(() => registerOperation('none', f, { replace: true })).toThrow(/cannot be replaced/);
    expect(() => createOperation('nope', 4, 1, { binary: false, affine: false, binarizers })).toThrow(/unknown operation "nope" \(registered: none, max_pool_3x3/);
  });

  it('a registered operation is searched, validated and built in both forms', () => {
    registerOperation('conv_1x3_3x1', (C, stride, o) => new Sequential(
      makeConv(C, C, [1, 3], { stride, padding: [0, 1] }, o),
      makeConv(C, C, [3, 1], { padding: [1, 0] }, o),
      new BatchNorm2d(C, { affine: o.affine }),
    ));
    expect(listOperations()).toContain('conv_1x3_3x1');
    const mixed = new MixedOp(['none', 'conv_1x3_3x1'], 4, 2, { binary: true, affine: false, binarizers });
    expect(mixed.forwardOne(Tensor.randn([1, 4, 8, 8], 1), 1)!.shape).toEqual([1, 4, 4, 4]);
    expect(mixed.modules().some((m) => m instanceof BinaryConv2d)).toBe(true);

    const data = loadDataset('synthetic', { seed: 1, synthetic: { size: 8, channels: 1, classes: 3, train: 64, val: 8, test: 8 } });
    const out = runSearch({
      settings: {
        cells: 3, channels: 2, imageSize: 8, batchSize: 16, sampleFraction: 0.01, valFraction: 0.5, seed: 1,
        primitives: ['none', 'skip_connect', 'conv_1x3_3x1'],
      },
      data: searchSplit(data.train, 0), outDir: dir,
    });
    expect(validateGenotype(out.genotype)).toEqual(out.genotype);
    const g = structuredClone(out.genotype);
    g.normal[0][0] = 'conv_1x3_3x1';
    expect(validateGenotype(g).normal[0][0]).toBe('conv_1x3_3x1');
  });
});
