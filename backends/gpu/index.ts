/**
 * The GPU backend through gpu.js. `createGpuBackend()` builds one in the best gpu.js mode available
 * (headless GL where a GL context can be made, else WebAssembly, else gpu.js's JavaScript mode);
 * `availableGpuModes()` says which modes work here. Register it with
 * `registerBackend('gpu', (o) => createGpuBackend(o))`: gpu.js loads only when the factory runs, and
 * options that come through the registry untyped are checked.
 */
import { GpuBackend, type GpuBackendOptions } from './backend.js';
import { resolveMode } from './modes.js';

export { GpuBackend, type GpuBackendOptions } from './backend.js';
export { GPU_MODES, availableGpuModes, modeProblem, type GpuMode } from './modes.js';

/**
 * A GPU backend in `options.mode` (undefined: the best available; see GpuBackendOptions). A mode that
 * cannot run here throws an error that says why.
 */
export function createGpuBackend(options: GpuBackendOptions = {}): GpuBackend {
  checkOptions(options);
  return new GpuBackend(resolveMode(options.mode), options);
}

const COUNTS = { minElements: 0, maxKernels: 1, deviceCacheBytes: 0 } as const;

/** Options may come untyped (through the registry): check them with messages that name them. */
function checkOptions(options: GpuBackendOptions): void {
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (name === 'mode') {
      if (typeof value !== 'string') throw new Error(`createGpuBackend: mode must be a string, got ${JSON.stringify(value)}`);
    } else if (name in COUNTS) {
      const min = COUNTS[name as keyof typeof COUNTS];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
        throw new Error(`createGpuBackend: ${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
      }
    } else {
      throw new Error(`createGpuBackend: unknown option "${name}" (known: mode, ${Object.keys(COUNTS).join(', ')})`);
    }
  }
}
