/** The differentiable operations, layers, optimizers and gradient checking of cpnas. */
export * from './arithmetic.js';
export * from './unary.js';
export * from './reduce.js';
export * from './shape.js';
export * from './matmul.js';
export * from './conv.js';
export * from './pool.js';
export * from './batchnorm.js';
export * from './softmax.js';
export * from './loss.js';
export * from './dropout.js';
export { sumTo } from './broadcast.js';
export * from './gradcheck.js';
export { Module } from './module.js';
export {
  AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, GlobalAvgPool2d, Identity, Linear, MaxPool2d, ReLU, Sequential,
  type BatchNorm2dOptions, type Conv2dOptions as Conv2dLayerOptions, type PoolOptions,
} from './layers.js';
export * from './state.js';
export { encodeSafetensors, decodeSafetensors } from './safetensors.js';
export * from './optim/optimizer.js';
export * from './optim/sgd.js';
export * from './optim/adam.js';
export * from './optim/clip.js';
export * from './optim/schedule.js';
