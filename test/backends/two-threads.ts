/**
 * Test setup shared by the kernel-thread tests: the calling describe block (or file) runs on 2 kernel
 * threads that split every call, however small (so that tiny shapes exercise every chunk boundary),
 * and never fall back to one thread on a busy machine; the settings before are restored after.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { getThreads, setThreads, shutdownThreads, threadSettings, waitForThreads } from '../../backends/cpu/threads.js';
import { winogradSettings } from '../../backends/cpu/winograd.js';

export function splitEveryCallOnTwoThreads(): void {
  const initial = getThreads();
  const initialMinWork = threadSettings.minWork, initialBackoff = threadSettings.backoffCalls;
  const initialTiles = winogradSettings.minChunkTiles;
  beforeAll(() => {
    threadSettings.minWork = 0;
    winogradSettings.minChunkTiles = 0;
    threadSettings.backoffCalls = 0;
    setThreads(2);
    // from the TypeScript sources the worker loads the compiler first (seconds)
    expect(waitForThreads(120_000)).toBe(true);
  }, 130_000);
  afterAll(() => {
    threadSettings.minWork = initialMinWork;
    winogradSettings.minChunkTiles = initialTiles;
    threadSettings.backoffCalls = initialBackoff;
    setThreads(initial);
    shutdownThreads();
  });
}
