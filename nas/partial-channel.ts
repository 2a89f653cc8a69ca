/**
 * Partial channel connections and edge normalization, the two ideas of PC-DARTS (Xu et al., "PC-DARTS:
 * Partial Channel Connections for Memory-Efficient Architecture Search", ICLR 2020; public code
 * yuhuixu1993/PC-DARTS, model_search.py), used by the `pc-darts` and `bnas` strategies.
 *
 * Partial channels (paper eq. 2):
 *   f_ij^PC(x_i; S_ij) = sum_o softmax(alpha_ij)_o * o(S_ij * x_i) + (1 - S_ij) * x_i
 * Only 1/K of the channels go through the mixed operation; the rest bypass it (max-pooled when the edge
 * has stride 2) and the two parts are concatenated and channel-shuffled (ShuffleNet's shuffle with K
 * groups), so that the next edge's 1/K is a different set of the channels. As in the public code, the
 * mask S_ij takes the first C/K channels and the shuffle provides the variety (no random draw), which
 * keeps a resumed search bit-identical.
 *
 * Edge normalization (paper eq. 3):
 *   x_j = sum_{i<j} softmax_i(beta_ij) * f_ij(x_i)
 * one weight per edge, normalized over the incoming edges of node j, learnt beside alpha; it makes the
 * choice of a node's 2 inputs less sensitive to which channels were sampled, and enters the genotype
 * derivation (eq. 4: the edge strength is softmax(beta_ij) * max_o softmax(alpha_ij)_o).
 *
 * Where the search images have an odd size (14x14 digits reduce to 7x7), the 2x2 max-pool of the public
 * code would give 3x3 against the operations' 4x4: the bypass then uses a 3x3 max-pool with stride 2 and
 * padding 1, whose output matches (stated here because it departs from the code, which only sees even
 * sizes).
 */
import { CpnasError, Tensor } from '../core/index.js';
import { Module } from '../ops/module.js';
import { maxPool2d } from '../ops/pool.js';
import { concat, reshape, slice, transpose } from '../ops/shape.js';
import { softmax } from '../ops/softmax.js';
import { cellEdges } from './genotype.js';
import { MixedOp } from './mixed-op.js';
import type { OperationOptions } from './operations.js';

/** channel_shuffle of model_search.py: [N, C, H, W] -> [N, g, C/g, H, W] -> swap 1 and 2 -> [N, C, H, W]. */
export function channelShuffle(x: Tensor, groups: number): Tensor {
  const [N, C, H, W] = x.shape;
  if (C % groups !== 0) throw new CpnasError('channelShuffle', `${C} channels cannot be cut into ${groups} groups (x [${x.shape.join(',')}])`);
  return reshape(transpose(reshape(x, [N, groups, C / groups, H, W]), 1, 2), [N, C, H, W]);
}

/** A MixedOp that sees 1/K of the channels of its input (PC-DARTS MixedOp with k). */
export class PartialMixedOp extends Module {
  /** The candidates, built for C/K channels. */
  mixed: MixedOp;
  readonly k: number;
  readonly channels: number;
  readonly stride: number;

  constructor(names: readonly string[], C: number, stride: number, k: number, options: OperationOptions) {
    super();
    if (!Number.isInteger(k) || k < 1) throw new CpnasError('PartialMixedOp', `partialChannels must be a positive integer, got ${k}`);
    if (C % k !== 0) {
      throw new CpnasError('PartialMixedOp', `${C} channels cannot be cut into ${k} parts: choose partialChannels dividing the channels of every cell (${C} here)`);
    }
    this.mixed = new MixedOp(names, C / k, stride, options);
    this.k = k;
    this.channels = C;
    this.stride = stride;
  }

  get names(): readonly string[] {
    return this.mixed.names;
  }

  /** Concatenates the operated part with the bypassed rest and shuffles; a null part (`none`) is zeros. */
  private join(x: Tensor, part: Tensor | null): Tensor {
    if (this.k === 1) return part ?? Tensor.zeros(this.outShape(x));
    const Ck = this.channels / this.k;
    let rest = slice(x, 1, Ck, this.channels);
    if (this.stride === 2) {
      const [, , H, W] = x.shape;
      rest = H % 2 === 0 && W % 2 === 0 ? maxPool2d(rest, { kernel: 2, stride: 2 }) : maxPool2d(rest, { kernel: 3, stride: 2, padding: 1 });
    }
    const head = part ?? Tensor.zeros([x.shape[0], Ck, rest.shape[2], rest.shape[3]]);
    return channelShuffle(concat([head, rest], 1), this.k);
  }

  private outShape(x: Tensor): number[] {
    const [N, C, H, W] = x.shape;
    return this.stride === 2 ? [N, C, Math.ceil(H / 2), Math.ceil(W / 2)] : [N, C, H, W];
  }

  private head(x: Tensor): Tensor {
    return this.k === 1 ? x : slice(x, 1, 0, this.channels / this.k);
  }

  /** Eq. 2 with softmax weights [K_ops]. */
  forwardMix(x: Tensor, weights: Tensor): Tensor {
    return this.join(x, this.mixed.forwardMix(this.head(x), weights));
  }

  /** One candidate on the 1/K channels (the sampled architectures of bnas), the rest bypassing. */
  forwardOne(x: Tensor, k: number): Tensor {
    return this.join(x, this.mixed.forwardOne(this.head(x), k));
  }

  forward(x: Tensor, k: number): Tensor {
    return this.forwardOne(x, k);
  }
}

/**
 * The edge-normalization weights of one cell type: beta [E] -> for every node, softmax over its
 * incoming edges (node 2: edges 0-1, node 3: edges 2-4, ...), concatenated back to [E].
 */
export function edgeNormalization(beta: Tensor, nodes: number): Tensor {
  const E = cellEdges(nodes).length;
  if (beta.shape.length !== 1 || beta.shape[0] !== E) {
    throw new CpnasError('edgeNormalization', `beta must have shape [${E}] for ${nodes} nodes, got [${beta.shape.join(',')}]`);
  }
  const parts: Tensor[] = [];
  let start = 0;
  for (let n = 2; n < nodes + 2; start += n, n++) parts.push(softmax(slice(beta, 0, start, start + n), -1));
  return concat(parts, 0);
}
