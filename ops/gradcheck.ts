/**
 * Gradient checking: autograd's gradient of a function against central finite differences.
 *
 * The function's output is reduced to a scalar by a fixed random projection `L = sum(out * r)` (`r`
 * seeded, so a failure reproduces) unless it already has one element. The analytic side is
 * `backward(r)`; the numeric side perturbs one input element at a time by ±eps, evaluates the function
 * under `noGrad`, and accumulates `L` in float64:
 *
 *     numeric = (L(x + eps) - L(x - eps)) / (x⁺ - x⁻)
 *
 * where x⁺ and x⁻ are the float32 values actually stored (so rounding of the perturbation itself does
 * not bias the quotient). An element passes when |analytic - numeric| <= atol + rtol * |numeric|.
 *
 * The function runs in float32, so eps trades truncation error (~eps²) against rounding error
 * (~1e-7 · |L| / eps); the defaults (eps 1e-3, rtol 1e-2, atol 1e-3) suit functions of moderate size
 * with values of order 1. Keep inputs away from kinks (relu at 0, ties in max): within eps of one, the
 * finite difference straddles two branches and disagrees with either one-sided gradient.
 */
import { CpnasError, Random, Tensor, enableGrad, noGrad, shapeStr, shapesEqual } from '../core/index.js';

export interface GradCheckOptions {
  /** Finite-difference step (default 1e-3). */
  eps?: number;
  /** Relative tolerance (default 1e-2). */
  rtol?: number;
  /** Absolute tolerance (default 1e-3). */
  atol?: number;
  /** Seed of the projection vector r (default 0). */
  seed?: number;
  /** Indices of the inputs to check (default: those with requiresGrad, or all when none has it). */
  wrt?: number[];
  /** Check at most this many elements per input, a seeded random subset (default: all of them). */
  samples?: number;
}

export interface GradCheckWorst {
  /** Index of the input in `inputs`. */
  input: number;
  /** Flat index of the element inside that input. */
  index: number;
  analytic: number;
  numeric: number;
}

export interface GradCheckReport {
  /** Every checked element satisfies |a - n| <= atol + rtol * |n|. */
  ok: boolean;
  maxAbsError: number;
  /** max over elements of |a - n| / max(|a|, |n|) (0 where both are 0). */
  maxRelError: number;
  /** The element furthest outside (or least inside) its tolerance; input and index are -1 when
   *  nothing was checked. */
  worst: GradCheckWorst;
  /** Number of elements compared. */
  checked: number;
}

/**
 * Compares autograd's gradient of `fn` with float64-accumulated central differences.
 * The caller's tensors are not modified (their values are copied, and `.grad` is left alone).
 */
