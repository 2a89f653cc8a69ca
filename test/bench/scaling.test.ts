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

  it('alternate: rounds of 1 and N threads, each on its own copy of the case, the median ratio, the setting left at N', () => {
    const seen: string[] = [];
    // 2 ms of busy work on one thread, 1 ms on more: a case that scales by 2; each copy notes the
    // thread setting it ran under
    const busy = (name: string, ms: number) => (): void => {
      seen.push(`${name}@${getThreads()}`);
      const end = performance.now() + ms;
      while (performance.now() < end) { /* busy */ }
    };
    setThreads(1);
    const r = alternate(busy('one', 2), busy('many', 1), 2, 4, 0, 3);
    expect(r.ratios).toHaveLength(4);
    expect(r.ms1).toBeGreaterThanOrEqual(2);
    expect(r.msN).toBeGreaterThanOrEqual(1);
    expect(r.speedup).toBeGreaterThan(1.3);
    expect(r.speedup).toBeLessThan(2.5);
    expect(getThreads()).toBe(2);
    // each copy ran on its own thread count only, both often
    expect(new Set(seen)).toEqual(new Set(['one@1', 'many@2']));
    expect(seen.filter((t) => t === 'one@1').length).toBeGreaterThan(8);
    expect(seen.filter((t) => t === 'many@2').length).toBeGreaterThan(8);
  });
});
