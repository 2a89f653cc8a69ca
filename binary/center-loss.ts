/**
 * The center loss of CP-NAS's training stage: binarization makes features of one class vary, so each
 * sample's feature vector is pulled towards the running mean of its class.
 *
 *   L_C = (θ/2) · Σ_s ‖f_s − f̄_{y_s}‖²          (divided by the batch size N with reduction 'mean')
 *
 * f_s is sample s's feature (the last conv layer's output, flattened; pooled features [N, C] are the
 * usual choice), f̄_y the running mean of class y. The centers are constants for the gradient
 * (d/df_s = θ (f_s − f̄_{y_s}) / N) and are updated after the loss, in training mode only, by the
 * rule of Wen et al. (ECCV 2016):
 *
 *   c_j ← c_j − rate · Σ_{s: y_s = j} (c_j − f_s) / (1 + n_j)
 *
 * i.e. a step of size rate · n_j / (1 + n_j) from c_j towards the batch mean of class j (classes
 * absent from the batch keep their center). Centers start at 0 and are saved as a buffer.
 */
import { Tensor, attach, check, shapeStr } from '../core/index.js';
import { Module } from '../ops/module.js';

/**
 * Default θ. The published descriptions give no value; Wen et al. use 0.003 on pooled face features.
 * 1e-3 keeps the term small next to the cross-entropy for pooled features of a few hundred values.
 */
export const DEFAULT_CENTER_THETA = 1e-3;
/** Default update rate of the centers (Wen et al.'s α = 0.5). */
export const DEFAULT_CENTER_RATE = 0.5;

export type CenterReduction = 'mean' | 'sum';

export interface CenterLossOptions {
  /** Weight θ (default DEFAULT_CENTER_THETA). */
  theta?: number;
  /** Update rate of the centers, in [0, 1] (default DEFAULT_CENTER_RATE). */
  rate?: number;
  /** 'mean' over the batch (default) or 'sum' over samples, as in the formula. */
  reduction?: CenterReduction;
}

function flatFeatures(op: string, features: Tensor, labels: ArrayLike<number>, numClasses: number, dim: number): number {
  check(features.rank >= 2, op, () => `features must be [N, ...], got ${shapeStr(features.shape)}`);
  const N = features.shape[0];
  check(features.size === N * dim, op, () => `features ${shapeStr(features.shape)} have ${N > 0 ? features.size / N : 0} values per sample, the centers ${dim}`);
  check(labels.length === N, op, () => `got ${labels.length} labels for features ${shapeStr(features.shape)} (${N} samples)`);
  for (let s = 0; s < N; s++) {
    const y = labels[s];
    check(Number.isInteger(y) && y >= 0 && y < numClasses, op, () => `label ${y} of sample ${s} is out of range for ${numClasses} classes`);
  }
  return N;
}

/**
 * (θ/2) · Σ_s ‖f_s − centers[y_s]‖² (/ N for 'mean'), features [N, ...] flattened per sample,
 * centers [numClasses, D] as constants. A scalar, differentiable with respect to the features.
 */
export function centerLoss(
  features: Tensor, labels: ArrayLike<number>, centers: Float32Array, numClasses: number,
  opts: { theta?: number; reduction?: CenterReduction } = {},
): Tensor {
  const theta = opts.theta ?? DEFAULT_CENTER_THETA, reduction = opts.reduction ?? 'mean';
  check(reduction === 'mean' || reduction === 'sum', 'centerLoss', () => `reduction must be 'mean' or 'sum', got '${String(reduction)}'`);
  check(numClasses >= 1 && centers.length % numClasses === 0, 'centerLoss', () => `${centers.length} center values do not split into ${numClasses} classes`);
  const D = centers.length / numClasses;
  const N = flatFeatures('centerLoss', features, labels, numClasses, D);
  check(reduction === 'sum' || N > 0, 'centerLoss', () => 'the mean over an empty batch is undefined');
  const f = features.data;
  const diff = new Float32Array(N * D);
  let s = 0;
  for (let i = 0; i < N; i++) {
    const c = labels[i] * D, o = i * D;
    for (let j = 0; j < D; j++) {
      const d = f[o + j] - centers[c + j];
      diff[o + j] = d;
      s += d * d;
    }
  }
  const scale = reduction === 'mean' ? theta / N : theta;
  const out = Tensor.scalar((scale / 2) * s);
  return attach(out, 'centerLoss', [features], (g) => {
    const k = scale * g[0];
    const r = new Float32Array(N * D);
    for (let i = 0; i < r.length; i++) r[i] = k * diff[i];
    return [r];
  });
}

/** The center loss with its running class centers (a Module: the centers are a saved buffer). */
export class CenterLoss extends Module {
  readonly theta: number;
  readonly rate: number;
  readonly reduction: CenterReduction;
  /** Class centers, [numClasses * featureDim] row-major. */
  readonly centers: Float32Array;

  constructor(readonly numClasses: number, readonly featureDim: number, opts: CenterLossOptions = {}) {
    super();
    check(Number.isInteger(numClasses) && numClasses >= 1, 'CenterLoss', () => `numClasses must be a positive integer, got ${numClasses}`);
    check(Number.isInteger(featureDim) && featureDim >= 1, 'CenterLoss', () => `featureDim must be a positive integer, got ${featureDim}`);
    this.theta = opts.theta ?? DEFAULT_CENTER_THETA;
    this.rate = opts.rate ?? DEFAULT_CENTER_RATE;
    this.reduction = opts.reduction ?? 'mean';
    check(Number.isFinite(this.theta) && this.theta >= 0, 'CenterLoss', () => `theta must be a finite number >= 0, got ${this.theta}`);
    check(this.rate >= 0 && this.rate <= 1, 'CenterLoss', () => `rate must be in [0, 1], got ${this.rate}`);
    this.centers = this.registerBuffer('centers', new Float32Array(numClasses * featureDim));
  }

  /** The loss against the current centers; in training mode the centers then move (see the file comment). */
  forward(features: Tensor, labels: ArrayLike<number>): Tensor {
    const loss = centerLoss(features, labels, this.centers, this.numClasses, { theta: this.theta, reduction: this.reduction });
    if (this.training) this.updateCenters(features, labels);
    return loss;
  }

  /** One center update from a batch: c_j -= rate · Σ_{y_s = j} (c_j − f_s) / (1 + n_j). */
  updateCenters(features: Tensor, labels: ArrayLike<number>): void {
    const D = this.featureDim, C = this.numClasses;
    const N = flatFeatures('CenterLoss', features, labels, C, D);
    const sums = new Float64Array(C * D), counts = new Int32Array(C);
    const f = features.data;
    for (let s = 0; s < N; s++) {
      const y = labels[s];
      counts[y]++;
      for (let j = 0; j < D; j++) sums[y * D + j] += f[s * D + j];
    }
    const c = this.centers;
    for (let y = 0; y < C; y++) {
      const n = counts[y];
      if (n === 0) continue;
      const k = this.rate / (1 + n);
      for (let j = 0; j < D; j++) {
        const o = y * D + j;
        c[o] -= k * (n * c[o] - sums[o]);
      }
    }
  }

  protected override extraRepr(): string {
    return `${this.numClasses}, ${this.featureDim}, theta=${this.theta}, rate=${this.rate}`;
  }
}
