import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../core/index.js';
import { outSize, packedWeightWords, xnorGeometry, type Conv2dGeometry, type XnorConv2dGeometry } from '../../backends/backend.js';
import { filterRows, negBit, packInputSigns, packWeightSigns, popcount32, readBits, unpackWeightSigns, wordsFor } from '../../backends/cpu/bitpack.js';
import { packWeights, setXnorThreads, xnorConv2d, xnorThreadInfo } from '../../backends/cpu/xnor.js';
import { suite as xnorBench } from '../../bench/xnor.js';

/** Independent reference: direct float convolution with zero padding, float64 sums. */
function refConv(x: Float32Array, w: Float32Array, g: Conv2dGeometry): Float64Array {
  const { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q } = g;
  const Cg = C / groups, Kg = K / groups;
  const y = new Float64Array(N * K * P * Q);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
    const grp = Math.floor(k / Kg);
    for (let p = 0; p < P; p++) for (let q = 0; q < Q; q++) {
      let s = 0;
      for (let c = 0; c < Cg; c++) for (let r = 0; r < R; r++) for (let t = 0; t < S; t++) {
        const h = p * strideH - padH + r * dilationH, ww = q * strideW - padW + t * dilationW;
        if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
        s += x[((n * C + grp * Cg + c) * H + h) * W + ww] * w[((k * Cg + c) * R + r) * S + t];
      }
      y[((n * K + k) * P + p) * Q + q] = s;
    }
  }
  return y;
}

const signOf = (v: number): number => (v >= 0 ? 1 : -1);

interface Case {
  g: XnorConv2dGeometry;
  seed: number;
}

/** Channels per group: small, around the 32-bit word size, and a few large counts. */
const arbChannels = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 9 }) },
  { weight: 2, arbitrary: fc.constantFrom(31, 32, 33) },
  { weight: 1, arbitrary: fc.constantFrom(64, 70, 128) },
);

