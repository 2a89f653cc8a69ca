/**
 * Which gpu.js modes run here. A mode counts as available only when a real kernel compiled in it
 * returns the right numbers from the backend it names (gpu.js silently degrades some kernels to its
 * cpu kernel; a probe catches that). Probing never throws and runs once per mode per process.
 */
import { loadGpuJs } from './gpujs.js';

/** The synchronous gpu.js modes, best first (gpu.js's own automatic order, then its cpu fallback). */
export const GPU_MODES = ['headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'] as const;
export type GpuMode = (typeof GPU_MODES)[number];

/** The gpu.js kernel class that runs each mode (their static `mode` says 'gpu' for all GL ones). */
export const KERNEL_CLASS: Readonly<Record<GpuMode, string>> = {
  headlessgl: 'HeadlessGLKernel', webgl2: 'WebGL2Kernel', webgl: 'WebGLKernel', webasm: 'WebAssemblyKernel', cpu: 'CPUKernel',
};

/** Modes gpu.js has that this backend refuses, and why. */
const REFUSED: Readonly<Record<string, string>> = {
  webgpu: "gpu.js's WebGPU kernels are asynchronous (every call returns a Promise) and the Backend " +
    'interface is synchronous; besides, Node has no navigator.gpu unless a WebGPU binding is loaded ' +
    '(the `webgpu` package\'s Dawn binary needs GLIBCXX_3.4.32, newer than Debian 12\'s libstdc++)',
  async: 'mode "async" makes every kernel call return a Promise; the Backend interface is synchronous',
  dev: 'mode "dev" runs kernel functions untranspiled; this backend builds its kernels from source strings',
};

const verdicts = new Map<GpuMode, string | null>();

function whyUnsupported(mode: GpuMode): string | null {
  const { GPU } = loadGpuJs();
  switch (mode) {
    case 'headlessgl':
      if (!GPU.isHeadlessGLSupported) {
        return 'no WebGL context could be created: headless-gl needs an X display (run under `xvfb-run -a`, ' +
          `with Xvfb and the Mesa GL libraries installed; DISPLAY is ${typeof process !== 'undefined' && process.env.DISPLAY ? `"${process.env.DISPLAY}"` : 'unset'})`;
      }
      return GPU.isSinglePrecisionSupported ? null : 'the GL context has no float textures (OES_texture_float)';
    case 'webgl2':
      return GPU.isWebGL2Supported ? null : 'needs a browser WebGL2 context (Node has none; use headlessgl)';
    case 'webgl':
      return GPU.isWebGLSupported ? null : 'needs a browser WebGL context (Node has none; use headlessgl)';
    case 'webasm':
      return GPU.isWebAssemblySupported ? null : 'this JavaScript engine has no WebAssembly';
    case 'cpu':
      return null;
  }
}

/** Compiles and runs one small kernel in `mode`; returns why that failed, or null. */
function probe(mode: GpuMode): string | null {
  let gpu: ReturnType<typeof makeGpu> | null = null;
  try {
    const reason = whyUnsupported(mode);
    if (reason) return reason;
    gpu = makeGpu(mode);
    const k = gpu.createKernel('function (a) { return a[this.thread.x] * 2 + 1; }', { output: [5], precision: 'single' });
    const r = k(Float32Array.of(0, 1, 2, 3, 0.5)) as ArrayLike<number>;
    const ran = k.kernel.constructor.name;
    if (ran !== KERNEL_CLASS[mode]) {
      return `gpu.js ran the probe kernel with its ${ran} instead (${k.kernel.fallbackReason ?? 'no reason given'})`;
    }
    const want = [1, 3, 5, 7, 2];
    for (let i = 0; i < want.length; i++) {
      if (r[i] !== want[i]) return `the probe kernel computed ${Array.from(r).join(',')} instead of ${want.join(',')}`;
    }
    return null;
  } catch (e) {
    return `gpu.js failed: ${(e as Error).message}`;
  } finally {
    gpu?.destroy().catch(() => undefined);
  }
}

function makeGpu(mode: GpuMode) {
  const { GPU } = loadGpuJs();
  return new GPU({ mode });
}

/** Why `mode` cannot run here, or null when it can (cached). */
export function modeProblem(mode: GpuMode): string | null {
  let v = verdicts.get(mode);
  if (v === undefined) {
    v = probe(mode);
    verdicts.set(mode, v);
  }
  return v;
}

/** The gpu.js modes that work in this process, best first; always ends with 'cpu'. */
export function availableGpuModes(): GpuMode[] {
  return GPU_MODES.filter((m) => modeProblem(m) === null);
}

/**
 * Resolves a requested mode: undefined takes the best available one, 'gpu' the best that is not
 * gpu.js's plain-JavaScript cpu mode (gpu.js's meaning of 'gpu'). A mode that cannot run throws an
 * error saying why.
 */
export function resolveMode(requested: string | undefined): GpuMode {
  if (requested === undefined) return availableGpuModes()[0];
  if (requested === 'gpu') {
    const best = availableGpuModes().find((m) => m !== 'cpu');
    if (!best) {
      const why = GPU_MODES.filter((m) => m !== 'cpu').map((m) => `${m}: ${modeProblem(m)}`).join('; ');
      throw new Error(`createGpuBackend: mode "gpu" found no gpu.js mode besides cpu here (${why})`);
    }
    return best;
  }
  const refused = REFUSED[requested];
  if (refused) throw new Error(`createGpuBackend: mode "${requested}" is not supported: ${refused}`);
  if (!(GPU_MODES as readonly string[]).includes(requested)) {
    throw new Error(`createGpuBackend: unknown gpu.js mode "${requested}" (known: ${GPU_MODES.join(', ')}, or gpu)`);
  }
  const mode = requested as GpuMode;
  const problem = modeProblem(mode);
  if (problem) throw new Error(`createGpuBackend: gpu.js mode "${mode}" is not available here: ${problem}`);
  return mode;
}
