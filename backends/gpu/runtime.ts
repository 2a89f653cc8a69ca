/**
 * The gpu.js runtime behind the GPU backend: one gpu.js instance, the compiled kernels (one per kernel
 * and shape, cached), and, in the GL modes, the arrays kept on the device as textures.
 *
 * Every kernel has a 1-D output of the flat result length, so a texture holding n floats has the same
 * layout whichever kernel wrote it and can feed any kernel that reads n floats. In GL modes kernels run
 * in pipeline mode (their result stays a texture until read back) with memory-optimized float textures
 * (4 values per texel); webasm and cpu modes have no device memory, and their kernels take and return
 * Float32Arrays.
 *
 * What stays on the device (GL modes): the interface hands every result back as a Float32Array, so each
 * kernel's output is read back once, but uploads are avoided where the data is already there. The
 * device cache maps a Float32Array (by identity) to a texture holding the same values, with a snapshot
 * of the values it was made from: a later kernel that gets the same array with unchanged contents
 * (checked by memcmp against the snapshot) reuses the texture. Inputs uploaded once (weights, the x
 * of a forward pass reused by its backward) and results just read back (a conv output then fed to a
 * bias add or an activation) are both remembered. Intermediates of multi-kernel ops (two-stage
 * reductions, batch-norm statistics, the split weight gradient) never leave the device.
 */
import { loadGpuJs, type GpuJsGpu, type GpuJsKernel, type GpuJsKernelSettings, type GpuJsTexture } from './gpujs.js';
import { KERNEL_CLASS, type GpuMode } from './modes.js';

/** A kernel argument: a texture in GL modes, the array itself otherwise. */
export type DeviceArray = GpuJsTexture | Float32Array;

export interface RuntimeOptions {
  /** Most compiled kernels kept (least recently used ones are destroyed beyond it). */
  maxKernels: number;
  /** Bytes of snapshots the device cache may hold (GL modes; 0 disables the cache). */
  deviceCacheBytes: number;
  /** Arrays shorter than this are not remembered by the device cache. */
  minCachedLength: number;
}

export interface RuntimeStats {
  /** Kernels compiled (one per kernel and shape). */
  compiled: number;
  /** Milliseconds spent in kernels' first runs: gpu.js compiles there, then runs once. */
  firstRunMs: number;
  /** Kernel runs. */
  runs: number;
  /** Arrays uploaded to the device. */
  uploads: number;
  /** Uploads avoided by the device cache. */
  cacheHits: number;
  /** Kernels that gpu.js ran in another mode than the backend's (should stay empty). */
  degraded: string[];
}

interface CacheEntry {
  texture: GpuJsTexture;
  snapshot: Float32Array;
}

