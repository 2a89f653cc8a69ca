/** Elementwise arithmetic with NumPy broadcasting: add, sub, mul, div, pow, maximum, minimum. */
import { allocOutput, Tensor, attach, broadcastShapes, getBackend, sizeOf, type BinaryOp } from '../core/index.js';
import { sumTo } from './broadcast.js';

type Operand = Tensor | number;

function asTensor(v: Operand): Tensor {
  return typeof v === 'number' ? Tensor.scalar(v) : v;
}

function forward(op: BinaryOp, name: string, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(name, a.shape, b.shape);
  const out = new Tensor(allocOutput(sizeOf(shape)), shape);
  getBackend().binary(op, a.data, a.shape, b.data, b.shape, out.data, shape);
  return out;
}

/** a + b */
export function add(a: Operand, b: Operand): Tensor {
  const ta = asTensor(a), tb = asTensor(b);
  const out = forward('add', 'add', ta, tb);
  return attach(out, 'add', [ta, tb], (g) => [sumTo(g, out.shape, ta.shape), sumTo(g, out.shape, tb.shape)]);
}

/** a - b */
export function sub(a: Operand, b: Operand): Tensor {
  const ta = asTensor(a), tb = asTensor(b);
  const out = forward('sub', 'sub', ta, tb);
  return attach(out, 'sub', [ta, tb], (g) => {
    const gb = allocOutput(g.length);
    for (let i = 0; i < g.length; i++) gb[i] = -g[i];
    return [sumTo(g, out.shape, ta.shape), sumTo(gb, out.shape, tb.shape)];
  });
}

/** Multiplies g by x broadcast to out's shape (the backward of mul and friends). */
function gradTimes(g: Float32Array, outShape: readonly number[], x: Tensor): Float32Array {
  const r = allocOutput(g.length);
  getBackend().binary('mul', g, outShape, x.data, x.shape, r, outShape);
  return r;
}

/** a * b */
export function mul(a: Operand, b: Operand): Tensor {
  const ta = asTensor(a), tb = asTensor(b);
  const out = forward('mul', 'mul', ta, tb);
  return attach(out, 'mul', [ta, tb], (g) => [
    ta.requiresGrad ? sumTo(gradTimes(g, out.shape, tb), out.shape, ta.shape) : null,
    tb.requiresGrad ? sumTo(gradTimes(g, out.shape, ta), out.shape, tb.shape) : null,
  ]);
}

/** a / b */
export function div(a: Operand, b: Operand): Tensor {
  const ta = asTensor(a), tb = asTensor(b);
  const out = forward('div', 'div', ta, tb);
  return attach(out, 'div', [ta, tb], (g) => {
    const be = getBackend();
    let ga: Float32Array | null = null, gb: Float32Array | null = null;
    if (ta.requiresGrad) {
      // d(a/b)/da = 1/b
      const r = allocOutput(g.length);
      be.binary('div', g, out.shape, tb.data, tb.shape, r, out.shape);
      ga = sumTo(r, out.shape, ta.shape);
    }
    if (tb.requiresGrad) {
      // d(a/b)/db = -out/b
      const r = allocOutput(g.length);
      be.binary('mul', g, out.shape, out.data, out.shape, r, out.shape);
      be.binary('div', r, out.shape, tb.data, tb.shape, r, out.shape);
      for (let i = 0; i < r.length; i++) r[i] = -r[i];
      gb = sumTo(r, out.shape, tb.shape);
    }
    return [ga, gb];
  });
}