export function gradCheck(
  fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradCheckOptions = {},
): GradCheckReport {
  const eps = opts.eps ?? 1e-3;
  const rtol = opts.rtol ?? 1e-2;
  const atol = opts.atol ?? 1e-3;
  const rng = new Random(opts.seed ?? 0);
  let wrt = opts.wrt;
  if (!wrt) {
    wrt = inputs.map((t, i) => (t.requiresGrad ? i : -1)).filter((i) => i >= 0);
    if (wrt.length === 0) wrt = inputs.map((_, i) => i);
  }
  for (const i of wrt) {
    if (!Number.isInteger(i) || i < 0 || i >= inputs.length) {
      throw new CpnasError('gradCheck', `wrt index ${i} is out of range for ${inputs.length} inputs`);
    }
  }
  const checkedSet = new Set(wrt);

  // private copies: the checked ones are fresh leaves, the others constants
  const leaves = inputs.map((t, i) => new Tensor(t.data.slice(), t.shape, checkedSet.has(i)));

  // ---- analytic ----
  const out = enableGrad(() => fn(...leaves));
  const r = new Float32Array(out.size);
  if (out.size === 1) r[0] = 1;
  else for (let i = 0; i < r.length; i++) r[i] = rng.uniform(-1, 1);
  if (!out.requiresGrad) {
    throw new CpnasError('gradCheck', `the output ${shapeStr(out.shape)} does not depend on any checked input (wrt ${JSON.stringify(wrt)})`);
  }
  out.backward(r);
  const outShape = out.shape;

  // ---- numeric ----
  const consts = leaves.map((t) => new Tensor(t.data, t.shape, false));
  const evalL = (): number => {
    const y = noGrad(() => fn(...consts));
    if (!shapesEqual(y.shape, outShape)) {
      throw new CpnasError('gradCheck', `the function returned ${shapeStr(y.shape)} on one call and ${shapeStr(outShape)} on another`);
    }
    let s = 0;
    for (let i = 0; i < r.length; i++) s += y.data[i] * r[i];
    return s;
  };

  let maxAbs = 0, maxRel = 0, worstScore = -Infinity, checked = 0;
  let worst: GradCheckWorst = { input: -1, index: -1, analytic: 0, numeric: 0 };
  for (const k of wrt) {
    const t = consts[k];
    const grad = leaves[k].grad?.data;
    const d = t.data;
    let indices: ArrayLike<number>;
    if (opts.samples !== undefined && opts.samples < d.length) {
      indices = rng.permutation(d.length).subarray(0, Math.max(0, opts.samples));
    } else {
      indices = Int32Array.from({ length: d.length }, (_, i) => i);
    }
    for (let j = 0; j < indices.length; j++) {
      const idx = indices[j];
      const x0 = d[idx];
      d[idx] = x0 + eps;
      const xp = d[idx];
      t.markChanged();
      const lp = evalL();
      d[idx] = x0 - eps;
      const xm = d[idx];
      t.markChanged();
      const lm = evalL();
      d[idx] = x0;
      t.markChanged();
      const numeric = (lp - lm) / (xp - xm);
      const analytic = grad ? grad[idx] : 0;
      const diff = Math.abs(analytic - numeric);
      const scale = Math.max(Math.abs(analytic), Math.abs(numeric));
      const rel = scale > 0 ? diff / scale : 0;
      // NaN anywhere is a failure: make it the worst
      const score = Number.isNaN(diff) ? Infinity : diff / (atol + rtol * Math.abs(numeric));
      if (diff > maxAbs || Number.isNaN(diff)) maxAbs = Number.isNaN(diff) ? NaN : diff;
      if (rel > maxRel) maxRel = rel;
      if (score > worstScore) {
        worstScore = score;
        worst = { input: k, index: idx, analytic, numeric };
      }
      checked++;
    }
  }
  return { ok: checked === 0 || worstScore <= 1, maxAbsError: maxAbs, maxRelError: maxRel, worst, checked };
}

/** `gradCheck`, throwing a readable report when some element is outside its tolerance. */
export function assertGradClose(
  fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradCheckOptions = {},
): GradCheckReport {
  const rep = gradCheck(fn, inputs, opts);
  if (!rep.ok) throw new CpnasError('gradCheck', formatGradCheck(rep, inputs, opts));
  return rep;
}

/** A one-paragraph description of a report, naming the worst element by its multi-index. */
export function formatGradCheck(rep: GradCheckReport, inputs: Tensor[], opts: GradCheckOptions = {}): string {
  const rtol = opts.rtol ?? 1e-2, atol = opts.atol ?? 1e-3;
  const head = `${rep.ok ? 'gradients agree' : 'gradients disagree'} over ${rep.checked} elements ` +
    `(max abs error ${fmt(rep.maxAbsError)}, max rel error ${fmt(rep.maxRelError)}; tolerance atol ${atol} + rtol ${rtol}·|numeric|)`;
  if (rep.worst.input < 0) return head;
  const w = rep.worst;
  const shape = inputs[w.input]?.shape ?? [];
  return `${head}; worst: input ${w.input} ${shapeStr(shape)} at [${unravel(w.index, shape).join(',')}]: ` +
    `analytic ${fmt(w.analytic)} vs numeric ${fmt(w.numeric)} (diff ${fmt(Math.abs(w.analytic - w.numeric))})`;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(6) : String(v);
}

function unravel(index: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = index % shape[i];
    index = Math.floor(index / shape[i]);
  }
  return out;
}
