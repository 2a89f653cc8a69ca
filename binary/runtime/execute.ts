/**
 * Runs an inference plan (plan.ts) on the CPU kernels: typed arrays in, logits out, no tensors and no
 * autograd. 1-bit convolutions take the packed kernels (backends/cpu/xnor-*.ts): the bit-sliced
 * depthwise kernel, the byte-table pointwise kernel (or its SIMD twin, which also takes strided and
 * wide 1x1 convolutions), and the general XNOR-popcount kernel for other shapes, each writing its
 * float output through the folded per-channel map in the same pass.
 *
 * A step that repeats an earlier computation on the same input (the same pooling of one input on two
 * edges of a cell) runs once (shared-steps.ts); the plan keeps both.
 *
 * Buffers are allocated per batch size from their live ranges: a buffer's memory goes back to a pool
 * after its last reader, so a network's activations take a few buffers' worth, not one per node.
 *
 * Two cores: the heavy steps (the 1-bit convolutions, pooling, the shortcut means and sums, the
 * stem) are kernels of backends/cpu that cut a large call into chunks of channels, planes or pixel
 * blocks for the threads of threads.ts (`--threads` / CPNAS_THREADS), so the buffers live in shared
 * memory when more than one thread is on. Every chunk computes its outputs as one thread would: the
 * logits are the same bits for any thread count.
 */
import type { Conv2dGeometry, Pool2dGeometry, XnorConv2dGeometry } from '../../backends/backend.js';
import { conv2d } from '../../backends/cpu/conv.js';
import { avgPool2d } from '../../backends/cpu/pool.js';
import { affine, groupMean, shiftPlanes, sliceAdd } from '../../backends/cpu/infer-ops.js';
import { maxPool2dInfer } from '../../backends/cpu/pool-infer.js';
import { getThreads } from '../../backends/cpu/threads.js';
import { xnorConv2d } from '../../backends/cpu/xnor.js';
import { xnorDepthwiseApplies, xnorDepthwiseForward } from '../../backends/cpu/xnor-depthwise.js';
import { applyEpilogue, packPlanesByThreshold, unpackPlanes, type PackedEpilogue } from '../../backends/cpu/xnor-epilogue.js';
import { pointwiseTables, xnorPointwiseApplies, xnorPointwiseForward, xnorPointwiseSimdApplies, type PointwiseTables } from '../../backends/cpu/xnor-pointwise.js';
import { simdEnabled } from '../../backends/cpu/simd/simd.js';
import { CpnasError } from '../../core/errors.js';
import { packedBuffers, type BinaryConvStep, type ConvGeom, type InferencePlan, type PlanStep } from './plan.js';
import { shareSteps, stepReads } from './shared-steps.js';

type Kernel = 'depthwise' | 'pointwise' | 'general';

/** Switches of the runner (read when a PlanRunner is made). */
export const runnerSettings = {
  /** Run a repeated computation once (shared-steps.ts); false runs every step of the plan. */
  shareSteps: true,
};

interface PreparedConv {
  kernel: Kernel;
  tables: PointwiseTables | null;
  ones: Float32Array;
}

function withBatch(g: ConvGeom, N: number): Conv2dGeometry {
  return { N, ...g };
}

function kernelOf(s: BinaryConvStep): Kernel {
  const g = s.geom;
  if (xnorDepthwiseApplies(withBatch(g, 1))) return 'depthwise';
  const pointwise = g.R === 1 && g.S === 1 && g.strideH === 1 && g.strideW === 1 && g.padH === 0 && g.padW === 0 && g.groups === 1;
  return pointwise && xnorPointwiseApplies(g.C) ? 'pointwise' : 'general';
}

export class PlanRunner {
  readonly plan: InferencePlan;
  /** The steps the runner runs: the plan's, less those that repeat an earlier computation. */
  readonly steps: PlanStep[];
  private readonly prepared: (PreparedConv | null)[];
  /** First step that writes and last step that reads each buffer. */
  private readonly born: Int32Array;
  private readonly dies: Int32Array;
  /** Buffers of sign bits ([N][C][H][ceil(W/32)] words, viewed as int32). */
  private readonly packed: Set<number>;
  private batch = -1;
  private shared = false;
  private arrays: Float32Array[] = [];
  private bits: Int32Array[] = [];
  private scratch = new Float32Array(0);
  private scratchIn = new Float32Array(0);

