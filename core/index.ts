export { Tensor, checkTensor, type NestedArray } from './tensor.js';
export { allocFloat32, allocOutput, fillFloat32, releaseFloat32, storageSettings } from './alloc.js';
export { attach, backward, enableGrad, isGradEnabled, needsGrad, noGrad, type GradNode } from './autograd.js';
export { CpnasError, check, shapeStr } from './errors.js';
export { debugNumerics, setDebugNumerics } from './numerics.js';
export { MemoryStorage, basenameOf, dirnameOf, getStorage, joinPath, setStorage, type LockHandle, type LockOwner, type Storage } from './storage.js';
export { Random, defaultRandom, manualSeed } from './random.js';
export {
  assertValidShape, broadcastShapes, normalizeAxes, reducedShape, shapesEqual, sizeOf, stridesOf, type Shape,
} from './shape.js';
export { getBackend, listBackends, registerBackend, setBackend, withBackend } from '../backends/registry.js';
export type { Backend, BinaryOp, Conv2dGeometry, GradOp, Pool2dGeometry, UnaryOp, XnorConv2dGeometry } from '../backends/backend.js';
