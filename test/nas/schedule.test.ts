import { describe, expect, it } from 'vitest';
import { searchLr } from '../../nas/loop.js';

describe('searchLr: the search learning rate (DARTS cosine annealing)', () => {
  const cosine = { lr: 0.025, lrMin: 0.001, lrSchedule: 'cosine' as const };
  it('anneals from lr to lrMin along a half cosine', () => {
    expect(searchLr(cosine, 0, 10)).toBeCloseTo(0.025, 15);
    expect(searchLr(cosine, 5, 10)).toBeCloseTo(0.013, 15); // (0.025 + 0.001) / 2
    // 0.001 + 0.024 * (1 + cos(pi / 4)) / 2 = 0.001 + 0.024 * 0.8535534
    expect(searchLr(cosine, 2.5, 10)).toBeCloseTo(0.0214853, 7);
    expect(searchLr(cosine, 10, 10)).toBeCloseTo(0.001, 15);
    expect(searchLr(cosine, 12, 10)).toBeCloseTo(0.001, 15); // past the end it stays at lrMin
  });
  it('stays at lr when constant, or when lr is below lrMin', () => {
    for (const done of [0, 3, 10]) {
      expect(searchLr({ ...cosine, lrSchedule: 'constant' }, done, 10)).toBe(0.025);
      expect(searchLr({ ...cosine, lr: 5e-4 }, done, 10)).toBe(5e-4);
    }
  });
});
