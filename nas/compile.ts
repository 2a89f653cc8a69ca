/**
 * Compiles a trained Child (a 1-bit GenotypeNetwork) into an inference plan (binary/runtime/plan.ts):
 * the forward pass of network.ts, cell.ts and primitives.ts, written once more as plan steps, with
 * every BatchNorm after a 1-bit convolution folded into it and every Bi-Real shortcut added in the
 * convolution's own pass. The float parts stay float: the stem and its BN, pools, the shortcuts'
 * pooling and channel means, node sums, global pooling and the classifier.
 *
 * The plan computes what the float-simulated Child computes, up to float rounding (test/binary/
 * engine.test.ts checks the logits and predictions on random networks and inputs).
 */
import { CpnasError } from '../core/index.js';
import { Identity } from '../ops/layers.js';
import type { Module } from '../ops/module.js';
import { BinaryConv2d } from '../binary/binary-conv.js';
import { PlanBuilder, type Into } from '../binary/plan-builder.js';
import type { InferencePlan, PlanMeta } from '../binary/runtime/plan.js';
import type { GenotypeCell, GenotypeNetwork } from './network.js';
import { DilConv, FactorizedReduce, Pool, ReLUConvBN, SepConv, Zero } from './primitives.js';
import { BiRealUnit, DEFAULT_CHILD_BLOCK, PaperUnit, type ConvDecl, type Unit } from './units.js';

/** Compiles `net` (a Child: `config.binary`) for inputs [C, H, W]. */
export function compileChild(net: GenotypeNetwork, input: [number, number, number], meta: PlanMeta = {}): InferencePlan {
  if (!net.config.binary) throw new CpnasError('compileChild', 'the network is a Parent (full precision); only the 1-bit Child compiles to an inference plan');
  if (input[0] !== net.config.inputChannels) throw new CpnasError('compileChild', `input has ${input[0]} channels but the network takes ${net.config.inputChannels}`);
  const b = new PlanBuilder(input);
  let s0 = b.batchNorm(net.stemBn, b.floatConv(net.stem, 0));
  let s1 = s0;
  for (const cell of net.cells) {
    const s2 = compileCell(b, cell, s0, s1);
    s0 = s1;
    s1 = s2;
  }
  const logits = b.linear(net.classifier, b.globalPool(s1));
  return b.finish(logits, { genotype: net.genotype, childForm: net.config.childBlock ?? DEFAULT_CHILD_BLOCK, ...meta });
}

function compileCell(b: PlanBuilder, cell: GenotypeCell, s0: number, s1: number): number {
  const states = [compileOp(b, cell.preprocess0, s0), compileOp(b, cell.preprocess1, s1)];
  // which nodes later nodes read (those need a buffer of their own besides their concat slice)
  const readLater = new Set(cell.inputs);
  const [C, H, W] = b.shape(states[1]);
  const out = cell.reduction ? [Math.ceil(H / 2), Math.ceil(W / 2)] : [H, W];
  const concat = b.newBuffer([cell.concatNodes.length * C, out[0], out[1]]);
  const sliceOf = (node: number): Into | undefined => {
    const i = cell.concatNodes.indexOf(node);
    return i < 0 ? undefined : { buffer: concat, channel: i * C };
  };
  for (let i = 0, node = 2; i < cell.ops.length; i += 2, node++) {
    const h0 = compileOp(b, cell.ops[i], states[cell.inputs[i]]);
    const h1 = compileOp(b, cell.ops[i + 1], states[cell.inputs[i + 1]]);
    const slice = sliceOf(node);
    if (slice && !readLater.has(node)) {
      b.add(h0, h1, slice);
      states.push(-1); // not read again
    } else {
      const h = b.add(h0, h1);
      if (slice) b.copy(h, slice);
      states.push(h);
    }
  }
  return concat;
}

