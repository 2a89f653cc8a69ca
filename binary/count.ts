/**
 * Counting for networks built from these layers: binary operations (BOPs), floating-point operations
 * (FLOPs), OPs = BOPs / 64 + FLOPs (the convention of Bi-Real Net and ReActNet), parameters and the
 * model's size in bytes.
 *
 * Conventions (those of the BNN papers):
 * - one multiply-accumulate is one operation: a BinaryConv2d does N·P·Q·K·(C/groups)·R·S BOPs, a
 *   float Conv2d as many FLOPs, a Linear N·in·out FLOPs; batch norm, pooling, activations,
 *   additions and the per-filter alpha scaling are not counted;
 * - counts are for one forward of the given input shape: use N = 1 for the per-image figures that
 *   papers report;
 * - size: 1-bit weights count 1 bit each, everything else 32 bits: float parameters (stem,
 *   classifier, batch norm, biases) and one alpha per binary filter (stored at inference). Buffers
 *   (running statistics) are not counted.
 *
 * `countOps` runs one forward under `noGrad` in eval mode (every module's mode is restored after),
 * wrapping the forward of each conv and linear layer to record its input and output shapes.
 */
import { Tensor, noGrad } from '../core/index.js';
import { Conv2d, Linear } from '../ops/layers.js';
import type { Module } from '../ops/module.js';
import { BinaryConv2d } from './binary-conv.js';

export type CountedKind = 'binary-conv' | 'conv' | 'linear';

/** One call of a counted layer. */
export interface LayerCount {
  /** Dotted module path inside the model ('' for the model itself). */
  name: string;
  kind: CountedKind;
  inputShape: number[];
  outputShape: number[];
  bops: number;
  flops: number;
}

export interface OpsCount {
  bops: number;
  flops: number;
  /** bops / 64 + flops */
  ops: number;
  /** Weights stored as 1 bit (the BinaryConv2d weights). */
  binaryParams: number;
  /** Values stored as 32-bit floats: every other parameter plus one alpha per binary filter. */
  floatParams: number;
  /** ceil(binaryParams / 8) + 4 · floatParams */
  sizeBytes: number;
  /** Every counted layer call, in call order. */
  layers: LayerCount[];
}

export interface CountOptions {
  /** How to run the model on the probe input (default `model.forward(x)`). */
  forward?: (x: Tensor) => unknown;
}

function kindOf(m: Module): CountedKind | null {
  if (m instanceof BinaryConv2d) return 'binary-conv';
  if (m instanceof Conv2d) return 'conv';
  if (m instanceof Linear) return 'linear';
  return null;
}

/** Operations of one layer call from its kind, weight and shapes. */
function layerOps(kind: CountedKind, m: Conv2d | Linear, input: readonly number[], output: readonly number[]): { bops: number; flops: number } {
  if (kind === 'linear') {
    const lin = m as Linear;
    const rows = output.slice(0, -1).reduce((a, b) => a * b, 1);
    return { bops: 0, flops: rows * lin.inFeatures * lin.outFeatures };
  }
  // conv: output [N, K, P, Q], weight [K, C/groups, R, S]
  const [N, K, P, Q] = output;
  const [, Cg, R, S] = m.weight.shape;
  const macs = N * K * P * Q * Cg * R * S;
  return kind === 'binary-conv' ? { bops: macs, flops: 0 } : { bops: 0, flops: macs };
}

/** Counts BOPs, FLOPs, OPs, parameters and size of `model` for one forward of `inputShape`. */
export function countOps(model: Module, inputShape: readonly number[], opts: CountOptions = {}): OpsCount {
  const named = model.namedModules();
  const modes = named.map(([, m]) => m.training);
  const layers: LayerCount[] = [];
  const restore: (() => void)[] = [];
  for (const [name, m] of named) {
    const kind = kindOf(m);
    if (!kind) continue;
    const layer = m as Conv2d | Linear;
    const own = Object.prototype.hasOwnProperty.call(layer, 'forward');
    const previous = layer.forward;
    const wrapped = (x: Tensor): Tensor => {
      const y = previous.call(layer, x);
      layers.push({ name, kind, inputShape: [...x.shape], outputShape: [...y.shape], ...layerOps(kind, layer, x.shape, y.shape) });
      return y;
    };
    Object.defineProperty(layer, 'forward', { value: wrapped, configurable: true, writable: true, enumerable: false });
    restore.push(() => {
      if (own) Object.defineProperty(layer, 'forward', { value: previous, configurable: true, writable: true, enumerable: false });
      else delete (layer as { forward?: unknown }).forward;
    });
  }
  try {
    model.eval();
    const x = Tensor.zeros(inputShape);
    noGrad(() => (opts.forward ? opts.forward(x) : model.forward(x)));
  } finally {
    for (const r of restore) r();
    named.forEach(([, m], i) => { m.training = modes[i]; });
  }

  let bops = 0, flops = 0;
  for (const l of layers) {
    bops += l.bops;
    flops += l.flops;
  }
  let binaryParams = 0, floatParams = 0;
  const binaryWeights = new Set<Tensor>();
  for (const [, m] of named) {
    if (m instanceof BinaryConv2d) {
      if (!binaryWeights.has(m.weight)) floatParams += m.weight.shape[0]; // one alpha per filter
      binaryWeights.add(m.weight);
    }
  }
  for (const p of model.parameters()) {
    if (binaryWeights.has(p)) binaryParams += p.size;
    else floatParams += p.size;
  }
  return {
    bops, flops, ops: bops / 64 + flops, binaryParams, floatParams,
    sizeBytes: Math.ceil(binaryParams / 8) + 4 * floatParams, layers,
  };
}
