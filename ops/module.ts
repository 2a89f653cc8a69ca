/**
 * `Module`: the base class of layers and networks. A module holds parameters and child modules in its
 * own fields and finds them there, so a subclass only assigns fields:
 *
 *   class Block extends Module {
 *     conv = new Conv2d(16, 16, 3, { padding: 1 });   // a child, named "conv"
 *     bn = new BatchNorm2d(16);
 *     alpha = Tensor.zeros([4], true);                // a parameter, named "alpha"
 *     forward(x: Tensor) { return relu(this.bn.forward(this.conv.forward(x))); }
 *   }
 *
 * Discovery looks at the module's own enumerable fields, in declaration order:
 * - a leaf Tensor with `requiresGrad` is a parameter (a tensor computed from parameters is not: it has
 *   a graph node; a frozen tensor with `requiresGrad = false` is not either);
 * - a Module is a child; an array may hold Modules (children `field.0`, `field.1`, ...) and
 *   parameter Tensors (`field.0`, ...), and arrays of those (`field.0.1`);
 * - anything else (numbers, settings, caches) is ignored. To keep a reference to a module without
 *   owning it (a teacher, a twin), use `this.setUnowned('parent', m)`: the field is not enumerable.
 * Names are dotted paths from the module `namedParameters()` is called on: `cells.0.ops.3.conv.weight`.
 * A tensor reachable twice (shared weights) is listed once, under its first name.
 *
 * Buffers are named Float32Arrays that belong to the state but are not trained (BatchNorm running
 * statistics); they are registered with `registerBuffer`. A subclass may add other arrays to the saved
 * state (packed 1-bit weights, say) by overriding `extraState()` / `loadExtraState()`.
 */
import { CpnasError, Tensor, shapeStr, shapesEqual } from '../core/index.js';
import { packState, readEntry, readEntryInto, validateState, type StateArray, type StateDict, type StateEntry, type StateItem } from './state.js';

export abstract class Module {
  /** Training mode (batch statistics, dropout) or evaluation mode; set with `train()` / `eval()`. */
  training = true;
  #buffers = new Map<string, Float32Array>();

  /** The computation. Subclasses declare their own signature, e.g. `forward(x: Tensor): Tensor`. */
  abstract forward(...args: any[]): unknown;

  // ---- discovery -------------------------------------------------------------------------------

  /**
   * This module's own parameters and children, named by field. Override to name members another way
   * (Sequential names its layers `0`, `1`, ...).
   */
  protected ownMembers(): [string, Tensor | Module][] {
    const out: [string, Tensor | Module][] = [];
    const visit = (name: string, v: unknown): void => {
      if (isMember(v)) out.push([name, v]);
      else if (Array.isArray(v)) v.forEach((x, i) => visit(`${name}.${i}`, x));
    };
    for (const key of Object.keys(this)) visit(key, (this as Record<string, unknown>)[key]);
    return out;
  }

  /** Keeps `value` in field `name` without making it part of this module (not enumerable). */
  protected setUnowned(name: string, value: unknown): void {
    Object.defineProperty(this, name, { value, enumerable: false, writable: true, configurable: true });
  }

