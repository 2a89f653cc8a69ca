/**
 * DNA-style block-wise supervision by the Parent (Li et al., "Block-wisely Supervised Neural
 * Architecture Search with Knowledge Distillation", CVPR 2020), on the 1-bit Child's search space:
 *
 * 1. The teacher: the full-precision Parent supernet, trained first on the search-train split with
 *    every edge running all its candidates at equal weight (choice: a teacher that holds the whole
 *    search space, as no architecture has been chosen yet; DNA's teacher is any trained network whose
 *    block boundaries match the student's).
 * 2. Block-wise distillation (DNA eq. 3): the network is cut into blocks (nas/blocks.ts, one per cell
 *    stage between reductions); each block of the 1-bit Child supernet is trained alone, from the
 *    teacher's block input, to reproduce the teacher's block output (relative feature-map MSE), one
 *    uniformly sampled path (one operation per edge) per step, as DNA trains its block supernets.
 *    Blocks depend only on the teacher's features, so each trains independently of the others.
 * 3. Rating (DNA section 3.3): every block rates dnaRepeats x K paths on the validation split, drawn so
 *    that every (edge, operation) of the block is on exactly dnaRepeats of them (sampling without
 *    replacement, as cp); a path's rating is its feature loss, an (edge, operation)'s rating the mean
 *    loss of the paths that used it.
 * 4. Assembly: a genotype's score is the sum over blocks and chosen (edge, operation)s of
 *    rating(edge, none) - rating(edge, op), how much the operation lowers the block's loss against no
 *    connection (-rating when `none` is not searched); the genotype is the best-scored one, under the
 *    budget when one is set (nas/budget.ts: exact branch and bound over the nodes, DNA's search of the
 *    best-rated architecture under a constraint).
 *
 * A checkpoint is written after every teacher epoch, every block epoch and every block's rating.
 */
import { CpnasError, Random, Tensor, defaultRandom, noGrad } from '../../core/index.js';
import { crossEntropy } from '../../ops/loss.js';
import type { Optimizer } from '../../ops/optim/optimizer.js';
import { blockCellTypes, blockStates, featureLoss, forwardBlock, networkBlocks } from '../blocks.js';
import { budgetedGenotype, bestGenotype } from '../budget.js';
import { allEdgeKeys, cellEdges, edgeKey, parseEdgeKey } from '../genotype.js';
import { batchesFor, firstSamples, makeOptimizer, optimizeStep, shuffledBatches } from '../loop.js';
import { architectureAt, drawOrders } from '../sampling.js';
import { SlotPart, int, jsonPart, modulePart, nums, obj, optimizerPart, rngPart, str, type Parts } from '../state-parts.js';
import { Supernet, mixedChoice, type SupernetChoice } from '../supernet.js';
import type { DnaRatingRecord, EdgeKey, EdgeOpValues } from '../types.js';
import type { Strategy } from './context.js';

interface Position {
  /** 'teacher' (epoch e), 'block' (block b, epoch e), 'rate' (block b to rate next), 'done'. */
  phase: 'teacher' | 'block' | 'rate' | 'done';
  block: number;
  epoch: number;
  /** Mean loss of every finished epoch of the current block. */
  losses: number[];
  seconds: number;
}

function checkPosition(v: unknown, where: string, blocks: number): Position {
  const o = obj(v, where);
  const phase = str(o.phase, `${where}.phase`);
  if (phase !== 'teacher' && phase !== 'block' && phase !== 'rate' && phase !== 'done') throw new CpnasError('checkpoint', `${where}.phase is "${phase}"`);
  const block = int(o.block, `${where}.block`);
  if (block >= blocks) throw new CpnasError('checkpoint', `${where}.block is ${block} but the network has ${blocks} blocks`);
  return { phase, block, epoch: int(o.epoch, `${where}.epoch`), losses: nums(o.losses, `${where}.losses`), seconds: Number(o.seconds) || 0 };
}

/** The teacher's choice: every candidate at weight 1/K on every edge. */
export function uniformChoice(edges: number, K: number): SupernetChoice {
  const w = () => Tensor.full([edges, K], 1 / K);
  return mixedChoice(w(), w());
}

/** Scores of every (edge, op) from the blocks' ratings (see the file header, step 4). */
export function dnaScores(ratings: { block: number; ratings: EdgeOpValues }[], primitives: readonly string[]): EdgeOpValues {
  const scores: EdgeOpValues = {};
  for (const r of ratings) {
    for (const [edge, row] of Object.entries(r.ratings)) {
      const out = (scores[edge] ??= {});
      const base = primitives.includes('none') ? row.none : 0;
      for (const op of primitives) if (op !== 'none') out[op] = (out[op] ?? 0) + (base - row[op]);
    }
  }
  return scores;
}

