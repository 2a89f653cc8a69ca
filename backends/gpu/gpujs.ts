/**
 * The slice of gpu.js this backend uses, typed structurally, and its lazy loader: gpu.js (and, through
 * it, the native `gl` module) is only required when a GPU backend is first built, so importing this
 * folder costs nothing.
 */
import { createRequire } from 'node:module';

/** A gpu.js texture: a kernel's output kept on the device (GL modes only). */
export interface GpuJsTexture {
  readonly output: number[];
  readonly size: number[];
  /** Reads the texture back: for memory-optimized float textures, the values in order (padded). */
  renderRawOutput(): Float32Array;
  /** A second handle on the same GL texture (reference counted). */
  clone(): GpuJsTexture;
  delete(): void;
}

/** A compiled kernel as gpu.js hands it out (a callable "run shortcut"). */
export interface GpuJsKernel {
  (...args: unknown[]): unknown;
  setOutput(output: number[]): GpuJsKernel;
  destroy(removeCanvasReferences?: boolean): void;
  /** The kernel instance that actually runs (replaced when gpu.js falls back to its cpu kernel). */
  readonly kernel: { constructor: { name: string }; fallbackReason?: string };
}

export interface GpuJsKernelSettings {
  output: number[];
  pipeline?: boolean;
  immutable?: boolean;
  optimizeFloatMemory?: boolean;
  precision?: 'single' | 'unsigned';
  tactic?: 'speed' | 'balanced' | 'precision';
  dynamicOutput?: boolean;
  dynamicArguments?: boolean;
  loopMaxIterations?: number;
}

export interface GpuJsGpu {
  /** The mode asked for, or the chosen one when none was. */
  readonly mode: string;
  /** The kernel class gpu.js chose; its static `mode` names the backend that runs. */
  readonly Kernel: { mode?: string; name: string } | null;
  createKernel(source: string, settings: GpuJsKernelSettings): GpuJsKernel;
  destroy(): Promise<void>;
}

export interface GpuJsModule {
  GPU: {
    new (settings?: { mode?: string }): GpuJsGpu;
    readonly isHeadlessGLSupported: boolean;
    readonly isWebGL2Supported: boolean;
    readonly isWebGLSupported: boolean;
    readonly isWebGPUSupported: boolean;
    readonly isWebAssemblySupported: boolean;
    readonly isSinglePrecisionSupported: boolean;
  };
  Texture: abstract new (...args: never[]) => GpuJsTexture;
}

let loaded: GpuJsModule | null = null;

/** Loads gpu.js once (a CommonJS package, required from this ES module). */
export function loadGpuJs(): GpuJsModule {
  if (!loaded) loaded = createRequire(import.meta.url)('gpu.js') as GpuJsModule;
  return loaded;
}
