/**
 * 2-D pooling over NCHW: max, average (padded cells excluded from the count, DARTS's
 * count_include_pad=False), and global average ([N, C, H, W] -> [N, C]).
 */
import { allocOutput, CpnasError, Tensor, attach, check, getBackend, shapeStr, type Pool2dGeometry } from '../core/index.js';
import { outSize } from '../backends/backend.js';

export interface Pool2dOptions {
  /** Window size (square when a number). */
  kernel: number | [number, number];
  /** Step between windows (default: the kernel size, as in PyTorch). */
  stride?: number | [number, number];
  /** Implicit padding on each side, at most half the kernel (default 0). */
  padding?: number | [number, number];
}

function pair(op: string, name: string, v: number | readonly number[], min: number, x: Tensor): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (typeof v !== 'number' && v.length !== 2) {
    throw new CpnasError(op, `${name} must be a number or a pair, got [${v.join(',')}] (x ${shapeStr(x.shape)})`);
  }
  for (const d of p) {
    check(Number.isInteger(d) && d >= min, op, () => `${name} must be an integer >= ${min}, got ${String(v)} (x ${shapeStr(x.shape)})`);
  }
  return p;
}

/** Validates a pool's arguments and computes its geometry (output size P x Q). */
export function pool2dGeometry(op: string, x: Tensor, opts: Pool2dOptions): Pool2dGeometry {
  check(x.rank === 4, op, () => `expects x of shape [N,C,H,W], got ${shapeStr(x.shape)}`);
  check(opts !== undefined && opts.kernel !== undefined, op, () => `needs a kernel size (x ${shapeStr(x.shape)})`);
  const [N, C, H, W] = x.shape;
  const [kH, kW] = pair(op, 'kernel', opts.kernel, 1, x);
  const [strideH, strideW] = pair(op, 'stride', opts.stride ?? [kH, kW], 1, x);
  const [padH, padW] = pair(op, 'padding', opts.padding ?? 0, 0, x);
  check(2 * padH <= kH && 2 * padW <= kW, op,
    () => `padding ${padH}x${padW} is more than half the kernel ${kH}x${kW} (x ${shapeStr(x.shape)})`);
  const P = outSize(H, kH, strideH, padH), Q = outSize(W, kW, strideW, padW);
  check(P >= 1 && Q >= 1, op,
    () => `input ${H}x${W} is smaller than the kernel ${kH}x${kW} with padding ${padH}x${padW}: no output (x ${shapeStr(x.shape)})`);
  return { N, C, H, W, kH, kW, strideH, strideW, padH, padW, P, Q };
}

/** Max over each window; the gradient goes to the (first) maximum of each window. */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const g = pool2dGeometry('maxPool2d', x, opts);
  const out = Tensor.zeros([g.N, g.C, g.P, g.Q]);
  const argmax = new Int32Array(out.size);
  getBackend().maxPool2d(x.data, out.data, argmax, g);
  return attach(out, 'maxPool2d', [x], (gy) => {
    const dx = allocOutput(x.size);
    getBackend().maxPool2dBackward(gy, argmax, dx, g);
    return [dx];
  });
}

/** Mean over the cells of each window that lie inside the image. */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const g = pool2dGeometry('avgPool2d', x, opts);
  const out = Tensor.zeros([g.N, g.C, g.P, g.Q]);
  getBackend().avgPool2d(x.data, out.data, g);
  return attach(out, 'avgPool2d', [x], (gy) => {
    const dx = allocOutput(x.size);
    getBackend().avgPool2dBackward(gy, dx, g);
    return [dx];
  });
}

/** Mean over H and W: [N, C, H, W] -> [N, C]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  check(x.rank === 4, 'globalAvgPool2d', () => `expects x of shape [N,C,H,W], got ${shapeStr(x.shape)}`);
  const [N, C, H, W] = x.shape;
  const HW = H * W;
  check(HW > 0, 'globalAvgPool2d', () => `x ${shapeStr(x.shape)} has an empty image`);
  const out = Tensor.zeros([N, C]);
  const be = getBackend();
  be.sum(x.data, x.shape, [2, 3], out.data);
  const scale = Float32Array.of(1 / HW);
  be.binary('mul', out.data, out.shape, scale, [], out.data, out.shape);
  return attach(out, 'globalAvgPool2d', [x], (gy) => {
    const dx = allocOutput(x.size);
    for (let nc = 0; nc < N * C; nc++) dx.fill(gy[nc] / HW, nc * HW, (nc + 1) * HW);
    return [dx];
  });
}
