/**
 * The standard layers, as Modules over the functional ops: Conv2d, BatchNorm2d, Linear, Sequential,
 * Identity, ReLU, MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten, Dropout.
 *
 * Initialization follows PyTorch's defaults so that recipes carry over: convolution and linear weights
 * are Kaiming-uniform with a = √5, i.e. U(-1/√fanIn, 1/√fanIn), and so are their biases; BatchNorm
 * starts at weight 1, bias 0, running mean 0, running variance 1. Every initializer draws from the
 * `rng` it is given, or from the process-wide seeded `defaultRandom()`.
 */
import { CpnasError, Random, Tensor, check, defaultRandom } from '../core/index.js';
import { batchNorm2d, type RunningStats } from './batchnorm.js';
import { conv2d } from './conv.js';
import { dropout } from './dropout.js';
import { linear } from './matmul.js';
import { Module } from './module.js';
import { avgPool2d, globalAvgPool2d, maxPool2d } from './pool.js';
import { flatten } from './shape.js';
import { relu } from './unary.js';

type Pair = number | [number, number];

function pairOf(v: Pair): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function fmt(v: Pair): string {
  return typeof v === 'number' ? String(v) : `(${v[0]}, ${v[1]})`;
}

/** A parameter of the given shape, U(-bound, bound). */
function uniformParam(shape: number[], bound: number, rng: Random): Tensor {
  return Tensor.rand(shape, -bound, bound, rng, true);
}

function checkCount(where: string, name: string, v: number): void {
  check(Number.isInteger(v) && v >= 1, where, () => `${name} must be a positive integer, got ${v}`);
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  /** Add a learned bias per output channel (default false: convolutions here are followed by BN). */
  bias?: boolean;
  rng?: Random;
}

