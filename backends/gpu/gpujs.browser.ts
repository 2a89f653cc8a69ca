/**
 * The browser's backends/gpu/gpujs.ts loader: gpu.js's own browser build (the package's "browser"
 * field, dist/gpu-browser.js), bundled with the page; its WebGL2 / WebGL modes run on the user's GPU.
 */
import * as gpujs from 'gpu.js';
import type { GpuJsModule } from './gpujs.js';

export type { GpuJsGpu, GpuJsKernel, GpuJsKernelSettings, GpuJsModule, GpuJsTexture } from './gpujs.js';

export function loadGpuJs(): GpuJsModule {
  const mod = gpujs as unknown as GpuJsModule & { default?: GpuJsModule };
  return mod.GPU ? mod : (mod.default as GpuJsModule);
}
