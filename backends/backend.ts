/**
 * The Backend interface: named kernels on typed arrays. A backend knows shapes and numbers only:
 * no autograd, no layers, no tensors. Ops in `ops/` validate their arguments, allocate outputs and
 * call these kernels on the active backend; a new backend implements this interface and registers
 * itself (see registry.ts), and nothing in `ops/` changes.
 *
 * Conventions:
 * - all float arrays are float32, dense, row-major (C-contiguous);
 * - images are NCHW, convolution weights KCRS ([out, in/groups, kh, kw]);
 * - every kernel writes its whole output (`out` is overwritten, never accumulated into) unless its
 *   doc says otherwise.
 */

/** Geometry of a 2-D convolution; output size P x Q is computed by `conv2dGeometry`. */
export interface Conv2dGeometry {
  N: number; C: number; H: number; W: number;
  K: number; R: number; S: number;
  strideH: number; strideW: number;
  padH: number; padW: number;
  dilationH: number; dilationW: number;
  groups: number;
  P: number; Q: number;
}

/** Geometry of a 2-D pooling window over NCHW input. */
export interface Pool2dGeometry {
  N: number; C: number; H: number; W: number;
  kH: number; kW: number;
  strideH: number; strideW: number;
  padH: number; padW: number;
  P: number; Q: number;
}

export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'relu' | 'sigmoid' | 'tanh' | 'sign' | 'square' | 'reciprocal';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min';

/**
 * The gradient of an activation as a mask or a factor on the incoming gradient g, given the input x:
 * `relu` g where x > 0; `clip` g where |x| <= 1 (the straight-through estimator of sign); `approxSign`
 * g (2 - 2|x|) where |x| < 1 (Bi-Real Net's estimator). Elsewhere +0 (NaN inputs included).
 */
export type GradOp = 'relu' | 'clip' | 'approxSign';

/**
 * Geometry of the bit-packed 1-bit convolution: a convolution's geometry plus `wordsPerTap`, the
 * number of 32-bit words that hold the C/groups input-channel signs of one pixel of one group in the
 * packed input (ceil((C / groups) / 32)). Build it with `xnorGeometry`. The bit layouts are in
 * backends/cpu/bitpack.ts, shared by every backend that implements the 1-bit kernels.
 */
export interface XnorConv2dGeometry extends Conv2dGeometry {
  wordsPerTap: number;
}

/** The packed geometry of a convolution (adds `wordsPerTap`). */
export function xnorGeometry(g: Conv2dGeometry): XnorConv2dGeometry {
  return { ...g, wordsPerTap: (g.C / g.groups + 31) >>> 5 };
}

/**
 * Length of the packed weights of a 1-bit convolution, the one place that size is defined: the
 * K * R * S * C/groups sign bits as one dense stream, ceil(bits / 32) words (1/32 of the float
 * weights' bytes, plus at most one word).
 */
export function packedWeightWords(g: Conv2dGeometry): number {
  return Math.ceil((g.K * g.R * g.S * (g.C / g.groups)) / 32);
}

export interface Backend {
  readonly name: string;
  /** A short human description, e.g. "gpu.js (headlessgl)". */
  describe(): string;
  /**
   * Optional: storage for n floats of tensor data, zero-filled. The cpu backend hands out shared
   * memory for large arrays when its kernels run on several threads, so that they need no copy;
   * without it, tensors get plain Float32Arrays. With `zeroed` false the caller overwrites the whole
   * array (a kernel's output), so an array handed out again may keep its old values.
   */
  allocFloat32?(n: number, zeroed?: boolean): Float32Array;
  /**
   * Optional: storage from allocFloat32 that nothing references any more (autograd's consumed
   * gradients), which allocFloat32 may hand out again, zero-filled, instead of fresh memory.
   */
  releaseFloat32?(a: Float32Array): void;
  /**
   * Optional: how many cores the backend's kernels use; with `n`, sets that number (>= 1) and returns
   * the previous one. Code that keeps cores busy on its own (training shards in worker threads) sets
   * 1 meanwhile. Without it, a backend is taken to use one core of the host.
   */
  threads?(n?: number): number;
  /**
   * Optional: whether the backend's WebAssembly SIMD kernels run; with `on`, switches them and returns
   * the previous setting. They give the same values as the plain kernels (cpu: simd/simd.ts).
   */
  simd?(on?: boolean): boolean;
  /**
   * Optional: how the backend's GEMM sums its products, 'float64' or 'float32' (cpu: sums.ts); with
   * `s`, sets it and returns the previous setting. Unlike threads and SIMD, this changes the values.
   */
  gemmSums?(s?: 'float64' | 'float32'): 'float64' | 'float32';

  // ---- dense linear algebra -----------------------------------------------------------------
  /**
   * Batched matrix product: for b in 0..batch-1, out[b] (M x N) = op(A[b]) (M x K) · op(B[b]) (K x N),
   * where op transposes when `transA`/`transB` is set (A stored K x M, B stored N x K).
   * `aBatchStride`/`bBatchStride` are element strides between batches (0 broadcasts one matrix).
   */
  matmul(
    a: Float32Array, b: Float32Array, out: Float32Array,
    batch: number, M: number, K: number, N: number,
    transA: boolean, transB: boolean, aBatchStride: number, bBatchStride: number,
  ): void;

