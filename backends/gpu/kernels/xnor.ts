/**
 * The XNOR-popcount convolution, for the gpu.js modes with real integer bit operations (webasm: wasm
 * i32 ops; cpu: JavaScript's). GLSL ES 1.00, all that headless-gl offers, has no bit operations
 * (gpu.js emulates `^` and `>>` there with 32-step arithmetic loops), so the GL modes use the CPU kernel.
 *
 * gpu.js arrays hold float32, which is exact for integers below 2^24 only, so signs travel in 24-bit
 * chunks. A first kernel packs the input's signs ([N, groups, H, W, chunks], bit set where x < 0 or
 * NaN); the weights' packed bit stream (the CPU backend's format) is re-chunked on the host; the
 * convolution kernel computes, per output, alpha[k] * sum over in-image taps of
 * (Cg - 2 * popcount(xbits ^ wbits)).
 * Padded taps are skipped, so they contribute 0 as the float convolution of the signs does.
 */
import { packedWeightWords, type XnorConv2dGeometry } from '../../backend.js';
import { packWeights as cpuPackWeights } from '../../cpu/xnor.js';
import type { GpuRuntime } from '../runtime.js';
import { THREAD, divmod, kernelSource, key, unflatten } from '../codegen.js';

const BITS = 24;

/**
 * The packed-weight format this kernel reads (backends/cpu/bitpack.ts documents it): one dense bit
 * stream, channel c of tap (r, s) of filter k at bit ((k * R + r) * S + s) * Cg + c (bit i in bit
 * (i & 31) of word i >>> 5), set where w < 0 or NaN (sign -1).
 */
function layoutPack(w: Float32Array, packed: Uint32Array, g: XnorConv2dGeometry): void {
  const { K, C, R, S, groups } = g;
  const Cg = C / groups;
  packed.fill(0);
  for (let k = 0; k < K; k++) for (let r = 0; r < R; r++) for (let s = 0; s < S; s++) {
    const tap = ((k * R + r) * S + s) * Cg;
    for (let c = 0; c < Cg; c++) {
      if (!(w[((k * Cg + c) * R + r) * S + s] >= 0)) packed[(tap + c) >>> 5] |= 1 << ((tap + c) & 31);
    }
  }
}

let layoutChecked: boolean | null = null;

/** Whether the CPU backend's packWeights still writes the layout this kernel reads (checked once). */
export function cpuLayoutMatches(): boolean {
  if (layoutChecked === null) {
    const g: XnorConv2dGeometry = {
      N: 1, C: 74, H: 4, W: 4, K: 4, R: 2, S: 3, strideH: 1, strideW: 1, padH: 0, padW: 0,
      dilationH: 1, dilationW: 1, groups: 2, P: 3, Q: 2, wordsPerTap: 2,
    };
    const w = new Float32Array(g.K * (g.C / g.groups) * g.R * g.S);
    for (let i = 0; i < w.length; i++) w[i] = (i * 7919) % 13 < 6 ? -1 - (i % 3) : 0.5 + (i % 5);
    const want = new Uint32Array(packedWeightWords(g));
    const got = new Uint32Array(want.length);
    layoutPack(w, want, g);
    try {
      cpuPackWeights(w, got, g);
      layoutChecked = want.every((v, i) => v === got[i]);
    } catch {
      layoutChecked = false;
    }
  }
  return layoutChecked;
}

/** Re-chunks the packed weight stream into 24-bit float-exact words: [K, R, S, chunks]. */
function chunkWeights(packed: Uint32Array, g: XnorConv2dGeometry, chunks: number): Float32Array {
  const { K, C, R, S, groups } = g;
  const Cg = C / groups;
  const out = new Float32Array(K * R * S * chunks);
  for (let tap = 0; tap < K * R * S; tap++) {
    const src = tap * Cg, dst = tap * chunks;
    for (let c = 0; c < Cg; c++) {
      if ((packed[(src + c) >>> 5] >>> ((src + c) & 31)) & 1) out[dst + Math.floor(c / BITS)] += 2 ** (c % BITS);
    }
  }
  return out;
}

export function xnorConv2d(
  rt: GpuRuntime, x: Float32Array, packedW: Uint32Array, alpha: Float32Array, y: Float32Array, g: XnorConv2dGeometry,
): void {
  const { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q } = g;
  const Cg = C / groups, Kg = K / groups;
  const chunks = Math.ceil(Cg / BITS);
  const packSource = () => kernelSource(['x'], `${THREAD}${unflatten('o', [N, groups, H, W, chunks], ['n', 'grp', 'h', 'col', 'j'])}
  let word = 0.0;
  let bit = 1.0;
  for (let b = 0; b < ${BITS}; b++) {
    const c = j * ${BITS} + b;
    if (c < ${Cg}) {
      // sign -1 for x < 0 and NaN, as the CPU kernel has it
      if (x[((n * ${C} + grp * ${Cg} + c) * ${H} + h) * ${W} + col] >= 0.0) {
        word += 0.0;
      } else {
        word += bit;
      }
    }
    bit = bit * 2.0;
  }
  return word;`);
  const convSource = () => kernelSource(['xb', 'wb', 'alpha'], `${THREAD}${unflatten('o', [N, K, P, Q], ['n', 'k', 'p', 'q'])}
  ${groups === 1 ? 'let grp = 0;' : divmod('grp', 'kInGroup', 'k', Kg)}
  const h0 = p * ${strideH} - ${padH};
  const w0 = q * ${strideW} - ${padW};
  let taps = 0.0;
  let mismatches = 0.0;
  for (let r = 0; r < ${R}; r++) {
    const h = h0 + r * ${dilationH};
    if (h >= 0 && h < ${H}) {
      for (let t = 0; t < ${S}; t++) {
        const col = w0 + t * ${dilationW};
        if (col >= 0 && col < ${W}) {
          taps += 1.0;
          const xBase = (((n * ${groups} + grp) * ${H} + h) * ${W} + col) * ${chunks};
          const wBase = ((k * ${R} + r) * ${S} + t) * ${chunks};
          for (let j = 0; j < ${chunks}; j++) {
            let v = xb[xBase + j] ^ wb[wBase + j];
            v = v - ((v >> 1) & 5592405);
            v = (v & 3355443) + ((v >> 2) & 3355443);
            v = (v + (v >> 4)) & 986895;
            v = (v + (v >> 8) + (v >> 16)) & 63;
            mismatches += v;
          }
        }
      }
    }
  }
  return alpha[k] * (taps * ${Cg} - 2.0 * mismatches);`);
  const xBits = N * groups * H * W * chunks;
  rt.op(() => {
    const xb = rt.run(key('xnorPackInput', N, C, H, W, groups), xBits, packSource, [rt.upload(x)]);
    const wb = rt.upload(chunkWeights(packedW, g, chunks), true);
    const r = rt.run(key('xnorConv2d', N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups),
      y.length, convSource, [xb, wb, rt.upload(alpha)]);
    rt.read(r, y);
    rt.keep(y, r);
  });
}
