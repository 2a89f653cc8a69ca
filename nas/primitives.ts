/**
 * The 8 primitives of the DARTS / CP-NAS search space (DARTS cnn/operations.py), each declared once as
 * units (units.ts): a unit is ReLU -> convs -> BN in the Parent, and the chosen 1-bit form in the
 * Child (`paper`: the same convs binarized, nothing added; `bireal`: a BN and a real-valued shortcut
 * around every 1-bit conv). Both networks build the same convolutions under the same names, so the
 * Parent's state loads into the Child and the kernel-level CP loss pairs their convolutions by position.
 */
import { CpnasError, Tensor } from '../core/index.js';
import { concat, pad, slice } from '../ops/shape.js';
import { avgPool2d, maxPool2d } from '../ops/pool.js';
import { Identity } from '../ops/layers.js';
import { Module } from '../ops/module.js';
import { makeUnit, type PrimitiveOptions, type Unit } from './units.js';

export { makeConv, makeUnit, shortcut, type ConvDecl, type ConvSpec, type PrimitiveOptions, type UnaryModule } from './units.js';

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

/** ReLU -> conv -> BN (the cell's input preprocessing with a 1x1 conv): one unit whose output feeds a cell. */
export class ReLUConvBN extends Module {
  unit: Unit;
  constructor(inC: number, outC: number, kernel: number, stride: number, padding: number, o: PrimitiveOptions) {
    super();
    this.unit = makeUnit([{ inC, outC, kernel, stride, padding }], o, { normalizedOutput: true });
  }
  forward(x: Tensor): Tensor {
    return this.unit.forward(x);
  }
}

/**
 * Halves the resolution without losing half of the pixels: two stride-2 1x1 conv units, one on x and
 * one on x shifted by one pixel, concatenated (DARTS FactorizedReduce: ReLU, the two convs, concat,
 * BN; BN normalizes every channel on its own, so one BN per half is the same BN). Odd sizes are padded
 * at the end so both halves have ceil(H/2) x ceil(W/2) pixels.
 */
export class FactorizedReduce extends Module {
  half1: Unit;
  half2: Unit;
  constructor(readonly inC: number, readonly outC: number, o: PrimitiveOptions) {
    super();
    if (outC % 2 !== 0) throw new CpnasError('FactorizedReduce', `output channels must be even, got ${outC}`);
    const conv = { inC, outC: outC / 2, kernel: 1, stride: 2 };
    this.half1 = makeUnit([conv], o, { normalizedOutput: true });
    this.half2 = makeUnit([conv], o, { normalizedOutput: true });
  }
  forward(x: Tensor): Tensor {
    const [, , H, W] = x.shape;
    let shifted = slice(slice(x, 2, 1, H), 3, 1, W);
    if (H % 2 === 1 || W % 2 === 1) shifted = pad(shifted, [[0, 0], [0, 0], [0, H % 2], [0, W % 2]]);
    return concat([this.half1.forward(x), this.half2.forward(shifted)], 1);
  }
}

/** Dilated separable conv: one unit, ReLU -> depthwise kxk (dilation d) -> pointwise 1x1 -> BN. */
export class DilConv extends Module {
  unit: Unit;
  constructor(C: number, kernel: number, stride: number, padding: number, dilation: number, o: PrimitiveOptions) {
    super();
    this.unit = makeUnit([
      { inC: C, outC: C, kernel, stride, padding, dilation, groups: C },
      { inC: C, outC: C, kernel: 1 },
    ], o);
  }
  forward(x: Tensor): Tensor {
    return this.unit.forward(x);
  }
}

/** Separable conv, twice: two units (ReLU -> depthwise kxk -> pointwise 1x1 -> BN), the first with the stride. */
export class SepConv extends Module {
  unit1: Unit;
  unit2: Unit;
  constructor(C: number, kernel: number, stride: number, padding: number, o: PrimitiveOptions) {
    super();
    this.unit1 = makeUnit([{ inC: C, outC: C, kernel, stride, padding, groups: C }, { inC: C, outC: C, kernel: 1 }], o);
    this.unit2 = makeUnit([{ inC: C, outC: C, kernel, padding, groups: C }, { inC: C, outC: C, kernel: 1 }], o);
  }
  forward(x: Tensor): Tensor {
    return this.unit2.forward(this.unit1.forward(x));
  }
}

type Factory = (C: number, stride: number, o: PrimitiveOptions) => Module;

/**
 * The built-in operations, in the DARTS order (registered by operations.ts). `needsBatchNorm`: the
 * operation's output is not normalized (a pool), so the search network follows it with a BN without
 * affine parameters, as DARTS' MixedOp does.
 */
export const BUILTIN_OPERATIONS: { [name: string]: { factory: Factory; description: string; needsBatchNorm?: boolean } } = {
  none: { factory: (_C, stride) => new Zero(stride), description: 'zero (no connection)' },
  max_pool_3x3: { factory: (_C, stride) => new Pool('max', stride), description: '3x3 max pooling', needsBatchNorm: true },
  avg_pool_3x3: { factory: (_C, stride) => new Pool('avg', stride), description: '3x3 average pooling', needsBatchNorm: true },
  skip_connect: {
    factory: (C, stride, o) => (stride === 1 ? new Identity() : new FactorizedReduce(C, C, o)),
    description: 'identity (factorized reduce when stride 2)',
  },
  sep_conv_3x3: { factory: (C, stride, o) => new SepConv(C, 3, stride, 1, o), description: '3x3 separable conv, twice' },
  sep_conv_5x5: { factory: (C, stride, o) => new SepConv(C, 5, stride, 2, o), description: '5x5 separable conv, twice' },
  dil_conv_3x3: { factory: (C, stride, o) => new DilConv(C, 3, stride, 2, 2, o), description: '3x3 dilated separable conv (dilation 2)' },
  dil_conv_5x5: { factory: (C, stride, o) => new DilConv(C, 5, stride, 4, 2, o), description: '5x5 dilated separable conv (dilation 2)' },
};
