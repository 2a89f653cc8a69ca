/**
 * Units: the one place where the Parent and the Child forms of the search space differ. Every
 * primitive (primitives.ts) is declared once, as units; a unit is the DARTS chain
 *
 *   ReLU -> conv_1 -> ... -> conv_n -> BN                       (the Parent, full precision)
 *
 * and `makeUnit` builds it in the form the options ask for:
 *
 * - `paper` (the CP-NAS Child): the same chain with every conv 1-bit in weights and activations and
 *   nothing added: conv_1 -> ... -> conv_n -> BN, where each BinaryConv2d binarizes its input with
 *   sign(). The ReLU is dropped, not moved: sign(relu(x)) = +1 everywhere, so a ReLU in front of a sign
 *   leaves the convolution a constant input; sign() is the unit's nonlinearity instead, as in every
 *   1-bit CNN. The input of a unit is normally a BN output already (a cell's inputs are preprocessed
 *   by ReLU-conv-BN units, and the second half of a sep conv reads the first half's BN), so the
 *   threshold of the sign sits where a learned BN put it; BNAS and DCP-NAS add one more BN (and a
 *   PReLU) in front of each binary conv, which this form leaves out because the paper's Child adds
 *   nothing to the Parent. The unit holds exactly the Parent's modules under the Parent's names.
 * - `bireal` (Bi-Real Net, Liu et al. 2018): every 1-bit conv gets its own BN and a real-valued
 *   shortcut around it, h <- BN(conv(h)) + shortcut(h), so magnitudes that sign() discards still flow
 *   through the cell. The conv_i and the final BN keep the Parent's names; the inner BNs are extra.
 *
 * In all three forms the convolutions sit in `convs` in the same order, so the Parent's state loads
 * into either Child (Child-from-Parent init) and the kernel-level CP loss pairs them conv by conv.
 */
import { CpnasError, type Random, type Tensor } from '../core/index.js';
import { BinaryConv2d } from '../binary/binary-conv.js';
import { add } from '../ops/arithmetic.js';
import { BatchNorm2d, Conv2d } from '../ops/layers.js';
import { Module } from '../ops/module.js';
import { avgPool2d } from '../ops/pool.js';
import { mean } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import { relu } from '../ops/unary.js';
import type { BinarizerSettings, ChildBlock } from './types.js';

/** The Child forms, the paper's first. */
export const CHILD_BLOCKS: readonly ChildBlock[] = ['paper', 'bireal'];

/** The Child form used when none is named (see the README for the numbers behind the choice). */
export const DEFAULT_CHILD_BLOCK: ChildBlock = 'bireal';

/** What every primitive factory receives (OperationOptions in operations.ts is the same type). */
export interface PrimitiveOptions {
  /** Build the Child (1-bit convolutions) instead of the Parent. */
  binary: boolean;
  affine: boolean;
  binarizers: BinarizerSettings;
  /** The Child's form (ignored for the Parent); default DEFAULT_CHILD_BLOCK. */
  childBlock?: ChildBlock;
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

/** One convolution of a unit. */
export interface ConvDecl extends ConvSpec {
  inC: number;
  outC: number;
  kernel: number | [number, number];
}

/** A convolution without bias: full precision (Parent), or 1-bit in weights and activations (Child). */
export function makeConv(inC: number, outC: number, kernel: number | [number, number], spec: ConvSpec, o: PrimitiveOptions): UnaryModule {
  const opts = { stride: spec.stride ?? 1, padding: spec.padding ?? 0, dilation: spec.dilation ?? 1, groups: spec.groups ?? 1, bias: false, rng: o.rng };
  if (o.binary) {
    return new BinaryConv2d(inC, outC, kernel, { ...opts, activation: o.binarizers.activation, weightBinarizer: o.binarizers.weight });
  }
  return new Conv2d(inC, outC, kernel, opts);
}

/**
 * The real-valued shortcut of a Bi-Real unit: the input itself, average-pooled when the conv has
 * stride 2, and averaged over groups of channels when the conv reduces the channel count (a cell's
 * preprocessing maps 2C, 3C or 4C channels to C). Null when the shapes cannot match.
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

export interface UnitOptions {
  /**
   * The unit's output is a cell's input (the preprocessing units). In the bireal form its last BN
   * then follows the shortcut sum, BN(conv(h) + shortcut(h)), so cell inputs stay normalized as in
   * the Parent and the magnitudes carried by the shortcuts do not pile up from cell to cell.
   */
  normalizedOutput?: boolean;
}

