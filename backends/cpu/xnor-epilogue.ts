/**
 * What the inference engine's packed convolutions write (binary/runtime): the float value of every
 * output, computed from its integer dot product of signs in one pass, with the layers that follow a
 * 1-bit convolution folded in:
 *
 *     y[n, yC0 + k, pq] = A[k] * dot[n, k, pq] + B[k] + R[k] * res[n, resC0 + k, pq]
 *
 * A[k] = alpha_k times the BN scale, B[k] the BN shift, and `res` the real-valued shortcut of a Bi-Real
 * unit (R = 1, or the BN scale where BN follows the sum). The output and the shortcut may be channel
 * slices of larger buffers (a cell's concatenation is written in place).
 */
import type { JobArg, JobArray } from './threads.js';
export interface PackedEpilogue {
  A: Float32Array;
  B: Float32Array;
  /** The shortcut added after the affine map, or null. */
  res: Float32Array | null;
  /** Per-channel factor of the shortcut (null: 1). */
  resScale: Float32Array | null;
  /** Channels of the buffer `res` lives in, and the first of this convolution's. */
  resChannels: number;
  resC0: number;
  /** Channels of the output buffer, and the first this convolution writes. */
  yChannels: number;
  yC0: number;
  /**
   * Set: write sign bits instead of floats (the next layer binarizes this output again). Output k of
   * a position is negative (bit set) where dir[k] * dot < val[k]: the BN + sign of the next layer
   * folded into an integer threshold on the dot product (dir = -1 where the BN scale is negative, the
   * comparison flipped; dir = 0 for a constant sign, val 1 for -1 and 0 for +1). The bits go to
   * `out` in the plane layout of packedPlaneWords: [N][K][P][ceil(Q/32)] words, bit q & 31 of word
   * q >>> 5 for column q, the unused high bits clear.
   */
  bits: PackedOutput | null;
}

export interface PackedOutput {
  out: Int32Array;
  dir: Float32Array;
  val: Float32Array;
}

/** Words of a sign-bit plane buffer [N][C][H][ceil(W/32)] (the inference engine's packed activations). */
export function packedPlaneWords(N: number, C: number, H: number, W: number): number {
  return N * C * H * ((W + 31) >>> 5);
}

/**
 * The threshold form of sign(A * dot + B) over integer dots: {dir, val} with bit (sign -1) set
 * exactly where dir * dot < val, evaluating A * dot + B >= 0 as the float epilogue does (doubles).
 */
export function signThreshold(A: number, B: number): { dir: number; val: number } {
  const nonNeg = (d: number): boolean => A * d + B >= 0;
  const LIMIT = 1 << 24;
  if (A > 0) { // non-negative from T on: bit where dot < T
    let T = Math.min(LIMIT, Math.max(-LIMIT, Math.ceil(-B / A)));
    while (T > -LIMIT && nonNeg(T - 1)) T--;
    while (T < LIMIT && !nonNeg(T)) T++;
    return { dir: 1, val: T };
  }
  if (A < 0) { // non-negative up to T: bit where dot > T, i.e. -dot < -T
    let T = Math.min(LIMIT, Math.max(-LIMIT, Math.floor(-B / A)));
    while (T < LIMIT && nonNeg(T + 1)) T++;
    while (T > -LIMIT && !nonNeg(T)) T--;
    return { dir: -1, val: -T };
  }
  return { dir: 0, val: B >= 0 ? 0 : 1 };
}

/** Unpacks a plane-bit buffer into ±1 floats [N, C, H, W]. */
export function unpackPlanes(bits: Int32Array, x: Float32Array, NC: number, H: number, W: number): void {
  const RW = (W + 31) >>> 5;
  for (let p = 0; p < NC * H; p++) {
    for (let w = 0; w < W; w++) x[p * W + w] = (bits[p * RW + (w >>> 5)] >>> (w & 31)) & 1 ? -1 : 1;
  }
}

/** Packs float values [N, C, H, W] to plane bits by the threshold rule of `o` (channel c = plane % C). */
export function packPlanesByThreshold(v: Float32Array, o: PackedOutput, N: number, C: number, H: number, W: number): void {
  const RW = (W + 31) >>> 5;
  o.out.fill(0, 0, N * C * H * RW);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
    const d = o.dir[c], t = o.val[c], plane = (n * C + c) * H;
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      if (d * v[((plane + h) * W) + w] < t) o.out[(plane + h) * RW + (w >>> 5)] |= 1 << (w & 31);
    }
  }
}

/** An epilogue writing all K channels of a [N, K, P, Q] buffer, with no shortcut. */
export function plainEpilogue(A: Float32Array, B: Float32Array, K: number): PackedEpilogue {
  return { A, B, res: null, resScale: null, resChannels: K, resC0: 0, yChannels: K, yC0: 0, bits: null };
}

/**
 * Applies the epilogue to raw values v = alpha-free dots already in `y` at [N, K, PQ] (used after the
 * general xnorConv2d kernel, called with alpha = 1): `raw` and `y` may not alias unless the layouts agree.
 */
export function applyEpilogue(raw: Float32Array, y: Float32Array, N: number, K: number, PQ: number, e: PackedEpilogue): void {
  const { A, B, res, resScale } = e;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const a = A[k], b = B[k], src = (n * K + k) * PQ, dst = (n * e.yChannels + e.yC0 + k) * PQ;
      if (res) {
        const r = resScale ? resScale[k] : 1, ro = (n * e.resChannels + e.resC0 + k) * PQ;
        for (let i = 0; i < PQ; i++) y[dst + i] = a * raw[src + i] + b + r * res[ro + i];
      } else {
        for (let i = 0; i < PQ; i++) y[dst + i] = a * raw[src + i] + b;
      }
    }
  }
}

// ---- an epilogue as a thread job's arguments (threads.ts carries typed arrays and integers only) ----

const NONE = new Float32Array(0);

/** The epilogue's arrays as job arguments (absent ones as empty arrays), in the order `epilogueOf` reads. */
export function epilogueArgs(e: PackedEpilogue): JobArg[] {
  const b = e.bits;
  return [
    { a: e.A }, { a: e.B }, { a: e.res ?? NONE }, { a: e.resScale ?? NONE },
    // chunks write disjoint channel ranges of buffers that may be larger (concatenations): read-write
    { a: b ? b.out : NONE, inout: true }, { a: b ? b.dir : NONE }, { a: b ? b.val : NONE },
  ];
}

/** The epilogue's integers: channel layout and which parts are present. */
export function epilogueParams(e: PackedEpilogue): number[] {
  return [e.resChannels, e.resC0, e.yChannels, e.yC0, e.res ? 1 : 0, e.resScale ? 1 : 0, e.bits ? 1 : 0];
}

/** Rebuilds the epilogue of a job from `epilogueArgs` (arrays from index a0) and `epilogueParams` (from p0). */
export function epilogueOf(arrays: JobArray[], a0: number, params: number[], p0: number): PackedEpilogue {
  const [resChannels, resC0, yChannels, yC0, hasRes, hasScale, hasBits] = params.slice(p0, p0 + 7);
  const f = (i: number): Float32Array => arrays[a0 + i] as Float32Array;
  return {
    A: f(0), B: f(1), res: hasRes ? f(2) : null, resScale: hasScale ? f(3) : null, resChannels, resC0, yChannels, yC0,
    bits: hasBits ? { out: arrays[a0 + 4] as Int32Array, dir: f(5), val: f(6) } : null,
  };
}
