/** The CPU backend: every kernel in plain TypeScript on typed arrays. */
import type { Backend } from '../backend.js';
import { batchNormStats } from './batchnorm.js';
import { conv2d, conv2dBackwardData, conv2dBackwardFilter } from './conv.js';
import { binary, unary } from './elementwise.js';
import { matmul } from './gemm.js';
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dBackward } from './pool.js';
import { max, sum } from './reduce.js';
import { packWeights, xnorConv2d } from './xnor.js';

export const cpuBackend: Backend = {
  name: 'cpu',
  describe: () => 'cpu (plain TypeScript)',
  matmul,
  conv2d,
  conv2dBackwardData,
  conv2dBackwardFilter,
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  unary,
  binary,
  sum,
  max,
  batchNormStats,
  packWeights,
  xnorConv2d,
};
