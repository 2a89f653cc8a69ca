/**
 * Binarizers: small named functions that map a tensor to ±1 values (times a scale, for weights), each
 * written beside its straight-through estimator (STE), the gradient used in place of sign's zero
 * derivative. Layers choose them by name (`BinaryConv2d({ activation: 'approx', weight: 'scaled' })`);
 * a new one is one `registerBinarizer(name, fn)` call.
 *
 * Built in:
 * - `ste`    (activations) sign(x); gradient 1 where |x| <= 1, else 0 (the clipped identity);
 * - `approx` (activations) sign(x); gradient 2 - 2|x| where |x| < 1, else 0 (Bi-Real Net's
 *            piecewise polynomial, the derivative of its approximation of sign; used by DCP-NAS);
 * - `scaled` (weights) alpha_k * sign(w) with one alpha per output filter k (dim 0),
 *            alpha_k = mean(|w_k|) (XNOR-Net); gradient straight through to w, clipped where |w| > 1
 *            (alpha is treated as a constant by the estimator);
 * - `sign`   (weights) sign(w) with the same clipped straight-through gradient, no scale.
 *
 * sign(0) = +1 everywhere, as in the backend's 'sign' kernel: a binarized value is never 0.
 *
 * Contract for use in BinaryConv2d: an activation binarizer's forward must be sign(x) (the bit-packed
 * eval path packs the signs of x itself), and a weight binarizer's forward must be alpha_k * sign(w)
 * for some alpha_k >= 0 per filter (the packed path reads alpha_k back as |value|).
 */
import { allocFloat32, CpnasError, Tensor, attach, check, getBackend } from '../core/index.js';

/** A binarizer: forward values with the binarizer's own straight-through gradient attached. */
export type Binarizer = (x: Tensor) => Tensor;

const registry = new Map<string, Binarizer>();

/** Registers (or replaces) a binarizer under `name`. */
export function registerBinarizer(name: string, fn: Binarizer): void {
  check(typeof name === 'string' && name.length > 0, 'registerBinarizer', () => `name must be a non-empty string, got ${JSON.stringify(name)}`);
  check(typeof fn === 'function', 'registerBinarizer', () => `binarizer ${JSON.stringify(name)} must be a function (x: Tensor) => Tensor`);
  registry.set(name, fn);
}

/** The binarizer registered under `name`; the error lists the known names. */
export function getBinarizer(name: string): Binarizer {
  const fn = registry.get(name);
  if (!fn) {
    throw new CpnasError('getBinarizer', `unknown binarizer ${JSON.stringify(name)} (known: ${[...registry.keys()].join(', ')})`);
  }
  return fn;
}

/** Names of the registered binarizers, in registration order. */
export function listBinarizers(): string[] {
  return [...registry.keys()];
}

/** g where |v| <= 1, else +0: the clipped straight-through gradient (a backend kernel). */
function passWhereAbsAtMostOne(v: Float32Array, g: Float32Array): Float32Array {
  const r = allocFloat32(g.length);
  getBackend().activationGrad('clip', v, g, r);
  return r;
}

/** sign(x) with sign(0) = +1 (a backend kernel). */
function signOf(x: Tensor): Tensor {
  const out = new Tensor(new Float32Array(x.size), x.shape);
  getBackend().unary('sign', x.data, out.data);
  return out;
}

// ---- activations ----------------------------------------------------------------------------------

/** sign(x); STE: d/dx = 1 where |x| <= 1, else 0. */
export function steSign(x: Tensor): Tensor {
  const out = signOf(x);
  return attach(out, 'steSign', [x], (g) => {
    return [passWhereAbsAtMostOne(x.data, g)];
  });
}

/** sign(x); Bi-Real estimator: d/dx = 2 - 2|x| where |x| < 1, else 0. */
export function approxSign(x: Tensor): Tensor {
  const out = signOf(x);
  return attach(out, 'approxSign', [x], (g) => {
    const r = allocFloat32(g.length);
    getBackend().activationGrad('approxSign', x.data, g, r);
    return [r];
  });
}

// ---- weights --------------------------------------------------------------------------------------

/** Per-filter scales alpha_k = mean(|w_k|) over each slice along dim 0 (a filter). */
export function filterScales(w: Float32Array, filters: number): Float32Array {
  const per = w.length / filters;
  const alpha = new Float32Array(filters);
  for (let k = 0; k < filters; k++) {
    let s = 0;
    for (let i = k * per, end = i + per; i < end; i++) s += Math.abs(w[i]);
    alpha[k] = per > 0 ? s / per : 0;
  }
  return alpha;
}

function checkWeight(op: string, w: Tensor): void {
  check(w.rank >= 1 && w.shape[0] > 0, op, () => `weights need an output-filter dim 0, got shape [${w.shape.join(',')}]`);
}

/** The clipped straight-through gradient shared by the weight binarizers: g where |w| <= 1. */
function clippedStraightThrough(w: Tensor, g: Float32Array): Float32Array {
  return passWhereAbsAtMostOne(w.data, g);
}

/** alpha_k * sign(w) per output filter k, alpha_k = mean(|w_k|); STE: d/dw = 1 where |w| <= 1. */
export function scaledSign(w: Tensor): Tensor {
  checkWeight('scaledSign', w);
  const K = w.shape[0], per = w.size / K;
  const alpha = filterScales(w.data, K);
  const out = signOf(w);
  const d = out.data;
  for (let k = 0; k < K; k++) {
    const a = alpha[k];
    for (let i = k * per, end = i + per; i < end; i++) d[i] *= a;
  }
  return attach(out, 'scaledSign', [w], (g) => [clippedStraightThrough(w, g)]);
}

/** sign(w) without a scale; STE: d/dw = 1 where |w| <= 1. */
export function plainSign(w: Tensor): Tensor {
  checkWeight('plainSign', w);
  const out = signOf(w);
  return attach(out, 'plainSign', [w], (g) => [clippedStraightThrough(w, g)]);
}

registerBinarizer('ste', steSign);
registerBinarizer('approx', approxSign);
registerBinarizer('scaled', scaledSign);
registerBinarizer('sign', plainSign);
