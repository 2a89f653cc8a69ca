/**
 * The operation registry: the search space's dictionary `name -> (C, stride, options) => Module`, as
 * DARTS' `OPS` in operations.py. Every strategy, the genotype validator and the SVG drawing read it,
 * so one `registerOperation` call adds an operation everywhere:
 *
 *   registerOperation('conv_7x1_1x7', (C, stride, { binary, affine, binarizers }) =>
 *     new Sequential(...));
 *
 * A factory receives the channel count C (input = output channels), the stride (1, or 2 on the edges
 * of a reduction cell that leave its input nodes) and whether to build the 1-bit Child form (every conv
 * a BinaryConv2d) or the full-precision Parent form. The module's `forward(x)` maps [N, C, H, W] to
 * [N, C, H / stride, W / stride].
 */
import { CpnasError, type Random } from '../core/index.js';
import type { Module } from '../ops/module.js';
import { BUILTIN_OPERATIONS } from './primitives.js';
import type { BinarizerSettings } from './types.js';

export interface OperationOptions {
  /** Build the 1-bit Child form (every convolution binary in weights and activations). */
  binary: boolean;
  /** Affine BatchNorm parameters (false in the search supernet, as in DARTS). */
  affine: boolean;
  /** Binarizer names for the Child form. */
  binarizers: BinarizerSettings;
  /** Where initial weights are drawn from (optional: the process-wide seeded generator otherwise). */
  rng?: Random;
}

export type OperationFactory = (C: number, stride: number, options: OperationOptions) => Module;

export interface OperationInfo {
  name: string;
  factory: OperationFactory;
  /** A short description for reports and `cpnas ops`. */
  description: string;
  builtin: boolean;
}

const registry = new Map<string, OperationInfo>();

for (const [name, { factory, description }] of Object.entries(BUILTIN_OPERATIONS)) {
  registry.set(name, { name, factory, description, builtin: true });
}

const NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Adds an operation to the search space. Names are lowercase identifiers (`sep_conv_7x7`); a built-in
 * name can only be replaced with `{ replace: true }`.
 */
export function registerOperation(
  name: string, factory: OperationFactory, opts: { description?: string; replace?: boolean } = {},
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
  registry.set(name, { name, factory, description: opts.description ?? prev?.description ?? name, builtin: false });
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
