/**
 * What SGD and Adam share: the parameter list, a settable learning rate, `zeroGrad()`, and per-parameter
 * state slots (momentum, moments) that `state()` / `loadState()` save and restore, so a run resumed
 * from a checkpoint continues with exactly the updates it would have made.
 *
 * Slots are allocated on a parameter's first update; after that a step allocates nothing.
 */
import { CpnasError, Tensor, check, shapeStr } from '../../core/index.js';
import type { Tree } from '../state.js';

/** An optimizer's saved state: plain JSON plus Float32Arrays (saveTree / encodeTree can write it). */
export type OptimizerState = {
  type: string;
  lr: number;
  /** Hyperparameters, recorded so a resumed run can tell they changed. */
  hyper: { [key: string]: number | boolean };
  /** Sizes of the parameters, in order, to catch a state loaded into the wrong model. */
  sizes: number[];
  /** Per-parameter counters (Adam's step count); 0 for a parameter never updated. */
  steps: number[];
  /** Per-slot, per-parameter arrays (null until the parameter's first update). */
  slots: { [slot: string]: (Float32Array | null)[] };
};

/** A module-like thing that lists its parameters (Module, without importing it). */
export interface HasParameters {
  parameters(): Tensor[];
}

export abstract class Optimizer {
  readonly params: Tensor[];
  /** The learning rate of the next step (schedules set it). */
  lr: number;
  /** Per-parameter update counts. */
  protected readonly steps: number[];
  protected readonly slots: Record<string, (Float32Array | null)[]>;

  constructor(readonly type: string, params: Iterable<Tensor> | HasParameters, lr: number, slotNames: string[]) {
    const list = isHasParameters(params) ? params.parameters() : [...params];
    const seen = new Set<Tensor>();
    list.forEach((p, i) => {
      check(p instanceof Tensor, type, () => `parameter ${i} is not a Tensor`);
      check(p.requiresGrad && p.node === null, type, () => `parameter ${i} ${p.name ?? ''}${shapeStr(p.shape)} is not a leaf tensor that requires gradients`);
      check(!seen.has(p), type, () => `parameter ${i} ${p.name ?? ''}${shapeStr(p.shape)} is listed twice`);
      seen.add(p);
    });
    checkNonNegative(type, 'lr', lr);
    this.params = list;
    this.lr = lr;
    this.steps = list.map(() => 0);
    this.slots = {};
    for (const s of slotNames) this.slots[s] = list.map(() => null);
  }

  /** Applies one update to every parameter that has a gradient. */
  abstract step(): void;

  /** The hyperparameters other than lr, as saved in the state. */
  protected abstract hyper(): { [key: string]: number | boolean };

  /** Clears the gradient of every parameter. */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** The slot array of parameter i, allocated (zeros) on first use. */
  protected slot(name: string, i: number): Float32Array {
    const s = this.slots[name];
    return s[i] ?? (s[i] = new Float32Array(this.params[i].size));
  }

  /** A copy of everything a resumed run needs. */
  state(): OptimizerState {
    const slots: OptimizerState['slots'] = {};
    for (const [k, arr] of Object.entries(this.slots)) slots[k] = arr.map((a) => (a ? a.slice() : null));
    return { type: this.type, lr: this.lr, hyper: this.hyper(), sizes: this.params.map((p) => p.size), steps: [...this.steps], slots };
  }

  /**
   * Restores a state from `state()`. The optimizer type, the number of parameters and every size must
   * match; hyperparameters come from the constructor (the saved ones are informative), lr from the state.
   */
  loadState(s: OptimizerState | Tree): void {
    const st = s as OptimizerState;
    const where = `${this.type}.loadState`;
    if (!st || typeof st !== 'object' || st.type !== this.type) {
      throw new CpnasError(where, `the state is for ${JSON.stringify((st as { type?: unknown } | null)?.type)}, not ${this.type}`);
    }
    if (!Array.isArray(st.sizes) || st.sizes.length !== this.params.length) {
      throw new CpnasError(where, `the state has ${st.sizes?.length} parameters but this optimizer has ${this.params.length}`);
    }
    this.params.forEach((p, i) => {
      check(st.sizes[i] === p.size, where, () => `parameter ${i} ${p.name ?? ''}${shapeStr(p.shape)} has ${p.size} values but the state has ${st.sizes[i]}`);
    });
    for (const k of Object.keys(this.slots)) {
      const arr = st.slots?.[k];
      check(Array.isArray(arr) && arr.length === this.params.length, where, () => `the state has no '${k}' slot for every parameter`);
      arr.forEach((a, i) => {
        check(a === null || (a instanceof Float32Array && a.length === this.params[i].size), where,
          () => `slot '${k}' of parameter ${i} has the wrong size`);
      });
    }
    this.lr = st.lr;
    for (let i = 0; i < this.params.length; i++) this.steps[i] = st.steps?.[i] ?? 0;
    for (const k of Object.keys(this.slots)) this.slots[k] = st.slots[k].map((a) => (a ? a.slice() : null));
  }
}

export function checkNonNegative(where: string, name: string, v: number): void {
  check(Number.isFinite(v) && v >= 0, where, () => `${name} must be a finite number >= 0, got ${v}`);
}

function isHasParameters(p: unknown): p is HasParameters {
  return typeof (p as HasParameters).parameters === 'function';
}
