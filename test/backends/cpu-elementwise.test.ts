import { describe, expect, it } from 'vitest';
import { binary } from '../../backends/cpu/elementwise.js';

describe('cpu binary kernel', () => {
  it('broadcasts a smaller a against a scalar b into a larger output', () => {
    const out = new Float32Array(6);
    binary('add', Float32Array.of(1, 2, 3), [1, 3], Float32Array.of(10), [], out, [2, 3]);
    expect(Array.from(out)).toEqual([11, 12, 13, 11, 12, 13]);
  });

  it('broadcasts both operands (column against row)', () => {
    const out = new Float32Array(6);
    binary('mul', Float32Array.of(1, 2), [2, 1], Float32Array.of(1, 10, 100), [3], out, [2, 3]);
    expect(Array.from(out)).toEqual([1, 10, 100, 2, 20, 200]);
  });
});
