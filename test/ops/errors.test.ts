import { describe, expect, it } from 'vitest';
import { CpnasError, Tensor } from '../../core/index.js';
import { batchNorm2d } from '../../ops/batchnorm.js';
import { dropPath } from '../../ops/dropout.js';
import { crossEntropy, mse } from '../../ops/loss.js';
import { avgPool2d, globalAvgPool2d, maxPool2d } from '../../ops/pool.js';
import { sum } from '../../ops/reduce.js';
import { concat, pad, permute, reshape, slice } from '../../ops/shape.js';
import { softmax } from '../../ops/softmax.js';

/** Runs `fn`, expecting a CpnasError raised at `op` whose message names every shape in `shapes`. */
function expectShapeError(op: string, shapes: string[], fn: () => unknown) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `${op} should throw`).toBeInstanceOf(CpnasError);
  const e = err as CpnasError;
  expect(e.where).toBe(op);
  expect(e.message.startsWith(`${op}: `)).toBe(true);
  for (const s of shapes) expect(e.message).toContain(s);
}

describe('a wrong shape throws at the op, naming the op and the shapes', () => {
  const img = Tensor.zeros([2, 3, 4, 4]);
  const cases: [string, string[], () => unknown][] = [
    ['reshape', ['[2,3,4,4]', '[5,-1]'], () => reshape(img, [5, -1])],
    ['permute', ['[2,3,4,4]', '[0,1]'], () => permute(img, [0, 1])],
    ['slice', ['[2,3,4,4]'], () => slice(img, 1, 0, 4)],
    ['concat', ['[2,3,4,4]', '[2,3,5,5]'], () => concat([img, Tensor.zeros([2, 3, 5, 5])], 1)],
    ['pad', ['[2,3,4,4]'], () => pad(img, [[1, 1], [1, 1], [1, 1], [1, 1], [1, 1]])],
    ['sum', [], () => sum(img, 4)],
    ['maxPool2d', ['[3,4,4]'], () => maxPool2d(Tensor.zeros([3, 4, 4]), { kernel: 2 })],
    ['avgPool2d', ['[2,3,4,4]'], () => avgPool2d(img, { kernel: 5 })],
    ['globalAvgPool2d', ['[2,3]'], () => globalAvgPool2d(Tensor.zeros([2, 3]))],
    ['batchNorm2d', ['[5]', '[2,3,4,4]'], () => batchNorm2d(img, null, Tensor.zeros([5]), null, { training: true })],
    ['softmax', ['[2,3,4,4]'], () => softmax(img, 4)],
    ['crossEntropy', ['[2,3,4,4]'], () => crossEntropy(img, [0, 1])],
    ['crossEntropy', ['[4,10]'], () => crossEntropy(Tensor.zeros([4, 10]), [1, 2, 3])],
    ['mse', ['[2,3,4,4]', '[2,3,4,1]'], () => mse(img, Tensor.zeros([2, 3, 4, 1]))],
    ['dropPath', ['[]'], () => dropPath(Tensor.scalar(1), 0.5, true)],
  ];
  for (const [op, shapes, fn] of cases) {
    it(`${op}: ${shapes.join(' ') || 'rank'}`, () => expectShapeError(op, shapes, fn));
  }
});
