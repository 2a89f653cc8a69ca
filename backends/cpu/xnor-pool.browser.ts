/**
 * The browser's backends/cpu/xnor-pool.ts: one thread. A page's Web Worker could host a second one,
 * but SharedArrayBuffer needs a cross-origin-isolated page, which a demo cannot count on; the XNOR
 * convolution simply runs every chunk on the calling thread.
 */
export const MAX_CHUNKS = 256;

export function xnorThreadInfo(): { threads: number; workerChunks: number } {
  return { threads: 1, workerChunks: 0 };
}

export function setXnorThreads(_n: number): number {
  return 1;
}

export function parallelWanted(): boolean {
  return false;
}

export function runParallel(
  _kernelSource: () => string, _shared: object, _params: readonly number[], _nChunks: number, _runLocal: (c: number) => void,
): 'parallel' | 'abandoned' | 'unavailable' {
  return 'unavailable';
}