/** 2-D convolution, weight [outC, inC / groups, kH, kW]. */
export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
  readonly groups: number;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernel: Pair, opts: Conv2dOptions = {}) {
    super();
    const groups = opts.groups ?? 1;
    checkCount('Conv2d', 'inChannels', inChannels);
    checkCount('Conv2d', 'outChannels', outChannels);
    checkCount('Conv2d', 'groups', groups);
    const [kH, kW] = pairOf(kernel);
    checkCount('Conv2d', 'kernel', kH);
    checkCount('Conv2d', 'kernel', kW);
    if (inChannels % groups || outChannels % groups) {
      throw new CpnasError('Conv2d', `groups ${groups} must divide both inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    this.groups = groups;
    const rng = opts.rng ?? defaultRandom();
    const fanIn = (inChannels / groups) * kH * kW;
    const bound = 1 / Math.sqrt(fanIn); // kaiming_uniform_(a=√5): gain √(1/3) · √(3 / fanIn)
    this.weight = uniformParam([outChannels, inChannels / groups, kH, kW], bound, rng);
    this.bias = opts.bias ? uniformParam([outChannels], bound, rng) : null;
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  protected override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernel=${fmt(this.kernel)}`];
    if (this.stride !== 1) parts.push(`stride=${fmt(this.stride)}`);
    if (this.padding !== 0) parts.push(`padding=${fmt(this.padding)}`);
    if (this.dilation !== 1) parts.push(`dilation=${fmt(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this.bias) parts.push('bias');
    return parts.join(', ');
  }
}

export interface BatchNorm2dOptions {
  /** Learn a per-channel scale and shift (default true; DARTS search cells use false). */
  affine?: boolean;
  /** Weight of each new batch in the running statistics (default 0.1). */
  momentum?: number;
  eps?: number;
  /** Keep running statistics for evaluation (default true); without them eval uses batch statistics. */
  trackRunningStats?: boolean;
}

/**
 * Batch normalization per channel of [N, C, H, W] (or [N, C]) input. Training uses (and tracks) batch
 * statistics; `eval()` uses the running ones, which are buffers `runningMean` / `runningVar`.
 */
export class BatchNorm2d extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  /** The running statistics (the registered buffers themselves), null when not tracked. */
  readonly running: RunningStats | null;
  readonly momentum: number;
  readonly eps: number;

  constructor(readonly channels: number, opts: BatchNorm2dOptions = {}) {
    super();
    checkCount('BatchNorm2d', 'channels', channels);
    this.momentum = opts.momentum ?? 0.1;
    this.eps = opts.eps ?? 1e-5;
    check(this.momentum >= 0 && this.momentum <= 1, 'BatchNorm2d', () => `momentum must lie in [0, 1], got ${this.momentum}`);
    check(this.eps > 0, 'BatchNorm2d', () => `eps must be > 0, got ${this.eps}`);
    const affine = opts.affine ?? true;
    this.weight = affine ? Tensor.ones([channels], true) : null;
    this.bias = affine ? Tensor.zeros([channels], true) : null;
    this.running = (opts.trackRunningStats ?? true)
      ? {
        mean: this.registerBuffer('runningMean', new Float32Array(channels)),
        var: this.registerBuffer('runningVar', new Float32Array(channels).fill(1)),
      }
      : null;
  }

  forward(x: Tensor): Tensor {
    return batchNorm2d(x, this.weight, this.bias, this.running, { training: this.training, momentum: this.momentum, eps: this.eps });
  }

  protected override extraRepr(): string {
    return `${this.channels}${this.weight ? '' : ', affine=false'}${this.running ? '' : ', trackRunningStats=false'}`;
  }
}

/** y = x Wᵀ + b, weight [out, in]. */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, bias = true, rng: Random = defaultRandom()) {
    super();
    checkCount('Linear', 'inFeatures', inFeatures);
    checkCount('Linear', 'outFeatures', outFeatures);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = uniformParam([outFeatures, inFeatures], bound, rng);
    this.bias = bias ? uniformParam([outFeatures], bound, rng) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? undefined);
  }

  protected override extraRepr(): string {
    return `${this.inFeatures}, ${this.outFeatures}${this.bias ? '' : ', bias=false'}`;
  }
}

/** Applies its layers in order; they are named `0`, `1`, ... (`features.2.weight`). */
export class Sequential extends Module {
  declare readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    layers.forEach((m, i) => check(m instanceof Module, 'Sequential', () => `argument ${i} is not a Module`));
    this.setUnowned('layers', layers);
  }

  protected override ownMembers(): [string, Tensor | Module][] {
    return [...super.ownMembers(), ...this.layers.map((m, i): [string, Module] => [String(i), m])];
  }

  get length(): number {
    return this.layers.length;
  }

  at(i: number): Module {
    return this.layers[i < 0 ? this.layers.length + i : i];
  }

  /** Appends a layer. */
  push(m: Module): this {
    this.layers.push(m);
    return this;
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const m of this.layers) h = m.forward(h) as Tensor;
    return h;
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export interface PoolOptions {
  /** Default: the kernel size. */
  stride?: Pair;
  padding?: Pair;
}

export class MaxPool2d extends Module {
  constructor(readonly kernel: Pair, readonly opts: PoolOptions = {}) {
    super();
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, { kernel: this.kernel, stride: this.opts.stride, padding: this.opts.padding });
  }

  protected override extraRepr(): string {
    return `kernel=${fmt(this.kernel)}, stride=${fmt(this.opts.stride ?? this.kernel)}, padding=${fmt(this.opts.padding ?? 0)}`;
  }
}

/** Average pooling; padded cells are not counted (count_include_pad = false). */
export class AvgPool2d extends Module {
  constructor(readonly kernel: Pair, readonly opts: PoolOptions = {}) {
    super();
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, { kernel: this.kernel, stride: this.opts.stride, padding: this.opts.padding });
  }

  protected override extraRepr(): string {
    return `kernel=${fmt(this.kernel)}, stride=${fmt(this.opts.stride ?? this.kernel)}, padding=${fmt(this.opts.padding ?? 0)}`;
  }
}

/** [N, C, H, W] -> [N, C], the mean over each feature map. */
export class GlobalAvgPool2d extends Module {
  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x);
  }
}

/** Flattens every axis from `startDim` on: [N, C, H, W] -> [N, C·H·W]. */
export class Flatten extends Module {
  constructor(readonly startDim = 1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim);
  }
}

/** Zeroes each value with probability p in training (the rest scaled by 1/(1-p)); identity in eval. */
export class Dropout extends Module {
  /** `rng`: where masks are drawn from; default the process-wide generator at the time of the call. */
  constructor(readonly p = 0.5, readonly rng?: Random) {
    super();
    check(p >= 0 && p < 1, 'Dropout', () => `p must lie in [0, 1), got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.rng ?? defaultRandom());
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
