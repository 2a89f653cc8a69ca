/**
 * Writing your own differentiable operation, and proving its gradient right.
 *
 * An operation in cpnas is a plain function: it computes its output, then hands autograd a closure
 * that maps the gradient of the output to the gradient of each input. `attach` records that closure
 * (only when some input requires gradients and recording is on), and `backward()` calls it later.
 *
 * This example writes two activations that the library does not ship:
 *   - softplus(x) = log(1 + e^x), whose derivative is the logistic sigmoid;
 *   - swish(x, beta) = x · sigmoid(beta · x), with a learnable scalar beta (two inputs, one of them
 *     broadcast over the other: its gradient is a sum);
 * then checks their gradients against finite differences (`gradCheck`) on tensors that fast-check
 * generates: random shapes and values, many times. Finally it shows the check failing on a swish
 * whose hand-written gradient forgets a term, and fast-check shrinking the failure to a tiny input.
 *
 * Run it: `npx tsc -p . && node dist/examples/gradcheck-custom-op.js`
 */
import fc from 'fast-check';
import { pathToFileURL } from 'node:url';
import { CpnasError, Tensor, attach, check, shapeStr } from '../core/index.js';
import { arbShape, arbTensor } from '../testing.js';
import { formatGradCheck, gradCheck } from '../ops/gradcheck.js';

/** sigmoid in double precision; stable for large |z|. */
function sigma(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

// ---- 1. softplus: one input ---------------------------------------------------------------------

/** softplus(x) = log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) so that large x does not overflow. */
export function softplus(x: Tensor): Tensor {
  const out = Tensor.zeros(x.shape);
  const xs = x.data, ys = out.data;
  for (let i = 0; i < xs.length; i++) ys[i] = Math.max(xs[i], 0) + Math.log1p(Math.exp(-Math.abs(xs[i])));
  // d softplus / dx = sigmoid(x): the backward multiplies the incoming gradient by it
  return attach(out, 'softplus', [x], (gOut) => {
    const gx = new Float32Array(gOut.length);
    for (let i = 0; i < gx.length; i++) gx[i] = gOut[i] * sigma(xs[i]);
    return [gx];
  });
}

// ---- 2. swish: two inputs, one broadcast ----------------------------------------------------------

/**
 * swish(x, beta) = x · sigmoid(beta · x) with beta a one-element tensor.
 *   d/dx    = s + beta · x · s (1 - s)          where s = sigmoid(beta · x)
 *   d/dbeta = Σ gOut · x² · s (1 - s)           (beta is used by every element: its gradient sums)
 * `buggy` drops the second term of d/dx, to show what a failed check looks like.
 */
export function swish(x: Tensor, beta: Tensor, buggy = false): Tensor {
  check(beta.size === 1, 'swish', () => `beta must have one element, got ${shapeStr(beta.shape)}`);
  const b = beta.data[0];
  const out = Tensor.zeros(x.shape);
  const xs = x.data, ys = out.data;
  for (let i = 0; i < xs.length; i++) ys[i] = xs[i] * sigma(b * xs[i]);
  return attach(out, 'swish', [x, beta], (gOut) => {
    // compute only the gradients somebody needs
    const gx = x.requiresGrad ? new Float32Array(gOut.length) : null;
    let gb = 0;
    for (let i = 0; i < gOut.length; i++) {
      const s = sigma(b * xs[i]), ds = s * (1 - s);
      if (gx) gx[i] = gOut[i] * (buggy ? s : s + b * xs[i] * ds);
      gb += gOut[i] * xs[i] * xs[i] * ds;
    }
    return [gx, beta.requiresGrad ? Float32Array.of(gb) : null];
  });
}

// ---- 3. property tests ------------------------------------------------------------------------------

export interface ExampleOptions {
  /** fast-check runs per property (default 50). */
  runs?: number;
  /** fast-check seed, for a reproducible run (default 42). */
  seed?: number;
  /** Where to print (default console.log; pass () => {} to stay quiet). */
  log?: (line: string) => void;
}

export interface ExampleResult {
  softplusOk: boolean;
  swishOk: boolean;
  /** Whether the check caught the buggy swish. */
  buggyCaught: boolean;
  /** fast-check's shrunk counterexample for the buggy swish, as text. */
  counterexample: string;
}

export function main(opts: ExampleOptions = {}): ExampleResult {
  const runs = opts.runs ?? 50, seed = opts.seed ?? 42;
  const log = opts.log ?? ((line: string) => console.log(line));
  // Tensors of any shape up to rank 3, values in [-3, 3): wide enough to reach both tails of sigmoid.
  const xs = arbTensor(arbShape({ maxRank: 3, maxDim: 4 }), { min: -3, max: 3 });
  const betas = arbTensor([1], { min: 0.2, max: 2 });

  // gradCheck returns a report; fast-check calls the predicate on many generated inputs and shrinks
  // a failure to the smallest one it can find.
  const property = (fn: (x: Tensor, b: Tensor) => Tensor) =>
    fc.property(xs, betas, (x, b) => {
      const rep = gradCheck(fn, [x, b]);
      if (!rep.ok) throw new CpnasError('property', formatGradCheck(rep, [x, b]));
      return true;
    });

  const outcome = (name: string, fn: (x: Tensor, b: Tensor) => Tensor, meantToFail = false) => {
    const details = fc.check(property(fn), { numRuns: runs, seed });
    log(details.failed
      ? `${name}: ${meantToFail ? 'caught, as it should be,' : 'FAILED'} on run ${details.numRuns}, shrunk ${details.numShrinks} times`
      : `${name}: gradient agrees with finite differences on ${details.numRuns} random tensors`);
    return details;
  };

  const softplusOk = !outcome('softplus', (x) => softplus(x)).failed;
  const swishOk = !outcome('swish', (x, b) => swish(x, b)).failed;
  const buggy = outcome('swish with a forgotten term', (x, b) => swish(x, b, true), true);
  let counterexample = '';
  if (buggy.failed && buggy.counterexample) {
    const [x, b] = buggy.counterexample;
    counterexample = `x ${shapeStr(x.shape)} = [${x.toArray().map((v) => v.toFixed(3)).join(', ')}], beta = ${b.data[0].toFixed(3)}`;
    log(`  smallest failing input: ${counterexample}`);
    log(`  ${(buggy.errorInstance as Error | undefined)?.message ?? ''}`);
  }
  return { softplusOk, swishOk, buggyCaught: buggy.failed, counterexample };
}

// Run when executed directly (not when imported by the tests).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = main();
  process.exitCode = r.softplusOk && r.swishOk && r.buggyCaught ? 0 : 1;
}
