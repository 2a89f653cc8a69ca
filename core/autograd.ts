/**
 * Reverse-mode autograd. An op that wants gradients calls `attach(out, op, parents, backward)`:
 * `backward(gradOut)` returns the gradient for each parent (null where it has none). `backward(root)`
 * walks the graph once in reverse topological order, summing the gradients that reach each tensor.
 */
import { getBackend } from '../backends/registry.js';
import { allocFloat32, releaseFloat32, storageSettings, trackAllocations } from './alloc.js';
import { checkOpGradient, checkOpOutput, debugNumerics } from './numerics.js';
import { CpnasError, shapeStr } from './errors.js';
import type { Tensor } from './tensor.js';

export interface GradNode {
  /** The op's name, for messages. */
  op: string;
  parents: Tensor[];
  /** Maps the output's gradient to one gradient per parent (same length as `parents`, null = none). */
  backward: (gradOut: Float32Array) => (Float32Array | null)[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording a graph: results do not require gradients. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` with recording on (inside a `noGrad`, for example). */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** True when recording is on and one of `inputs` requires gradients. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/** Records `out` as produced by `op` from `parents` (when any of them requires gradients). */
export function attach(
  out: Tensor, op: string, parents: Tensor[], backward: (gradOut: Float32Array) => (Float32Array | null)[],
): Tensor {
  if (debugNumerics()) checkOpOutput(op, out, parents);
  if (!needsGrad(...parents)) return out;
  out.requiresGrad = true;
  out.node = { op, parents, backward };
  return out;
}

/**
 * out = a + b (out may be a): a gradient's sum, by the active backend's elementwise kernel (threads,
 * SIMD on the cpu backend): the float32 sums a plain loop stores, value for value.
 */
function addInto(a: Float32Array, b: Float32Array, out: Float32Array): void {
  const shape = [a.length];
  getBackend().binary('add', a, shape, b, shape, out, shape);
}

/** Reverse topological order of the graph under `root` (iterative, so deep graphs do not overflow). */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const parents = t.node ? t.node.parents : [];
    if (i < parents.length) {
      top[1]++;
      const p = parents[i];
      if (p.requiresGrad && !seen.has(p)) {
        seen.add(p);
        stack.push([p, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

export function backward(root: Tensor, seed?: Float32Array): void {
  if (!root.requiresGrad) {
    throw new CpnasError('backward', `the tensor ${shapeStr(root.shape)} does not require gradients (no parameter reaches it, or it was computed under noGrad)`);
  }
  if (!seed) {
    if (root.size !== 1) {
      throw new CpnasError('backward', `a gradient is needed for a non-scalar output of shape ${shapeStr(root.shape)}`);
    }
    seed = Float32Array.of(1);
  } else if (seed.length !== root.size) {
    throw new CpnasError('backward', `gradient has ${seed.length} values but the output ${shapeStr(root.shape)} has ${root.size}`);
  }
  const grads = new Map<Tensor, Float32Array>();
  // arrays this walk allocated itself may be summed into in place; others (returned by an op,
  // possibly shared between parents) are copied before the first sum
  const owned = new Set<Float32Array>();
  // every array allocated during the walk (the ops' gradients): only those may be released
  const fresh = new WeakSet<Float32Array>();
  const before = trackAllocations(fresh);
  try {
    grads.set(root, seed);
    walk(topoOrder(root), grads, owned, fresh);
  } finally {
    trackAllocations(before);
  }
}

/**
 * Whether gradient g, just consumed, may go back to the backend (core/alloc.ts releaseFloat32): this
 * walk allocated it, and no gradient still waiting shares its buffer (those an op just returned are
 * waiting by then: an op may pass g on, or a view of it). Forward tensors are never released: they
 * were allocated before the walk.
 */
function releasable(g: Float32Array, fresh: WeakSet<Float32Array>, grads: Map<Tensor, Float32Array>): boolean {
  if (!storageSettings.reuseGradients || !fresh.has(g)) return false;
  for (const w of grads.values()) if (w.buffer === g.buffer) return false;
  return true;
}

/**
 * Hands g back when releasable. It leaves `owned` too: the backend may give the same array out again
 * in this walk, as an op's gradient that may be shared, which must not be summed into in place.
 */
function handBack(g: Float32Array, fresh: WeakSet<Float32Array>, grads: Map<Tensor, Float32Array>, owned: Set<Float32Array>): void {
  if (!releasable(g, fresh, grads)) return;
  owned.delete(g);
  releaseFloat32(g);
}

function walk(order: Tensor[], grads: Map<Tensor, Float32Array>, owned: Set<Float32Array>, fresh: WeakSet<Float32Array>): void {
  for (const t of order) {
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    const node = t.node;
    if (!node) {
      // a leaf: accumulate into .grad
      if (t.grad) {
        addInto(t.grad.data, g, t.grad.data);
        handBack(g, fresh, grads, owned);
      } else {
        // an array this walk allocated and nothing else holds becomes the .grad itself; others are copied
        const keep = owned.has(g) || releasable(g, fresh, grads);
        t.grad = new (t.constructor as typeof Tensor)(keep ? g : g.slice(), t.shape);
      }
      continue;
    }
    const pg = node.backward(g);
    for (let i = 0; i < node.parents.length; i++) {
      const p = node.parents[i];
      const gi = pg[i];
      if (!gi || !p.requiresGrad) continue;
      if (gi.length !== p.size) {
        throw new CpnasError('backward', `${node.op} returned a gradient of ${gi.length} values for an input of shape ${shapeStr(p.shape)}`);
      }
      if (debugNumerics()) checkOpGradient(node.op, g, gi, p.shape);
      const prev = grads.get(p);
      if (!prev) grads.set(p, gi);
      else if (owned.has(prev)) {
        addInto(prev, gi, prev);
      } else {
        const sum = allocFloat32(prev.length);
        addInto(prev, gi, sum);
        owned.add(sum);
        grads.set(p, sum);
      }
    }
    handBack(g, fresh, grads, owned);
  }
}