/** Bi-Real shortcut of a conv (units.ts `shortcut`): null when the channel counts do not divide. */
function shortcut(b: PlanBuilder, x: number, inC: number, outC: number, stride: number): number | null {
  if (inC % outC !== 0) return null;
  let h = stride === 1 ? x : b.pool('avg', x, 3, stride, 1);
  if (inC > outC) h = b.groupMean(h, inC / outC);
  return h;
}

function binaryConvOf(m: Module): BinaryConv2d {
  if (!(m instanceof BinaryConv2d)) throw new CpnasError('compileChild', `expected a BinaryConv2d in the Child, found ${m.constructor.name}`);
  return m;
}

const strideOf = (d: ConvDecl): number => (typeof d.stride === 'number' ? d.stride : d.stride?.[0] ?? 1);

/**
 * A unit (units.ts) of either Child form; `into` places its output in a channel slice.
 * - bireal: h <- BN_i(conv_i(h)) + shortcut(h) per conv, one packed pass each; the last conv of a
 *   unit with a normalized output (preprocessing) has BN(conv(h) + shortcut(h)): the shortcut rides
 *   before the BN.
 * - paper: conv_1 -> ... -> conv_n -> BN; a conv's output feeds the next conv's sign() directly, so
 *   it is written as sign bits (threshold dot < 0 for alpha > 0); with `outBits` the unit's BN output
 *   is too (BN + sign as a per-channel threshold on the dot product, flipped where the BN scale is
 *   negative).
 */
function compileUnit(b: PlanBuilder, unit: Unit, x: number, into?: Into, outBits = false): number {
  const last = unit.convs.length - 1;
  let h = x;
  if (unit instanceof BiRealUnit) {
    const normalized = unit.normalizedOutput;
    for (let i = 0; i <= last; i++) {
      const d = unit.decls[i], s = shortcut(b, h, d.inC, d.outC, strideOf(d));
      const bn = i === last ? unit.bn : unit.inner[i];
      h = b.binaryConv(binaryConvOf(unit.convs[i]), h, {
        bn, res: s === null ? undefined : { buffer: s }, bnAfterSum: i === last && normalized, into: i === last ? into : undefined,
      });
    }
    return h;
  }
  if (unit instanceof PaperUnit) {
    // every conv but the last feeds the next conv's sign() alone: its output stays sign bits
    for (let i = 0; i <= last; i++) {
      h = b.binaryConv(binaryConvOf(unit.convs[i]), h, {
        bn: i === last ? unit.bn : undefined, into: i === last ? into : undefined, outBits: i < last || outBits,
      });
    }
    return h;
  }
  throw new CpnasError('compileChild', `unit ${unit.constructor.name} is not a 1-bit Child unit (a Parent's units do not compile to a plan)`);
}

function compileOp(b: PlanBuilder, op: Module, x: number): number {
  if (op instanceof Identity) return x;
  if (op instanceof Zero) {
    const [C, H, W] = b.shape(x), s = op.stride;
    return b.zeros([C, Math.ceil(H / s), Math.ceil(W / s)]);
  }
  if (op instanceof Pool) return b.pool(op.kind, x, 3, op.stride, 1);
  if (op instanceof ReLUConvBN) return compileUnit(b, op.unit, x);
  if (op instanceof FactorizedReduce) {
    const [, H, W] = b.shape(x);
    const y = b.newBuffer([op.outC, Math.ceil(H / 2), Math.ceil(W / 2)]);
    const shifted = b.shift(x);
    compileUnit(b, op.half1, x, { buffer: y, channel: 0 });
    compileUnit(b, op.half2, shifted, { buffer: y, channel: op.outC / 2 });
    return y;
  }
  if (op instanceof SepConv) {
    // the first unit's output feeds only the second's first conv: with no shortcut between (paper
    // form), BN + sign fold into that conv's threshold and the activations stay packed
    const packed = op.unit1 instanceof PaperUnit;
    return compileUnit(b, op.unit2, compileUnit(b, op.unit1, x, undefined, packed));
  }
  if (op instanceof DilConv) return compileUnit(b, op.unit, x);
  throw new CpnasError('compileChild', `operation ${op.constructor.name} has no inference-plan form (built-in operations only)`);
}
