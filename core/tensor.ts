/**
 * The float32 Tensor: contiguous row-major storage, a shape, and what autograd needs
 * (`requiresGrad`, `.grad`, and the node that produced it). Operations live in `ops/` as functions;
 * this file knows nothing of them.
 */
import { allocFloat32, allocOutput, fillFloat32 } from './alloc.js';
import { backward as runBackward, type GradNode } from './autograd.js';
import { CpnasError, shapeStr } from './errors.js';
import { defaultRandom, type Random } from './random.js';
import { allocFloats, assertValidShape, sizeOf, type Shape } from './shape.js';

export class Tensor {
  /** The values, row-major. Ops never resize it; in-place writes should be followed by `markChanged()`. */
  readonly data: Float32Array;
  readonly shape: readonly number[];
  /** Whether gradients flow to this tensor (parameters, or anything computed from them). */
  requiresGrad: boolean;
  /** The accumulated gradient of a leaf tensor after `backward()`. */
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor (null for leaves and for results under `noGrad`). */
  node: GradNode | null = null;
  /** Bumped whenever the values change in place (optimizer steps, loads), so caches (packed 1-bit
   *  weights) know when to rebuild. */
  version = 0;
  /** An optional name (parameters carry theirs, for messages and checkpoints). */
  name?: string;

  constructor(data: Float32Array, shape: Shape, requiresGrad = false) {
    assertValidShape('Tensor', shape);
    if (data.length !== sizeOf(shape)) {
      throw new CpnasError('Tensor', `data has ${data.length} values but shape ${shapeStr(shape)} needs ${sizeOf(shape)}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = requiresGrad;
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  // ---- construction -----------------------------------------------------------------------------
  static zeros(shape: Shape, requiresGrad = false): Tensor {
    // checked before allocating: a negative or huge dim must not reach the allocator
    return new Tensor(allocFloats('Tensor', shape, allocFloat32), shape, requiresGrad);
  }

  static ones(shape: Shape, requiresGrad = false): Tensor {
    return Tensor.full(shape, 1, requiresGrad);
  }

  static full(shape: Shape, value: number, requiresGrad = false): Tensor {
    return new Tensor(fillFloat32(allocFloats('Tensor', shape, allocOutput), value), shape, requiresGrad);
  }

  static scalar(value: number, requiresGrad = false): Tensor {
    return new Tensor(Float32Array.of(value), [], requiresGrad);
  }

  /** Wraps (does not copy) a Float32Array, or copies a plain array, with the given shape. */
  static from(values: Float32Array | ArrayLike<number>, shape?: Shape, requiresGrad = false): Tensor {
    const data = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    return new Tensor(data, shape ?? [data.length], requiresGrad);
  }

  /** Builds a tensor from nested arrays: `Tensor.of([[1, 2], [3, 4]])`. */
  static of(nested: number | NestedArray, requiresGrad = false): Tensor {
    const shape: number[] = [];
    let probe: number | NestedArray = nested;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      probe = probe[0] as number | NestedArray;
    }
    const flat = (Array.isArray(nested) ? (nested as unknown[]).flat(Infinity) : [nested]) as number[];
    return new Tensor(Float32Array.from(flat), shape, requiresGrad);
  }

  /** Normal(0, std) values from `rng` (the process-wide seeded generator by default). */
  static randn(shape: Shape, std = 1, rng: Random = defaultRandom(), requiresGrad = false): Tensor {
    const t = Tensor.zeros(shape, requiresGrad);
    for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal() * std;
    return t;
  }

  /** Uniform [lo, hi) values from `rng`. */
  static rand(shape: Shape, lo = 0, hi = 1, rng: Random = defaultRandom(), requiresGrad = false): Tensor {
    const t = Tensor.zeros(shape, requiresGrad);
    for (let i = 0; i < t.data.length; i++) t.data[i] = rng.uniform(lo, hi);
    return t;
  }

  // ---- reading ------------------------------------------------------------------------------------
  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new CpnasError('item', `tensor of shape ${shapeStr(this.shape)} has ${this.size} values, not 1`);
    return this.data[0];
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  toString(): string {
    return `Tensor${shapeStr(this.shape)}${this.requiresGrad ? ' (requiresGrad)' : ''}`;
  }

  // ---- autograd -----------------------------------------------------------------------------------
  /** A tensor sharing this one's values, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false);
  }

  /** A copy of the values, cut from the graph. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape, false);
  }

  /**
   * Reverse-mode differentiation from this tensor. A scalar starts from gradient 1; any other shape
   * needs the gradient of some scalar with respect to it. Leaves accumulate into `.grad`.
   */
  backward(grad?: Tensor | Float32Array): void {
    runBackward(this, grad instanceof Tensor ? grad.data : grad);
  }

  zeroGrad(): void {
    this.grad = null;
  }

  /** Marks the values as changed in place. */
  markChanged(): void {
    this.version++;
  }
}

export type NestedArray = (number | NestedArray)[];

/** Throws a CpnasError naming `op` and the argument unless `v` is a Tensor (for JavaScript callers). */
export function checkTensor(op: string, arg: string, v: unknown): asserts v is Tensor {
  if (!(v instanceof Tensor)) {
    const what = v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
    throw new CpnasError(op, `${arg} must be a Tensor, got ${what}`);
  }
}
