/** A convolution's geometry as the integer parameters of a thread job (threads.ts), and how many chunks its work is cut into. */
import type { Conv2dGeometry } from '../backend.js';
import { chunksFor } from './threads.js';

/** The geometry as the integer parameters of a job (and back). */
export function geometryParams(g: Conv2dGeometry): number[] {
  return [g.N, g.C, g.H, g.W, g.K, g.R, g.S, g.strideH, g.strideW, g.padH, g.padW, g.dilationH, g.dilationW, g.groups, g.P, g.Q];
}

export function geometryOf(p: number[]): Conv2dGeometry {
  const [N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q] = p;
  return { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q };
}

/** Multiply-adds of a convolution (forward; each gradient costs the same). */
export function convMacs(g: Conv2dGeometry): number {
  return g.N * g.K * g.P * g.Q * (g.C / g.groups) * g.R * g.S;
}

/** Chunks for `units` independent pieces of a convolution's work (1 when it is too small to share). */
export function convChunks(g: Conv2dGeometry, units: number): number {
  return chunksFor(convMacs(g), units);
}

