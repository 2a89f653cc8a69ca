import { describe, expect, it } from 'vitest';
import { BinaryConv2d } from '../../binary/binary-conv.js';
import { Tensor } from '../../core/index.js';
import { Random } from '../../core/index.js';
import { MixedOp } from '../../nas/mixed-op.js';
import { GenotypeNetwork } from '../../nas/network.js';
import { createOperation, listOperations, operationInfo, registerOperation, unregisterOperation } from '../../nas/operations.js';
import { Supernet } from '../../nas/supernet.js';
import { pairConvs } from '../../nas/train.js';
import { BiRealUnit, CHILD_BLOCKS, PaperUnit, ParentUnit, makeUnit } from '../../nas/units.js';
import type { ChildBlock, Genotype } from '../../nas/types.js';
import { crossEntropy } from '../../ops/loss.js';
import { WithBatchNorm } from '../../nas/mixed-op.js';
import { Conv2d } from '../../ops/layers.js';
import { Module } from '../../ops/module.js';
import { SGD } from '../../ops/optim/sgd.js';

const binarizers = { activation: 'approx', weight: 'scaled' };
const GENOTYPE: Genotype = {
  normal: [['sep_conv_3x3', 0], ['skip_connect', 1], ['dil_conv_3x3', 0], ['max_pool_3x3', 2], ['sep_conv_5x5', 1], ['avg_pool_3x3', 3], ['skip_connect', 0], ['dil_conv_5x5', 4]],
  normalConcat: [2, 3, 4, 5],
  reduce: [['skip_connect', 0], ['sep_conv_3x3', 1], ['max_pool_3x3', 0], ['dil_conv_3x3', 2], ['skip_connect', 2], ['sep_conv_3x3', 3], ['avg_pool_3x3', 1], ['skip_connect', 4]],
  reduceConcat: [2, 3, 4, 5],
};

function net(binary: boolean, childBlock: ChildBlock, seed = 1): GenotypeNetwork {
  return new GenotypeNetwork(GENOTYPE, {
    inputChannels: 1, numClasses: 3, cells: 3, channels: 4, nodes: 4, binary, binarizers, childBlock, rng: new Random(seed),
  });
}

const stateKeys = (m: Module): string[] => m.namedParameters().map(([n]) => n).sort();