  constructor(plan: InferencePlan) {
    this.plan = plan;
    this.steps = runnerSettings.shareSteps ? shareSteps(plan).steps : plan.steps;
    this.prepared = this.steps.map((s) => s.op === 'bconv'
      ? { kernel: kernelOf(s), tables: null, ones: new Float32Array(s.geom.K).fill(1) }
      : null);
    this.packed = packedBuffers(plan);
    const n = plan.buffers.length;
    this.born = new Int32Array(n).fill(-1);
    this.dies = new Int32Array(n).fill(-1);
    this.born[0] = 0;
    this.steps.forEach((s, i) => {
      for (const b of stepReads(s)) this.dies[b] = i;
      const w = s.y;
      if (this.born[w] < 0) this.born[w] = i;
      this.dies[w] = Math.max(this.dies[w], i);
    });
    this.dies[plan.output] = this.steps.length;
  }

  /** Logits [N, numClasses] of N images x [N, C, H, W] (normalized as in training). */
  run(x: Float32Array, N: number): Float32Array {
    const [C, H, W] = this.plan.input;
    if (!Number.isInteger(N) || N < 1 || x.length !== N * C * H * W) {
      throw new CpnasError('runtime', `input has ${x.length} values; ${N} images of [${C},${H},${W}] need ${N * C * H * W}`);
    }
    this.allocate(N);
    this.arrays[0] = x;
    this.steps.forEach((s, i) => this.step(s, i, N));
    const out = this.arrays[this.plan.output];
    const logits = out.slice(0, N * this.plan.numClasses);
    this.arrays[0] = new Float32Array(0); // hold on to no caller's array
    return logits;
  }

  private size(b: number, N: number): number {
    const [c, h, w] = this.plan.buffers[b];
    return this.packed.has(b) ? N * c * h * ((w + 31) >>> 5) : N * c * h * w;
  }

  /** Assigns every buffer an array from a pool, reusing those whose buffer is dead. */
  private allocate(N: number): void {
    // shared memory when the kernels may split a step over threads (else every step would copy)
    const shared = getThreads() > 1 && typeof SharedArrayBuffer !== 'undefined';
    if (this.batch === N && this.shared === shared) return;
    this.shared = shared;
    const nb = this.plan.buffers.length, free = new Map<number, Float32Array[]>();
    const arrays: Float32Array[] = new Array(nb);
    const byBirth: number[][] = this.steps.map(() => []), byDeath: number[][] = this.steps.map(() => []);
    for (let b = 1; b < nb; b++) {
      if (this.born[b] < 0) continue;
      byBirth[this.born[b]].push(b);
      if (this.dies[b] < this.steps.length) byDeath[this.dies[b]].push(b);
    }
    for (let i = 0; i < this.steps.length; i++) {
      for (const b of byBirth[i]) {
        const n = this.size(b, N), list = free.get(n);
        arrays[b] = list && list.length > 0 ? list.pop()! : shared ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float32Array(n);
      }
      for (const b of byDeath[i]) {
        const n = this.size(b, N);
        if (!free.has(n)) free.set(n, []);
        free.get(n)!.push(arrays[b]);
      }
    }
    this.arrays = arrays;
    this.bits = arrays.map((a, b) => (this.packed.has(b) ? new Int32Array(a.buffer, a.byteOffset, a.length) : new Int32Array(0)));
    this.batch = N;
  }