/** The convolutions of a unit, in order, then its BN; every form has these two fields. */
export abstract class Unit extends Module {
  convs: UnaryModule[];
  bn: BatchNorm2d;
  constructor(readonly decls: readonly ConvDecl[], o: PrimitiveOptions) {
    super();
    if (decls.length === 0) throw new CpnasError('makeUnit', 'a unit needs at least one convolution');
    this.convs = decls.map((d) => makeConv(d.inC, d.outC, d.kernel, d, o));
    this.bn = new BatchNorm2d(decls[decls.length - 1].outC, { affine: o.affine });
  }
  abstract override forward(x: Tensor): Tensor;
}

/** ReLU -> convs -> BN: the Parent. */
export class ParentUnit extends Unit {
  forward(x: Tensor): Tensor {
    let h = relu(x);
    for (const c of this.convs) h = c.forward(h);
    return this.bn.forward(h);
  }
}

/** convs -> BN with 1-bit convs: the paper's Child (sign() inside each conv replaces the ReLU). */
export class PaperUnit extends Unit {
  forward(x: Tensor): Tensor {
    let h = x;
    for (const c of this.convs) h = c.forward(h);
    return this.bn.forward(h);
  }
}

/** h <- BN(conv(h)) + shortcut(h) for every 1-bit conv: the Bi-Real Child. */
export class BiRealUnit extends Unit {
  /** The BN after every conv but the last (the last one's is `bn`, the Parent's). */
  inner: BatchNorm2d[];
  readonly normalizedOutput: boolean;
  constructor(decls: readonly ConvDecl[], o: PrimitiveOptions, u: UnitOptions) {
    super(decls, o);
    this.inner = decls.slice(0, -1).map((d) => new BatchNorm2d(d.outC, { affine: o.affine }));
    this.normalizedOutput = u.normalizedOutput ?? false;
  }
  forward(x: Tensor): Tensor {
    let h = x;
    const last = this.convs.length - 1;
    for (let i = 0; i <= last; i++) {
      const d = this.decls[i];
      const stride = typeof d.stride === 'number' ? d.stride : d.stride?.[0] ?? 1;
      const s = shortcut(h, d.inC, d.outC, stride);
      const y = this.convs[i].forward(h);
      if (i === last && this.normalizedOutput) return this.bn.forward(s ? add(y, s) : y);
      const n = (i === last ? this.bn : this.inner[i]).forward(y);
      h = s ? add(n, s) : n;
    }
    return h;
  }
}

/**
 * The unit factory: ReLU -> convs -> BN in the Parent's form, or in the Child form named by
 * `o.childBlock`. Primitives (built in or registered by a user) build their convolutions through it
 * and so follow the chosen Child form without a branch of their own.
 */
export function makeUnit(convs: readonly ConvDecl[], o: PrimitiveOptions, u: UnitOptions = {}): Unit {
  if (!o.binary) return new ParentUnit(convs, o);
  const block = o.childBlock ?? DEFAULT_CHILD_BLOCK;
  if (block === 'paper') return new PaperUnit(convs, o);
  if (block === 'bireal') return new BiRealUnit(convs, o, u);
  throw new CpnasError('makeUnit', `unknown Child form "${String(block)}" (known: ${CHILD_BLOCKS.join(', ')})`);
}
