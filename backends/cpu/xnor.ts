/** Bit-packed 1-bit convolution (placeholder: computes the float convolution of the signs; the
 *  XNOR-popcount kernel replaces it). Layout: one bit per input channel, wordsPerTap words per tap. */
import type { XnorConv2dGeometry } from '../backend.js';
import { conv2d } from './conv.js';

export function packWeights(w: Float32Array, packed: Uint32Array, g: XnorConv2dGeometry): void {
  const { K, C, R, S, groups, wordsPerTap } = g;
  const Cg = C / groups;
  packed.fill(0);
  for (let k = 0; k < K; k++) for (let r = 0; r < R; r++) for (let s = 0; s < S; s++) {
    const base = ((k * R + r) * S + s) * wordsPerTap;
    for (let c = 0; c < Cg; c++) {
      if (w[((k * Cg + c) * R + r) * S + s] < 0) packed[base + (c >>> 5)] |= 1 << (c & 31);
    }
  }
}

export function xnorConv2d(x: Float32Array, packedW: Uint32Array, alpha: Float32Array, y: Float32Array, g: XnorConv2dGeometry): void {
  const { K, C, R, S, groups, wordsPerTap } = g;
  const Cg = C / groups;
  const w = new Float32Array(K * Cg * R * S);
  for (let k = 0; k < K; k++) for (let r = 0; r < R; r++) for (let s = 0; s < S; s++) {
    const base = ((k * R + r) * S + s) * wordsPerTap;
    for (let c = 0; c < Cg; c++) {
      const neg = (packedW[base + (c >>> 5)] >>> (c & 31)) & 1;
      w[((k * Cg + c) * R + r) * S + s] = neg ? -1 : 1;
    }
  }
  const xs = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) xs[i] = x[i] >= 0 ? 1 : -1;
  conv2d(xs, w, y, g);
  const PQ = g.P * g.Q;
  for (let n = 0; n < g.N; n++) for (let k = 0; k < K; k++) {
    const a = alpha[k], base = (n * K + k) * PQ;
    for (let i = 0; i < PQ; i++) y[base + i] *= a;
  }
}
