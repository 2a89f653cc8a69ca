/**
 * The demo's Web Worker: runs the search off the page's thread, so that the page stays responsive
 * and "Stop" can end it at once (the page terminates this worker). Messages out: progress events,
 * log lines, the result or an error.
 */
import { runDemoSearch, type DemoOptions } from './search.js';

interface WorkerScope {
  onmessage: ((e: { data: DemoOptions }) => void) | null;
  postMessage(message: unknown): void;
}
const scope = self as unknown as WorkerScope;

scope.onmessage = (e) => {
  try {
    const result = runDemoSearch(e.data, {
      progress: (ev) => scope.postMessage({ type: 'progress', ev }),
      log: (line) => scope.postMessage({ type: 'log', line }),
    });
    scope.postMessage({ type: 'done', result });
  } catch (err) {
    scope.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