describe('units: one declaration, three forms', () => {
  it('makeUnit builds the Parent, the paper Child and the Bi-Real Child', () => {
    const convs = [{ inC: 4, outC: 4, kernel: 3, padding: 1, groups: 4 }, { inC: 4, outC: 4, kernel: 1 }];
    const o = { affine: true, binarizers };
    expect(makeUnit(convs, { ...o, binary: false, childBlock: 'paper' })).toBeInstanceOf(ParentUnit);
    expect(makeUnit(convs, { ...o, binary: true, childBlock: 'paper' })).toBeInstanceOf(PaperUnit);
    const bireal = makeUnit(convs, { ...o, binary: true, childBlock: 'bireal' }) as BiRealUnit;
    expect(bireal).toBeInstanceOf(BiRealUnit);
    expect(bireal.inner.length).toBe(1);
    expect(() => makeUnit(convs, { ...o, binary: true, childBlock: 'nope' as ChildBlock })).toThrow(/unknown Child form "nope" \(known: paper, bireal\)/);
    expect(() => makeUnit([], { ...o, binary: false })).toThrow(/at least one convolution/);
  });

  it('the paper unit is the Parent without the ReLU: same output on the same weights when inputs are signs', () => {
    // with inputs in {-1, +1} and sign weights, the 1-bit conv computes exactly what the float conv does
    // on sign(w) inputs; the Parent's ReLU zeroes the -1s, the paper unit keeps them (no ReLU before sign)
    const decl = [{ inC: 2, outC: 2, kernel: 1 }];
    const o = { affine: false, binarizers: { activation: 'approx', weight: 'sign' } };
    const parent = makeUnit(decl, { ...o, binary: false });
    const child = makeUnit(decl, { ...o, binary: true, childBlock: 'paper' });
    child.loadStateDict(parent.stateDict(), { strict: false });
    (parent.convs[0] as Conv2d).weight.data.set([1, -1, 1, 1]);
    (child.convs[0] as Conv2d).weight.data.set([1, -1, 1, 1]);
    const x = Tensor.from([1, -1, 1, 1, -1, -1, 1, -1], [2, 2, 1, 2]);
    // channel 0: x0 - x1, channel 1: x0 + x1, per pixel; then BN over the 4 values of each channel
    const c = child.forward(x).data;
    const expected = bn([[0, -2, -2, 0], [2, 0, 0, -2]]);
    for (let i = 0; i < 8; i++) expect(c[i]).toBeCloseTo(expected[i], 4);
    const p = parent.forward(x).data;
    // relu(x): sample 0 = [1, 0 | 1, 1], sample 1 = [0, 0 | 1, 0]
    const expectedParent = bn([[0, -1, -1, 0], [2, 1, 1, 0]]);
    for (let i = 0; i < 8; i++) expect(p[i]).toBeCloseTo(expectedParent[i], 4);
  });

  for (const block of CHILD_BLOCKS) {
    it(`${block}: every primitive builds with 1-bit convs only, both strides`, () => {
      const x = Tensor.randn([2, 4, 7, 7], 1);
      for (const name of listOperations().slice(0, 8)) {
        for (const stride of [1, 2]) {
          const op = createOperation(name, 4, stride, { binary: true, affine: false, binarizers, childBlock: block }) as unknown as { forward(x: Tensor): Tensor } & Module;
          expect(op.forward(x).shape, `${name} stride ${stride}`).toEqual([2, 4, stride === 1 ? 7 : 4, stride === 1 ? 7 : 4]);
          const convs = op.modules().filter((m) => m instanceof Conv2d);
          expect(convs.every((m) => m instanceof BinaryConv2d), name).toBe(true);
        }
      }
    });

    it(`${block}: the final network trains a step, pairs with the Parent conv by conv and round-trips its state`, () => {
      const parent = net(false, block);
      const child = net(true, block);
      // the CP loss and Child-from-Parent init pair the convolutions by position
      const pairs = pairConvs(child, parent);
      expect(pairs.child.length).toBeGreaterThan(10);
      child.loadStateDict(parent.stateDict(), { strict: false }); // the packed 1-bit state is the Child's own
      for (let i = 0; i < pairs.child.length; i++) expect([...pairs.child[i].weight.data]).toEqual([...pairs.parent[i].weight.data]);
      if (block === 'paper') expect(stateKeys(child)).toEqual(stateKeys(parent)); // exactly the Parent's parameters
      else expect(stateKeys(child).length).toBeGreaterThan(stateKeys(parent).length); // the Bi-Real inner BNs

      const x = Tensor.randn([4, 1, 8, 8], 2);
      const y = new Int32Array([0, 1, 2, 1]);
      const opt = new SGD(child.parameters(), { lr: 0.1, momentum: 0.9 });
      const before = [...pairs.child[0].weight.data];
      const loss = crossEntropy(child.forward(x), y);
      expect(Number.isFinite(loss.data[0])).toBe(true);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      expect([...pairs.child[0].weight.data]).not.toEqual(before);

      child.eval();
      const out = child.forward(x).data;
      const copy = net(true, block, 99);
      copy.loadStateDict(child.stateDict());
      copy.eval();
      expect([...copy.forward(x).data]).toEqual([...out]);
      expect(() => net(true, block === 'paper' ? 'bireal' : 'paper').loadStateDict(child.stateDict())).toThrow();
    });

    it(`${block}: the search supernet builds the form too`, () => {
      const sn = new Supernet({ inputChannels: 1, numClasses: 3, cells: 3, channels: 2, nodes: 2, binary: true, binarizers, childBlock: block }, ['none', 'skip_connect', 'sep_conv_3x3']);
      const units = sn.modules().filter((m) => m instanceof ParentUnit || m instanceof PaperUnit || m instanceof BiRealUnit);
      expect(units.length).toBeGreaterThan(0);
      expect(units.every((m) => m instanceof (block === 'paper' ? PaperUnit : BiRealUnit))).toBe(true);
    });
  }
});

describe('MixedOp asks the registry which operations need a BN', () => {
  it('pools and a registered operation flagged needsBatchNorm get one; others do not', () => {
    expect(operationInfo('max_pool_3x3').needsBatchNorm).toBe(true);
    expect(operationInfo('sep_conv_3x3').needsBatchNorm).toBe(false);
    registerOperation('my_pooling', () => createOperation('avg_pool_3x3', 4, 1, { binary: false, affine: false, binarizers }), { needsBatchNorm: true });
    registerOperation('spool_like', () => createOperation('avg_pool_3x3', 4, 1, { binary: false, affine: false, binarizers }));
    try {
      const m = new MixedOp(['none', 'avg_pool_3x3', 'my_pooling', 'spool_like', 'skip_connect'], 4, 1, { binary: true, affine: false, binarizers });
      expect(m.ops.map((o) => o instanceof WithBatchNorm)).toEqual([false, true, true, false, false]);
    } finally {
      unregisterOperation('my_pooling');
      unregisterOperation('spool_like');
    }
  });
});

/** Batch normalization of each row (one channel's values), eps 1e-5, no affine. */
function bn(rows: number[][]): number[] {
  const out: number[][] = rows.map((r) => {
    const m = r.reduce((a, b) => a + b, 0) / r.length;
    const v = r.reduce((a, b) => a + (b - m) ** 2, 0) / r.length;
    return r.map((x) => (x - m) / Math.sqrt(v + 1e-5));
  });
  // layout [N=2, C=2, H=1, W=2]: sample n, channel c, pixel w -> rows[c][2n + w]
  const flat: number[] = [];
  for (let n = 0; n < 2; n++) for (let c = 0; c < 2; c++) for (let w = 0; w < 2; w++) flat.push(out[c][2 * n + w]);
  return flat;
}
