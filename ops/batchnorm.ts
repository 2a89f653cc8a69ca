/**
 * Batch normalization over the channel axis of [N, C, H, W] (or [N, C]) input:
 *
 *     y = (x - μ_c) / √(σ²_c + eps) · weight_c + bias_c
 *
 * Training (or no running statistics): μ, σ² are the batch's per-channel mean and biased variance,
 * and the running statistics move towards them by `momentum`, the variance unbiased (× n / (n - 1))
 * as in PyTorch. Evaluation: the running statistics are used, and are constants for the gradient.
 */
import { allocOutput, Tensor, attach, check, checkTensor, getBackend, shapeStr } from '../core/index.js';

export interface RunningStats {
  mean: Float32Array;
  var: Float32Array;
}

export interface BatchNormOptions {
  training: boolean;
  /** Weight of the new batch in the running average (default 0.1, PyTorch's). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

export function batchNorm2d(
  x: Tensor, weight: Tensor | null, bias: Tensor | null, running: RunningStats | null, opts: BatchNormOptions,
): Tensor {
  const op = 'batchNorm2d';
  checkTensor(op, 'x', x);
  check(x.rank === 4 || x.rank === 2, op, () => `expects x of shape [N,C,H,W] or [N,C], got ${shapeStr(x.shape)}`);
  const [N, C] = x.shape;
  const HW = x.rank === 4 ? x.shape[2] * x.shape[3] : 1;
  const count = N * HW;
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    check(!t || (t.size === C && t.rank === 1), op,
      () => `${name} ${shapeStr(t!.shape)} does not match the ${C} channels of x ${shapeStr(x.shape)}`);
  }
  if (running) {
    check(running.mean.length === C && running.var.length === C, op,
      () => `running statistics have ${running.mean.length} means and ${running.var.length} variances but x ${shapeStr(x.shape)} has ${C} channels`);
  }
  const eps = opts.eps ?? 1e-5, momentum = opts.momentum ?? 0.1;
  check(eps >= 0 && Number.isFinite(eps), op, () => `eps must be a finite number >= 0, got ${eps}`);
  check(momentum >= 0 && momentum <= 1, op, () => `momentum must be in [0, 1], got ${momentum}`);
  const useBatch = opts.training || !running;

  const mean = new Float32Array(C), variance = new Float32Array(C);
  if (useBatch) {
    check(count > 0, op, () => `x ${shapeStr(x.shape)} is empty`);
    getBackend().batchNormStats(x.data, N, C, HW, mean, variance);
    if (opts.training && running) {
      check(count > 1, op, () => `expects more than 1 value per channel when training, got x ${shapeStr(x.shape)}`);
      const unbiased = count / (count - 1);
      for (let c = 0; c < C; c++) {
        running.mean[c] = (1 - momentum) * running.mean[c] + momentum * mean[c];
        running.var[c] = (1 - momentum) * running.var[c] + momentum * variance[c] * unbiased;
      }
    }
  } else {
    mean.set(running!.mean);
    variance.set(running!.var);
  }

  // y = xhat * w + b, written as y = x * scale_c + shift_c
  const invStd = new Float32Array(C);
  for (let c = 0; c < C; c++) invStd[c] = 1 / Math.sqrt(variance[c] + eps);
  const out = new Tensor(allocOutput(x.size), x.shape);
  const wd = weight?.data ?? null, bd = bias?.data ?? null;
  getBackend().batchNormApply(x.data, out.data, N, C, HW, mean, invStd, wd, bd);

  const parents = [x];
  if (weight) parents.push(weight);
  if (bias) parents.push(bias);
  return attach(out, op, parents, (g) => {
    const dx = x.requiresGrad ? allocOutput(x.size) : null;
    const dw = weight?.requiresGrad ? new Float32Array(C) : null;
    const db = bias?.requiresGrad ? new Float32Array(C) : null;
    // dx = w·invStd/n · (n·g - Σg - xhat·Σ(g·xhat)) with batch statistics (they depend on x too)
    getBackend().batchNormBackward(g, x.data, N, C, HW, mean, invStd, wd, useBatch, dx, dw, db);
    const grads: (Float32Array | null)[] = [dx];
    if (weight) grads.push(dw);
    if (bias) grads.push(db);
    return grads;
  });
}
