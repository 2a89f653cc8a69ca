import { describe, expect, it } from 'vitest';
import { Random, Tensor, noGrad } from '../../core/index.js';
import { formatGenotype } from '../../nas/genotype.js';
import { isNamedGenotype, listNamedGenotypes, namedGenotype } from '../../nas/named-genotypes.js';
import { GenotypeNetwork } from '../../nas/network.js';

describe('named genotypes (DARTS genotypes.py)', () => {
  it('DARTS_V2 is the published cell, and darts is DARTS_V2', () => {
    const g = namedGenotype('darts_v2');
    expect(formatGenotype(g)).toBe(
      'normal: 2 <- sep_conv_3x3(0), sep_conv_3x3(1) | 3 <- sep_conv_3x3(0), sep_conv_3x3(1) | ' +
      '4 <- sep_conv_3x3(1), skip_connect(0) | 5 <- skip_connect(0), dil_conv_3x3(2) => concat 2,3,4,5\n' +
      'reduce: 2 <- max_pool_3x3(0), max_pool_3x3(1) | 3 <- skip_connect(2), max_pool_3x3(1) | ' +
      '4 <- max_pool_3x3(0), skip_connect(2) | 5 <- skip_connect(2), max_pool_3x3(1) => concat 2,3,4,5');
    expect(namedGenotype('darts')).toEqual(g);
    expect(namedGenotype('darts_v1').reduce[7]).toEqual(['avg_pool_3x3', 0]);
  });

  it('hands out copies: changing one does not change the next', () => {
    const g = namedGenotype('pc_darts');
    g.normal[0][0] = 'max_pool_3x3';
    expect(namedGenotype('pc_darts').normal[0][0]).toBe('sep_conv_3x3');
  });

  it('every named genotype builds a network that runs', () => {
    for (const name of listNamedGenotypes()) {
      const net = new GenotypeNetwork(namedGenotype(name), {
        inputChannels: 1, numClasses: 3, cells: 3, channels: 2, nodes: 4, binary: false,
        binarizers: { activation: 'approx', weight: 'scaled' }, rng: new Random(1),
      }).eval();
      const y = noGrad(() => net.forward(Tensor.randn([2, 1, 8, 8], 1, new Random(2))));
      expect(y.shape, name).toEqual([2, 3]);
    }
  });

  it('an unknown name is refused with the list of names', () => {
    expect(isNamedGenotype('darts_v3')).toBe(false);
    expect(isNamedGenotype('toString')).toBe(false);
    expect(() => namedGenotype('darts_v3')).toThrow(/no genotype named "darts_v3" \(named genotypes: darts_v1, darts_v2/);
  });
});
