/**
 * The operation registry: the search space's dictionary `name -> (C, stride, options) => Module`, as
 * DARTS' `OPS` in operations.py. Every strategy, the genotype validator and the SVG drawing read it,
 * so one `registerOperation` call adds an operation everywhere:
 *
 *   registerOperation('conv_7x1_1x7', (C, stride, options) =>
 *     makeUnit([{ inC: C, outC: C, kernel: [1, 7], stride, padding: [0, 3] },
 *               { inC: C, outC: C, kernel: [7, 1], padding: [3, 0] }], options));
 *
 * A factory receives the channel count C (input = output channels), the stride (1, or 2 on the edges
 * of a reduction cell that leave its input nodes) and the options: which network to build (the
 * full-precision Parent, or the 1-bit Child in the form `childBlock` names). Building the convolutions
 * through `makeUnit` (units.ts) gives every form without a branch in the operation. The module's
 * `forward(x)` maps [N, C, H, W] to [N, C, H / stride, W / stride].
 */
import { CpnasError } from '../core/index.js';
import type { Module } from '../ops/module.js';
import { BUILTIN_OPERATIONS } from './primitives.js';
import type { PrimitiveOptions } from './units.js';

/**
 * `binary`: build the 1-bit Child (every convolution binary in weights and activations) in the form
 * `childBlock` names, else the Parent; `affine`: affine BatchNorm parameters (false in the search
 * supernet, as in DARTS); `binarizers`: binarizer names for the Child; `rng`: where initial weights
 * are drawn from (the process-wide seeded generator otherwise).
 */
export type OperationOptions = PrimitiveOptions;

export type OperationFactory = (C: number, stride: number, options: OperationOptions) => Module;

export interface OperationInfo {
  name: string;
  factory: OperationFactory;
  /** A short description for reports and `cpnas ops`. */
  description: string;
  builtin: boolean;
  /**
   * The operation's output is not normalized (a pool): the search network follows it with a BN
   * without affine parameters, as DARTS' MixedOp does, so its scale is comparable with the convs'.
   */
  needsBatchNorm: boolean;
}

const registry = new Map<string, OperationInfo>();

for (const [name, { factory, description, needsBatchNorm }] of Object.entries(BUILTIN_OPERATIONS)) {
  registry.set(name, { name, factory, description, builtin: true, needsBatchNorm: needsBatchNorm ?? false });
}

const NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Adds an operation to the search space. Names are lowercase identifiers (`sep_conv_7x7`); a built-in
 * name can only be replaced with `{ replace: true }`. `needsBatchNorm: true` for an operation whose
 * output is not normalized (a pooling): the search network then follows it with a BN.
 */
export function registerOperation(
  name: string, factory: OperationFactory, opts: { description?: string; replace?: boolean; needsBatchNorm?: boolean } = {},
): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new CpnasError('registerOperation', `operation name ${JSON.stringify(name)} must be a lowercase identifier (letters, digits, _), like "sep_conv_7x7"`);
  }
  if (typeof factory !== 'function') throw new CpnasError('registerOperation', `the factory of "${name}" must be a function (C, stride, options) => Module`);
  const prev = registry.get(name);
  if (prev && !opts.replace) {
    throw new CpnasError('registerOperation', `"${name}" is already registered${prev.builtin ? ' (built in)' : ''}; pass { replace: true } to replace it`);
  }
  if (name === 'none' && opts.replace) throw new CpnasError('registerOperation', '"none" (the zero operation) cannot be replaced');
  registry.set(name, {
    name, factory, description: opts.description ?? prev?.description ?? name, builtin: false,
    needsBatchNorm: opts.needsBatchNorm ?? false,
  });
}

/** Removes a user-registered operation (built-ins stay). Returns whether it was there. */
export function unregisterOperation(name: string): boolean {
  const info = registry.get(name);
  if (!info || info.builtin) return false;
  return registry.delete(name);
}

/** Registered operation names in registration order (the 8 DARTS primitives first). */
export function listOperations(): string[] {
  return [...registry.keys()];
}

export function hasOperation(name: string): boolean {
  return registry.has(name);
}

export function operationInfo(name: string): OperationInfo {
  const info = registry.get(name);
  if (!info) throw new CpnasError('operation', `unknown operation "${name}" (registered: ${listOperations().join(', ')})`);
  return info;
}

/** Builds operation `name` for C channels and the given stride. */
export function createOperation(name: string, C: number, stride: number, options: OperationOptions): Module {
  const m = operationInfo(name).factory(C, stride, options);
  if (!m || typeof (m as Module).forward !== 'function') {
    throw new CpnasError('operation', `the factory of "${name}" returned ${m === null ? 'null' : typeof m}, not a Module`);
  }
  return m;
}
