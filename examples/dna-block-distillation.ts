/**
 * DNA's one new idea, in a few lines: cut the network into blocks and let a trained teacher (the
 * full-precision Parent) supervise each block of the 1-bit Child on its own: the Child block gets the
 * teacher's block input and learns to reproduce the teacher's block output (feature-map MSE). A block
 * then rates every candidate path by how well it reproduces the teacher, and the architecture is
 * assembled from the ratings (under an OPs / bytes budget if one is given).
 *
 * `cpnas search --strategy dna [--max-ops N]` runs the whole search (nas/strategies/dna.ts).
 * Run it: `npx tsc -p . && node dist/examples/dna-block-distillation.js`
 */
import { pathToFileURL } from 'node:url';
import { Adam, Random, Tensor, crossEntropy, noGrad } from '../index.js';
import { loadDataset } from '../data/index.js';
import { Supernet, allEdgeKeys, blockStates, featureLoss, forwardBlock, mixedChoice, networkBlocks } from '../nas/index.js';

export function main(log: (line: string) => void = console.log): { before: number; after: number; ratings: { [op: string]: number } } {
  const primitives = ['none', 'max_pool_3x3', 'skip_connect', 'sep_conv_3x3'];
  const data = loadDataset('synthetic', { seed: 1, synthetic: { size: 8, channels: 1, classes: 4, train: 64, val: 8, test: 8 } });
  const batches = [...data.train.batches(32)];
  const config = { inputChannels: 1, numClasses: 4, cells: 3, channels: 2, nodes: 4, binarizers: { activation: 'approx', weight: 'scaled' } };
  const rng = new Random(0);
  const parent = new Supernet({ ...config, binary: false, rng }, primitives);
  const child = new Supernet({ ...config, binary: true, rng }, primitives);
  const everyOp = mixedChoice(Tensor.full([14, 4], 1 / 4), Tensor.full([14, 4], 1 / 4));

  // the teacher: a few steps of the Parent with every candidate on
  const opt = new Adam(parent.parameters(), { lr: 3e-3 });
  for (const b of batches) {
    opt.zeroGrad();
    crossEntropy(parent.forward(b.x, everyOp), b.y).backward();
    opt.step();
  }
  // (the teacher keeps batch statistics, as the Child does)

  const blocks = networkBlocks(3); // [[0], [1], [2]]: a block per stage between reductions
  const path = () => child.choiceOf(Object.fromEntries(allEdgeKeys(4).map((e) => [e, primitives[rng.int(4)]])));
  const lossOf = (b: (typeof batches)[0], choice = path()) => {
    const teacher = blockStates(parent, b.x, everyOp, blocks); // the teacher's input and output of every block
    return featureLoss(forwardBlock(child, blocks[0], teacher.inputs[0], choice), teacher.outputs[0]);
  };
  // block 1 of the Child, alone, one random path per step
  const blockOpt = new Adam(child.cells[0].parameters(), { lr: 1e-2 });
  const probe = child.choiceOf(Object.fromEntries(allEdgeKeys(4).map((e) => [e, 'sep_conv_3x3'])));
  const before = noGrad(() => lossOf(batches[0], probe).item());
  for (let step = 0; step < 20; step++) {
    blockOpt.zeroGrad();
    lossOf(batches[step % batches.length]).backward();
    blockOpt.step();
  }
  const after = noGrad(() => lossOf(batches[0], probe).item());
  log(`block 1 feature loss against the Parent (all sep_conv_3x3): ${before.toFixed(3)} before, ${after.toFixed(3)} after 20 steps`);

  // rate the candidates of one edge: the block's loss with that operation there (other edges fixed)
  const fixed = Object.fromEntries(allEdgeKeys(4).map((e) => [e, 'skip_connect']));
  const ratings: { [op: string]: number } = {};
  for (const op of primitives) ratings[op] = noGrad(() => lossOf(batches[0], child.choiceOf({ ...fixed, 'normal:0-2': op })).item());
  log(`ratings of edge normal:0-2 (lower is better): ${Object.entries(ratings).map(([o, v]) => `${o} ${v.toFixed(3)}`).join(', ')}`);
  return { before, after, ratings };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
