/**
 * MixedOp: every candidate operation of one edge. The sampling strategies (cp, bnas) run one chosen
 * operation; darts runs the softmax(alpha)-weighted sum of all of them (DARTS model_search.py).
 * As in DARTS, an operation whose output is not normalized (the registry says which: the pools) is
 * followed by a BatchNorm without affine parameters in the search network, so its output scale is
 * comparable with the convolutions'.
 */
import type { Tensor } from '../core/index.js';
import { add, mul } from '../ops/arithmetic.js';
import { BatchNorm2d } from '../ops/layers.js';
import { Module } from '../ops/module.js';
import { slice } from '../ops/shape.js';
import { createOperation, operationInfo, type OperationOptions } from './operations.js';
import type { UnaryModule } from './primitives.js';

/** An operation followed by a BatchNorm (the pools in the search network). */
export class WithBatchNorm extends Module {
  constructor(public op: Module, public bn: BatchNorm2d) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.bn.forward((this.op as UnaryModule).forward(x));
  }
}


export class MixedOp extends Module {
  /** One module per candidate, in the order of `names` (`none` is a Zero module, never run). */
  ops: UnaryModule[];
  readonly names: readonly string[];

  constructor(names: readonly string[], C: number, stride: number, options: OperationOptions) {
    super();
    this.names = [...names];
    this.ops = names.map((name) => {
      const op = createOperation(name, C, stride, options) as UnaryModule;
      return operationInfo(name).needsBatchNorm ? new WithBatchNorm(op, new BatchNorm2d(C, { affine: false })) : op;
    });
  }

  /** The output of candidate k alone; null for `none` (the edge adds nothing). */
  forwardOne(x: Tensor, k: number): Tensor | null {
    if (this.names[k] === 'none') return null;
    return this.ops[k].forward(x);
  }

  /** sum_k w_k * op_k(x) with weights w [K] (a softmax row); null when only `none` has weight. */
  forwardMix(x: Tensor, weights: Tensor): Tensor | null {
    let out: Tensor | null = null;
    for (let k = 0; k < this.ops.length; k++) {
      if (this.names[k] === 'none') continue; // w_none * 0 = 0, and its gradient is 0 too
      const term = mul(this.ops[k].forward(x), slice(weights, 0, k, k + 1));
      out = out ? add(out, term) : term;
    }
    return out;
  }

  forward(x: Tensor, k: number): Tensor | null {
    return this.forwardOne(x, k);
  }
}
