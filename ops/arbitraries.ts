/**
 * fast-check arbitraries for property tests of operations: shapes, tensors, broadcastable shape
 * pairs, and convolution / pooling settings whose output is never empty.
 *
 * ```ts
 * fc.assert(fc.property(arbShape({ maxRank: 3 }).chain((s) => arbTensor(s)), (x) => {
 *   expect(gradCheck((t) => tanh(t), [x]).ok).toBe(true);
 * }), { numRuns: 20 });
 * ```
 *
 * Tensor values come from a `Random` seeded by an integer that fast-check draws: cheap for large
 * tensors, uniform (no bias towards 0 or the bounds, which matters near kinks), and reproducible from
 * fast-check's seed. Shrinking acts on shapes and settings; the seed shrinks to other values, not to
 * "simpler" ones.
 */
import fc from 'fast-check';
import { CpnasError, Random, Tensor, sizeOf, type Shape } from '../core/index.js';
import { outSize } from '../backends/backend.js';

export interface ShapeConstraints {
  /** Smallest rank (default 1). */
  minRank?: number;
  /** Largest rank (default 4). */
  maxRank?: number;
  /** Smallest dimension (default 1). */
  minDim?: number;
  /** Largest dimension (default 5). */
  maxDim?: number;
}

/** A shape (array of dims) with rank in [minRank, maxRank] and each dim in [minDim, maxDim]. */
export function arbShape(c: ShapeConstraints = {}): fc.Arbitrary<number[]> {
  const minRank = c.minRank ?? 1, maxRank = c.maxRank ?? 4;
  const minDim = c.minDim ?? 1, maxDim = c.maxDim ?? 5;
  if (minRank > maxRank || minDim > maxDim || minRank < 0 || minDim < 0) {
    throw new CpnasError('arbShape', `empty range (rank ${minRank}..${maxRank}, dim ${minDim}..${maxDim})`);
  }
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

export interface TensorConstraints {
  /** Smallest value (default -1). */
  min?: number;
  /** Largest value, excluded (default 1). */
  max?: number;
  /** Values with |v| < minAbs are pushed out to ±minAbs, keeping their sign: keeps relu/abs inputs
   *  away from their kink at 0 (default 0: no push). Pushed values may leave [min, max) by minAbs. */
  minAbs?: number;
  /** Makes all values pairwise at least `minGap` apart (a shuffled, jittered grid over [min, max)),
   *  for ops with ties (max, max-pool) whose finite differences must not cross one. Needs
   *  (max - min) >= size · minGap. */
  minGap?: number;
  /** Whether the generated tensor requires gradients (default true). */
  requiresGrad?: boolean;
}

/** Fills a tensor of `shape` with seeded values under the given constraints (the body of arbTensor). */
export function seededTensor(shape: Shape, seed: number, c: TensorConstraints = {}): Tensor {
  const lo = c.min ?? -1, hi = c.max ?? 1;
  if (!(hi > lo)) throw new CpnasError('arbTensor', `empty value range [${lo}, ${hi})`);
  const rng = new Random(seed);
  const n = sizeOf(shape);
  const t = Tensor.zeros(shape, c.requiresGrad ?? true);
  const d = t.data;
  if (c.minGap !== undefined && c.minGap > 0) {
    const step = (hi - lo) / Math.max(n, 1);
    if (step < c.minGap) {
      throw new CpnasError('arbTensor', `cannot place ${n} values ${c.minGap} apart in [${lo}, ${hi})`);
    }
    // one value per grid cell, jittered inside the part of the cell that keeps the gap
    const perm = rng.permutation(n);
    const room = step - c.minGap;
    for (let i = 0; i < n; i++) d[i] = lo + perm[i] * step + rng.next() * room;
  } else {
    for (let i = 0; i < n; i++) d[i] = rng.uniform(lo, hi);
  }
  const minAbs = c.minAbs ?? 0;
  if (minAbs > 0) {
    for (let i = 0; i < n; i++) {
      const v = d[i];
      if (Math.abs(v) < minAbs) d[i] = v < 0 ? v - minAbs : v + minAbs;
    }
  }
  return t;
}

/**
 * A Float32 tensor of the given shape (or of a shape drawn from a shape arbitrary), values uniform in
 * [min, max) from a seed that fast-check draws. By default the tensor requires gradients.
 */
export function arbTensor(shape: Shape | fc.Arbitrary<number[]>, c: TensorConstraints = {}): fc.Arbitrary<Tensor> {
  const seed = fc.noBias(fc.integer({ min: 0, max: 0x7fffffff }));
  if (shape instanceof fc.Arbitrary) {
    return fc.tuple(shape, seed).map(([s, k]) => seededTensor(s, k, c));
  }
  const fixed = [...shape];
  return seed.map((k) => seededTensor(fixed, k, c));
}

/**
 * Two shapes that broadcast together (NumPy rules): drawn from one output shape, each side drops
 * some leading dims and sets some dims to 1.
 */
export function arbBroadcastPair(c: ShapeConstraints = {}): fc.Arbitrary<[number[], number[]]> {
  const side = (out: number[]) => fc.tuple(
    fc.integer({ min: 0, max: out.length }),
    fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
  ).map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
  return arbShape({ minRank: 1, ...c }).chain((out) => fc.tuple(side(out), side(out)));
}

/** Settings of a 2-D convolution (square kernel, symmetric stride/padding/dilation). */
export interface ConvSettings {
  /** Batch, input channels, input height and width. */
  N: number; C: number; H: number; W: number;
  /** Output channels. */
  K: number;
  kernel: number;
  stride: number;
  padding: number;
  dilation: number;
  /** Divides both C and K. */
  groups: number;
  /** Output height and width (always >= 1). */
  P: number; Q: number;
}

export interface ConvConstraints {
  maxN?: number;
  /** Largest channels per group, input and output (default 3). */
  maxChannelsPerGroup?: number;
  maxGroups?: number;
  maxKernel?: number;
  maxStride?: number;
  maxPadding?: number;
  maxDilation?: number;
  /** How much larger than the smallest valid size H and W may be (default 4). */
  maxExtra?: number;
}

/**
 * Convolution settings: N 1-2, groups 1-3 dividing C and K, kernel 1-3, stride 1-2, padding 0-2,
 * dilation 1-2, and H, W large enough that the output is at least 1x1.
 */
export function arbConvSettings(c: ConvConstraints = {}): fc.Arbitrary<ConvSettings> {
  const cpg = c.maxChannelsPerGroup ?? 3, extra = c.maxExtra ?? 4;
  return fc.record({
    N: fc.integer({ min: 1, max: c.maxN ?? 2 }),
    groups: fc.integer({ min: 1, max: c.maxGroups ?? 3 }),
    cPer: fc.integer({ min: 1, max: cpg }),
    kPer: fc.integer({ min: 1, max: cpg }),
    kernel: fc.integer({ min: 1, max: c.maxKernel ?? 3 }),
    stride: fc.integer({ min: 1, max: c.maxStride ?? 2 }),
    padding: fc.integer({ min: 0, max: c.maxPadding ?? 2 }),
    dilation: fc.integer({ min: 1, max: c.maxDilation ?? 2 }),
    extraH: fc.integer({ min: 0, max: extra }),
    extraW: fc.integer({ min: 0, max: extra }),
  }).map((s) => {
    // smallest input with one output: H + 2p >= d (k - 1) + 1
    const minH = Math.max(1, s.dilation * (s.kernel - 1) + 1 - 2 * s.padding);
    const H = minH + s.extraH, W = minH + s.extraW;
    return {
      N: s.N, C: s.groups * s.cPer, H, W, K: s.groups * s.kPer,
      kernel: s.kernel, stride: s.stride, padding: s.padding, dilation: s.dilation, groups: s.groups,
      P: outSize(H, s.kernel, s.stride, s.padding, s.dilation),
      Q: outSize(W, s.kernel, s.stride, s.padding, s.dilation),
    };
  });
}

/** Settings of a 2-D pool (square window). */
export interface PoolSettings {
  N: number; C: number; H: number; W: number;
  kernel: number;
  stride: number;
  /** At most kernel / 2 (as PyTorch requires), so every window holds at least one real cell. */
  padding: number;
  /** Output height and width (always >= 1). */
  P: number; Q: number;
}

export interface PoolConstraints {
  maxN?: number;
  maxC?: number;
  maxKernel?: number;
  maxStride?: number;
  maxExtra?: number;
}

/** Pool settings: N 1-2, C 1-3, kernel 1-3, stride 1-3, padding 0..kernel/2, output >= 1x1. */
export function arbPoolSettings(c: PoolConstraints = {}): fc.Arbitrary<PoolSettings> {
  const extra = c.maxExtra ?? 4;
  return fc.record({
    N: fc.integer({ min: 1, max: c.maxN ?? 2 }),
    C: fc.integer({ min: 1, max: c.maxC ?? 3 }),
    kernel: fc.integer({ min: 1, max: c.maxKernel ?? 3 }),
    stride: fc.integer({ min: 1, max: c.maxStride ?? 3 }),
    padFrac: fc.integer({ min: 0, max: 2 }),
    extraH: fc.integer({ min: 0, max: extra }),
    extraW: fc.integer({ min: 0, max: extra }),
  }).map((s) => {
    const padding = Math.min(s.padFrac, Math.floor(s.kernel / 2));
    const minH = Math.max(1, s.kernel - 2 * padding);
    const H = minH + s.extraH, W = minH + s.extraW;
    return {
      N: s.N, C: s.C, H, W, kernel: s.kernel, stride: s.stride, padding,
      P: outSize(H, s.kernel, s.stride, padding), Q: outSize(W, s.kernel, s.stride, padding),
    };
  });
}
