/**
 * The 8 primitives of the DARTS / CP-NAS search space (DARTS cnn/operations.py), each in two forms:
 * full precision (the Parent) and 1-bit (the Child: every convolution a BinaryConv2d, 1-bit weights
 * and activations).
 *
 * The 1-bit form follows Bi-Real Net, the usual recipe for 1-bit CNNs: every binary convolution is
 * followed by its own BN and wrapped by a real-valued shortcut (identity, average-pooled for stride 2,
 * channel-group mean where the channels shrink), so magnitudes that sign() discards still flow through
 * the cell. The ReLU in front of a convolution is left out: the convolution binarizes its input with
 * sign(), and sign(relu(x)) would be +1 everywhere. Both forms name their convolutions the same way
 * (dw1, pw1, ...), so the Parent's state loads into the Child (the Child's extra BNs keep their
 * initial values) and the kernel-level CP loss pairs their convolutions by position.
 */
import { CpnasError, Tensor, type Random } from '../core/index.js';
import { add } from '../ops/arithmetic.js';
import { mean } from '../ops/reduce.js';
import { BinaryConv2d } from '../binary/binary-conv.js';
import { concat, pad, reshape, slice } from '../ops/shape.js';
import { avgPool2d, maxPool2d } from '../ops/pool.js';
import { relu } from '../ops/unary.js';
import { BatchNorm2d, Conv2d, Identity } from '../ops/layers.js';
import { Module } from '../ops/module.js';
import type { BinarizerSettings } from './types.js';

/** What every primitive factory receives (see OperationOptions in operations.ts). */
export interface PrimitiveOptions {
  binary: boolean;
  affine: boolean;
  binarizers: BinarizerSettings;
  /** Where initial weights are drawn from (default: the process-wide seeded generator). */
  rng?: Random;
}

/** A module mapping one tensor to one tensor (what every operation of the search space is). */
export interface UnaryModule extends Module {
  forward(x: Tensor): Tensor;
}

