/**
 * Builds an inference plan (runtime/plan.ts) from trained layers: the compiler's vocabulary. A network
 * walks its modules and calls these methods in forward order (nas/compile.ts does it for the Child);
 * each returns the buffer that holds the result, so the plan reads like the forward pass it replaces.
 *
 * What is folded where:
 * - a BatchNorm after a 1-bit convolution becomes part of the convolution's per-channel map:
 *       BN(alpha ⊙ dot + b) = (s ⊙ alpha) ⊙ dot + (s ⊙ b + t),   s = gamma / √(var + eps), t = beta - mean ⊙ s
 *   and a Bi-Real shortcut added after (A dot + B + res) or before the BN (s ⊙ (alpha dot + res) + t:
 *   the shortcut's factor is s) rides in the same pass;
 * - the weights of a 1-bit convolution are stored as their packed signs and alpha only (the packed
 *   stream BinaryConv2d keeps), never its latent float weights.
 */
import { CpnasError, shapeStr } from '../core/index.js';
import type { BatchNorm2d, Conv2d, Linear } from '../ops/layers.js';
import { signThreshold } from '../backends/cpu/xnor-epilogue.js';
import { BinaryConv2d } from './binary-conv.js';
import type { BinaryConvStep, BufferShape, ConvGeom, InferencePlan, PlanMeta, PlanStep } from './runtime/plan.js';

