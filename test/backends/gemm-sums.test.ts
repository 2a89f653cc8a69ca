/**
 * The GEMM's float32 sums (backends/cpu/sums.ts, gemm.ts kernel4x4F32, simd/float.wat gemmBlockF32):
 * exactly the float32 arithmetic a plain loop does (each product rounded, then each addition, over each
 * depth block of the GEMM, then added into C), the same bits with SIMD on and off and on 1 and 2
 * threads (the workers follow the caller's choice), and close to the float64 sums.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { conv2d, conv2dBackwardData, conv2dBackwardFilter } from '../../backends/cpu/conv.js';
import { matmul } from '../../backends/cpu/gemm.js';
import { setSimd, simdWanted } from '../../backends/cpu/simd/simd.js';
import { GEMM_SUMS, gemmSums, setGemmSums } from '../../backends/cpu/sums.js';
import { allocFloat32, threadInfo, threadSettings } from '../../backends/cpu/threads.js';
import { splitEveryCallOnTwoThreads } from './two-threads.js';
import { Random } from '../../core/index.js';
import { conv2dGeometry } from '../../ops/conv.js';

const initialSums = gemmSums(), initialSimd = simdWanted();
afterEach(() => {
  setGemmSums(initialSums);
  setSimd(initialSimd);
});

function rand(n: number, seed: number): Float32Array {
  const rng = new Random(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

function sameBits(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/**
 * C = A · B (A M x K, B K x N, row-major) in float32 as the GEMM sums: K cut into near-equal depth
 * blocks no deeper than 256; per block a float32 sum from 0 in k order of float32 products; each
 * block's sum added into C (float32).
 */
function float32Reference(a: Float32Array, b: Float32Array, M: number, K: number, N: number, transB = false): Float32Array {
  const f = Math.fround, out = new Float32Array(M * N);
  const blocks = Math.ceil(K / 256), step = Math.ceil(K / blocks);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let c = 0;
      for (let k0 = 0; k0 < K; k0 += step) {
        let s = 0;
        for (let k = k0; k < Math.min(K, k0 + step); k++) s = f(s + f(a[i * K + k] * b[transB ? j * K + k : k * N + j]));
        c = f(c + s);
      }
      out[i * N + j] = c;
    }
  }
  return out;
}

const shapes = fc.record({
  M: fc.integer({ min: 1, max: 70 }), K: fc.integer({ min: 1, max: 600 }), N: fc.integer({ min: 1, max: 40 }),
  simd: fc.boolean(), transB: fc.boolean(), seed: fc.integer({ min: 0, max: 1e6 }),
});