  /** Direct children with their names. */
  namedChildren(): [string, Module][] {
    return this.ownMembers().filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  children(): Module[] {
    return this.namedChildren().map((e) => e[1]);
  }

  /** Every module under this one, depth-first, self first (named '' ), each once. */
  namedModules(): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, prefix: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([prefix, m]);
      for (const [name, c] of m.namedChildren()) visit(c, prefix ? `${prefix}.${name}` : name);
    };
    visit(this, '');
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map((e) => e[1]);
  }

  /** Every parameter under this module with its dotted name, each tensor once. */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, v] of m.ownMembers()) {
        if (v instanceof Tensor && !seen.has(v)) {
          seen.add(v);
          out.push([prefix ? `${prefix}.${name}` : name, v]);
        }
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map((e) => e[1]);
  }

  /** The number of trainable values. */
  numParameters(): number {
    let n = 0;
    for (const p of this.parameters()) n += p.size;
    return n;
  }

  // ---- buffers ---------------------------------------------------------------------------------

  /**
   * Registers (or replaces) a named array that is saved with the state but not trained. Loading copies
   * into the registered array, so code holding it keeps seeing the live values.
   */
  registerBuffer(name: string, data: Float32Array): Float32Array {
    if (!name || name.includes('.')) throw new CpnasError('registerBuffer', `buffer name ${JSON.stringify(name)} must be non-empty and contain no '.'`);
    this.#buffers.set(name, data);
    return data;
  }

  /** Every buffer under this module with its dotted name. */
  namedBuffers(): [string, Float32Array][] {
    const out: [string, Float32Array][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.#buffers) out.push([prefix ? `${prefix}.${name}` : name, b]);
    }
    return out;
  }

  // ---- modes and gradients -----------------------------------------------------------------------

  /** Sets training mode on this module and every module under it. */
  train(on = true): this {
    for (const m of this.modules()) m.training = on;
    return this;
  }

  /** Evaluation mode: BatchNorm uses its running statistics, dropout is off. */
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradient of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  // ---- state ---------------------------------------------------------------------------------------

  /** Extra arrays of this module (not its children) to save beside parameters and buffers. */
  extraState(): Record<string, StateArray> {
    return {};
  }

  /** Receives the arrays `extraState()` named, as saved (copies, the shapes already checked). */
  loadExtraState(_state: Record<string, StateArray>): void {
    /* nothing by default */
  }

  /** Parameters, buffers and extra state in one JSON description and one blob (values copied). */
  stateDict(meta?: Record<string, unknown>): StateDict {
    return packState(this.stateItems(), meta);
  }

  private stateItems(): StateItem[] {
    const items: StateItem[] = [];
    for (const [name, p] of this.namedParameters()) items.push({ name, kind: 'param', shape: p.shape, data: p.data });
    for (const [name, b] of this.namedBuffers()) items.push({ name, kind: 'buffer', shape: [b.length], data: b });
    for (const [prefix, m] of this.namedModules()) {
      for (const [key, a] of Object.entries(m.extraState())) {
        items.push({ name: prefix ? `${prefix}.${key}` : key, kind: 'extra', shape: [a.length], data: a });
      }
    }
    return items;
  }

  /**
   * Loads a state saved by `stateDict()`. Every name and shape is checked before anything is written:
   * a missing or unexpected key (unless `strict` is false) or a shape mismatch (always) throws one
   * error listing every problem, and the module is left unchanged.
   */
  loadStateDict(state: StateDict, opts: { strict?: boolean } = {}): void {
    const strict = opts.strict ?? true;
    validateState(state);
    const saved = new Map<string, StateEntry>();
    for (const e of state.json.entries) saved.set(e.name, e);

    const missing: string[] = [], problems: string[] = [];
    const used = new Set<string>();
    const targets: { entry: StateEntry; dst: StateArray; param?: Tensor }[] = [];
    const extras: { module: Module; key: string; entry: StateEntry }[] = [];
    const expect = (name: string, kind: StateEntry['kind'], shape: readonly number[], dtype: 'f32' | 'u32'): StateEntry | null => {
      const e = saved.get(name);
      if (!e) {
        missing.push(name);
        return null;
      }
      used.add(name);
      if (e.kind !== kind) problems.push(`${name} is a ${kind} here but was saved as a ${e.kind}`);
      else if (!shapesEqual(e.shape, shape)) problems.push(`${name} has shape ${shapeStr(shape)} here but ${shapeStr(e.shape)} in the saved state`);
      else if (e.dtype !== dtype) problems.push(`${name} is ${dtype} here but ${e.dtype} in the saved state`);
      else return e;
      return null;
    };
    for (const [name, p] of this.namedParameters()) {
      const e = expect(name, 'param', p.shape, 'f32');
      if (e) targets.push({ entry: e, dst: p.data, param: p });
    }
    for (const [name, b] of this.namedBuffers()) {
      const e = expect(name, 'buffer', [b.length], 'f32');
      if (e) targets.push({ entry: e, dst: b });
    }
    for (const [prefix, m] of this.namedModules()) {
      for (const [key, a] of Object.entries(m.extraState())) {
        const e = expect(prefix ? `${prefix}.${key}` : key, 'extra', [a.length], a instanceof Uint32Array ? 'u32' : 'f32');
        if (e) extras.push({ module: m, key, entry: e });
      }
    }
    const unexpected = state.json.entries.filter((e) => !used.has(e.name)).map((e) => e.name);
    const report: string[] = [...problems];
    if (strict && missing.length) report.push(`missing key${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    if (strict && unexpected.length) report.push(`unexpected key${unexpected.length > 1 ? 's' : ''} ${unexpected.join(', ')}`);
    if (report.length) throw new CpnasError('loadStateDict', report.join('; '));

    for (const t of targets) {
      readEntryInto(state, t.entry, t.dst);
      t.param?.markChanged();
    }
    const perModule = new Map<Module, Record<string, StateArray>>();
    for (const x of extras) {
      const rec = perModule.get(x.module) ?? {};
      rec[x.key] = readEntry(state, x.entry);
      perModule.set(x.module, rec);
    }
    for (const [m, rec] of perModule) m.loadExtraState(rec);
  }

  // ---- printing ----------------------------------------------------------------------------------

  /** A one-line description of this module's settings, shown by toString (`16, 32, kernel=3`). */
  protected extraRepr(): string {
    return '';
  }

  /** The module tree, PyTorch-style. */
  toString(): string {
    const kids = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (!kids.length) return `${head})`;
    const lines = kids.map(([n, c]) => `  (${n}): ${c.toString().split('\n').join('\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}

function isMember(v: unknown): v is Tensor | Module {
  return v instanceof Module || (v instanceof Tensor && v.requiresGrad && v.node === null);
}
