/** 1-bit layers: binarizers with their estimators, BinaryConv2d, the CP and center losses, counting. */
export * from './binarizers.js';
export * from './binary-conv.js';
export * from './cp-loss.js';
export * from './center-loss.js';
export * from './count.js';
