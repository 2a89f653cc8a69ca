/**
 * Sum and max over any set of axes. The input's dimensions are merged into alternating kept / reduced
 * blocks; each output thread walks its reduced blocks in row-major order (so a max keeps the first,
 * lowest-index maximum, as the CPU does). When there are few outputs and much to reduce, the largest
 * reduced block is split into chunks: a first kernel reduces each chunk, a second one the chunks, the
 * partial results staying on the device. Max works on winning indices (exact below 2^24) and gathers
 * the values on the host.
 */
import type { GpuRuntime } from '../runtime.js';
import { THREAD, kernelSource, key, unflatten } from '../codegen.js';

interface Block { size: number; stride: number }

interface ReducePlan {
  kept: Block[];
  reduced: Block[];
  outCount: number;
}

function planReduce(shape: readonly number[], axes: readonly number[]): ReducePlan {
  const strides: number[] = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) { strides[d] = s; s *= shape[d]; }
  const kept: Block[] = [], reduced: Block[] = [];
  let prevReduced: boolean | null = null;
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const isReduced = axes.includes(d);
    const list = isReduced ? reduced : kept;
    if (prevReduced === isReduced) {
      // adjacent dims of one kind are contiguous: merge them
      const b = list[list.length - 1];
      b.size *= shape[d];
      b.stride = strides[d];
    } else {
      list.push({ size: shape[d], stride: strides[d] });
    }
    prevReduced = isReduced;
  }
  const outCount = kept.reduce((p, b) => p * b.size, 1);
  return { kept, reduced, outCount };
}

/** Few outputs with this many threads or fewer get a two-stage reduction. */
const SPLIT_THREADS = 8192;
const MIN_CHUNK = 16;

interface Split { block: number; chunks: number; len: number }

function chooseSplit(p: ReducePlan): Split | null {
  if (p.reduced.length === 0 || p.outCount >= SPLIT_THREADS) return null;
  let block = 0;
  for (let i = 1; i < p.reduced.length; i++) if (p.reduced[i].size > p.reduced[block].size) block = i;
  const L = p.reduced[block].size;
  const chunks = Math.min(Math.ceil(SPLIT_THREADS / p.outCount), Math.ceil(L / MIN_CHUNK));
  if (chunks < 2) return null;
  return { block, chunks, len: Math.ceil(L / chunks) };
}

/**
 * The body of a first-stage kernel: declares the accumulators (`init`) and `base`, then runs `visit`
 * (statements using `idx`) for every input element of the thread's (chunk of the) reduction, in
 * row-major order.
 */
function walk(p: ReducePlan, split: Split | null, init: string, visit: string): string {
  const names = p.kept.map((_, i) => `k${i}`);
  let src = `${THREAD}${init}
  `;
  if (split) src += `const chunk = Math.floor((o + 0.5) / ${p.outCount});\n  const oo = o - chunk * ${p.outCount};\n  `;
  src += p.kept.length ? unflatten(split ? 'oo' : 'o', p.kept.map((b) => b.size), names) : '';
  const baseTerms = p.kept.map((b, i) => `${names[i]} * ${b.stride}`);
  src += `  const base = ${baseTerms.length ? baseTerms.join(' + ') : '0'};\n`;
  let inner = `const idx = base${p.reduced.map((b, i) => ` + r${i} * ${b.stride}`).join('')};\n${visit}`;
  for (let i = p.reduced.length - 1; i >= 0; i--) {
    const b = p.reduced[i];
    if (split && split.block === i) {
      inner = `for (let j${i} = 0; j${i} < ${split.len}; j${i}++) {
    const r${i} = chunk * ${split.len} + j${i};
    if (r${i} < ${b.size}) {
      ${inner}
    }
  }`;
    } else {
      inner = `for (let r${i} = 0; r${i} < ${b.size}; r${i}++) {\n    ${inner}\n  }`;
    }
  }
  return src + '  ' + inner + '\n';
}

export function sum(rt: GpuRuntime, x: Float32Array, shape: readonly number[], axes: readonly number[], out: Float32Array): void {
  const p = planReduce(shape, axes);
  const split = chooseSplit(p);
  const n = p.outCount * (split ? split.chunks : 1);
  const first = () => kernelSource(['x'], `${walk(p, split, 'let s = 0.0;', 's += x[idx];')}  return s;`);
  const second = () => kernelSource(['part'], `${THREAD}let s = 0.0;
  for (let c = 0; c < ${split!.chunks}; c++) {
    s += part[c * ${p.outCount} + o];
  }
  return s;`);
  rt.op(() => {
    const sig = planKey(p, split);
    let r = rt.run(key('sum', sig), n, first, [rt.upload(x)]);
    if (split) r = rt.run(key('sumChunks', split.chunks, p.outCount), p.outCount, second, [r]);
    rt.read(r, out);
    rt.keep(out, r);
  });
}

export function max(
  rt: GpuRuntime, x: Float32Array, shape: readonly number[], axes: readonly number[], out: Float32Array, argmax?: Int32Array,
): void {
  const p = planReduce(shape, axes);
  const split = chooseSplit(p);
  const n = p.outCount * (split ? split.chunks : 1);
  const visit = `const v = x[idx];
    if (bi < 0 || v > best) {
      best = v;
      bi = idx;
    }`;
  const first = () => kernelSource(['x'], `${walk(p, split, 'let best = 0.0;\n  let bi = -1.0;', visit)}  return bi;`);
  // ties between chunks go to the lower index, as in one row-major walk
  const second = () => kernelSource(['part', 'x'], `${THREAD}let best = 0.0;
  let bi = -1.0;
  for (let c = 0; c < ${split!.chunks}; c++) {
    const idx = part[c * ${p.outCount} + o];
    if (idx >= 0) {
      const v = x[idx];
      if (bi < 0 || v > best || (v == best && idx < bi)) {
        best = v;
        bi = idx;
      }
    }
  }
  return bi;`);
  const winners = new Float32Array(out.length);
  rt.op(() => {
    const sig = planKey(p, split);
    const xd = rt.upload(x);
    let r = rt.run(key('argmax', sig), n, first, [xd]);
    if (split) r = rt.run(key('argmaxChunks', split.chunks, p.outCount), p.outCount, second, [r, xd]);
    rt.read(r, winners);
  });
  for (let o = 0; o < out.length; o++) {
    const i = winners[o];
    out[o] = x[i];
    if (argmax) argmax[o] = i;
  }
}

function planKey(p: ReducePlan, split: Split | null): string {
  const blocks = (bs: Block[]) => bs.map((b) => `${b.size}@${b.stride}`).join('x');
  return `${blocks(p.kept)}/${blocks(p.reduced)}/${split ? `${split.block}:${split.chunks}` : '-'}`;
}