/** Whether two arrays hold the same bytes: Node's memcmp where there is Buffer, else a word loop (browsers). */
function sameBytes(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  if (typeof Buffer !== 'undefined') {
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

export class GpuRuntime {
  readonly gpu: GpuJsGpu;
  /** True when kernels keep their data in textures (the GL modes). */
  readonly onDevice: boolean;
  readonly stats: RuntimeStats = { compiled: 0, firstRunMs: 0, runs: 0, uploads: 0, cacheHits: 0, degraded: [] };
  private readonly kernels = new Map<string, GpuJsKernel>();
  private readonly cache = new Map<Float32Array, CacheEntry>();
  private cacheBytes = 0;
  private uploader: GpuJsKernel | null = null;
  /** Textures made during the current op that nobody keeps: deleted when the op ends. */
  private temps: GpuJsTexture[] = [];
  private inOp = false;
  private readonly textureClass: abstract new (...args: never[]) => GpuJsTexture;

  constructor(readonly mode: GpuMode, private readonly opts: RuntimeOptions) {
    const { GPU, Texture } = loadGpuJs();
    this.gpu = new GPU({ mode });
    this.textureClass = Texture;
    this.onDevice = mode === 'headlessgl' || mode === 'webgl' || mode === 'webgl2';
  }

  private settings(n: number): GpuJsKernelSettings {
    const s: GpuJsKernelSettings = { output: [n], precision: 'single', loopMaxIterations: 1 << 20 };
    if (this.onDevice) {
      s.pipeline = true;
      s.immutable = true;
      s.optimizeFloatMemory = true;
      s.tactic = 'precision';
    }
    return s;
  }

  /** The kernel `key` (name and shape) with output length n, compiled from `source()` on first use. */
  kernel(key: string, n: number, source: () => string): GpuJsKernel {
    let k = this.kernels.get(key);
    if (k) {
      this.kernels.delete(key);
      this.kernels.set(key, k);
      return k;
    }
    k = this.gpu.createKernel(source(), this.settings(n));
    this.stats.compiled++;
    this.kernels.set(key, k);
    while (this.kernels.size > this.opts.maxKernels) {
      const [oldKey, old] = this.kernels.entries().next().value as [string, GpuJsKernel];
      this.kernels.delete(oldKey);
      old.destroy(false);
    }
    return k;
  }

  /**
   * Runs kernel `key` (compiling it from `source()` the first time) on `args`; the result stays on the
   * device (GL) until `read`, and is released at the end of the op unless `keep` adopts it.
   */
  run(key: string, n: number, source: () => string, args: DeviceArray[]): DeviceArray {
    // a GL kernel bakes its argument texture sizes in: the argument lengths are part of the shape
    let full = key + '|';
    for (const a of args) full += `${a instanceof Float32Array ? a.length : a.output[0]},`;
    const compiled = this.stats.compiled;
    const k = this.kernel(full, n, source);
    const fresh = compiled !== this.stats.compiled;
    const t0 = performance.now();
    let r: DeviceArray;
    try {
      r = k(...args) as DeviceArray;
    } catch (e) {
      if (!fresh) throw e;
      // gpu.js compiles on the first run: drop the kernel so a later call does not reuse a broken one
      this.kernels.delete(full);
      throw new Error(`gpu backend: gpu.js (${this.mode}) could not build kernel ${full}: ${(e as Error).message}`);
    }
    if (fresh) this.stats.firstRunMs += performance.now() - t0;
    this.stats.runs++;
    const ran = k.kernel.constructor.name;
    if (ran !== KERNEL_CLASS[this.mode] && !this.stats.degraded.some((d) => d.startsWith(full))) {
      this.stats.degraded.push(`${full} (ran in ${ran}: ${k.kernel.fallbackReason ?? 'no reason given'})`);
    }
    if (r instanceof this.textureClass) this.temps.push(r as GpuJsTexture);
    return r;
  }

  /** Copies a kernel result into `out`. */
  read(r: DeviceArray, out: Float32Array): void {
    const values = r instanceof Float32Array ? r : r.renderRawOutput();
    out.set(values.length === out.length ? values : values.subarray(0, out.length));
  }

  /**
   * The device copy of `a`: a cached texture when its contents are unchanged, else a fresh upload
   * (remembered unless `temporary`: an array made for this call only).
   */
  upload(a: Float32Array, temporary = false): DeviceArray {
    if (!this.onDevice) return a;
    const hit = this.lookup(a);
    if (hit) {
      this.stats.cacheHits++;
      return hit;
    }
    if (!this.uploader) {
      this.uploader = this.gpu.createKernel('function (a) { return a[this.thread.x]; }',
        { ...this.settings(1), dynamicOutput: true, dynamicArguments: true });
    }
    this.uploader.setOutput([a.length]);
    const t = this.uploader(a) as GpuJsTexture;
    this.stats.uploads++;
    this.temps.push(t);
    if (!temporary) this.keep(a, t);
    return t;
  }

  /** Remembers that `r` (a result or upload of this op) holds the current values of `a`. */
  keep(a: Float32Array, r: DeviceArray): void {
    if (!this.onDevice || r instanceof Float32Array) return;
    const bytes = a.byteLength;
    if (a.length < this.opts.minCachedLength || bytes > this.opts.deviceCacheBytes) return;
    const i = this.temps.indexOf(r);
    if (i < 0) return;
    this.temps.splice(i, 1);
    this.forget(a);
    this.cache.set(a, { texture: r, snapshot: a.slice() });
    this.cacheBytes += bytes;
    while (this.cacheBytes > this.opts.deviceCacheBytes) {
      const oldest = this.cache.keys().next().value as Float32Array;
      this.forget(oldest);
    }
  }

  private lookup(a: Float32Array): GpuJsTexture | null {
    const e = this.cache.get(a);
    if (!e) return null;
    if (sameBytes(e.snapshot, a)) {
      this.cache.delete(a);
      this.cache.set(a, e);
      return e.texture;
    }
    this.forget(a);
    return null;
  }

  private forget(a: Float32Array): void {
    const e = this.cache.get(a);
    if (!e) return;
    this.cache.delete(a);
    this.cacheBytes -= e.snapshot.byteLength;
    // the op running now may still read it: delete it when the op ends
    if (this.inOp) this.temps.push(e.texture);
    else e.texture.delete();
  }

  /** Runs one backend kernel call; textures it made and did not keep are deleted afterwards. */
  op<T>(fn: () => T): T {
    this.inOp = true;
    try {
      return fn();
    } finally {
      this.inOp = false;
      for (const t of this.temps) t.delete();
      this.temps = [];
    }
  }

  /** Drops the device cache (every cached texture). */
  clearCache(): void {
    for (const a of [...this.cache.keys()]) this.forget(a);
  }

  /** Number of compiled kernels held. */
  get kernelCount(): number {
    return this.kernels.size;
  }

  destroy(): Promise<void> {
    this.clearCache();
    this.kernels.clear();
    return this.gpu.destroy();
  }
}
