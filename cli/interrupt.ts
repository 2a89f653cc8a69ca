/**
 * Ctrl-C across threads. The engine computes synchronously, so the CLI runs it in a worker thread and
 * keeps the main thread free to receive SIGINT; the main thread raises a flag in shared memory, and
 * the worker sees it through an AbortSignal whose `aborted` reads that flag (a real AbortSignal would
 * need the worker's event loop, which is busy computing).
 */

/** An AbortSignal backed by an Int32Array flag that another thread sets. */
class SharedFlagSignal extends EventTarget {
  onabort: ((this: AbortSignal, ev: Event) => unknown) | null = null;
  constructor(private readonly flag: Int32Array) {
    super();
  }
  get aborted(): boolean {
    return Atomics.load(this.flag, 0) !== 0;
  }
  get reason(): unknown {
    return this.aborted ? new Error('interrupted (Ctrl-C)') : undefined;
  }
  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }
}

/** The signal the worker hands to the engine. */
export function sharedFlagSignal(buffer: SharedArrayBuffer): AbortSignal {
  return new SharedFlagSignal(new Int32Array(buffer)) as unknown as AbortSignal;
}

/** Raises the flag (main thread). */
export function raiseFlag(buffer: SharedArrayBuffer): void {
  const flag = new Int32Array(buffer);
  Atomics.store(flag, 0, 1);
}
