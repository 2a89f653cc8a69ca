/** Random Child networks for the engine's tests: random genotypes, trained-looking BN statistics. */
import { Random } from '../../core/index.js';
import { randomizeBatchNorm } from '../../bench/net.js';
import { GenotypeNetwork } from '../../nas/network.js';
import type { ChildBlock, Genotype } from '../../nas/types.js';

const OPS = ['max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'];

export function randomGenotype(rng: Random, nodes: number): Genotype {
  const cell = (): [string, number][] => {
    const edges: [string, number][] = [];
    for (let node = 0; node < nodes; node++) {
      // two different inputs among the node's predecessors
      const a = Math.floor(rng.uniform() * (node + 2)), b = (a + 1 + Math.floor(rng.uniform() * (node + 1))) % (node + 2);
      for (const from of [a, b]) edges.push([OPS[Math.floor(rng.uniform() * OPS.length)], from]);
    }
    return edges;
  };
  const concat = Array.from({ length: nodes }, (_, i) => i + 2);
  return { normal: cell(), normalConcat: concat, reduce: cell(), reduceConcat: concat } as unknown as Genotype;
}

/** A Child with random weights and BN statistics (as after training: scales of both signs, shifts). */
export function randomChild(seed: number, opts: { cells: number; channels: number; inputChannels: number; nodes?: number; genotype?: Genotype; childBlock?: ChildBlock }): GenotypeNetwork {
  const rng = new Random(seed);
  const genotype = opts.genotype ?? randomGenotype(rng, opts.nodes ?? 2);
  const net = new GenotypeNetwork(genotype, {
    inputChannels: opts.inputChannels, numClasses: 5, cells: opts.cells, channels: opts.channels, nodes: opts.nodes ?? 2,
    binary: true, binarizers: { activation: 'approx', weight: 'scaled' }, childBlock: opts.childBlock, rng,
  });
  randomizeBatchNorm(net, rng);
  net.eval();
  return net;
}

