/**
 * Elementwise unary functions. Each forward runs a backend kernel; each backward multiplies the
 * output gradient by the local derivative, written next to the forward.
 */
import { allocFloat32, allocOutput, CpnasError, Tensor, attach, getBackend, shapeStr, type UnaryOp } from '../core/index.js';

function kernel(op: UnaryOp, x: Tensor): Tensor {
  const out = new Tensor(allocOutput(x.size), x.shape);
  getBackend().unary(op, x.data, out.data);
  return out;
}

/** g ⊙ v, elementwise on equal-length arrays (a backend kernel). */
function times(g: Float32Array, v: Float32Array): Float32Array {
  const r = allocOutput(g.length);
  getBackend().binary('mul', g, [g.length], v, [v.length], r, [g.length]);
  return r;
}

/** -x */
export function neg(x: Tensor): Tensor {
  const out = kernel('neg', x);
  return attach(out, 'neg', [x], (g) => {
    const r = allocOutput(g.length);
    getBackend().unary('neg', g, r);
    return [r];
  });
}

/** e^x; d/dx = e^x */
export function exp(x: Tensor): Tensor {
  const out = kernel('exp', x);
  return attach(out, 'exp', [x], (g) => [times(g, out.data)]);
}

/** Natural log; d/dx = 1/x. Non-positive inputs give NaN / -Infinity, as in IEEE arithmetic. */
export function log(x: Tensor): Tensor {
  const out = kernel('log', x);
  return attach(out, 'log', [x], (g) => {
    const r = allocOutput(g.length);
    getBackend().binary('div', g, [g.length], x.data, [x.size], r, [g.length]);
    return [r];
  });
}

/** √x; d/dx = 1 / (2√x) */
export function sqrt(x: Tensor): Tensor {
  const out = kernel('sqrt', x);
  return attach(out, 'sqrt', [x], (g) => {
    const r = allocOutput(g.length);
    for (let i = 0; i < r.length; i++) r[i] = g[i] / (2 * out.data[i]);
    return [r];
  });
}

/** x^p for a constant exponent p; d/dx = p x^(p-1). */
export function pow(x: Tensor, p: number): Tensor {
  if (typeof p !== 'number' || Number.isNaN(p)) {
    throw new CpnasError('pow', `exponent must be a number, got ${String(p)} (x ${shapeStr(x.shape)})`);
  }
  const out = new Tensor(allocOutput(x.size), x.shape);
  const be = getBackend();
  if (p === 2) be.unary('square', x.data, out.data);
  else be.binary('pow', x.data, x.shape, Float32Array.of(p), [], out.data, x.shape);
  return attach(out, 'pow', [x], (g) => {
    const r = allocFloat32(g.length); // zeros: the gradient of x^0
    const d = x.data;
    if (p === 0) return [r];
    for (let i = 0; i < r.length; i++) r[i] = g[i] * p * Math.pow(d[i], p - 1);
    return [r];
  });
}

/** |x|; d/dx = sign(x), 0 at 0. */
export function abs(x: Tensor): Tensor {
  const out = kernel('abs', x);
  return attach(out, 'abs', [x], (g) => {
    const r = allocOutput(g.length);
    const d = x.data;
    for (let i = 0; i < r.length; i++) r[i] = d[i] > 0 ? g[i] : d[i] < 0 ? -g[i] : 0;
    return [r];
  });
}

/** max(x, 0) (NaN stays NaN, as in PyTorch); gradient 1 where x > 0, else 0. */
export function relu(x: Tensor): Tensor {
  const out = kernel('relu', x);
  return attach(out, 'relu', [x], (g) => {
    const r = allocOutput(g.length);
    getBackend().activationGrad('relu', x.data, g, r);
    return [r];
  });
}

/** 1 / (1 + e^-x); d/dx = s (1 - s). */
export function sigmoid(x: Tensor): Tensor {
  const out = kernel('sigmoid', x);
  return attach(out, 'sigmoid', [x], (g) => {
    const r = allocOutput(g.length);
    const s = out.data;
    for (let i = 0; i < r.length; i++) r[i] = g[i] * s[i] * (1 - s[i]);
    return [r];
  });
}

/** tanh x; d/dx = 1 - tanh² x. */
export function tanh(x: Tensor): Tensor {
  const out = kernel('tanh', x);
  return attach(out, 'tanh', [x], (g) => {
    const r = allocOutput(g.length);
    const t = out.data;
    for (let i = 0; i < r.length; i++) r[i] = g[i] * (1 - t[i] * t[i]);
    return [r];
  });
}

function clampForward(op: string, x: Tensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new CpnasError(op, `lower bound ${lo} is above upper bound ${hi} (x ${shapeStr(x.shape)})`);
  const out = new Tensor(allocOutput(x.size), x.shape);
  const be = getBackend();
  be.binary('max', x.data, x.shape, Float32Array.of(lo), [], out.data, x.shape);
  be.binary('min', out.data, x.shape, Float32Array.of(hi), [], out.data, x.shape);
  return out;
}

/** min(max(x, lo), hi); gradient 1 where lo <= x <= hi (bounds included, as in PyTorch), else 0. */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  const out = clampForward('clamp', x, lo, hi);
  return attach(out, 'clamp', [x], (g) => {
    const r = allocOutput(g.length);
    const d = x.data;
    for (let i = 0; i < r.length; i++) r[i] = d[i] >= lo && d[i] <= hi ? g[i] : 0;
    return [r];
  });
}

/** clamp(x, -1, 1); gradient 1 strictly inside (-1, 1), else 0 (as PyTorch's hardtanh). */
export function hardtanh(x: Tensor): Tensor {
  const out = clampForward('hardtanh', x, -1, 1);
  return attach(out, 'hardtanh', [x], (g) => {
    const r = allocOutput(g.length);
    const d = x.data;
    for (let i = 0; i < r.length; i++) r[i] = d[i] > -1 && d[i] < 1 ? g[i] : 0;
    return [r];
  });
}
