/**
 * The scaling suite's arithmetic (bench/scaling.ts): the median on fixed numbers, and the alternation
 * of thread counts on a stand-in case whose time depends on the setting (no kernel runs, so no worker
 * starts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { getThreads, setThreads } from '../../backends/cpu/threads.js';
import { alternate, median } from '../../bench/scaling.js';

describe('bench scaling', () => {
  const initial = getThreads();
  afterEach(() => { setThreads(initial); });

  it('median: the middle value, or the mean of the two middle ones', () => {
    expect(median([3])).toBe(3);
    expect(median([5, 1, 4])).toBe(4);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([2, 2, 9, -1, 0])).toBe(2);
    expect(() => median([])).toThrow(/median: no values/);
  });

  it('alternate: rounds of 1 and N threads, the median ratio, the setting left at N', () => {
    const seen: number[] = [];
    // 2 ms of busy work on one thread, 1 ms on more: a case that scales by 2
    const fn = (): void => {
      const t = getThreads();
      seen.push(t);
      const end = performance.now() + (t === 1 ? 2 : 1);
      while (performance.now() < end) { /* busy */ }
    };
    setThreads(1);
    const r = alternate(fn, 2, 4, 0, 3);
    expect(r.ratios).toHaveLength(4);
    expect(r.ms1).toBeGreaterThanOrEqual(2);
    expect(r.msN).toBeGreaterThanOrEqual(1);
    expect(r.speedup).toBeGreaterThan(1.3);
    expect(r.speedup).toBeLessThan(2.5);
    expect(getThreads()).toBe(2);
    // both counts ran, the odd rounds starting with N
    expect(seen.filter((t) => t === 1).length).toBeGreaterThan(8);
    expect(seen.filter((t) => t === 2).length).toBeGreaterThan(8);
  });
});
