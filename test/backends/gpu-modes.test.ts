/**
 * The GPU backend's mode choice, errors, CPU fallbacks and caches (kernels per shape; arrays kept on
 * the device in GL modes).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../backends/cpu/index.js';
import { availableGpuModes, createGpuBackend, modeProblem, type GpuBackend } from '../../backends/gpu/index.js';
import { rand } from './gpu-cases.js';

const made: GpuBackend[] = [];
function make(...args: Parameters<typeof createGpuBackend>): GpuBackend {
  const b = createGpuBackend(...args);
  made.push(b);
  return b;
}
afterAll(async () => {
  for (const b of made) await b.destroy();
});

const glProblem = modeProblem('headlessgl');

describe('gpu backend modes', () => {
  it('lists the modes that run here, best first, always ending with cpu (webasm works in Node)', () => {
    const modes = availableGpuModes();
    expect(modes[modes.length - 1]).toBe('cpu');
    expect(modes).toContain('webasm');
    expect(modes.includes('headlessgl')).toBe(glProblem === null);
    expect(modes).not.toContain('webgl'); // browser only
  });

  it('takes the best available mode when none is given, and says which', () => {
    const b = make();
    expect(b.describe()).toBe(`gpu.js (${availableGpuModes()[0]})`);
    expect(b.name).toBe('gpu');
    expect(make({ mode: 'gpu' }).mode).toBe(availableGpuModes().find((m) => m !== 'cpu'));
  });

  it('refuses a forced mode that cannot run, saying why', () => {
    expect(() => createGpuBackend({ mode: 'webgl2' })).toThrow(/mode "webgl2" is not available here: needs a browser WebGL2/);
    expect(() => createGpuBackend({ mode: 'webgpu' })).toThrow(/mode "webgpu" is not supported: .*asynchronous/);
    expect(() => createGpuBackend({ mode: 'async' })).toThrow(/Promise/);
    expect(() => createGpuBackend({ mode: 'wasm' })).toThrow(/unknown gpu.js mode "wasm" \(known: headlessgl, webgl2, webgl, webasm, cpu, or gpu\)/);
    expect(() => createGpuBackend({ minElements: -1 })).toThrow(/minElements must be an integer >= 0, got -1/);
    expect(() => createGpuBackend({ mode: 'cpu', cache: true } as never)).toThrow(/unknown option "cache" \(known: mode, minElements/);
    if (glProblem) {
      expect(() => createGpuBackend({ mode: 'headlessgl' })).toThrow(/headlessgl" is not available here: .*xvfb-run/);
    }
  });

  it('lists the kernels it leaves to the CPU backend', () => {
    const list = make({ mode: 'cpu' }).cpuKernels();
    expect(list.some((s) => s.startsWith('packWeights'))).toBe(true);
    expect(list.some((s) => s.startsWith('xnorConv2d'))).toBe(false); // cpu mode has bit operations
  });
});

describe('gpu backend dispatch and caches', () => {
  it('sends calls below minElements to the CPU kernels', () => {
    const b = make({ mode: 'cpu' }); // default minElements 4096
    const x = rand(100, 1), out = new Float32Array(100), want = new Float32Array(100);
    b.unary('exp', x, out);
    cpuBackend.unary('exp', x, want);
    expect(out).toEqual(want);
    expect(b.stats.runs).toBe(0);
    b.unary('exp', rand(5000, 2), new Float32Array(5000));
    expect(b.stats.runs).toBe(1);
  });

  it('compiles a kernel once per shape and keeps at most maxKernels', () => {
    const b = make({ mode: 'cpu', minElements: 0, maxKernels: 2 });
    const run = (n: number) => {
      const x = rand(n, n), out = new Float32Array(n), want = new Float32Array(n);
      b.unary('tanh', x, out);
      cpuBackend.unary('tanh', x, want);
      expect(out).toEqual(want);
    };
    run(10); run(10); run(10);
    expect(b.stats.compiled).toBe(1);
    run(11); run(12); run(13);
    expect(b.stats.compiled).toBe(4);
    expect(b.rt.kernelCount).toBe(2);
    run(10); // evicted: compiled again
    expect(b.stats.compiled).toBe(5);
  });

  it.skipIf(glProblem !== null)(`keeps arrays on the device between kernels in GL mode${glProblem ? ` (skipped: ${glProblem})` : ''}`, () => {
    const b = make({ mode: 'headlessgl', minElements: 0 });
    const g = {
      N: 2, C: 8, H: 8, W: 8, K: 8, R: 3, S: 3, strideH: 1, strideW: 1, padH: 1, padW: 1,
      dilationH: 1, dilationW: 1, groups: 1, P: 8, Q: 8,
    };
    const x = rand(2 * 8 * 64, 1), w = rand(8 * 8 * 9, 2), y = new Float32Array(2 * 8 * 64), want = new Float32Array(y.length);
    b.conv2d(x, w, y, g);
    const { uploads, cacheHits } = b.stats;
    b.conv2d(x, w, y, g); // x and w are still on the device
    expect(b.stats.uploads).toBe(uploads);
    expect(b.stats.cacheHits).toBe(cacheHits + 2);
    // the output just read back feeds the next kernel without an upload
    const r = new Float32Array(y.length);
    b.unary('relu', y, r);
    expect(b.stats.cacheHits).toBe(cacheHits + 3);
    cpuBackend.conv2d(x, w, want, g);
    const wantRelu = new Float32Array(y.length);
    cpuBackend.unary('relu', want, wantRelu);
    for (let i = 0; i < r.length; i++) expect(Math.abs(r[i] - wantRelu[i])).toBeLessThan(1e-5);
    // a changed array is noticed (its contents are compared) and uploaded again
    w[5] += 1;
    b.conv2d(x, w, y, g);
    cpuBackend.conv2d(x, w, want, g);
    for (let i = 0; i < y.length; i++) expect(Math.abs(y[i] - want[i])).toBeLessThan(1e-5);
    expect(b.stats.uploads).toBe(uploads + 1);
  });
});
