/**
 * Softmax and log-softmax along one axis, stable: the max along the axis is subtracted first, so
 * large logits never overflow exp.
 */
import { CpnasError, Tensor, attach, getBackend, reducedShape, shapeStr } from '../core/index.js';

function axisOf(op: string, x: Tensor, axis: number): number {
  const a = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= x.rank) {
    throw new CpnasError(op, `axis ${axis} is out of range for x ${shapeStr(x.shape)}`);
  }
  if (x.shape[a] === 0) throw new CpnasError(op, `axis ${axis} of x ${shapeStr(x.shape)} is empty`);
  return a;
}

/** z = x - max(x) along the axis, and log Σ exp z (both from backend kernels). */
function shifted(x: Tensor, ax: number): { z: Float32Array; e: Float32Array; s: Float32Array; kept: number[] } {
  const be = getBackend();
  const kept = reducedShape(x.shape, [ax], true);
  const m = new Float32Array(x.size / x.shape[ax]);
  be.max(x.data, x.shape, [ax], m);
  const z = new Float32Array(x.size);
  be.binary('sub', x.data, x.shape, m, kept, z, x.shape);
  const e = new Float32Array(x.size);
  be.unary('exp', z, e);
  const s = new Float32Array(m.length);
  be.sum(e, x.shape, [ax], s);
  return { z, e, s, kept };
}

/** exp(x) / Σ exp(x) along `axis`. Backward: dx = y ⊙ (g - Σ g ⊙ y). */
export function softmax(x: Tensor, axis = -1): Tensor {
  const ax = axisOf('softmax', x, axis);
  const be = getBackend();
  const { e, s, kept } = shifted(x, ax);
  const out = new Tensor(e, x.shape);
  be.binary('div', e, x.shape, s, kept, out.data, x.shape);
  return attach(out, 'softmax', [x], (g) => {
    const gy = new Float32Array(x.size);
    be.binary('mul', g, x.shape, out.data, x.shape, gy, x.shape);
    const dot = new Float32Array(s.length);
    be.sum(gy, x.shape, [ax], dot);
    const r = new Float32Array(x.size);
    be.binary('sub', g, x.shape, dot, kept, r, x.shape);
    be.binary('mul', r, x.shape, out.data, x.shape, r, x.shape);
    return [r];
  });
}

/** x - log Σ exp(x) along `axis`. Backward: dx = g - softmax(x) ⊙ Σ g. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const ax = axisOf('logSoftmax', x, axis);
  const be = getBackend();
  const { z, e, s, kept } = shifted(x, ax);
  const lse = new Float32Array(s.length);
  be.unary('log', s, lse);
  const out = new Tensor(z, x.shape);
  be.binary('sub', z, x.shape, lse, kept, out.data, x.shape);
  return attach(out, 'logSoftmax', [x], (g) => {
    const sg = new Float32Array(s.length);
    be.sum(g, x.shape, [ax], sg);
    // softmax = e / s; r = g - softmax * Σg
    const r = new Float32Array(x.size);
    be.binary('div', e, x.shape, s, kept, r, x.shape);
    be.binary('mul', r, x.shape, sg, kept, r, x.shape);
    be.binary('sub', g, x.shape, r, x.shape, r, x.shape);
    return [r];
  });
}
