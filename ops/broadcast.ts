/** Helpers shared by the broadcasting ops: reduce a gradient back to an input's shape. */
import { allocOutput, getBackend, shapesEqual, sizeOf } from '../core/index.js';

/** Sums `grad` (of shape `from`) down to `to`, undoing NumPy broadcasting. */
export function sumTo(grad: Float32Array, from: readonly number[], to: readonly number[]): Float32Array {
  if (shapesEqual(from, to)) return grad;
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) {
    if (i < lead || (to[i - lead] === 1 && from[i] !== 1)) axes.push(i);
  }
  const out = allocOutput(sizeOf(to));
  getBackend().sum(grad, from, axes, out);
  return out;
}
