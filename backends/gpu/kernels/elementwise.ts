/**
 * Elementwise kernels: unary maps and binary maps with NumPy broadcasting. Broadcast shapes are first
 * collapsed (adjacent dimensions that are contiguous in both inputs merge, size-1 dimensions drop), so
 * a bias add [N,K,P,Q] + [1,K,1,1] becomes a 3-D walk and a same-shape add a 1-D one.
 *
 * Functions are written so that the three gpu.js targets agree with JavaScript where GLSL does not:
 * `pow` of a negative base with a whole exponent, `tanh` without overflow, `sign(0) = +1`.
 */
import type { BinaryOp, UnaryOp } from '../../backend.js';
import { broadcastStrides } from '../../cpu/elementwise.js';
import type { GpuRuntime } from '../runtime.js';
import { THREAD, kernelSource, key, unflatten } from '../codegen.js';

/** Statements computing `res` from `v`. */
const UNARY: Record<UnaryOp, string> = {
  neg: 'const res = -v;',
  exp: 'const res = Math.exp(v);',
  log: 'const res = Math.log(v);',
  sqrt: 'const res = Math.sqrt(v);',
  abs: 'const res = Math.abs(v);',
  relu: 'let res = 0.0;\n  if (v > 0.0) { res = v; }',
  sigmoid: 'const res = 1.0 / (1.0 + Math.exp(-v));',
  // (1 - e^-2|v|) / (1 + e^-2|v|) never overflows, unlike GLSL-style (e^2v - 1) / (e^2v + 1)
  tanh: 'const e = Math.exp(-2.0 * Math.abs(v));\n  let res = (1.0 - e) / (1.0 + e);\n  if (v < 0.0) { res = -res; }',
  // sign(0) = +1: a binarized value is always +-1, never 0
  sign: 'let res = -1.0;\n  if (v >= 0.0) { res = 1.0; }',
  square: 'const res = v * v;',
  reciprocal: 'const res = 1.0 / v;',
};

export function unary(rt: GpuRuntime, op: UnaryOp, x: Float32Array, out: Float32Array): void {
  const source = () => kernelSource(['x'], `${THREAD}const v = x[o];\n  ${UNARY[op]}\n  return res;`);
  rt.op(() => {
    const r = rt.run(key('unary', op), out.length, source, [rt.upload(x)]);
    rt.read(r, out);
    rt.keep(out, r);
  });
}

/** Statements computing `res` from `u` (from a) and `v` (from b). */
const BINARY: Record<BinaryOp, string> = {
  add: 'const res = u + v;',
  sub: 'const res = u - v;',
  mul: 'const res = u * v;',
  div: 'const res = u / v;',
  max: 'let res = v;\n  if (u > v) { res = u; }',
  min: 'let res = v;\n  if (u < v) { res = u; }',
  // JavaScript's Math.pow: GLSL's pow is undefined for a negative base
  pow: `let res = 1.0;
  if (v != 0.0) {
    if (u > 0.0) {
      res = Math.pow(u, v);
    } else if (u == 0.0) {
      res = 0.0;
      if (v < 0.0) { res = 1.0 / u; }
    } else if (Math.floor(v) == v) {
      res = Math.pow(-u, v);
      if (Math.floor(v * 0.5) * 2.0 != v) { res = -res; }
    } else {
      res = (u - u) / (u - u);
    }
  }`,
};

/** Output dims after collapsing, with each input's element stride per dim (0 = broadcast). */
export interface BroadcastPlan {
  dims: number[];
  sa: number[];
  sb: number[];
}

export function planBroadcast(aShape: readonly number[], bShape: readonly number[], outShape: readonly number[]): BroadcastPlan {
  const fa = broadcastStrides(aShape, outShape), fb = broadcastStrides(bShape, outShape);
  const dims: number[] = [], sa: number[] = [], sb: number[] = [];
  for (let d = 0; d < outShape.length; d++) {
    const n = outShape[d];
    if (n === 1) continue;
    const last = dims.length - 1;
    // merge into the previous dim when both inputs walk the pair contiguously (or both broadcast it)
    if (last >= 0 && sa[last] === fa[d] * n && sb[last] === fb[d] * n) {
      dims[last] *= n;
      sa[last] = fa[d];
      sb[last] = fb[d];
    } else {
      dims.push(n);
      sa.push(fa[d]);
      sb.push(fb[d]);
    }
  }
  if (dims.length === 0) return { dims: [1], sa: [0], sb: [0] };
  return { dims, sa, sb };
}

function indexExpr(strides: readonly number[], names: readonly string[]): string {
  const terms = strides.map((s, i) => (s === 0 ? '' : s === 1 ? names[i] : `${names[i]} * ${s}`)).filter((t) => t);
  return terms.length === 0 ? '0' : terms.join(' + ');
}

export function binary(
  rt: GpuRuntime, op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
  out: Float32Array, outShape: readonly number[],
): void {
  const { dims, sa, sb } = planBroadcast(aShape, bShape, outShape);
  const names = dims.map((_, i) => `i${i}`);
  const source = () => kernelSource(['a', 'b'], `${THREAD}${unflatten('o', dims, names)}
  const u = a[${indexExpr(sa, names)}];
  const v = b[${indexExpr(sb, names)}];
  ${BINARY[op]}
  return res;`);
  rt.op(() => {
    const r = rt.run(key('binary', op, dims.join('x'), sa.join('x'), sb.join('x')), out.length, source,
      [rt.upload(a), rt.upload(b)]);
    rt.read(r, out);
    rt.keep(out, r);
  });
}
