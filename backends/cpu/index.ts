/** The CPU backend: every kernel in plain TypeScript on typed arrays, large calls spread over the
 *  threads of threads.ts; the hottest ones also in WebAssembly SIMD (simd/, the same values). */
import type { Backend } from '../backend.js';
import { batchNormApply, batchNormBackward, batchNormStats } from './batchnorm.js';
import { conv2d, conv2dBackwardData, conv2dBackwardFilter } from './conv.js';
import { copyRows, fill } from './copy.js';
import { activationGrad, binary, unary } from './elementwise.js';
import { matmul } from './gemm.js';
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward } from './pool.js';
import { max, sum } from './reduce.js';
import { allocFloat32, getThreads, releaseFloat32, setThreads } from './threads.js';
import { packWeights, xnorConv2d } from './xnor.js';
import { setSimd, simdEnabled, simdWanted } from './simd/simd.js';
import { gemmSums, setGemmSums, type GemmSums } from './sums.js';

export const cpuBackend: Backend = {
  name: 'cpu',
  describe: () => `cpu (plain TypeScript${simdEnabled() ? ', WebAssembly SIMD' : ''}${gemmSums() === 'float32' ? ', float32 GEMM sums' : ''})`,
  allocFloat32,
  releaseFloat32,
  threads: (n?: number) => (n === undefined ? getThreads() : setThreads(n)),
  simd: (on?: boolean) => {
    const was = simdWanted();
    if (on !== undefined) setSimd(on);
    return was;
  },
  gemmSums: (s?: GemmSums) => {
    const was = gemmSums();
    if (s !== undefined) setGemmSums(s);
    return was;
  },
  matmul,
  conv2d,
  conv2dBackwardData,
  conv2dBackwardFilter,
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  unary,
  activationGrad,
  binary,
  sum,
  max,
  batchNormStats,
  batchNormApply,
  batchNormBackward,
  packWeights,
  xnorConv2d,
  copyRows,
  fill,
};
