/**
 * The GPU backend: the Backend interface on gpu.js kernels, with explicit fallbacks to the CPU kernels
 * (backends/cpu) where gpu.js cannot do the work or it would not pay (see README.md for the list).
 */
import type { Backend, BinaryOp, Conv2dGeometry, GradOp, Pool2dGeometry, UnaryOp, XnorConv2dGeometry } from '../backend.js';
import * as cpu from '../cpu/index.js';
import { MAX_INDEX } from './codegen.js';
import { batchNormStats } from './kernels/batchnorm.js';
import { conv2d, conv2dBackwardData, conv2dBackwardFilter } from './kernels/conv.js';
import { binary, unary } from './kernels/elementwise.js';
import { matmul } from './kernels/matmul.js';
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward } from './kernels/pool.js';
import { max, sum } from './kernels/reduce.js';
import { cpuLayoutMatches, xnorConv2d } from './kernels/xnor.js';
import type { GpuMode } from './modes.js';
import { GpuRuntime, type RuntimeStats } from './runtime.js';

export interface GpuBackendOptions {
  /**
   * gpu.js mode: 'headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu', or 'gpu' (the best one that is not
   * cpu). Undefined takes the best available one.
   */
  mode?: string;
  /**
   * Kernel calls whose output has fewer elements than this run on the CPU backend, where compiling a
   * kernel for the shape and the round trip to the device would cost more than the work (default 4096;
   * 0 sends every call that can run on gpu.js there).
   */
  minElements?: number;
  /** Most compiled kernels kept, least recently used dropped first (default 512). */
  maxKernels?: number;
  /** Bytes of arrays the device cache keeps on the device in GL modes (default 64 MiB; 0 disables it). */
  deviceCacheBytes?: number;
}

const CPU = cpu.cpuBackend;

export class GpuBackend implements Backend {
  readonly name = 'gpu';
  /** The gpu.js instance with its kernel cache and (GL modes) device cache. */
  readonly rt: GpuRuntime;
  private readonly minElements: number;
  private readonly xnorOnDevice: boolean;

  constructor(readonly mode: GpuMode, opts: GpuBackendOptions = {}) {
    this.minElements = opts.minElements ?? 4096;
    this.rt = new GpuRuntime(mode, {
      maxKernels: opts.maxKernels ?? 512,
      deviceCacheBytes: opts.deviceCacheBytes ?? 64 * 2 ** 20,
      minCachedLength: 256,
    });
    this.xnorOnDevice = !this.rt.onDevice && cpuLayoutMatches();
  }

  describe(): string {
    return `gpu.js (${this.mode})`;
  }

  /** Counters: kernels compiled, runs, uploads, device-cache hits, kernels gpu.js degraded. */
  get stats(): RuntimeStats {
    return this.rt.stats;
  }

  /** The kernels this backend always leaves to the CPU backend in its mode, with the reason. */
  cpuKernels(): string[] {
    const list = ['packWeights: host-side bit packing, once per weight update; it defines the packed format'];
    if (!this.xnorOnDevice) {
      list.push(this.rt.onDevice
        ? 'xnorConv2d: GLSL ES 1.00 (headless-gl) has no integer bit operations'
        : 'xnorConv2d: the CPU backend packs weights in a layout this kernel does not read');
    }
    return list;
  }

  /** Whether a call with this output length and these inputs goes to gpu.js. */
  private onGpu(outLength: number, ...inputs: ArrayLike<number>[]): boolean {
    if (outLength === 0 || outLength < this.minElements || outLength >= MAX_INDEX) return false;
    for (const a of inputs) if (a.length === 0 || a.length >= MAX_INDEX) return false;
    return true;
  }

  matmul(
    a: Float32Array, b: Float32Array, out: Float32Array,
    batch: number, M: number, K: number, N: number,
    transA: boolean, transB: boolean, aBatchStride: number, bBatchStride: number,
  ): void {
    if (!this.onGpu(out.length, a, b) || K === 0) {
      CPU.matmul(a, b, out, batch, M, K, N, transA, transB, aBatchStride, bBatchStride);
    } else {
      matmul(this.rt, a, b, out, batch, M, K, N, transA, transB, aBatchStride, bBatchStride);
    }
  }

  conv2d(x: Float32Array, w: Float32Array, y: Float32Array, g: Conv2dGeometry): void {
    if (this.onGpu(y.length, x, w)) conv2d(this.rt, x, w, y, g);
    else CPU.conv2d(x, w, y, g);
  }

