/**
 * The chunk functions of every kernel that threads.ts may spread over threads, by job name: the table a
 * worker thread (thread-worker.ts) looks jobs up in. A kernel that gains a parallel path adds its
 * chunk function here under the name it passes to `parallel` (test/backends/cpu-threads.test.ts reads
 * every `parallel` call of backends/cpu and checks that its name finds its function here: a name
 * missing here stopped the pool at the first such call, and every later call ran on one thread).
 */
import { batchNormApplyChunk, batchNormBackwardChunk, batchNormStatsChunk } from './batchnorm.js';
import { copyRowsChunk, fillChunk } from './copy.js';
import { blockSumsChunk, runSumsChunk } from './reduce.js';
import { conv2dBackwardDataChunk, conv2dBackwardFilterChunk, conv2dChunk } from './conv.js';
import { activationGradChunk, binaryChunk, unaryChunk } from './elementwise.js';
import { depthwiseBackwardDataChunk, depthwiseBackwardFilterChunk, depthwiseForwardChunk } from './depthwise.js';
import { matmulChunk } from './gemm.js';
import { avgPool2dBackwardChunk, avgPool2dChunk, maxPool2dBackwardChunk, maxPool2dChunk } from './pool.js';
import type { ChunkFn } from './threads.js';
import { winogradChunk, winogradWeightsChunk } from './winograd.js';
import { xnorDepthwiseChunk } from './xnor-depthwise.js';
import { xnorPointwiseChunk } from './xnor-pointwise.js';
import { maxPool2dInferChunk } from './pool-infer.js';
import { affineChunk, groupMeanChunk, shiftPlanesChunk, sliceAddChunk } from './infer-ops.js';

export const CHUNK_FUNCTIONS: Record<string, ChunkFn> = {
  matmul: matmulChunk,
  conv2d: conv2dChunk,
  conv2dBackwardData: conv2dBackwardDataChunk,
  conv2dBackwardFilter: conv2dBackwardFilterChunk,
  winogradConv2d: winogradChunk,
  winogradWeights: winogradWeightsChunk,
  depthwiseForward: depthwiseForwardChunk,
  depthwiseBackwardData: depthwiseBackwardDataChunk,
  depthwiseBackwardFilter: depthwiseBackwardFilterChunk,
  maxPool2d: maxPool2dChunk,
  maxPool2dBackward: maxPool2dBackwardChunk,
  avgPool2d: avgPool2dChunk,
  avgPool2dBackward: avgPool2dBackwardChunk,
  batchNormStats: batchNormStatsChunk,
  batchNormApply: batchNormApplyChunk,
  batchNormBackward: batchNormBackwardChunk,
  unary: unaryChunk,
  activationGrad: activationGradChunk,
  binary: binaryChunk,
  xnorDepthwise: xnorDepthwiseChunk,
  xnorPointwise: xnorPointwiseChunk,
  maxPool2dInfer: maxPool2dInferChunk,
  groupMean: groupMeanChunk,
  sliceAdd: sliceAddChunk,
  affine: affineChunk,
  shiftPlanes: shiftPlanesChunk,
  copyRows: copyRowsChunk,
  blockSums: blockSumsChunk,
  runSums: runSumsChunk,
  fill: fillChunk,
};
