/**
 * The kernel-level CP loss of CP-NAS's training stage: each binarized Child filter is pulled towards
 * the full-precision Parent filter at the same place.
 *
 *   L_CP = (λ/2) · Σ_l Σ_c MSE(H_c^l, Ĥ_c^l)
 *
 * H_c^l is filter c of the Parent's conv layer l (a fixed target: detached, no gradient reaches the
 * Parent), Ĥ_c^l = α_c ⊙ sign(w_c) the Child's reconstructed filter (`reconstructedWeight()`), whose
 * gradient reaches w through the weight binarizer's straight-through estimator. MSE is the mean over
 * the filter's (C/groups)·R·S values; all filters of a layer have that size, so
 * Σ_c MSE(H_c, Ĥ_c) = K · mse(H^l, Ĥ^l) over the whole layer, which is how it is computed.
 */
import { Tensor, check, shapeStr, shapesEqual } from '../core/index.js';
import { add, mul } from '../ops/arithmetic.js';
import { mse } from '../ops/loss.js';

/**
 * Default λ. The published descriptions do not give a value; with per-filter MSE the sum over the
 * Child's layers is of order 0.1-1 for a CIFAR-sized network early in training, so λ = 1 makes the
 * term a fraction of the cross-entropy rather than negligible or dominant. Tune per run.
 */
export const DEFAULT_CP_LAMBDA = 1;

export interface CpLossOptions {
  /** Weight λ of the term (default DEFAULT_CP_LAMBDA). */
  lambda?: number;
}

/** A Child conv layer: anything that gives its reconstructed (binarized, scaled) weight. */
export interface ReconstructingConv {
  reconstructedWeight(): Tensor;
}

/** A Parent conv layer: anything with a full-precision `weight`. */
export interface WeightedConv {
  weight: Tensor;
}

/**
 * (λ/2) · Σ_l Σ_c MSE(H_c^l, Ĥ_c^l), pairing `childConvs[l]` with `parentConvs[l]` by position.
 * A scalar tensor, differentiable with respect to the Child's weights only.
 */
export function cpLoss(
  childConvs: readonly ReconstructingConv[], parentConvs: readonly WeightedConv[], opts: CpLossOptions = {},
): Tensor {
  const lambda = opts.lambda ?? DEFAULT_CP_LAMBDA;
  check(Number.isFinite(lambda) && lambda >= 0, 'cpLoss', () => `lambda must be a finite number >= 0, got ${lambda}`);
  check(childConvs.length === parentConvs.length, 'cpLoss',
    () => `the Child has ${childConvs.length} conv layers but the Parent has ${parentConvs.length}; they pair by position`);
  let total: Tensor = Tensor.scalar(0);
  for (let l = 0; l < childConvs.length; l++) {
    const hat = childConvs[l].reconstructedWeight();
    const target = parentConvs[l].weight.detach();
    check(shapesEqual(hat.shape, target.shape), 'cpLoss',
      () => `layer ${l}: Child weight ${shapeStr(hat.shape)} and Parent weight ${shapeStr(target.shape)} differ`);
    check(hat.rank >= 1 && hat.size > 0, 'cpLoss', () => `layer ${l}: empty weight ${shapeStr(hat.shape)}`);
    // Σ_c MSE(H_c, Ĥ_c) = K · mse over the layer (equal-sized filters)
    total = add(total, mul(mse(hat, target), hat.shape[0]));
  }
  return mul(total, lambda / 2);
}