type Pair = number | readonly [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** The per-channel map of a BatchNorm in eval mode: y = x * scale + shift. */
export function foldBatchNorm(bn: BatchNorm2d): { scale: Float32Array; shift: Float32Array } {
  if (!bn.running) throw new CpnasError('plan', `a BatchNorm2d(${bn.channels}) without running statistics cannot be folded (it normalizes by the batch at inference)`);
  const C = bn.channels, scale = new Float32Array(C), shift = new Float32Array(C);
  const gamma = bn.weight?.data, beta = bn.bias?.data, { mean, var: v } = bn.running;
  for (let c = 0; c < C; c++) {
    const s = (gamma ? gamma[c] : 1) / Math.sqrt(v[c] + bn.eps);
    scale[c] = s;
    shift[c] = (beta ? beta[c] : 0) - mean[c] * s;
  }
  return { scale, shift };
}

/** Where a convolution's output goes: a new buffer, or a channel slice of an existing one. */
export interface Into {
  buffer: number;
  channel: number;
}

export interface BinaryConvOptions {
  /** BatchNorm right after the convolution (folded into A, B). */
  bn?: BatchNorm2d;
  /** Shortcut buffer added after the BN (Bi-Real unit), or before it with `bnAfterSum`. */
  res?: { buffer: number; channel?: number };
  /** The BN follows the sum conv + shortcut (the Bi-Real ReLUConvBN). */
  bnAfterSum?: boolean;
  /** This convolution's first channel in the BN (two convolutions sharing one BN, as in FactorizedReduce). */
  bnChannel?: number;
  /**
   * Only 1-bit convolutions read the output: write it as sign bits, the BN + sign folded into a
   * per-channel threshold (no shortcut, no slice).
   */
  outBits?: boolean;
  into?: Into;
}

export class PlanBuilder {
  readonly buffers: BufferShape[] = [];
  readonly steps: PlanStep[] = [];
  /** Buffers that hold sign bits. */
  readonly packed = new Set<number>();

  constructor(readonly input: BufferShape) {
    this.buffers.push([...input] as BufferShape);
  }

  shape(b: number): BufferShape {
    return this.buffers[b];
  }

  newBuffer(shape: BufferShape): number {
    this.buffers.push([...shape] as BufferShape);
    return this.buffers.length - 1;
  }

  /** Whether buffer b holds sign bits (only 1-bit convolutions may read it). */
  isPacked(b: number): boolean {
    return this.packed.has(b);
  }

  private readsFloat(b: number, what: string): void {
    if (this.packed.has(b)) throw new CpnasError('plan', `${what} reads buffer ${b}, which holds sign bits`);
  }

  private geometry(conv: Conv2d, x: number, where: string): ConvGeom {
    const [C, H, W] = this.shape(x);
    const [K, Cg, R, S] = conv.weight.shape;
    const [strideH, strideW] = pair(conv.stride), [padH, padW] = pair(conv.padding), [dilationH, dilationW] = pair(conv.dilation);
    if (Cg * conv.groups !== C) throw new CpnasError('plan', `${where}: input has ${C} channels but weight ${shapeStr(conv.weight.shape)} (groups ${conv.groups}) expects ${Cg * conv.groups}`);
    const P = Math.floor((H + 2 * padH - dilationH * (R - 1) - 1) / strideH) + 1;
    const Q = Math.floor((W + 2 * padW - dilationW * (S - 1) - 1) / strideW) + 1;
    return { C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups: conv.groups, P, Q };
  }

  /** A float convolution (with its bias). */
  floatConv(conv: Conv2d, x: number): number {
    this.readsFloat(x, 'floatConv');
    if (conv instanceof BinaryConv2d) throw new CpnasError('plan', 'floatConv was given a BinaryConv2d');
    const geom = this.geometry(conv, x, 'conv');
    const y = this.newBuffer([geom.K, geom.P, geom.Q]);
    this.steps.push({ op: 'conv', x, y, geom, weight: Float32Array.from(conv.weight.data), bias: conv.bias ? Float32Array.from(conv.bias.data) : null });
    return y;
  }

  /** BN in eval mode (optionally followed by ReLU), as a per-channel map. */
  batchNorm(bn: BatchNorm2d, x: number, relu = false): number {
    this.readsFloat(x, 'batchNorm');
    const { scale, shift } = foldBatchNorm(bn);
    if (this.shape(x)[0] !== bn.channels) throw new CpnasError('plan', `BatchNorm2d(${bn.channels}) applied to ${this.shape(x)[0]} channels`);
    const y = this.newBuffer(this.shape(x));
    this.steps.push({ op: 'affine', x, y, scale, shift, relu });
    return y;
  }

  /**
   * A 1-bit convolution on packed signs with what follows it folded in (see the file comment). Its
   * input is binarized with sign() (sign(0) = +1), its weights are alpha_k * sign(w_k).
   */
  binaryConv(conv: BinaryConv2d, x: number, o: BinaryConvOptions = {}): number {
    const geom = this.geometry(conv, x, 'binary conv');
    const { K } = geom;
    const alpha = conv.scales(), signs = Uint32Array.from(conv.packedWeights());
    const bias = conv.bias?.data;
    const A = new Float32Array(K), B = new Float32Array(K);
    let resScale: Float32Array | null = null;
    const bn = o.bn ? foldBatchNorm(o.bn) : null, c0 = o.bnChannel ?? 0;
    if (bn && o.bn!.channels < c0 + K) throw new CpnasError('plan', `BatchNorm2d(${o.bn!.channels}) after a convolution with ${K} filters from channel ${c0}`);
    for (let k = 0; k < K; k++) {
      const s = bn ? bn.scale[c0 + k] : 1, t = bn ? bn.shift[c0 + k] : 0, b = bias ? bias[k] : 0;
      A[k] = s * alpha[k];
      B[k] = s * b + t;
    }
    if (o.res && o.bnAfterSum && bn) resScale = bn.scale.slice(c0, c0 + K);
    let y: number, yC0 = 0;
    if (o.into) {
      y = o.into.buffer;
      yC0 = o.into.channel;
      const [Ct, P, Q] = this.shape(y);
      if (P !== geom.P || Q !== geom.Q || yC0 + K > Ct) throw new CpnasError('plan', `binary conv output [${K},${geom.P},${geom.Q}] does not fit channel ${yC0} of [${Ct},${P},${Q}]`);
    } else {
      y = this.newBuffer([K, geom.P, geom.Q]);
    }
    let outBits: BinaryConvStep['outBits'] = null;
    if (o.outBits) {
      if (o.res || o.into) throw new CpnasError('plan', 'a binary conv with sign-bit output takes no shortcut and writes a buffer of its own');
      const dir = new Float32Array(K), val = new Float32Array(K);
      for (let k = 0; k < K; k++) ({ dir: dir[k], val: val[k] } = signThreshold(A[k], B[k]));
      outBits = { dir, val };
      this.packed.add(y);
    }
    // a sign-bit output needs only its thresholds: A and B stay out of the plan
    const none = new Float32Array(0);
    const step: BinaryConvStep = {
      op: 'bconv', x, y, geom, signs, A: outBits ? none : A, B: outBits ? none : B, yC0, res: -1, resC0: 0, resScale, inBits: this.packed.has(x), outBits,
    };
    if (o.res) {
      const [Cr, Pr, Qr] = this.shape(o.res.buffer), c0 = o.res.channel ?? 0;
      if (Pr !== geom.P || Qr !== geom.Q || c0 + K > Cr) throw new CpnasError('plan', `shortcut [${Cr},${Pr},${Qr}] does not match the binary conv output [${K},${geom.P},${geom.Q}]`);
      step.res = o.res.buffer;
      step.resC0 = c0;
    }
    this.steps.push(step);
    return y;
  }

  pool(kind: 'max' | 'avg', x: number, kernel: number, stride: number, padding: number): number {
    this.readsFloat(x, 'pool');
    const [C, H, W] = this.shape(x);
    const P = Math.floor((H + 2 * padding - kernel) / stride) + 1, Q = Math.floor((W + 2 * padding - kernel) / stride) + 1;
    const y = this.newBuffer([C, P, Q]);
    this.steps.push({ op: kind === 'max' ? 'maxpool' : 'avgpool', x, y, kernel, stride, padding });
    return y;
  }

  groupMean(x: number, groups: number): number {
    this.readsFloat(x, 'groupMean');
    const [C, H, W] = this.shape(x);
    const y = this.newBuffer([C / groups, H, W]);
    this.steps.push({ op: 'groupmean', x, y, groups });
    return y;
  }

  /** a + b, into a new buffer or a channel slice. */
  add(a: number, b: number, into?: Into): number {
    this.readsFloat(a, 'add');
    this.readsFloat(b, 'add');
    const sa = this.shape(a), sb = this.shape(b);
    if (sa.join() !== sb.join()) throw new CpnasError('plan', `add of [${sa}] and [${sb}]`);
    const y = into ? into.buffer : this.newBuffer(sa);
    this.steps.push({ op: 'add', a, b, y, yC0: into ? into.channel : 0 });
    return y;
  }

  copy(x: number, into: Into): void {
    this.readsFloat(x, 'copy');
    this.steps.push({ op: 'copy', x, y: into.buffer, yC0: into.channel });
  }

  /** x shifted by one pixel (FactorizedReduce's second path), zero-padded at the end to even sizes. */
  shift(x: number): number {
    this.readsFloat(x, 'shift');
    const [C, H, W] = this.shape(x);
    const y = this.newBuffer([C, H - 1 + (H % 2), W - 1 + (W % 2)]);
    this.steps.push({ op: 'shift', x, y });
    return y;
  }

  zeros(shape: BufferShape): number {
    const y = this.newBuffer(shape);
    this.steps.push({ op: 'zero', y });
    return y;
  }

  globalPool(x: number): number {
    this.readsFloat(x, 'globalPool');
    const y = this.newBuffer([this.shape(x)[0], 1, 1]);
    this.steps.push({ op: 'gap', x, y });
    return y;
  }

  linear(lin: Linear, x: number): number {
    this.readsFloat(x, 'linear');
    const [C, H, W] = this.shape(x);
    if (C * H * W !== lin.inFeatures) throw new CpnasError('plan', `Linear(${lin.inFeatures}) applied to ${C * H * W} features`);
    const y = this.newBuffer([lin.outFeatures, 1, 1]);
    this.steps.push({ op: 'linear', x, y, inFeatures: lin.inFeatures, outFeatures: lin.outFeatures, weight: Float32Array.from(lin.weight.data), bias: lin.bias ? Float32Array.from(lin.bias.data) : null });
    return y;
  }

  finish(output: number, meta: PlanMeta): InferencePlan {
    const [C, H, W] = this.shape(output);
    if (H !== 1 || W !== 1) throw new CpnasError('plan', `the output buffer [${C},${H},${W}] is not a vector of logits`);
    return { input: this.buffers[0], numClasses: C, buffers: this.buffers, steps: this.steps, output, meta };
  }
}
