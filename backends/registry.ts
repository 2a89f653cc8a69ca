/**
 * The backend registry: backends register a factory under a name; `setBackend(name)` makes one active.
 * Factories run lazily, so a backend whose library is heavy (gpu.js) costs nothing until chosen.
 */
import type { Backend } from './backend.js';
import { cpuBackend } from './cpu/index.js';
import { createGpuBackend } from './gpu/index.js';

type Factory = (options?: Record<string, unknown>) => Backend;

const factories = new Map<string, Factory>();
const instances = new Map<string, Backend>();
let active: Backend = cpuBackend;

factories.set('cpu', () => cpuBackend);
// gpu.js itself loads only when this factory first runs
factories.set('gpu', (options) => createGpuBackend(options));
instances.set('cpu', cpuBackend);

/** Registers a backend factory; a later `setBackend(name)` builds and activates it. */
export function registerBackend(name: string, factory: Factory): void {
  factories.set(name, factory);
  instances.delete(name);
}

export function listBackends(): string[] {
  return [...factories.keys()];
}

/** Activates the backend `name` (building it on first use) and returns it. */
export function setBackend(name: string, options?: Record<string, unknown>): Backend {
  const factory = factories.get(name);
  if (!factory) {
    throw new Error(`setBackend: unknown backend "${name}" (known: ${listBackends().join(', ')})`);
  }
  let b = options ? undefined : instances.get(name);
  if (!b) {
    b = factory(options);
    instances.set(name, b);
  }
  active = b;
  return b;
}

/** The active backend: the one every op dispatches its kernels to. */
export function getBackend(): Backend {
  return active;
}

/** Runs `fn` with `backend` active, restoring the previous one afterwards. */
export function withBackend<T>(backend: Backend, fn: () => T): T {
  const prev = active;
  active = backend;
  try {
    return fn();
  } finally {
    active = prev;
  }
}
