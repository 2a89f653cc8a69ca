/**
 * The checks a Child file's plan passes before the engine runs it (format.ts calls validatePlan after
 * reading): buffer indices, shapes, every array's length against its layer's geometry, and the order
 * of writes and reads. They are what the kernels rely on to stay in bounds.
 */
import { packedBuffers, type ConvGeom, type InferencePlan, type PlanStep } from './plan.js';

/** The order of a convolution geometry's integers in the file. */
export const GEOM_KEYS = ['C', 'H', 'W', 'K', 'R', 'S', 'strideH', 'strideW', 'padH', 'padW', 'dilationH', 'dilationW', 'groups', 'P', 'Q'] as const;

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

/**
 * Checks a plan's structure: buffer indices, shapes, and array lengths against each layer's geometry
 * (what the kernels rely on to stay in bounds). `fail` builds the error.
 */
export function validatePlan(plan: InferencePlan, fail: (why: string) => Error): void {
  const p = plan as Partial<InferencePlan>;
  if (!p || !Array.isArray(p.buffers) || !Array.isArray(p.steps) || !Array.isArray(p.input)) throw fail('the plan needs input, buffers and steps');
  const shapes = p.buffers;
  shapes.forEach((s, i) => {
    if (!Array.isArray(s) || s.length !== 3 || !s.every((d) => isInt(d, 1))) throw fail(`buffer ${i} has shape ${JSON.stringify(s)}, not [C,H,W] of positive integers`);
  });
  if (shapes.length === 0 || shapes[0].join() !== p.input.join()) throw fail('buffer 0 must be the input');
  if (!isInt(p.output) || p.output >= shapes.length || !isInt(p.numClasses, 1) || shapes[p.output].join() !== `${p.numClasses},1,1`) {
    throw fail(`output buffer ${JSON.stringify(p.output)} does not hold ${JSON.stringify(p.numClasses)} logits`);
  }
  const buf = (i: number, v: unknown, what: string): [number, number, number] => {
    if (!isInt(v) || v >= shapes.length) throw fail(`step ${i}: ${what} buffer ${JSON.stringify(v)} does not exist`);
    return shapes[v];
  };
  const arr = (i: number, v: unknown, kind: 'f32' | 'u32', n: number, what: string): void => {
    const ok = kind === 'f32' ? v instanceof Float32Array : v instanceof Uint32Array;
    if (!ok || (v as Float32Array).length !== n) throw fail(`step ${i}: ${what} must be ${n} ${kind} values`);
  };
  const sizeOf = (s: number[]): number => s[0] * s[1] * s[2];
  p.steps.forEach((s: PlanStep, i) => {
    if (!s || typeof s !== 'object') throw fail(`step ${i} is not an object`);
    if (s.op !== 'zero' && s.op !== 'add' && (s as { x: unknown }).x === s.y) throw fail(`step ${i}: ${s.op} writes its own input`);
    if (s.y === 0) throw fail(`step ${i} writes the input buffer`);
    switch (s.op) {
      case 'conv': case 'bconv': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output'), g = s.geom as ConvGeom;
        checkGeom(i, g, x, fail);
        const yC0 = s.op === 'bconv' ? s.yC0 : 0;
        if (!isInt(yC0) || y[1] !== g.P || y[2] !== g.Q || yC0 + g.K > y[0]) throw fail(`step ${i}: output [${y}] does not take ${g.K} channels of ${g.P}x${g.Q} from channel ${yC0}`);
        const Cg = g.C / g.groups;
        if (s.op === 'conv') {
          arr(i, s.weight, 'f32', g.K * Cg * g.R * g.S, 'weight');
          if (s.bias !== null) arr(i, s.bias, 'f32', g.K, 'bias');
        } else {
          arr(i, s.signs, 'u32', Math.ceil((g.K * Cg * g.R * g.S) / 32), 'signs');
          arr(i, s.A, 'f32', s.outBits ? 0 : g.K, 'A');
          arr(i, s.B, 'f32', s.outBits ? 0 : g.K, 'B');
          if (s.resScale !== null) arr(i, s.resScale, 'f32', g.K, 'resScale');
          if (typeof s.inBits !== 'boolean') throw fail(`step ${i}: inBits must be true or false`);
          if (s.outBits !== null) {
            if (!s.outBits || typeof s.outBits !== 'object') throw fail(`step ${i}: outBits must be null or {dir, val}`);
            arr(i, s.outBits.dir, 'f32', g.K, 'outBits.dir');
            arr(i, s.outBits.val, 'f32', g.K, 'outBits.val');
            if (s.res !== -1 || s.yC0 !== 0 || y[0] !== g.K) throw fail(`step ${i}: a sign-bit output takes no shortcut and fills its own buffer`);
          }
          if (s.res !== -1) {
            const r = buf(i, s.res, 'shortcut');
            if (!isInt(s.resC0) || r[1] !== g.P || r[2] !== g.Q || s.resC0 + g.K > r[0]) throw fail(`step ${i}: shortcut [${r}] does not match the output`);
          }
        }
        return;
      }
      case 'affine': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output');
        if (x.join() !== y.join()) throw fail(`step ${i}: affine maps [${x}] to [${y}]`);
        arr(i, s.scale, 'f32', x[0], 'scale');
        arr(i, s.shift, 'f32', x[0], 'shift');
        return;
      }
      case 'relu': case 'copy': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output'), c0 = s.op === 'copy' ? s.yC0 : 0;
        if (!isInt(c0) || x[1] !== y[1] || x[2] !== y[2] || c0 + x[0] > y[0]) throw fail(`step ${i}: ${s.op} of [${x}] does not fit [${y}]`);
        return;
      }
      case 'add': {
        const a = buf(i, s.a, 'input'), b = buf(i, s.b, 'input'), y = buf(i, s.y, 'output');
        if (s.y === s.a || s.y === s.b) throw fail(`step ${i}: add writes its own input`);
        if (a.join() !== b.join() || !isInt(s.yC0) || a[1] !== y[1] || a[2] !== y[2] || s.yC0 + a[0] > y[0]) throw fail(`step ${i}: add of [${a}] and [${b}] into [${y}]`);
        return;
      }
      case 'maxpool': case 'avgpool': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output');
        if (!isInt(s.kernel, 1) || !isInt(s.stride, 1) || !isInt(s.padding) || 2 * s.padding >= s.kernel + 1) throw fail(`step ${i}: bad pooling window`);
        const P = Math.floor((x[1] + 2 * s.padding - s.kernel) / s.stride) + 1, Q = Math.floor((x[2] + 2 * s.padding - s.kernel) / s.stride) + 1;
        if (y.join() !== `${x[0]},${P},${Q}`) throw fail(`step ${i}: pooling [${x}] gives [${x[0]},${P},${Q}], not [${y}]`);
        return;
      }
      case 'groupmean': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output');
        if (!isInt(s.groups, 1) || y.join() !== `${x[0] / s.groups},${x[1]},${x[2]}`) throw fail(`step ${i}: group mean of [${x}] into [${y}]`);
        return;
      }
      case 'shift': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output');
        if (y.join() !== `${x[0]},${x[1] - 1 + (x[1] % 2)},${x[2] - 1 + (x[2] % 2)}`) throw fail(`step ${i}: shift of [${x}] into [${y}]`);
        return;
      }
      case 'zero': buf(i, s.y, 'output'); return;
      case 'gap': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output');
        if (y.join() !== `${x[0]},1,1`) throw fail(`step ${i}: global pool of [${x}] into [${y}]`);
        return;
      }
      case 'linear': {
        const x = buf(i, s.x, 'input'), y = buf(i, s.y, 'output');
        if (!isInt(s.inFeatures, 1) || !isInt(s.outFeatures, 1) || sizeOf(x) !== s.inFeatures || sizeOf(y) !== s.outFeatures) throw fail(`step ${i}: linear sizes`);
        arr(i, s.weight, 'f32', s.inFeatures * s.outFeatures, 'weight');
        if (s.bias !== null) arr(i, s.bias, 'f32', s.outFeatures, 'bias');
        return;
      }
      default: throw fail(`step ${i} has unknown op ${JSON.stringify((s as { op: unknown }).op)}`);
    }
  });
  // every buffer is written before it is read; sign-bit buffers are written and read by 1-bit convolutions only
  const written = new Set([0]), packed = packedBuffers(p as InferencePlan);
  p.steps.forEach((s, i) => {
    const reads = s.op === 'bconv' ? (s.res >= 0 ? [s.x, s.res] : [s.x]) : s.op === 'add' ? [s.a, s.b] : s.op === 'zero' ? [] : [s.x];
    for (const b of reads) if (!written.has(b)) throw fail(`step ${i} reads buffer ${b} before any step writes it`);
    const floatReads = s.op === 'bconv' ? (s.res >= 0 ? [s.res] : []) : reads;
    if (s.op === 'bconv' && s.inBits !== packed.has(s.x)) throw fail(`step ${i}: inBits is ${s.inBits} but buffer ${s.x} ${packed.has(s.x) ? 'holds' : 'does not hold'} sign bits`);
    for (const b of floatReads) if (packed.has(b)) throw fail(`step ${i} reads buffer ${b} as floats, but it holds sign bits`);
    if (packed.has(s.y) && !(s.op === 'bconv' && s.outBits)) throw fail(`step ${i} writes floats into buffer ${s.y}, which holds sign bits`);
    written.add(s.y);
  });
  if (packed.has(p.output)) throw fail('the output buffer holds sign bits');
  if (!written.has(p.output)) throw fail(`no step writes the output buffer ${p.output}`);
}

function checkGeom(i: number, g: ConvGeom, x: [number, number, number], fail: (why: string) => Error): void {
  const keys = GEOM_KEYS;
  if (!g || typeof g !== 'object' || !keys.every((k) => isInt(g[k], k.startsWith('pad') ? 0 : 1))) throw fail(`step ${i}: bad convolution geometry`);
  const P = Math.floor((g.H + 2 * g.padH - g.dilationH * (g.R - 1) - 1) / g.strideH) + 1;
  const Q = Math.floor((g.W + 2 * g.padW - g.dilationW * (g.S - 1) - 1) / g.strideW) + 1;
  if (x.join() !== `${g.C},${g.H},${g.W}` || g.C % g.groups !== 0 || g.K % g.groups !== 0 || P !== g.P || Q !== g.Q) {
    throw fail(`step ${i}: convolution geometry does not match its input [${x}]`);
  }
}