export const dnaStrategy: Strategy = (ctx) => {
  const s = ctx.settings;
  const seedRng = new Random(s.seed);
  const dataRng = seedRng.fork();
  const sampleRng = seedRng.fork();
  const initRng = seedRng.fork();
  const config = {
    inputChannels: ctx.inputShape[0], numClasses: ctx.numClasses, cells: s.cells, channels: s.channels, nodes: s.nodes,
    binarizers: s.binarizers, childBlock: s.childBlock,
  };
  const teacher = new Supernet({ ...config, binary: false, rng: initRng }, s.primitives);
  const child = new Supernet({ ...config, binary: true, rng: initRng }, s.primitives);
  const blocks = networkBlocks(s.cells);
  const K = s.primitives.length, E = cellEdges(s.nodes).length;
  const teach = uniformChoice(E, K);
  const steps = batchesFor(ctx.data.searchTrain, s.batchSize, s.sampleFraction);
  const teacherSteps = Math.round(s.dnaTeacherEpochs * steps);
  const teacherEpochs = Math.ceil(teacherSteps / steps);
  const blockEpochs = Math.max(1, Math.ceil(s.dnaBlockEpochs));
  const blockSteps = Math.max(1, Math.round((s.dnaBlockEpochs * steps) / blockEpochs));
  const val = firstSamples(ctx.data.searchVal, Math.max(1, Math.round(s.valFraction * ctx.data.searchVal.length)));
  const teacherOpt = makeOptimizer(teacher.parameters(), s.optimizer, s);
  const blockOpt = (b: number): Optimizer => makeOptimizer(blocks[b].flatMap((i) => child.cells[i].parameters()), s.optimizer, s);
  let pos: Position = { phase: teacherEpochs > 0 ? 'teacher' : 'block', block: 0, epoch: 0, losses: [], seconds: 0 };
  let opt: Optimizer = pos.phase === 'teacher' ? teacherOpt : blockOpt(0);

  // the search's state, saved after every teacher epoch, block epoch and block rating
  const optimizerSlot = new SlotPart();
  const parts: Parts = {
    teacher: modulePart(teacher), child: modulePart(child),
    position: jsonPart(() => pos, (v) => { pos = v; }, (v, where) => checkPosition(v, where, blocks.length)),
    optimizer: optimizerSlot,
    dataRng: rngPart(dataRng), sampleRng: rngPart(sampleRng), globalRng: rngPart(defaultRandom()),
  };
  if (ctx.restore(parts)) {
    opt = pos.phase === 'teacher' ? teacherOpt : blockOpt(Math.min(pos.block, blocks.length - 1));
    ctx.log(`resuming dna search: ${pos.phase}${pos.phase === 'teacher' ? '' : ` of block ${pos.block + 1}/${blocks.length}`}`);
  }
  optimizerSlot.bind(optimizerPart(opt));
  const save = (): void => {
    optimizerSlot.bind(optimizerPart(opt));
    ctx.save(parts);
  };
  const totalUnits = teacherEpochs + blocks.length * (blockEpochs + 1);
  const unitsDone = (): number => pos.phase === 'teacher' ? pos.epoch
    : teacherEpochs + pos.block * (blockEpochs + 1) + (pos.phase === 'rate' ? blockEpochs : pos.phase === 'done' ? 0 : pos.epoch);

  /** A uniformly drawn path: one operation per edge of every cell type. */
  const samplePath = (): { [edge: EdgeKey]: string } => {
    const arch: { [edge: EdgeKey]: string } = {};
    for (const e of allEdgeKeys(s.nodes)) arch[e] = s.primitives[sampleRng.int(K)];
    return arch;
  };

  // 1. the teacher
  while (pos.phase === 'teacher') {
    ctx.checkAbort();
    teacher.train();
    const n = Math.min(steps, teacherSteps - pos.epoch * steps);
    let loss = 0;
    for (const b of shuffledBatches(ctx.data.searchTrain, s.batchSize, dataRng, n)) {
      loss += optimizeStep(opt, crossEntropy(teacher.forward(b.x, teach), b.y), s.gradClip, 'dna search (teacher)');
    }
    pos.epoch++;
    ctx.log(`dna teacher epoch ${pos.epoch}/${teacherEpochs}: loss ${(loss / Math.max(1, n)).toFixed(4)}`);
    if (pos.epoch >= teacherEpochs) {
      pos = { phase: 'block', block: 0, epoch: 0, losses: [], seconds: 0 };
      opt = blockOpt(0);
    }
    save();
    ctx.progress({ phase: 'search', done: unitsDone(), total: totalUnits, checkpoint: true, unit: 'epoch', label: `dna teacher epoch ${Math.min(pos.epoch, teacherEpochs)}` });
  }
  // the teacher's features use batch statistics, as the Child's do (running statistics of a supernet
  // trained for a few hundred steps describe its last steps more than the network)
  teacher.train();

  // 2-3. every block: distillation, then rating
  while (pos.phase === 'block' || pos.phase === 'rate') {
    ctx.checkAbort();
    const b = pos.block, block = blocks[b];
    const t0 = Date.now() - pos.seconds * 1000;
    if (pos.phase === 'block') {
      child.train();
      let loss = 0, n = 0;
      for (const batch of shuffledBatches(ctx.data.searchTrain, s.batchSize, dataRng, blockSteps)) {
        const st = blockStates(teacher, batch.x, teach, blocks);
        const choice = child.choiceOf(samplePath());
        loss += optimizeStep(opt, featureLoss(forwardBlock(child, block, st.inputs[b], choice), st.outputs[b]), s.gradClip, `dna search (block ${b + 1})`);
        n++;
      }
      pos.losses.push(loss / Math.max(1, n));
      pos.epoch++;
      pos.seconds = (Date.now() - t0) / 1000;
      if (pos.epoch >= blockEpochs) {
        ctx.record({ type: 'dna-block', block: b, cells: [...block], losses: [...pos.losses], seconds: pos.seconds });
        pos = { ...pos, phase: 'rate', seconds: 0 };
      }
      save();
      ctx.progress({
        phase: 'search', done: unitsDone(), total: totalUnits, round: b + 1, checkpoint: true, unit: 'epoch',
        label: `dna block ${b + 1}/${blocks.length} · epoch ${Math.min(pos.epoch, blockEpochs)}/${blockEpochs}`, metrics: { blockLoss: pos.losses[pos.losses.length - 1] },
      });
      continue;
    }
    // rating: every (edge, op) of the block's cell types on dnaRepeats paths
    const types = blockCellTypes(child, block);
    const blockEdges = allEdgeKeys(s.nodes).filter((e) => types.includes(parseEdgeKey(e).cell));
    const paths: DnaRatingRecord['paths'] = [];
    const sums: EdgeOpValues = {}, counts: EdgeOpValues = {};
    const teacherVal = [...val.batches(s.batchSize, { shuffle: false })].map((batch) => ({ x: batch.x.clone(), st: blockStates(teacher, batch.x, teach, blocks) }));
    for (let t = 0; t < s.dnaRepeats; t++) {
      const orders = drawOrders(Object.fromEntries(blockEdges.map((e) => [e, [...s.primitives]])), sampleRng);
      for (let e = 0; e < K; e++) {
        const arch = { ...samplePath(), ...architectureAt(orders, e) };
        const choice = child.choiceOf(arch);
        let loss = 0, count = 0;
        for (const v of teacherVal) {
          const n = v.x.shape[0];
          loss += blockLossValue(child, block, v.st.inputs[b], v.st.outputs[b], choice) * n;
          count += n;
        }
        loss /= Math.max(1, count);
        const ops = Object.fromEntries(blockEdges.map((k) => [k, arch[k]]));
        paths.push({ ops, loss });
        for (const [k, op] of Object.entries(ops)) {
          (sums[k] ??= {})[op] = (sums[k][op] ?? 0) + loss;
          (counts[k] ??= {})[op] = (counts[k][op] ?? 0) + 1;
        }
      }
    }
    const ratings: EdgeOpValues = {};
    for (const k of blockEdges) ratings[k] = Object.fromEntries(s.primitives.map((op) => [op, sums[k][op] / counts[k][op]]));
    ctx.record({ type: 'dna-rating', block: b, paths, ratings });
    pos = b + 1 < blocks.length ? { phase: 'block', block: b + 1, epoch: 0, losses: [], seconds: 0 } : { ...pos, phase: 'done' };
    if (pos.phase === 'block') opt = blockOpt(pos.block);
    save();
    ctx.log(`dna block ${b + 1}/${blocks.length} rated: ${paths.length} paths, best loss ${Math.min(...paths.map((p) => p.loss)).toFixed(4)}`);
    ctx.progress({ phase: 'search', done: unitsDone(), total: totalUnits, round: b + 1, checkpoint: true, unit: 'round', label: `dna block ${b + 1}/${blocks.length} rated` });
  }

  // 4. assembly from the ratings, under the budget when there is one
  const rated = ctx.history.filter((r): r is DnaRatingRecord => r.type === 'dna-rating');
  const scores = dnaScores(rated, s.primitives);
  const score = (edge: EdgeKey, op: string) => scores[edge]?.[op] ?? 0;
  const chosen = ctx.budget
    ? budgetedGenotype(ctx.budget.table, ctx.budget.budget, score).genotype
    : bestGenotype(score, s.primitives, s.nodes);
  const strength: { [edge: EdgeKey]: number } = {};
  for (const cell of ['normal', 'reduce'] as const) {
    const list = cell === 'normal' ? chosen.normal : chosen.reduce;
    list.forEach(([op, from], i) => (strength[edgeKey(cell, from, 2 + Math.floor(i / 2))] = score(edgeKey(cell, from, 2 + Math.floor(i / 2)), op)));
  }
  return { genotype: chosen, history: ctx.history, strength, scores };
};

function blockLossValue(net: Supernet, block: number[], input: [Tensor, Tensor], target: Tensor, choice: SupernetChoice): number {
  return noGrad(() => featureLoss(forwardBlock(net, block, input, choice), target).item());
}