describe('GEMM float32 sums', () => {
  it('are the float32 arithmetic of a plain loop, bit for bit, with SIMD on and off', () => {
    // B stored K x N is read as its rows (gemm.ts stageRows), B stored N x K through packed panels
    setGemmSums('float32');
    fc.assert(fc.property(shapes, ({ M, K, N, simd, transB, seed }) => {
      setSimd(simd);
      const a = rand(M * K, seed), b = rand(K * N, seed + 1), out = new Float32Array(M * N).fill(NaN);
      matmul(a, b, out, 1, M, K, N, false, transB, 0, 0);
      expect(sameBits(out, float32Reference(a, b, M, K, N, transB))).toBe(-1);
    }), { numRuns: 80, seed: 21 });
  });

  it('past the GEMM blocks too (N > 512 columns, M > 64 rows; 8-wide tiles and their edges)', () => {
    setGemmSums('float32');
    // [5, 300, 1030]: B's rows of 512 columns 1,030 apart, copied one by one; the others in one span
    for (const [M, K, N] of [[67, 9, 531], [5, 300, 1030], [64, 16, 1024], [3, 2, 13]]) {
      const a = rand(M * K, M), b = rand(K * N, N);
      for (const transB of [false, true]) {
        const want = float32Reference(a, b, M, K, N, transB);
        for (const simd of [true, false]) {
          setSimd(simd);
          const out = new Float32Array(M * N).fill(NaN);
          matmul(a, b, out, 1, M, K, N, false, transB, 0, 0);
          expect(sameBits(out, want), `${M}x${K}x${N} transB ${transB} simd ${simd}`).toBe(-1);
        }
      }
    }
  });

  it('differ from the float64 sums by float32 rounding only (K · 2^-23 of the sum of |terms|)', () => {
    fc.assert(fc.property(shapes, ({ M, K, N, seed }) => {
      const a = rand(M * K, seed), b = rand(K * N, seed + 1);
      const o32 = new Float32Array(M * N), o64 = new Float32Array(M * N);
      setGemmSums('float32');
      matmul(a, b, o32, 1, M, K, N, false, false, 0, 0);
      setGemmSums('float64');
      matmul(a, b, o64, 1, M, K, N, false, false, 0, 0);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let abs = 0;
          for (let k = 0; k < K; k++) abs += Math.abs(a[i * K + k] * b[k * N + j]);
          expect(Math.abs(o32[i * N + j] - o64[i * N + j])).toBeLessThanOrEqual((K + 1) * 2 ** -23 * abs + 1e-30);
        }
      }
    }), { numRuns: 40, seed: 22 });
  });

  it('refuses an unknown setting, naming the values it takes', () => {
    expect(() => setGemmSums('float16' as never)).toThrow(/setGemmSums: expected float64 or float32, got 'float16'/);
    expect(GEMM_SUMS).toEqual(['float64', 'float32']);
  });
});

describe('GEMM float32 sums on 2 threads', () => {
  splitEveryCallOnTwoThreads();

  it('give the bits of 1 thread: the workers sum as the caller says (convolutions and matmul)', () => {
    const before = threadInfo().workerChunks;
    const g = conv2dGeometry('test', [6, 24, 9, 9], [16, 24, 3, 3], { padding: 1 });
    const g1 = conv2dGeometry('test', [6, 24, 9, 9], [16, 24, 1, 1], {});
    const x = rand(6 * 24 * 81, 1), w = rand(16 * 24 * 9, 2), w1 = rand(16 * 24, 3), dy = rand(6 * 16 * 81, 4);
    const a = allocFloat32(3 * 40 * 70), b = allocFloat32(70 * 300);
    a.set(rand(a.length, 5));
    b.set(rand(b.length, 6));
    const run = (): Float32Array[] => {
      const outs = [new Float32Array(6 * 16 * 81), new Float32Array(6 * 16 * 81), new Float32Array(x.length), new Float32Array(w.length), new Float32Array(3 * 40 * 300), new Float32Array(40 * 300)];
      conv2d(x, w, outs[0], g);
      conv2d(x, w1, outs[1], g1);
      conv2dBackwardData(dy, w, outs[2], g);
      conv2dBackwardFilter(x, dy, outs[3], g);
      matmul(a, b, outs[4], 3, 40, 70, 300, false, false, 40 * 70, 0);
      matmul(a, b, outs[5], 1, 40, 70, 300, false, false, 0, 0);
      return outs;
    };
    setGemmSums('float64');
    const exact = run();
    setGemmSums('float32');
    const minWork = threadSettings.minWork;
    threadSettings.minWork = Infinity;
    const one = run();
    threadSettings.minWork = minWork;
    // until the worker has taken chunks of every call in float32 (a caller that finishes a small call
    // before the worker wakes takes every chunk itself)
    for (let round = 0; round < 20; round++) {
      const before = threadInfo().workerChunks;
      const two = run();
      for (let i = 0; i < one.length; i++) {
        expect(sameBits(two[i], one[i]), `output ${i}`).toBe(-1);
        // the two settings do differ here, so a worker summing in float64 would be caught
        expect(sameBits(exact[i], one[i]), `output ${i} float64`).not.toBe(-1);
      }
      if (threadInfo().workerChunks >= before + 12) break;
    }
    expect(threadInfo().workerChunks).toBeGreaterThan(before + 12);
  });
});