  conv2dBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, g: Conv2dGeometry): void {
    if (this.onGpu(dx.length, dy, w)) conv2dBackwardData(this.rt, dy, w, dx, g);
    else CPU.conv2dBackwardData(dy, w, dx, g);
  }

  conv2dBackwardFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, g: Conv2dGeometry): void {
    // the work is x-sized even when dw is small: gate on the larger of the two
    if (this.onGpu(Math.max(dw.length, dy.length), x, dy, dw)) conv2dBackwardFilter(this.rt, x, dy, dw, g);
    else CPU.conv2dBackwardFilter(x, dy, dw, g);
  }

  maxPool2d(x: Float32Array, y: Float32Array, argmax: Int32Array, g: Pool2dGeometry): void {
    if (this.onGpu(y.length, x)) maxPool2d(this.rt, x, y, argmax, g);
    else CPU.maxPool2d(x, y, argmax, g);
  }

  maxPool2dBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array, g: Pool2dGeometry): void {
    if (this.onGpu(dx.length, dy)) maxPool2dBackward(this.rt, dy, argmax, dx, g);
    else CPU.maxPool2dBackward(dy, argmax, dx, g);
  }

  avgPool2d(x: Float32Array, y: Float32Array, g: Pool2dGeometry): void {
    if (this.onGpu(y.length, x)) avgPool2d(this.rt, x, y, g);
    else CPU.avgPool2d(x, y, g);
  }

  avgPool2dBackward(dy: Float32Array, dx: Float32Array, g: Pool2dGeometry): void {
    if (this.onGpu(dx.length, dy)) avgPool2dBackward(this.rt, dy, dx, g);
    else CPU.avgPool2dBackward(dy, dx, g);
  }

  unary(op: UnaryOp, x: Float32Array, out: Float32Array): void {
    if (this.onGpu(out.length, x)) unary(this.rt, op, x, out);
    else CPU.unary(op, x, out);
  }

  activationGrad(op: GradOp, x: Float32Array, g: Float32Array, out: Float32Array): void {
    CPU.activationGrad(op, x, g, out);
  }

  binary(
    op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    out: Float32Array, outShape: readonly number[],
  ): void {
    if (this.onGpu(out.length, a, b)) binary(this.rt, op, a, aShape, b, bShape, out, outShape);
    else CPU.binary(op, a, aShape, b, bShape, out, outShape);
  }

  sum(x: Float32Array, shape: readonly number[], axes: readonly number[], out: Float32Array): void {
    // a reduction's work is its input: gate on the input size
    if (axes.length > 0 && this.onGpu(x.length, x)) sum(this.rt, x, shape, axes, out);
    else CPU.sum(x, shape, axes, out);
  }

  max(x: Float32Array, shape: readonly number[], axes: readonly number[], out: Float32Array, argmax?: Int32Array): void {
    if (axes.length > 0 && this.onGpu(x.length, x)) max(this.rt, x, shape, axes, out, argmax);
    else CPU.max(x, shape, axes, out, argmax);
  }

  batchNormStats(x: Float32Array, N: number, C: number, HW: number, mean: Float32Array, variance: Float32Array): void {
    if (this.onGpu(x.length, x)) batchNormStats(this.rt, x, N, C, HW, mean, variance);
    else CPU.batchNormStats(x, N, C, HW, mean, variance);
  }

  // the affine map and its backward pass are a pass over memory each: the cpu's threads do them
  batchNormApply(x: Float32Array, y: Float32Array, N: number, C: number, HW: number, mean: Float32Array, invStd: Float32Array, weight: Float32Array | null, bias: Float32Array | null): void {
    CPU.batchNormApply(x, y, N, C, HW, mean, invStd, weight, bias);
  }

  batchNormBackward(
    g: Float32Array, x: Float32Array, N: number, C: number, HW: number, mean: Float32Array, invStd: Float32Array,
    weight: Float32Array | null, batchStats: boolean, dx: Float32Array | null, dw: Float32Array | null, db: Float32Array | null,
  ): void {
    CPU.batchNormBackward(g, x, N, C, HW, mean, invStd, weight, batchStats, dx, dw, db);
  }

  packWeights(w: Float32Array, packed: Uint32Array, g: XnorConv2dGeometry): void {
    CPU.packWeights(w, packed, g);
  }

  xnorConv2d(x: Float32Array, packedW: Uint32Array, alpha: Float32Array, y: Float32Array, g: XnorConv2dGeometry): void {
    if (this.xnorOnDevice && this.onGpu(y.length, x)) xnorConv2d(this.rt, x, packedW, alpha, y, g);
    else CPU.xnorConv2d(x, packedW, alpha, y, g);
  }

  /** Releases the gpu.js instance (its GL context and textures). */
  destroy(): Promise<void> {
    return this.rt.destroy();
  }
}