  // ---- convolution ----------------------------------------------------------------------------
  /** y[N,K,P,Q] = conv(x[N,C,H,W], w[K,C/groups,R,S]) with zero padding. */
  conv2d(x: Float32Array, w: Float32Array, y: Float32Array, g: Conv2dGeometry): void;
  /** dx[N,C,H,W] from dy[N,K,P,Q] and w. */
  conv2dBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, g: Conv2dGeometry): void;
  /** dw[K,C/groups,R,S] from x and dy. */
  conv2dBackwardFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, g: Conv2dGeometry): void;

  // ---- pooling ----------------------------------------------------------------------------------
  /** Max pool; padded cells never win. `argmax` receives, per output, the flat input index. */
  maxPool2d(x: Float32Array, y: Float32Array, argmax: Int32Array, g: Pool2dGeometry): void;
  /** dx = scatter of dy through argmax (dx overwritten). */
  maxPool2dBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array, g: Pool2dGeometry): void;
  /** Average pool over the cells inside the image (padding excluded from the count). */
  avgPool2d(x: Float32Array, y: Float32Array, g: Pool2dGeometry): void;
  avgPool2dBackward(dy: Float32Array, dx: Float32Array, g: Pool2dGeometry): void;

  // ---- elementwise and reductions ---------------------------------------------------------
  unary(op: UnaryOp, x: Float32Array, out: Float32Array): void;
  /** out = the gradient `op` passes back from g at input x (see GradOp). */
  activationGrad(op: GradOp, x: Float32Array, g: Float32Array, out: Float32Array): void;
  /** out = a (op) b with NumPy broadcasting to `outShape`. */
  binary(
    op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    out: Float32Array, outShape: readonly number[],
  ): void;
  /** out = sum of x over `axes` (sorted, unique); out has the reduced shape (kept dims or not: same data). */
  sum(x: Float32Array, shape: readonly number[], axes: readonly number[], out: Float32Array): void;
  /** out = max over `axes`; `argmax` (optional) receives the flat input index of each winner. */
  max(x: Float32Array, shape: readonly number[], axes: readonly number[], out: Float32Array, argmax?: Int32Array): void;
  /**
   * Optional: dst[dstOff + r·dstStride + i] = src[srcOff + r·srcStride + i] for r < rows, i < len, rows
   * not overlapping in dst (the others keep their values): the box copies of concat, slice and pad.
   * Without it, ops/shape.ts copies the rows itself.
   */
  copyRows?(src: Float32Array, srcOff: number, srcStride: number, dst: Float32Array, dstOff: number, dstStride: number, len: number, rows: number): void;
  /** Optional: a[start, end) = value, as TypedArray.fill (core/alloc.ts fillFloat32 falls back to it). */
  fill?(a: Float32Array, value: number, start: number, end: number): void;

  // ---- batch norm -------------------------------------------------------------------------------
  /** Per-channel mean and biased variance of x viewed as [N, C, HW]. */
  batchNormStats(x: Float32Array, N: number, C: number, HW: number, mean: Float32Array, variance: Float32Array): void;
  /**
   * y = x · scale_c + shift_c over [N, C, HW], with scale_c = invStd_c · weight_c and shift_c =
   * bias_c - mean_c · scale_c in float64 (weight 1 and bias 0 where null).
   */
  batchNormApply(x: Float32Array, y: Float32Array, N: number, C: number, HW: number, mean: Float32Array, invStd: Float32Array, weight: Float32Array | null, bias: Float32Array | null): void;
  /**
   * The backward pass of batchNormApply, per channel c (float64 sums over n, then i):
   * Σg and Σg·xhat (xhat = (x - mean_c) · invStd_c) into db[c] and dw[c]; and dx = w·invStd/count ·
   * (count·g - Σg - xhat·Σg·xhat) when `batchStats` (the statistics came from this x), else w·invStd·g.
   * Any of dx, dw, db may be null (not wanted). count = N · HW.
   */
  batchNormBackward(
    g: Float32Array, x: Float32Array, N: number, C: number, HW: number, mean: Float32Array, invStd: Float32Array,
    weight: Float32Array | null, batchStats: boolean, dx: Float32Array | null, dw: Float32Array | null, db: Float32Array | null,
  ): void;

  // ---- 1-bit --------------------------------------------------------------------------------------
  /**
   * Packs the signs of weights w[K, C/groups, R, S] into the first `packedWeightWords(g)` words of
   * `packed`: one dense bit stream, bit (k * R * S + r * S + s) * C/groups + c for channel c of tap
   * (r, s) of filter k, SET where w < 0 (or NaN), i.e. sign -1; sign(0) = +1; no padding between
   * taps or filters. Done once per weight change (BinaryConv2d caches it), not per forward.
   */
  packWeights(w: Float32Array, packed: Uint32Array, g: XnorConv2dGeometry): void;
  /**
   * The bit-packed convolution: y[N,K,P,Q] = alpha[k] * (sign(x) conv sign(w)) with zero padding
   * (padded taps contribute 0, exactly as in the float convolution of the signs), computed with
   * XOR and popcount: dot = n - 2 * popcount(a XOR w). `x` is the float input: packing its signs is
   * part of the kernel's work. `packedW` comes from `packWeights`; `alpha` has K scales.
   */
  xnorConv2d(x: Float32Array, packedW: Uint32Array, alpha: Float32Array, y: Float32Array, g: XnorConv2dGeometry): void;
}

/** Output size of a convolution or pool along one axis. */
export function outSize(inSize: number, k: number, stride: number, pad: number, dilation = 1): number {
  return Math.floor((inSize + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}
