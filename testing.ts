/**
 * `cpnas/testing`: helpers for property-testing operations, kept out of the main entry because they
 * need fast-check, an optional peer dependency (`npm install --save-dev fast-check`). The main
 * entry `cpnas` imports no test library.
 *
 * ```ts
 * import fc from 'fast-check';
 * import { gradCheck, tanh } from 'cpnas';
 * import { arbShape, arbTensor } from 'cpnas/testing';
 * fc.assert(fc.property(arbShape().chain((s) => arbTensor(s)), (x) => gradCheck((t) => tanh(t), [x]).ok));
 * ```
 */
export * from './ops/arbitraries.js';
export { gradCheck, formatGradCheck, type GradCheckOptions, type GradCheckReport } from './ops/gradcheck.js';
