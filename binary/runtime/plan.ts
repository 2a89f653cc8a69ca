/**
 * The inference plan of a 1-bit Child: what `cpnas export` writes and the runtime runs. Plain data:
 * a list of steps over numbered buffers of float activations, each [N, C, H, W] for any batch size N
 * (the shapes below leave N out). Binary convolutions hold their weights as packed signs (one dense
 * bit stream, backends/cpu/bitpack.ts) and the per-channel float maps folded into them (alpha, BN,
 * the Bi-Real shortcut's factor); only the float layers (stem, BN after float layers, classifier)
 * hold float weights. No latent float weights of binary layers, no optimizer state.
 *
 * Imported by the runtime: nothing here may import training code (ops/, core's autograd).
 */
import type { Conv2dGeometry } from '../../core/index.js';

/** A buffer's per-image shape [C, H, W] (a [N, C] vector is [C, 1, 1]). */
export type BufferShape = [number, number, number];

/** Geometry of a convolution, per image: the backends' Conv2dGeometry without the batch size (it comes with the input). */
export type ConvGeom = Omit<Conv2dGeometry, 'N'>;

/** Float convolution with bias (the stem): y = conv(x, weight) + bias. */
export interface FloatConvStep {
  op: 'conv';
  x: number; y: number;
  geom: ConvGeom;
  weight: Float32Array;
  bias: Float32Array | null;
}

/**
 * 1-bit convolution: y[:, yC0 + k] = A[k] * dot_k(sign(x), sign(w)) + B[k] + R[k] * res[:, resC0 + k],
 * dot the integer convolution of the signs (zero padding contributes 0). `res` < 0: no shortcut.
 * `inBits`: x holds sign bits (a packed buffer) instead of floats. `outBits`: y holds sign bits: the
 * next layer's sign() of A * dot + B as a threshold, bit (sign -1) where dir[k] * dot < val[k]; A and
 * B are then empty (the thresholds replace them).
 * A packed buffer is [N][C][H][ceil(W/32)] words, bit w & 31 of word w >>> 5 set where pixel
 * (h, w) is negative; only 1-bit convolutions read or write one.
 */
export interface BinaryConvStep {
  op: 'bconv';
  x: number; y: number;
  geom: ConvGeom;
  /** Weight signs, bitpack.ts's stream: filter k's R*S*C/groups bits from bit k * R*S*C/groups. */
  signs: Uint32Array;
  A: Float32Array;
  B: Float32Array;
  yC0: number;
  res: number;
  resC0: number;
  /** Factor of the shortcut per channel (null: 1). */
  resScale: Float32Array | null;
  inBits: boolean;
  outBits: { dir: Float32Array; val: Float32Array } | null;
}

/** y = x * scale[c] + shift[c] (a BatchNorm in eval mode), then ReLU if asked. */
export interface AffineStep {
  op: 'affine';
  x: number; y: number;
  scale: Float32Array;
  shift: Float32Array;
  relu: boolean;
}

export interface ReluStep { op: 'relu'; x: number; y: number }

/** Max or average pooling (the average leaves padded cells out of the count). */
export interface PoolStep {
  op: 'maxpool' | 'avgpool';
  x: number; y: number;
  kernel: number; stride: number; padding: number;
}

/** y[:, c] = mean over g of x[:, g * C + c] (the Bi-Real shortcut where the channels shrink). */
export interface GroupMeanStep { op: 'groupmean'; x: number; y: number; groups: number }

/** y[:, yC0 .. yC0 + C) = a + b (channel slices of a larger buffer allowed for y). */
export interface AddStep { op: 'add'; a: number; b: number; y: number; yC0: number }

/** y[:, yC0 ..] = x (a copy into a channel slice: concatenation). */
export interface CopyStep { op: 'copy'; x: number; y: number; yC0: number }

/** x shifted by one pixel down and right (row 0 and column 0 dropped), zero-padded at the end to ceil(H/2)*2. */
export interface ShiftStep { op: 'shift'; x: number; y: number }

/** Zeros (the `none` operation). */
export interface ZeroStep { op: 'zero'; y: number }

/** Global average pooling to [N, C]. */
export interface GlobalPoolStep { op: 'gap'; x: number; y: number }

/** y = x · weightᵀ + bias, weight [out, in]. */
export interface LinearStep {
  op: 'linear';
  x: number; y: number;
  inFeatures: number; outFeatures: number;
  weight: Float32Array;
  bias: Float32Array | null;
}

export type PlanStep =
  | FloatConvStep | BinaryConvStep | AffineStep | ReluStep | PoolStep | GroupMeanStep | AddStep | CopyStep
  | ShiftStep | ZeroStep | GlobalPoolStep | LinearStep;

/** What a plan says about itself (free-form JSON beside the arrays: genotype, classes, form). */
export interface PlanMeta {
  classNames?: string[];
  genotype?: unknown;
  /** The Child form the plan was compiled from ('bireal' or 'paper'). */
  childForm?: string;
  /** The dataset the model was trained on, when known. */
  dataset?: string;
  [key: string]: unknown;
}

/** The buffers that hold sign bits: those that 1-bit convolutions write as bits. */
export function packedBuffers(plan: Pick<InferencePlan, 'steps'>): Set<number> {
  const out = new Set<number>();
  for (const s of plan.steps) if (s.op === 'bconv' && s.outBits) out.add(s.y);
  return out;
}

export interface InferencePlan {
  /** Input shape [C, H, W]. */
  input: BufferShape;
  numClasses: number;
  /** Shapes of buffers 0..n-1; buffer 0 is the input. */
  buffers: BufferShape[];
  steps: PlanStep[];
  /** The buffer that holds the logits [N, numClasses]. */
  output: number;
  meta: PlanMeta;
}
