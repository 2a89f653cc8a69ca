/**
 * Blocks of a supernet, for block-wise supervision (DNA: Li et al., "Block-wisely Supervised Neural
 * Architecture Search with Knowledge Distillation", CVPR 2020, section 3.1): the network is cut into
 * blocks, one per cell stage between reductions (a block starts at cell 0 or at a reduction cell), and
 * a student block is trained to map the teacher's block input to the teacher's block output.
 *
 * A DARTS cell reads the outputs of the two cells before it, so a block's input is a pair of teacher
 * states (s0, s1) (both the stem's output for the first block) and its output is the state of its last
 * cell. The feature-map loss is DNA's eq. 3, the mean squared error over the values of the block
 * output, here on standardized maps (see featureLoss).
 */
import { CpnasError, type Tensor, noGrad } from '../core/index.js';
import { mul, sub } from '../ops/arithmetic.js';
import { BatchNorm2d } from '../ops/layers.js';
import { mean } from '../ops/reduce.js';
import { reductionCells, type Supernet, type SupernetChoice } from './supernet.js';
import type { CellType } from './types.js';

/** The cells of every block: a new block starts at every reduction cell. */
export function networkBlocks(cells: number): number[][] {
  const reductions = reductionCells(cells);
  const blocks: number[][] = [];
  for (let i = 0; i < cells; i++) {
    if (i === 0 || reductions.has(i)) blocks.push([]);
    blocks[blocks.length - 1].push(i);
  }
  return blocks;
}

/** The cell types a block holds. */
export function blockCellTypes(net: Supernet, block: readonly number[]): CellType[] {
  const types = new Set(block.map((i) => (net.cells[i].reduction ? 'reduce' : 'normal') as CellType));
  return (['normal', 'reduce'] as CellType[]).filter((t) => types.has(t));
}

/** The teacher's input pair and output state of every block, for images x. */
export interface BlockStates {
  inputs: [Tensor, Tensor][];
  outputs: Tensor[];
}

/** Runs `net` on x once and keeps every block's input pair and output (no gradient). */
export function blockStates(net: Supernet, x: Tensor, choice: SupernetChoice, blocks: number[][]): BlockStates {
  return noGrad(() => {
    let s0 = net.stemBn.forward(net.stem.forward(x));
    let s1 = s0;
    const inputs: [Tensor, Tensor][] = [], outputs: Tensor[] = [];
    for (const block of blocks) {
      inputs.push([s0, s1]);
      for (const i of block) {
        const cell = net.cells[i];
        const s2 = cell.forward(s0, s1, cell.reduction ? choice.reduce : choice.normal);
        s0 = s1;
        s1 = s2;
      }
      outputs.push(s1);
    }
    return { inputs, outputs };
  });
}

/** A block of `net` alone on a given input pair: the output of its last cell. */
export function forwardBlock(net: Supernet, block: readonly number[], input: [Tensor, Tensor], choice: SupernetChoice): Tensor {
  let [s0, s1] = input;
  for (const i of block) {
    const cell = net.cells[i];
    const s2 = cell.forward(s0, s1, cell.reduction ? choice.reduce : choice.normal);
    s0 = s1;
    s1 = s2;
  }
  return s1;
}

/**
 * DNA's feature-map loss (eq. 3), mean((s^ - t^)^2), on per-channel standardized maps: each channel of
 * the student's and of the teacher's block output is brought to zero mean and unit variance over the
 * batch and the pixels (a BatchNorm without affine parameters, batch statistics). Choice: the search
 * supernet's BatchNorms have no affine parameters, so a one-path student cannot match the scale of a
 * teacher that averages all candidates; standardized, the loss measures how well the student
 * reproduces the teacher's features, not their scale (it is 2 (1 - correlation) per channel).
 */
export function featureLoss(student: Tensor, teacher: Tensor): Tensor {
  if (student.shape.join(',') !== teacher.shape.join(',')) {
    throw new CpnasError('featureLoss', `student block output [${student.shape.join(',')}] and teacher block output [${teacher.shape.join(',')}] differ`);
  }
  const norm = new BatchNorm2d(student.shape[1], { affine: false, trackRunningStats: false });
  const t = noGrad(() => norm.forward(teacher)).detach();
  const d = sub(norm.forward(student), t);
  return mean(mul(d, d));
}

/** Every block's feature loss of `student` given `teacher`'s block inputs and outputs on x. */
export function blockLosses(student: Supernet, teacher: Supernet, x: Tensor, studentChoice: SupernetChoice, teacherChoice: SupernetChoice, blocks: number[][]): number[] {
  const t = blockStates(teacher, x, teacherChoice, blocks);
  return noGrad(() => blocks.map((block, b) => featureLoss(forwardBlock(student, block, t.inputs[b], studentChoice), t.outputs[b]).item()));
}