const arbCase: fc.Arbitrary<Case> = fc.record({
  N: fc.integer({ min: 1, max: 2 }),
  groups: fc.integer({ min: 1, max: 3 }),
  depthwise: fc.boolean(),
  cPer: arbChannels,
  kPer: fc.integer({ min: 1, max: 9 }),
  R: fc.integer({ min: 1, max: 3 }), S: fc.integer({ min: 1, max: 3 }),
  strideH: fc.integer({ min: 1, max: 3 }), strideW: fc.integer({ min: 1, max: 3 }),
  padH: fc.integer({ min: 0, max: 2 }), padW: fc.integer({ min: 0, max: 2 }),
  dilationH: fc.integer({ min: 1, max: 2 }), dilationW: fc.integer({ min: 1, max: 2 }),
  extraH: fc.integer({ min: 0, max: 5 }), extraW: fc.integer({ min: 0, max: 5 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
}).map((s) => {
  // depthwise: groups = C, one input channel per group (possibly a channel multiplier kPer)
  const groups = s.depthwise ? Math.min(s.cPer, 16) : s.groups;
  const cPer = s.depthwise ? 1 : s.cPer;
  const H = Math.max(1, s.dilationH * (s.R - 1) + 1 - 2 * s.padH) + s.extraH;
  const W = Math.max(1, s.dilationW * (s.S - 1) + 1 - 2 * s.padW) + s.extraW;
  const P = outSize(H, s.R, s.strideH, s.padH, s.dilationH), Q = outSize(W, s.S, s.strideW, s.padW, s.dilationW);
  const g = xnorGeometry({
    N: s.N, C: groups * cPer, H, W, K: groups * s.kPer, R: s.R, S: s.S, strideH: s.strideH, strideW: s.strideW,
    padH: s.padH, padW: s.padW, dilationH: s.dilationH, dilationW: s.dilationW, groups, P, Q,
  });
  return { g, seed: s.seed };
});

/** Random inputs with exact zeros and -0 mixed in (sign(0) = sign(-0) = +1). */
function inputs(g: XnorConv2dGeometry, seed: number): { x: Float32Array; w: Float32Array; alpha: Float32Array } {
  const rng = new Random(seed);
  const draw = (): number => {
    const u = rng.next();
    return u < 0.05 ? 0 : u < 0.1 ? -0 : rng.uniform(-2, 2);
  };
  const x = Float32Array.from({ length: g.N * g.C * g.H * g.W }, draw);
  const w = Float32Array.from({ length: g.K * (g.C / g.groups) * g.R * g.S }, draw);
  const alpha = Float32Array.from({ length: g.K }, () => rng.uniform(0.1, 2));
  return { x, w, alpha };
}

function runPacked(g: XnorConv2dGeometry, x: Float32Array, w: Float32Array, alpha: Float32Array): Float32Array {
  const packed = new Uint32Array(packedWeightWords(g));
  packWeights(w, packed, g);
  const y = new Float32Array(g.N * g.K * g.P * g.Q).fill(NaN);
  xnorConv2d(x, packed, alpha, y, g);
  return y;
}

function describeGeometry(g: XnorConv2dGeometry): string {
  return `N${g.N} C${g.C} ${g.H}x${g.W} K${g.K} ${g.R}x${g.S} stride ${g.strideH},${g.strideW} pad ${g.padH},${g.padW} ` +
    `dil ${g.dilationH},${g.dilationW} groups ${g.groups}`;
}

describe('bit packing', () => {
  it('counts bits and words', () => {
    expect([0, 1, 0xff, 0xffffffff, 0x80000000, 0x55555555].map(popcount32)).toEqual([0, 1, 8, 32, 1, 16]);
    expect([1, 31, 32, 33, 64, 70].map(wordsFor)).toEqual([1, 1, 1, 2, 2, 3]);
  });

  it('sets the bit for negative values and NaN only (sign(0) = sign(-0) = +1)', () => {
    const f = Float32Array.of(-1, -0, 0, 1, NaN, -Infinity, Infinity, -1e-40);
    expect(Array.from(f, negBit)).toEqual([1, 0, 0, 0, 1, 1, 0, 1]);
  });

  it('packs weight signs as one dense stream, bit (k * R * S + tap) * C/groups + c, and round-trips', () => {
    const g = xnorGeometry({ N: 1, C: 70, H: 3, W: 3, K: 3, R: 3, S: 2, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 1, P: 1, Q: 2 });
    const bits = 3 * 6 * 70;
    expect(packedWeightWords(g)).toBe(Math.ceil(bits / 32));
    const rng = new Random(3);
    const w = Float32Array.from({ length: bits }, () => rng.uniform(-1, 1));
    const packed = new Uint32Array(packedWeightWords(g) + 2).fill(0xffffffff);
    packWeightSigns(w, packed, g);
    for (let k = 0; k < 3; k++) for (let c = 0; c < 70; c++) for (let t = 0; t < 6; t++) {
      expect(readBits(packed, (k * 6 + t) * 70 + c, 1)).toBe(w[(k * 70 + c) * 6 + t] < 0 ? 1 : 0);
    }
    expect(packed[packedWeightWords(g) - 1] >>> (bits & 31)).toBe(0); // the last word's unused bits
    expect(packed[packedWeightWords(g)]).toBe(0xffffffff); // nothing past packedWeightWords is written
    const back = new Float32Array(w.length);
    unpackWeightSigns(packed, back, g);
    expect(Array.from(back)).toEqual(Array.from(w, signOf));
  });

  it('stores packed weights in at most 1/30 of the float bytes (conv_s, conv_m, conv_l, depthwise 3x3)', () => {
    const layers = {
      conv_s: { C: 16, K: 16, groups: 1 }, conv_m: { C: 64, K: 64, groups: 1 }, conv_l: { C: 128, K: 128, groups: 1 },
      dwconv: { C: 64, K: 64, groups: 64 }, dwconv_c3: { C: 3, K: 3, groups: 3 }, conv_c5: { C: 5, K: 7, groups: 1 },
    };
    for (const [name, l] of Object.entries(layers)) {
      const g = xnorGeometry({ N: 1, C: l.C, H: 3, W: 3, K: l.K, R: 3, S: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: l.groups, P: 3, Q: 3 });
      const floatBytes = 4 * l.K * (l.C / l.groups) * 9, packedBytes = 4 * packedWeightWords(g);
      if (!name.includes('_c')) expect(packedBytes / floatBytes, name).toBeLessThanOrEqual(1 / 30);
      expect(packedBytes / floatBytes, name).toBeLessThanOrEqual(1 / 32 + 4 / floatBytes); // 1/32, plus one word at most
    }
  });

  it('cuts the stream into filter rows of words for the kernel (bit t * C/groups + c of filter k\'s row)', () => {
    const g = xnorGeometry({ N: 1, C: 20, H: 3, W: 3, K: 6, R: 3, S: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 2, P: 3, Q: 3 });
    const rng = new Random(8);
    const w = Float32Array.from({ length: 6 * 10 * 9 }, () => rng.uniform(-1, 1));
    const packed = new Uint32Array(packedWeightWords(g));
    packWeightSigns(w, packed, g);
    const rowWords = 4; // 90 bits, and a zero word past them
    const rows = new Int32Array(6 * rowWords).fill(-1);
    filterRows(packed, rows, g, rowWords);
    for (let k = 0; k < 6; k++) {
      for (let bit = 0; bit < rowWords * 32; bit++) {
        const t = Math.floor(bit / 10), c = bit % 10;
        expect(readBits(rows, k * rowWords * 32 + bit, 1)).toBe(bit < 90 && w[(k * 10 + c) * 9 + t] < 0 ? 1 : 0);
      }
    }
  });

  it('packs input pixels NHWC by group', () => {
    const g = xnorGeometry({ N: 1, C: 4, H: 1, W: 5, K: 2, R: 1, S: 1, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 2, P: 1, Q: 5 });
    // channel c, pixel i: negative when (c + i) is odd
    const x = Float32Array.from({ length: 20 }, (_, j) => (((j / 5) | 0) + (j % 5)) % 2 ? -1 : 1);
    const out = new Uint32Array(5 * 2);
    packInputSigns(x, out, g);
    // pixel i, group 0 holds channels 0,1 in bits 0,1; group 1 holds channels 2,3
    expect(Array.from(out)).toEqual([0b10, 0b10, 0b01, 0b01, 0b10, 0b10, 0b01, 0b01, 0b10, 0b10]);
  });
});

describe('xnorConv2d (CPU)', () => {
  it('equals the float convolution of the signs exactly, times alpha (property)', () => {
    fc.assert(fc.property(arbCase, ({ g, seed }) => {
      const { x, w, alpha } = inputs(g, seed);
      const y = runPacked(g, x, w, alpha);
      const ref = refConv(x.map(signOf), w.map(signOf), g);
      const PQ = g.P * g.Q;
      for (let i = 0; i < y.length; i++) {
        const k = Math.floor(i / PQ) % g.K;
        const want = Math.fround(alpha[k] * ref[i]);
        if (y[i] !== want) {
          throw new Error(`${describeGeometry(g)}: y[${i}] = ${y[i]}, want ${want} (dot ${ref[i]})`);
        }
      }
    }), { numRuns: 150 });
  });

  it('handles C > 32 with every padding pattern exactly (33, 70, 128 channels, 3x3 pad 1 and 2)', () => {
    for (const C of [33, 70, 128]) {
      for (const pad of [1, 2]) {
        const g = xnorGeometry({ N: 2, C, H: 5, W: 6, K: 7, R: 3, S: 3, strideH: 1, strideW: 1, padH: pad, padW: pad, dilationH: 1, dilationW: 1, groups: 1, P: 5 + 2 * pad - 2, Q: 6 + 2 * pad - 2 });
        const { x, w } = inputs(g, C * 10 + pad);
        const ones = new Float32Array(g.K).fill(1);
        const y = runPacked(g, x, w, ones);
        expect(Array.from(y)).toEqual(Array.from(refConv(x.map(signOf), w.map(signOf), g)));
      }
    }
  });

  it('gives the same answer when scratch buffers are reused across geometries', () => {
    const big = xnorGeometry({ N: 2, C: 40, H: 6, W: 6, K: 9, R: 3, S: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 1, P: 6, Q: 6 });
    const small = xnorGeometry({ N: 1, C: 3, H: 4, W: 4, K: 2, R: 1, S: 1, strideH: 2, strideW: 2, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 1, P: 2, Q: 2 });
    const a = inputs(big, 1), b = inputs(small, 2);
    const y1 = runPacked(big, a.x, a.w, a.alpha);
    runPacked(small, b.x, b.w, b.alpha);
    const y2 = runPacked(big, a.x, a.w, a.alpha);
    expect(Array.from(y2)).toEqual(Array.from(y1));
  });

  it('covers every blocking of the work exactly: many filters, many positions, rows over 65535 bits', () => {
    const ones = (n: number) => new Float32Array(n).fill(1);
    const check = (g: XnorConv2dGeometry, seed: number): void => {
      const { x, w } = inputs(g, seed);
      const y = runPacked(g, x, w, ones(g.K));
      const ref = refConv(x.map(signOf), w.map(signOf), g);
      for (let i = 0; i < y.length; i++) if (y[i] !== ref[i]) throw new Error(`${describeGeometry(g)}: y[${i}] = ${y[i]}, want ${ref[i]}`);
    };
    const conv = (N: number, C: number, HW: number, K: number, groups: number, R = 3): XnorConv2dGeometry => xnorGeometry({
      N, C, H: HW, W: HW, K, R, S: R, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups,
      P: HW + 3 - R, Q: HW + 3 - R,
    });
    check(conv(1, 17, 3, 140, 1), 11); // 140 filters: three blocks of filters, six to a table word
    check(conv(1, 10, 4, 2 * 137, 2), 12); // the same per group
    check(conv(16, 3, 16, 65, 1), 13); // 4096 positions x 65 filters: two blocks of positions
    check(conv(1, 7300, 2, 3, 1), 14); // 65700 bits per row: counted in two segments
    // depthwise rows built from bit rows longer than a word (W + 2 * padW > 32), with and without dilation
    const wide = (stride: number, pad: number, dil: number): XnorConv2dGeometry => xnorGeometry({
      N: 2, C: 3, H: 5, W: 40, K: 6, R: 3, S: 3, strideH: stride, strideW: stride, padH: pad, padW: pad,
      dilationH: dil, dilationW: dil, groups: 3, P: outSize(5, 3, stride, pad, dil), Q: outSize(40, 3, stride, pad, dil),
    });
    check(wide(1, 1, 1), 15);
    check(wide(2, 2, 2), 16);
    check(wide(3, 2, 1), 17);
  });

  it('splits large calls across two threads with the one-thread result', async () => {
    // large enough for the pool (M * K * rowWords >= 2^20), odd position count, two groups
    const g = xnorGeometry({ N: 5, C: 96, H: 15, W: 15, K: 80, R: 3, S: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 2, P: 15, Q: 15 });
    const { x, w, alpha } = inputs(g, 5);
    const prev = setXnorThreads(1);
    try {
      const one = runPacked(g, x, w, alpha);
      setXnorThreads(2);
      runPacked(g, x, w, alpha); // starts the worker; this call may not see it yet
      await new Promise((r) => setTimeout(r, 300));
      const before = xnorThreadInfo().workerChunks;
      // until the worker takes part (calls after one where it took none run on one thread for a while)
      for (let i = 0; i < 40 && xnorThreadInfo().workerChunks === before; i++) {
        expect(Array.from(runPacked(g, x, w, alpha))).toEqual(Array.from(one));
      }
      const info = xnorThreadInfo();
      // still two threads: the worker ran the kernel's source without an error (one would switch it off)
      expect(info.threads).toBe(2);
      // the worker takes part unless the machine starves it; the answer is right either way
      expect(info.workerChunks).toBeGreaterThanOrEqual(before);
    } finally {
      setXnorThreads(prev);
    }
  });
});

describe('bench/xnor.ts', () => {
  it('reports the packed weights as a fraction of the float weights on every row (1/30 or less)', async () => {
    const rows = await xnorBench.run({ quick: true, filter: 'xnor_fwd' });
    const names = rows.map((r) => r.bench);
    expect(names).toEqual(expect.arrayContaining(['conv_s.xnor_fwd', 'conv_m.xnor_fwd', 'conv_l.xnor_fwd', 'dwconv_m.xnor_fwd']));
    for (const r of rows) {
      const m = /packed weights (\d+) B = 1\/([\d.]+) of float (\d+) B/.exec(r.note ?? '');
      expect(m, `${r.bench}: ${r.note}`).not.toBeNull();
      expect(Number(m![3]) / Number(m![1])).toBeGreaterThanOrEqual(30);
      expect(r.note).toMatch(/thread.*cpu [\d.]+ ms/);
    }
  });
});
