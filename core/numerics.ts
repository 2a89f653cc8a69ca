/**
 * Opt-in numerics check: with `setDebugNumerics(true)` (or the environment variable
 * CPNAS_DEBUG_NUMERICS=1), every op's output and every gradient an op's backward returns is scanned,
 * and the first op that turns finite inputs into NaN or Inf throws a CpnasError naming it, with the
 * shapes and how many values went wrong. Off by default: the scan costs a pass over every tensor.
 */
import { CpnasError, shapeStr } from './errors.js';

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
let enabled = env?.CPNAS_DEBUG_NUMERICS === '1';

/** Turns the check on or off; returns the previous setting. */
export function setDebugNumerics(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

export function debugNumerics(): boolean {
  return enabled;
}

function countNonFinite(d: ArrayLike<number>): { n: number; first: number } {
  let n = 0, first = -1;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      if (n === 0) first = i;
      n++;
    }
  }
  return { n, first };
}

interface Checked {
  data: ArrayLike<number>;
  shape: readonly number[];
}

/** Throws when `out` holds NaN/Inf although every input is finite (the op made them). */
export function checkOpOutput(op: string, out: Checked, inputs: readonly Checked[]): void {
  const bad = countNonFinite(out.data);
  if (bad.n === 0) return;
  if (inputs.some((t) => countNonFinite(t.data).n > 0)) return; // an earlier op made them: reported there
  throw new CpnasError(op, `produced ${bad.n} non-finite value${bad.n > 1 ? 's' : ''} (first ${out.data[bad.first]} at index ${bad.first}) in its output ${shapeStr(out.shape)} from finite inputs ${inputs.map((t) => shapeStr(t.shape)).join(', ')} (CPNAS_DEBUG_NUMERICS)`);
}

/** Throws when the backward of `op` returns a non-finite gradient for finite incoming gradients. */
export function checkOpGradient(op: string, gradOut: ArrayLike<number>, grad: ArrayLike<number>, shape: readonly number[]): void {
  const bad = countNonFinite(grad);
  if (bad.n === 0 || countNonFinite(gradOut).n > 0) return;
  throw new CpnasError(`${op} backward`, `produced ${bad.n} non-finite gradient value${bad.n > 1 ? 's' : ''} for an input ${shapeStr(shape)} from a finite output gradient (CPNAS_DEBUG_NUMERICS)`);
}
