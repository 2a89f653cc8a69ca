/**
 * Sampling without replacement: for one repetition t, every edge draws a random order of its K
 * operations, and architecture e (e = 1..K) takes the e-th operation of every edge. Each operation is
 * thus measured exactly once per repetition, which keeps the comparison between them fair.
 */
import type { Random } from '../core/index.js';
import type { EdgeKey } from './types.js';

/** A random order of every edge's operations (edges visited in the given order, for reproducibility). */
export function drawOrders(remaining: { [edge: EdgeKey]: readonly string[] }, rng: Random): { [edge: EdgeKey]: string[] } {
  const orders: { [edge: EdgeKey]: string[] } = {};
  for (const edge of Object.keys(remaining)) orders[edge] = rng.shuffle([...remaining[edge]]);
  return orders;
}

/** Architecture e (0-based): the e-th operation of every edge's order. */
export function architectureAt(orders: { [edge: EdgeKey]: readonly string[] }, e: number): { [edge: EdgeKey]: string } {
  const arch: { [edge: EdgeKey]: string } = {};
  for (const edge of Object.keys(orders)) arch[edge] = orders[edge][e];
  return arch;
}