  private step(s: PlanStep, i: number, N: number): void {
    const a = this.arrays, shapes = this.plan.buffers;
    switch (s.op) {
      case 'conv': {
        conv2d(a[s.x], s.weight, a[s.y], withBatch(s.geom, N));
        if (s.bias) {
          const PQ = s.geom.P * s.geom.Q, y = a[s.y], K = s.geom.K;
          for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
            const o = (n * K + k) * PQ, b = s.bias[k];
            for (let j = 0; j < PQ; j++) y[o + j] += b;
          }
        }
        return;
      }
      case 'bconv': return this.binaryConv(s, this.prepared[i]!, N);
      case 'affine': {
        const [C, H, W] = shapes[s.x];
        return affine(a[s.x], a[s.y], s.scale, s.shift, N, C, H * W, s.relu);
      }
      case 'relu': {
        const x = a[s.x], y = a[s.y], n = this.size(s.x, N);
        for (let j = 0; j < n; j++) y[j] = x[j] > 0 ? x[j] : 0;
        return;
      }
      case 'maxpool': case 'avgpool': {
        const [C, H, W] = shapes[s.x], [, P, Q] = shapes[s.y];
        const g: Pool2dGeometry = { N, C, H, W, kH: s.kernel, kW: s.kernel, strideH: s.stride, strideW: s.stride, padH: s.padding, padW: s.padding, P, Q };
        return s.op === 'avgpool' ? avgPool2d(a[s.x], a[s.y], g) : maxPool2dInfer(a[s.x], a[s.y], g);
      }
      case 'groupmean': {
        const [Cin, H, W] = shapes[s.x];
        return groupMean(a[s.x], a[s.y], N, Cin / s.groups, H * W, s.groups);
      }
      case 'add': {
        const [C, H, W] = shapes[s.a];
        return sliceAdd(a[s.a], a[s.b], a[s.y], N, C, H * W, shapes[s.y][0], s.yC0);
      }
      case 'copy': {
        const [C, H, W] = shapes[s.x], CHW = C * H * W, Ct = shapes[s.y][0], x = a[s.x], y = a[s.y];
        for (let n = 0; n < N; n++) y.set(x.subarray(n * CHW, (n + 1) * CHW), (n * Ct + s.yC0) * H * W);
        return;
      }
      case 'shift': {
        const [C, H, W] = shapes[s.x], [, P, Q] = shapes[s.y];
        return shiftPlanes(a[s.x], a[s.y], N * C, H, W, P, Q);
      }
      case 'zero': a[s.y].fill(0, 0, this.size(s.y, N)); return;
      case 'gap': {
        const [C, H, W] = shapes[s.x], HW = H * W, x = a[s.x], y = a[s.y];
        for (let nc = 0; nc < N * C; nc++) {
          let sum = 0;
          for (let j = nc * HW; j < (nc + 1) * HW; j++) sum += x[j];
          y[nc] = sum / HW;
        }
        return;
      }
      case 'linear': {
        const x = a[s.x], y = a[s.y], I = s.inFeatures, O = s.outFeatures;
        for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) {
          let sum = 0;
          for (let j = 0; j < I; j++) sum += x[n * I + j] * s.weight[o * I + j];
          y[n * O + o] = sum + (s.bias ? s.bias[o] : 0);
        }
        return;
      }
    }
  }

  private binaryConv(s: BinaryConvStep, prep: PreparedConv, N: number): void {
    const a = this.arrays, g = withBatch(s.geom, N), { C, H, W, K, P, Q } = s.geom;
    const xBits = s.inBits ? this.bits[s.x] : null;
    const e: PackedEpilogue = {
      A: s.A, B: s.B, res: s.res >= 0 ? a[s.res] : null, resScale: s.resScale,
      resChannels: s.res >= 0 ? this.plan.buffers[s.res][0] : K, resC0: s.resC0,
      yChannels: this.plan.buffers[s.y][0], yC0: s.yC0,
      bits: s.outBits ? { out: this.bits[s.y], dir: s.outBits.dir, val: s.outBits.val } : null,
    };
    if (prep.kernel === 'depthwise') return xnorDepthwiseForward(a[s.x], s.signs, a[s.y], g, e, xBits);
    if (prep.kernel === 'pointwise') {
      prep.tables ??= pointwiseTables(s.signs, C, K);
      return xnorPointwiseForward(a[s.x], prep.tables, a[s.y], N, P, Q, e, xBits);
    }
    // a strided or wide 1x1 convolution, float to float: the SIMD pointwise kernel where it is on
    const g1 = s.geom;
    if (!xBits && !e.bits && g1.strideH === g1.strideW && xnorPointwiseSimdApplies(g1) && simdEnabled()) {
      prep.tables ??= pointwiseTables(s.signs, C, K);
      return xnorPointwiseForward(a[s.x], prep.tables, a[s.y], N, H, W, e, null, g1.strideH);
    }
    // other shapes: the general kernel on floats (signs unpacked to ±1 first where they come packed)
    let x = a[s.x];
    if (xBits) {
      if (this.scratchIn.length < N * C * H * W) this.scratchIn = new Float32Array(N * C * H * W);
      unpackPlanes(xBits, this.scratchIn, N * C, H, W);
      x = this.scratchIn;
    }
    const n = N * K * P * Q;
    if (this.scratch.length < n) this.scratch = new Float32Array(n);
    const xg: XnorConv2dGeometry = { ...g, wordsPerTap: (g.C / g.groups + 31) >>> 5 };
    xnorConv2d(x, s.signs, prep.ones, this.scratch, xg);
    if (e.bits) packPlanesByThreshold(this.scratch, e.bits, N, K, P, Q);
    else applyEpilogue(this.scratch, a[s.y], N, K, P * Q, e);
  }
}
