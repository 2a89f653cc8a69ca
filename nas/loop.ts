/**
 * The small pieces every training loop here shares: building an optimizer from settings, one training
 * step, counting correct predictions, a budget of batches, and accuracy on a split.
 */
import { CpnasError, Random, noGrad, type Tensor } from '../core/index.js';
import { Adam } from '../ops/optim/adam.js';
import { clipGradNorm } from '../ops/optim/clip.js';
import type { Optimizer } from '../ops/optim/optimizer.js';
import { SGD } from '../ops/optim/sgd.js';
import type { Batch, NasDataset } from './types.js';

export function makeOptimizer(
  params: Tensor[], kind: 'sgd' | 'adam', o: { lr: number; momentum: number; weightDecay: number },
): Optimizer {
  return kind === 'adam'
    ? new Adam(params, { lr: o.lr, weightDecay: o.weightDecay })
    : new SGD(params, { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
}

/** Number of rows of `logits` [N, K] whose arg-max equals the label. */
export function countCorrect(logits: Tensor, y: Int32Array): number {
  const [N, K] = logits.shape;
  const d = logits.data;
  let correct = 0;
  for (let n = 0; n < N; n++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (d[n * K + k] > d[n * K + best]) best = k;
    if (best === y[n]) correct++;
  }
  return correct;
}

/** Arg-max of every row. */
export function predictions(logits: Tensor): Int32Array {
  const [N, K] = logits.shape;
  const out = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits.data[n * K + k] > logits.data[n * K + best]) best = k;
    out[n] = best;
  }
  return out;
}

/**
 * One optimizer step on a loss: clears the gradients, backpropagates, clips the global norm (when
 * gradClip > 0) and steps. Returns the loss value; throws when it is not finite.
 */
export function optimizeStep(optimizer: Optimizer, loss: Tensor, gradClip: number, where: string): number {
  const v = loss.item();
  if (!Number.isFinite(v)) throw new CpnasError(where, `the loss became ${v}; nothing was saved (lower --lr)`);
  optimizer.zeroGrad();
  loss.backward();
  if (gradClip > 0) clipGradNorm(optimizer.params, gradClip);
  optimizer.step();
  return v;
}

/**
 * Shuffled batches (the last partial batch dropped), at most `limit` of them, from a generator seeded
 * by one draw of `rng` (so `rng` advances by one draw per call, however many batches are taken).
 */
export function* shuffledBatches(ds: NasDataset, batchSize: number, rng: Random, limit = Infinity, augment = false): Generator<Batch> {
  const order = new Random(rng.nextUint32());
  let n = 0;
  if (n >= limit) return;
  for (const b of ds.batches(batchSize, { shuffle: true, rng: order, augment, dropLast: ds.length >= batchSize })) {
    yield b;
    if (++n >= limit) return;
  }
}

/** Number of batches in a fraction of an epoch (at least 1). */
/**
 * The learning rate of the search's weights after `done` of `total` units of work: cosine annealing
 * from lr to lrMin, lrMin + (lr - lrMin) (1 + cos(pi done / total)) / 2, as DARTS' CosineAnnealingLR
 * (eta_min = learning_rate_min, capped at lr), or lr throughout when the schedule is 'constant'. Derived from the
 * position alone, so a resumed search follows the same schedule.
 */
export function searchLr(s: { lr: number; lrMin: number; lrSchedule: 'cosine' | 'constant' }, done: number, total: number): number {
  if (s.lrSchedule === 'constant' || total <= 0) return s.lr;
  const f = Math.min(1, Math.max(0, done / total));
  const lrMin = Math.min(s.lrMin, s.lr); // an lr below lrMin stays constant
  return lrMin + ((s.lr - lrMin) * (1 + Math.cos(Math.PI * f))) / 2;
}

export function batchesFor(ds: NasDataset, batchSize: number, fraction: number): number {
  const full = ds.length >= batchSize ? Math.floor(ds.length / batchSize) : 1;
  return Math.max(1, Math.round(full * fraction));
}

/** Accuracy in [0, 1] of `forward` over a split, in order, without gradients. */
export function accuracyOf(forward: (x: Tensor) => Tensor, ds: NasDataset, batchSize: number): number {
  let correct = 0, count = 0;
  noGrad(() => {
    for (const b of ds.batches(batchSize, { shuffle: false })) {
      correct += countCorrect(forward(b.x), b.y);
      count += b.y.length;
    }
  });
  return count ? correct / count : 0;
}

/** The first `n` samples of a split (a fixed validation budget). */
export function firstSamples(ds: NasDataset, n: number): NasDataset {
  if (n >= ds.length) return ds;
  return ds.subset(Int32Array.from({ length: n }, (_, i) => i));
}
