import { describe, expect, it } from 'vitest';
import { CenterLoss } from '../../binary/center-loss.js';
import { Random, Tensor } from '../../core/index.js';
import { BatchNorm2d } from '../../ops/layers.js';
import { GenotypeNetwork } from '../../nas/network.js';
import { ShardRunner, shardDataLoss } from '../../nas/shards.js';
import type { Genotype } from '../../nas/types.js';

const GENOTYPE: Genotype = {
  normal: [['sep_conv_3x3', 0], ['skip_connect', 1], ['dil_conv_3x3', 0], ['max_pool_3x3', 2], ['sep_conv_5x5', 1], ['avg_pool_3x3', 3], ['dil_conv_5x5', 4], ['skip_connect', 0]],
  normalConcat: [2, 3, 4, 5],
  reduce: [['skip_connect', 0], ['sep_conv_3x3', 1], ['max_pool_3x3', 0], ['dil_conv_5x5', 2], ['avg_pool_3x3', 1], ['sep_conv_5x5', 3], ['dil_conv_3x3', 0], ['skip_connect', 4]],
  reduceConcat: [2, 3, 4, 5],
};
const config = { inputChannels: 2, numClasses: 3, cells: 3, channels: 4, nodes: 4, binarizers: { activation: 'approx', weight: 'scaled' } };
const loss = { theta: 0.01, kd: 0.5, kdTemperature: 2 };

describe('data-parallel shards', () => {
  for (const phase of ['parent', 'child'] as const) {
    it(`${phase}: the size-weighted gradients of two shards equal the whole batch's (BN statistics frozen)`, () => {
      const rng = new Random(4);
      const parent = new GenotypeNetwork(GENOTYPE, { ...config, binary: false, rng });
      const child = new GenotypeNetwork(GENOTYPE, { ...config, binary: true, rng });
      const centers = new CenterLoss(3, child.classifier.inFeatures, { theta: loss.theta });
      const net = phase === 'parent' ? parent : child;
      // running statistics that are not the defaults, then frozen: the loss no longer couples the samples
      net.train();
      for (let i = 0; i < 3; i++) net.forward(Tensor.randn([8, 2, 8, 8], 1, rng));
      parent.eval();
      net.train();
      for (const m of net.modules()) if (m instanceof BatchNorm2d) m.training = false;
      centers.centers.set(Float32Array.from({ length: centers.centers.length }, () => rng.normal()));
      centers.eval(); // the update of the centers would differ between one batch and two shards

      const N = 7, nA = 4, nB = 3;
      const x = Tensor.randn([N, 2, 8, 8], 1, rng);
      const y = Int32Array.from({ length: N }, (_, i) => i % 3);
      const params = net.parameters();
      const whole = shardDataLoss(phase, net, parent, centers, x, y, loss);
      for (const p of params) p.grad = null;
      whole.loss.backward();
      const expected = params.map((p) => (p.grad ? p.grad.data.slice() : new Float32Array(p.size)));

      const runner = new ShardRunner({ genotype: GENOTYPE, config, loss }, [2, 8, 8], 4, false);
      runner.loadParent(parent);
      runner.begin(phase, net, centers, x.data.subarray(nA * 128), y.subarray(nA), nB, true, 0);
      const a = shardDataLoss(phase, net, parent, centers, new Tensor(x.data.slice(0, nA * 128), [nA, 2, 8, 8]), y.subarray(0, nA), loss);
      for (const p of params) p.grad = null;
      a.loss.backward();
      const b = runner.finish();
      runner.close();
      let o = 0;
      params.forEach((p, i) => {
        const got = new Float32Array(p.size);
        for (let j = 0; j < p.size; j++) got[j] = (nA / N) * (p.grad ? p.grad.data[j] : 0) + (nB / N) * b.gradients[o + j];
        o += p.size;
        for (let j = 0; j < p.size; j++) expect(got[j]).toBeCloseTo(expected[i][j], 4);
      });
      expect((nA * a.stats.data + nB * b.stats.data) / N).toBeCloseTo(whole.stats.data, 5);
      expect(a.stats.correct + b.stats.correct).toBe(whole.stats.correct);
    });
  }
});