export interface ConvSpec {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

/** A convolution without bias: full precision (Parent), or 1-bit in weights and activations (Child). */
export function makeConv(inC: number, outC: number, kernel: number | [number, number], spec: ConvSpec, o: PrimitiveOptions): UnaryModule {
  const opts = { stride: spec.stride ?? 1, padding: spec.padding ?? 0, dilation: spec.dilation ?? 1, groups: spec.groups ?? 1, bias: false, rng: o.rng };
  if (o.binary) {
    return new BinaryConv2d(inC, outC, kernel, { ...opts, activation: o.binarizers.activation, weightBinarizer: o.binarizers.weight });
  }
  return new Conv2d(inC, outC, kernel, opts);
}

/** The zero operation: no output at all (a cell skips the edge); `forward` gives zeros when asked. */
export class Zero extends Module {
  constructor(readonly stride: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    const [N, C, H, W] = x.shape;
    const s = this.stride;
    return Tensor.zeros([N, C, Math.ceil(H / s), Math.ceil(W / s)]);
  }
}

/** 3x3 max or average pooling (padding 1; the average leaves padded cells out of the count). */
export class Pool extends Module {
  constructor(readonly kind: 'max' | 'avg', readonly stride: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    const o = { kernel: 3, stride: this.stride, padding: 1 };
    return this.kind === 'max' ? maxPool2d(x, o) : avgPool2d(x, o);
  }
  protected override extraRepr(): string {
    return `${this.kind}, stride=${this.stride}`;
  }
}

/**
 * The real-valued shortcut of a 1-bit unit (Bi-Real Net): the input itself, average-pooled when the
 * unit has stride 2, and averaged over groups of channels when the unit reduces the channel count
 * (a cell's preprocessing maps 2C, 3C or 4C channels to C). Null when the shapes cannot match.
 */
export function shortcut(x: Tensor, inC: number, outC: number, stride: number): Tensor | null {
  if (inC % outC !== 0) return null;
  let h = stride === 1 ? x : avgPool2d(x, { kernel: 3, stride, padding: 1 });
  if (inC > outC) {
    const [N, , H, W] = h.shape;
    h = mean(reshape(h, [N, inC / outC, outC, H, W]), 1);
  }
  return h;
}

/** BN(conv(x)) + shortcut(x): the 1-bit form's building block; sign(x) inside the conv is its nonlinearity. */
function binaryUnit(conv: UnaryModule, bn: BatchNorm2d, x: Tensor, inC: number, outC: number, stride: number): Tensor {
  const y = bn.forward(conv.forward(x));
  const s = shortcut(x, inC, outC, stride);
  return s ? add(y, s) : y;
}

/**
 * ReLU -> conv -> BN (the cell's input preprocessing with a 1x1 conv). 1-bit form: BN(conv(x) +
 * shortcut(x)).
 */
export class ReLUConvBN extends Module {
  conv: UnaryModule;
  bn: BatchNorm2d;
  private readonly binary: boolean;
  constructor(readonly inC: number, readonly outC: number, kernel: number, readonly stride: number, padding: number, o: PrimitiveOptions) {
    super();
    this.conv = makeConv(inC, outC, kernel, { stride, padding }, o);
    this.bn = new BatchNorm2d(outC, { affine: o.affine });
    this.binary = o.binary;
  }
  forward(x: Tensor): Tensor {
    if (this.binary) {
      // BN after the sum: a cell's inputs stay normalized, as in the Parent, so magnitudes carried by
      // the shortcuts do not pile up from cell to cell
      const s = shortcut(x, this.inC, this.outC, this.stride);
      const y = this.conv.forward(x);
      return this.bn.forward(s ? add(y, s) : y);
    }
    return this.bn.forward(this.conv.forward(relu(x)));
  }
}

/**
 * Halves the resolution without losing half of the pixels: two stride-2 1x1 convs, one on x and one on
 * x shifted by one pixel, concatenated, then BN (DARTS FactorizedReduce). Odd sizes are padded at the
 * end so both halves have ceil(H/2) x ceil(W/2) pixels. 1-bit form: no ReLU, BN(convs(x) + shortcut(x)).
 */
export class FactorizedReduce extends Module {
  conv1: UnaryModule;
  conv2: UnaryModule;
  bn: BatchNorm2d;
  private readonly binary: boolean;
  constructor(readonly inC: number, readonly outC: number, o: PrimitiveOptions) {
    super();
    if (outC % 2 !== 0) throw new CpnasError('FactorizedReduce', `output channels must be even, got ${outC}`);
    this.conv1 = makeConv(inC, outC / 2, 1, { stride: 2 }, o);
    this.conv2 = makeConv(inC, outC / 2, 1, { stride: 2 }, o);
    this.bn = new BatchNorm2d(outC, { affine: o.affine });
    this.binary = o.binary;
  }
  forward(x: Tensor): Tensor {
    const h = this.binary ? x : relu(x);
    const [, , H, W] = h.shape;
    let shifted = slice(slice(h, 2, 1, H), 3, 1, W);
    if (H % 2 === 1 || W % 2 === 1) shifted = pad(shifted, [[0, 0], [0, 0], [0, H % 2], [0, W % 2]]);
    const y = concat([this.conv1.forward(h), this.conv2.forward(shifted)], 1);
    const s = this.binary ? shortcut(x, this.inC, this.outC, 2) : null;
    return this.bn.forward(s ? add(y, s) : y);
  }
}

/**
 * Dilated separable conv: ReLU -> depthwise kxk (dilation d) -> pointwise 1x1 -> BN.
 * 1-bit form: two Bi-Real units, depthwise -> BN (+ shortcut) and pointwise -> BN (+ shortcut).
 */
export class DilConv extends Module {
  dw1: UnaryModule;
  bnd1: BatchNorm2d | null;
  pw1: UnaryModule;
  bn1: BatchNorm2d;
  private readonly binary: boolean;
  constructor(readonly C: number, kernel: number, readonly stride: number, padding: number, dilation: number, o: PrimitiveOptions) {
    super();
    this.dw1 = makeConv(C, C, kernel, { stride, padding, dilation, groups: C }, o);
    this.bnd1 = o.binary ? new BatchNorm2d(C, { affine: o.affine }) : null;
    this.pw1 = makeConv(C, C, 1, {}, o);
    this.bn1 = new BatchNorm2d(C, { affine: o.affine });
    this.binary = o.binary;
  }
  forward(x: Tensor): Tensor {
    if (this.binary) {
      const h = binaryUnit(this.dw1, this.bnd1!, x, this.C, this.C, this.stride);
      return binaryUnit(this.pw1, this.bn1, h, this.C, this.C, 1);
    }
    return this.bn1.forward(this.pw1.forward(this.dw1.forward(relu(x))));
  }
}

/**
 * Separable conv, twice: (ReLU -> depthwise kxk -> pointwise 1x1 -> BN) x 2, the first with the stride.
 * 1-bit form: four Bi-Real units (each conv followed by BN, plus the shortcut).
 */
export class SepConv extends Module {
  dw1: UnaryModule;
  bnd1: BatchNorm2d | null;
  pw1: UnaryModule;
  bn1: BatchNorm2d;
  dw2: UnaryModule;
  bnd2: BatchNorm2d | null;
  pw2: UnaryModule;
  bn2: BatchNorm2d;
  private readonly binary: boolean;
  constructor(readonly C: number, kernel: number, readonly stride: number, padding: number, o: PrimitiveOptions) {
    super();
    this.dw1 = makeConv(C, C, kernel, { stride, padding, groups: C }, o);
    this.bnd1 = o.binary ? new BatchNorm2d(C, { affine: o.affine }) : null;
    this.pw1 = makeConv(C, C, 1, {}, o);
    this.bn1 = new BatchNorm2d(C, { affine: o.affine });
    this.dw2 = makeConv(C, C, kernel, { padding, groups: C }, o);
    this.bnd2 = o.binary ? new BatchNorm2d(C, { affine: o.affine }) : null;
    this.pw2 = makeConv(C, C, 1, {}, o);
    this.bn2 = new BatchNorm2d(C, { affine: o.affine });
    this.binary = o.binary;
  }
  forward(x: Tensor): Tensor {
    const C = this.C;
    if (this.binary) {
      let h = binaryUnit(this.dw1, this.bnd1!, x, C, C, this.stride);
      h = binaryUnit(this.pw1, this.bn1, h, C, C, 1);
      h = binaryUnit(this.dw2, this.bnd2!, h, C, C, 1);
      return binaryUnit(this.pw2, this.bn2, h, C, C, 1);
    }
    const h = this.bn1.forward(this.pw1.forward(this.dw1.forward(relu(x))));
    return this.bn2.forward(this.pw2.forward(this.dw2.forward(relu(h))));
  }
}

type Factory = (C: number, stride: number, o: PrimitiveOptions) => Module;

/** The built-in operations, in the DARTS order (registered by operations.ts). */
export const BUILTIN_OPERATIONS: { [name: string]: { factory: Factory; description: string } } = {
  none: { factory: (_C, stride) => new Zero(stride), description: 'zero (no connection)' },
  max_pool_3x3: { factory: (_C, stride) => new Pool('max', stride), description: '3x3 max pooling' },
  avg_pool_3x3: { factory: (_C, stride) => new Pool('avg', stride), description: '3x3 average pooling' },
  skip_connect: {
    factory: (C, stride, o) => (stride === 1 ? new Identity() : new FactorizedReduce(C, C, o)),
    description: 'identity (factorized reduce when stride 2)',
  },
  sep_conv_3x3: { factory: (C, stride, o) => new SepConv(C, 3, stride, 1, o), description: '3x3 separable conv, twice' },
  sep_conv_5x5: { factory: (C, stride, o) => new SepConv(C, 5, stride, 2, o), description: '5x5 separable conv, twice' },
  dil_conv_3x3: { factory: (C, stride, o) => new DilConv(C, 3, stride, 2, 2, o), description: '3x3 dilated separable conv (dilation 2)' },
  dil_conv_5x5: { factory: (C, stride, o) => new DilConv(C, 5, stride, 4, 2, o), description: '5x5 dilated separable conv (dilation 2)' },
};
