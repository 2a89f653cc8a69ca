/**
 * The search cell (DARTS model_search.py Cell): two input nodes preprocessed to C channels, `nodes`
 * intermediate nodes, each the sum of one MixedOp applied to every earlier node, and the output the
 * concatenation of the intermediate nodes. In a reduction cell the edges leaving the two input nodes
 * have stride 2.
 */
import { Tensor } from '../core/index.js';
import { add, mul } from '../ops/arithmetic.js';
import { Module } from '../ops/module.js';
import { concat, reshape, slice } from '../ops/shape.js';
import { cellEdges } from './genotype.js';
import { MixedOp } from './mixed-op.js';
import type { OperationOptions } from './operations.js';
import { PartialMixedOp } from './partial-channel.js';
import { FactorizedReduce, ReLUConvBN, type UnaryModule } from './primitives.js';


/**
 * How a cell runs its edges: one candidate index per edge, or softmax weights [edges, K]; either may
 * carry edge-normalization weights [edges] (PC-DARTS eq. 3, already normalized per node) that scale
 * every edge's output.
 */
export type CellChoice = ({ ops: Int32Array } | { weights: Tensor }) & { edgeWeights?: Tensor };

export interface CellShape {
  nodes: number;
  /** Channels of the two inputs (the cell before the previous one, the previous one) and of each node. */
  Cpp: number;
  Cp: number;
  C: number;
  reduction: boolean;
  /** The previous cell was a reduction: input 0 has twice the resolution of input 1. */
  reductionPrev: boolean;
  /** PC-DARTS K: each edge's candidates see 1/K of the channels (1 = every channel, plain DARTS). */
  partialChannels?: number;
}

/** The preprocessing of the two inputs: factorized reduce for a twice-larger input 0, else ReLU-1x1conv-BN. */
export function makePreprocess(shape: CellShape, o: OperationOptions): [UnaryModule, UnaryModule] {
  const p0 = shape.reductionPrev ? new FactorizedReduce(shape.Cpp, shape.C, o) : new ReLUConvBN(shape.Cpp, shape.C, 1, 1, 0, o);
  return [p0, new ReLUConvBN(shape.Cp, shape.C, 1, 1, 0, o)];
}

/** Sums the non-null terms; zeros of `like`'s shape when every term is null (all `none`). */
export function sumTerms(terms: (Tensor | null)[], like: () => number[]): Tensor {
  let out: Tensor | null = null;
  for (const t of terms) if (t) out = out ? add(out, t) : t;
  return out ?? Tensor.zeros(like());
}

export class SearchCell extends Module {
  preprocess0: UnaryModule;
  preprocess1: UnaryModule;
  /** One MixedOp per edge, in cellEdges order (node 2 from 0, 1; node 3 from 0, 1, 2; ...). */
  edges: (MixedOp | PartialMixedOp)[];
  readonly nodes: number;
  readonly reduction: boolean;
  readonly outChannels: number;
  private readonly edgeList: { from: number; to: number }[];

  constructor(shape: CellShape, primitives: readonly string[], o: OperationOptions) {
    super();
    [this.preprocess0, this.preprocess1] = makePreprocess(shape, o);
    this.nodes = shape.nodes;
    this.reduction = shape.reduction;
    this.edgeList = cellEdges(shape.nodes);
    const k = shape.partialChannels ?? 1;
    this.edges = this.edgeList.map(({ from }) => {
      const stride = shape.reduction && from < 2 ? 2 : 1;
      return k > 1 ? new PartialMixedOp(primitives, shape.C, stride, k, o) : new MixedOp(primitives, shape.C, stride, o);
    });
    this.outChannels = shape.nodes * shape.C;
  }

  forward(s0: Tensor, s1: Tensor, choice: CellChoice): Tensor {
    const states: Tensor[] = [this.preprocess0.forward(s0), this.preprocess1.forward(s1)];
    const [N, C, H, W] = states[1].shape;
    const outHW = this.reduction ? [Math.ceil(H / 2), Math.ceil(W / 2)] : [H, W];
    let e = 0;
    for (let node = 2; node < this.nodes + 2; node++) {
      const terms: (Tensor | null)[] = [];
      for (let from = 0; from < node; from++, e++) {
        const edge = this.edges[e];
        const term = 'ops' in choice
          ? edge.forwardOne(states[from], choice.ops[e])
          : edge.forwardMix(states[from], rowOf(choice.weights, e));
        terms.push(term && choice.edgeWeights ? mul(term, slice(choice.edgeWeights, 0, e, e + 1)) : term);
      }
      states.push(sumTerms(terms, () => [N, C, outHW[0], outHW[1]]));
    }
    return concat(states.slice(2), 1);
  }
}

/** Row e of a [E, K] weight tensor, as a [K] tensor (a differentiable slice). */
function rowOf(weights: Tensor, e: number): Tensor {
  return reshape(slice(weights, 0, e, e + 1), [weights.shape[1]]);
}
