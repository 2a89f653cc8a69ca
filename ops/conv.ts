/**
 * 2-D convolution over NCHW input with KCRS weights: stride, zero padding, dilation and groups
 * (depthwise when groups = C). Forward and backward side by side; the kernels are the backend's
 * conv2d / conv2dBackwardData / conv2dBackwardFilter.
 */
import { allocOutput, Tensor, attach, check, checkTensor, getBackend, shapeStr, type Conv2dGeometry } from '../core/index.js';
import { outSize } from '../backends/backend.js';

export type IntPair = number | readonly [number, number] | readonly number[];

export interface Conv2dOptions {
  /** Step between output positions, one number or [h, w] (default 1). */
  stride?: IntPair;
  /** Zero padding on each side, one number or [h, w] (default 0). */
  padding?: IntPair;
  /** Spacing between kernel taps, one number or [h, w] (default 1). */
  dilation?: IntPair;
  /** Channel groups: input and output channels are split into `groups` independent convolutions
   *  (default 1; groups = C is a depthwise convolution). */
  groups?: number;
}

/**
 * Validates a convolution's shapes and settings and computes its geometry. `op` names the caller in
 * messages (layers and the 1-bit convolution reuse this), which end with `(input vs weight)` shapes.
 */
export function conv2dGeometry(
  op: string, xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions = {},
): Conv2dGeometry {
  // built only for a message (this runs on every convolution call)
  const shapes = (): string => `(${shapeStr(xShape)} vs ${shapeStr(wShape)})`;
  check(xShape.length === 4, op, () => `input must be 4-D [N,C,H,W], got rank ${xShape.length} ${shapes()}`);
  check(wShape.length === 4, op, () => `weight must be 4-D [K,C/groups,R,S], got rank ${wShape.length} ${shapes()}`);
  const [N, C, H, W] = xShape;
  const [K, Cg, R, S] = wShape;
  const groups = opts.groups ?? 1;
  check(Number.isInteger(groups) && groups >= 1, op, () => `groups must be a positive integer, got ${groups} ${shapes()}`);
  check(C % groups === 0, op, () => `groups ${groups} does not divide the input's ${C} channels ${shapes()}`);
  check(K % groups === 0, op, () => `groups ${groups} does not divide the weight's ${K} output channels ${shapes()}`);
  check(Cg * groups === C, op, () => `input has ${C} channels, weight expects ${Cg * groups}` +
    `${groups > 1 ? ` (${groups} groups of ${Cg})` : ''} ${shapes()}`);
  check(K >= 1 && R >= 1 && S >= 1, op, () => `weight has an empty dimension ${shapes()}`);
  const [strideH, strideW] = intPair(op, 'stride', opts.stride ?? 1, 1, shapes);
  const [padH, padW] = intPair(op, 'padding', opts.padding ?? 0, 0, shapes);
  const [dilationH, dilationW] = intPair(op, 'dilation', opts.dilation ?? 1, 1, shapes);
  const P = outSize(H, R, strideH, padH, dilationH), Q = outSize(W, S, strideW, padW, dilationW);
  check(P >= 1 && Q >= 1, op, () => {
    const kh = dilationH * (R - 1) + 1, kw = dilationW * (S - 1) + 1;
    return `output would be empty: input ${H}x${W} padded by ${padH}x${padW} is smaller than the ` +
      `${dilationH > 1 || dilationW > 1 ? 'dilated ' : ''}kernel ${kh}x${kw} ${shapes()}`;
  });
  return { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q };
}

function intPair(op: string, name: string, v: IntPair, min: number, shapes: () => string): [number, number] {
  const shown = typeof v === 'number' ? String(v) : `[${v.join(',')}]`;
  const p = typeof v === 'number' ? [v, v] : v;
  const kind = min >= 1 ? 'positive' : 'non-negative';
  check(p.length === 2 && p.every((d) => Number.isInteger(d) && d >= min), op,
    () => `${name} must be a ${kind} integer or a pair of them, got ${shown} ${shapes()}`);
  return [p[0], p[1]];
}

/**
 * y[n, k] = bias[k] + Σ_{c in k's group, r, s} w[k, c, r, s] · x[n, c, p·stride - pad + r·dilation, ...]
 * for x [N, C, H, W], w [K, C/groups, R, S], bias [K] (optional); y is [N, K, P, Q].
 */
export function conv2d(x: Tensor, w: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  checkTensor('conv2d', 'input', x);
  checkTensor('conv2d', 'weight', w);
  const g = conv2dGeometry('conv2d', x.shape, w.shape, opts);
  const { N, K, P, Q } = g;
  if (bias) {
    check(bias.rank === 1 && bias.shape[0] === K, 'conv2d',
      () => `bias must have shape [${K}], got ${shapeStr(bias.shape)} (${shapeStr(x.shape)} vs ${shapeStr(w.shape)})`);
  }
  const y = new Tensor(allocOutput(N * K * P * Q), [N, K, P, Q]);
  getBackend().conv2d(x.data, w.data, y.data, g);
  const PQ = P * Q;
  if (bias) addChannelBias(y.data, bias.data, N, K, PQ);

  const parents = bias ? [x, w, bias] : [x, w];
  return attach(y, 'conv2d', parents, (gy) => {
    const be = getBackend();
    let dx: Float32Array | null = null, dw: Float32Array | null = null, db: Float32Array | null = null;
    if (x.requiresGrad) {
      dx = allocOutput(x.size);
      be.conv2dBackwardData(gy, w.data, dx, g);
    }
    if (w.requiresGrad) {
      dw = allocOutput(w.size);
      be.conv2dBackwardFilter(x.data, gy, dw, g);
    }
    if (bias?.requiresGrad) db = channelSums(gy, N, K, PQ);
    return bias ? [dx, dw, db] : [dx, dw];
  });
}

/** y[n, k, :] += b[k] */
function addChannelBias(y: Float32Array, b: Float32Array, N: number, K: number, PQ: number): void {
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const bk = b[k], o = (n * K + k) * PQ;
      for (let i = 0; i < PQ; i++) y[o + i] += bk;
    }
  }
}

/** Σ over n and positions of g[n, k, :], per channel k (the bias gradient). */
function channelSums(g: Float32Array, N: number, K: number, PQ: number): Float32Array {
  const out = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const o = (n * K + k) * PQ;
      for (let i = 0; i < PQ; i++) s += g[o + i];
    }
    out[k] = s;
  }
  return out;
}
