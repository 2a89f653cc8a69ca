/**
 * The opt-in numerics check (setDebugNumerics / CPNAS_DEBUG_NUMERICS=1) names the first op that turns
 * finite values into NaN/Inf, forward or backward; off, NaN flows silently as before. And argument
 * errors of the library are CpnasErrors naming the op, never TypeError / RangeError from inside.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CpnasError, Tensor, setDebugNumerics } from '../../core/index.js';
import { validateGenotype } from '../../nas/genotype.js';
import { batchNorm2d } from '../../ops/batchnorm.js';
import { conv2d } from '../../ops/conv.js';
import { crossEntropy } from '../../ops/loss.js';
import { matmul } from '../../ops/matmul.js';
import { exp, log, relu, sqrt } from '../../ops/unary.js';
import { sum } from '../../ops/reduce.js';

afterEach(() => setDebugNumerics(false));

const throwsCpnas = (f: () => unknown, ...parts: string[]) => {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(CpnasError);
  for (const p of parts) expect((err as Error).message).toContain(p);
};

describe('setDebugNumerics', () => {
  it('off (the default): NaN and Inf flow through matmul, conv2d, batchNorm2d and crossEntropy unnoticed', () => {
    const big = Tensor.full([2, 2], 1e30);
    const y = matmul(big, big);
    expect(y.data.every((v) => v === Infinity)).toBe(true);
    const c = conv2d(Tensor.full([1, 1, 3, 3], NaN), Tensor.ones([1, 1, 3, 3]), null);
    expect(Number.isNaN(c.data[0])).toBe(true);
    expect(Number.isNaN(crossEntropy(Tensor.full([1, 2], NaN), [0]).item())).toBe(true);
  });

  it('names the first op producing Inf (matmul overflow), not the ops after it', () => {
    setDebugNumerics(true);
    const big = Tensor.full([2, 2], 1e30);
    throwsCpnas(() => relu(matmul(big, big)), 'matmul: produced 4 non-finite values', '[2,2]');
  });

  it('names exp overflowing and log of 0; passes NaN coming from the inputs on without blaming the op', () => {
    setDebugNumerics(true);
    throwsCpnas(() => exp(Tensor.full([3], 100)), 'exp: produced 3 non-finite');
    throwsCpnas(() => log(Tensor.zeros([2])), 'log: produced 2 non-finite');
    expect(() => relu(new Tensor(Float32Array.of(NaN, 1), [2]))).not.toThrow();
  });

  it('names batchNorm2d and conv2d when they make the first non-finite values', () => {
    setDebugNumerics(true);
    const x = new Tensor(Float32Array.from({ length: 8 }, (_, i) => (i % 2 ? 1 : -1)), [2, 1, 2, 2]);
    throwsCpnas(() => batchNorm2d(x, Tensor.full([1], 3e38), Tensor.full([1], 3e38), null, { training: true }), 'batchNorm2d: produced');
    throwsCpnas(() => conv2d(Tensor.full([1, 1, 3, 3], 3e38), Tensor.full([1, 1, 3, 3], 3e38), null), 'conv2d: produced');
  });

  it('names the backward of an op whose gradient becomes Inf (sqrt at 0)', () => {
    setDebugNumerics(true);
    const x = Tensor.zeros([2], true);
    const y = sum(sqrt(x));
    throwsCpnas(() => y.backward(), 'sqrt backward', 'gradient');
  });
});

describe('argument errors are CpnasErrors', () => {
  it('crossEntropy on a nested array names the argument', () => {
    throwsCpnas(() => crossEntropy([[1, 2], [3, 4]] as never, Int32Array.of(0, 1)), 'crossEntropy', 'logits must be a Tensor', 'an array');
    throwsCpnas(() => crossEntropy(Tensor.zeros([2, 3]), [[0], [1]] as never), 'crossEntropy', 'labels');
  });

  it('Tensor.zeros / full / randn of a shape too large to hold name the shape and the limit', () => {
    throwsCpnas(() => Tensor.zeros([1e6, 1e6]), 'Tensor', '[1000000,1000000]', 'more than one tensor may hold');
    throwsCpnas(() => Tensor.full([1e5, 1e5], 1), 'Tensor', '[100000,100000]');
    throwsCpnas(() => Tensor.randn([1e5, 1e5]), 'Tensor');
    throwsCpnas(() => Tensor.zeros('3x3' as never), 'Tensor', 'a shape must be an array');
  });

  it('a genotype nested 100,000 deep is refused naming the entry (no stack overflow)', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const rest = Array.from({ length: 7 }, (_, i) => ['max_pool_3x3', i % 2]);
    throwsCpnas(() => validateGenotype({ normal: [deep, ...rest], normalConcat: [2, 3, 4, 5], reduce: [deep, ...rest], reduceConcat: [2, 3, 4, 5] }), 'genotype', 'normal[0]');
    throwsCpnas(() => validateGenotype({ normal: [[deep, 0], ...rest], normalConcat: [2, 3, 4, 5], reduce: [], reduceConcat: [] }), 'normal[0]', 'operation must be a name');
  });
});
