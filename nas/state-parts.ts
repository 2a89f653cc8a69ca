/**
 * Typed pieces of a checkpoint. A strategy or the training stage lists what its state is made of —
 * modules, optimizers, schedules, random generators, small JSON values — as named `Part`s; the run
 * context saves them all into one checkpoint and, on resume, loads each one back through its own
 * check, so a checkpoint of another shape (another strategy, an edited or damaged file) is refused
 * naming the part instead of being cast into place.
 */
import { CpnasError, type Random } from '../core/index.js';
import type { Module } from '../ops/module.js';
import type { Optimizer, OptimizerState } from '../ops/optim/optimizer.js';
import type { ScheduleState } from '../ops/optim/schedule.js';
import { nonFiniteEntry, type StateJson, type Tree } from '../ops/state.js';

/** A part that would be saved holding NaN/Inf (the run context says which run, round and flags). */
export class NonFiniteState extends CpnasError {
  constructor(readonly detail: string) {
    super('checkpoint', detail);
  }
}

/** One piece of saved state: how to write it into a checkpoint tree and read it back. */
export interface Part {
  save(): Tree;
  /** Loads `t` (from a checkpoint); throws a CpnasError naming `where` when it has the wrong shape. */
  load(t: Tree, where: string): void;
}

export type Parts = Record<string, Part>;

/** The tree of a set of parts. */
export function saveParts(parts: Parts): Tree {
  const out: { [k: string]: Tree } = {};
  for (const [name, p] of Object.entries(parts)) out[name] = p.save();
  return out;
}

/** Loads every part from `tree`; a missing or extra part is refused (another kind of checkpoint). */
export function loadParts(parts: Parts, tree: Tree, where: string): void {
  const o = asObject(tree, where);
  const missing = Object.keys(parts).filter((k) => !(k in o));
  const extra = Object.keys(o).filter((k) => !(k in parts));
  if (missing.length || extra.length) {
    throw new CpnasError('checkpoint', `${where} holds another kind of state (${[
      missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `unexpected ${extra.join(', ')}` : '',
    ].filter(Boolean).join('; ')})`);
  }
  for (const [name, p] of Object.entries(parts)) p.load(o[name], `${where}: ${name}`);
}

function asObject(t: Tree, where: string): { [k: string]: Tree } {
  if (t === null || typeof t !== 'object' || Array.isArray(t) || ArrayBuffer.isView(t)) {
    throw new CpnasError('checkpoint', `${where} is not an object`);
  }
  return t as { [k: string]: Tree };
}

// ---- the kinds of part ----------------------------------------------------------------------

/** A module's parameters and buffers (its state dict, names and shapes checked on loading). */
export function modulePart(m: Module): Part {
  return {
    save() {
      const s = m.stateDict();
      const bad = nonFiniteEntry(s);
      if (bad) throw new NonFiniteState(bad);
      // the description is fresh plain JSON: kept as text, so the tree needs no typed view of it
      return { json: JSON.stringify(s.json), words: new Uint32Array(s.blob.buffer, s.blob.byteOffset, s.blob.byteLength / 4) };
    },
    load(t, where) {
      const o = asObject(t, where);
      if (typeof o.json !== 'string' || !(o.words instanceof Uint32Array)) throw new CpnasError('checkpoint', `${where}: the saved module state is missing`);
      const json = parseJson(o.json, where) as StateJson;
      m.loadStateDict({ json, blob: new Uint8Array(o.words.buffer, o.words.byteOffset, o.words.byteLength) });
    },
  };
}

/** A module that may not exist yet (the Child before its phase): null when absent. */
export function optionalPart(part: Part, present: () => boolean): Part {
  return {
    save: () => (present() ? part.save() : null),
    load(t, where) {
      if (t !== null) part.load(t, where);
    },
  };
}

/**
 * A part owned by an object made later than the restore (the optimizer of the training phase in
 * progress): `load` keeps the saved tree, `bind` hands it to the owner's part, which checks and loads
 * it; `bind(null)` empties the slot (saved as null).
 */
export class SlotPart implements Part {
  private current: Part | null = null;
  private pending: { tree: Tree; where: string } | null = null;

  save(): Tree {
    return this.current ? this.current.save() : null;
  }

  load(t: Tree, where: string): void {
    this.pending = t === null ? null : { tree: t, where };
  }

  bind(part: Part | null): void {
    this.current = part;
    if (part && this.pending) part.load(this.pending.tree, this.pending.where);
    this.pending = null;
  }
}

/** A piece this run does not have (BNAS has no Parent): saved as null, and must be null. */
export function absentPart(): Part {
  return {
    save: () => null,
    load(t, where) {
      if (t !== null) throw new CpnasError('checkpoint', `${where} is saved but this run has none`);
    },
  };
}

/** An optimizer's slots and counters (optimizer.loadState checks sizes and type). */
export function optimizerPart(o: Optimizer): Part {
  return {
    save: (): Tree => o.state(),
    load(t, where) {
      const s = asObject(t, where);
      const slots = asObject(s.slots, `${where}.slots`);
      const state: OptimizerState = {
        type: str(s.type, `${where}.type`), lr: num(s.lr, `${where}.lr`),
        hyper: Object.fromEntries(Object.entries(asObject(s.hyper, `${where}.hyper`)).map(([k, v]) => {
          if (typeof v !== 'number' && typeof v !== 'boolean') throw new CpnasError('checkpoint', `${where}.hyper.${k} is not a number`);
          return [k, v];
        })),
        sizes: nums(s.sizes, `${where}.sizes`), steps: nums(s.steps, `${where}.steps`),
        slots: Object.fromEntries(Object.entries(slots).map(([k, v]) => {
          if (!Array.isArray(v) || !v.every((x) => x === null || x instanceof Float32Array)) throw new CpnasError('checkpoint', `${where}.slots.${k} is not a list of arrays`);
          return [k, v as (Float32Array | null)[]];
        })),
      };
      o.loadState(state);
    },
  };
}

/** A learning-rate schedule. */
export function schedulePart(s: { state(): ScheduleState; loadState(st: ScheduleState): void }): Part {
  return {
    save: (): Tree => s.state(),
    load(t, where) {
      const o = asObject(t, where);
      s.loadState({ type: str(o.type, `${where}.type`), t: num(o.t, `${where}.t`), baseLr: num(o.baseLr, `${where}.baseLr`) });
    },
  };
}

/** A random generator's state (4 words and the spare normal, NaN when none). */
export function rngPart(r: Random): Part {
  return {
    save: () => r.getState(),
    load(t, where) {
      if (!Array.isArray(t) || !t.every((x) => typeof x === 'number')) throw new CpnasError('checkpoint', `${where} is not a generator state`);
      r.setState(t as number[]);
    },
  };
}

/** A Float32Array of fixed length, copied in place (DARTS's alphas). */
export function arrayPart(a: Float32Array): Part {
  return {
    save: () => a.slice(),
    load(t, where) {
      if (!(t instanceof Float32Array) || t.length !== a.length) throw new CpnasError('checkpoint', `${where} is not ${a.length} floats`);
      a.set(t);
    },
  };
}

/**
 * A small JSON value (counters, positions, indicator credits): saved as text, read back through
 * `check`, which returns the typed value or throws.
 */
export function jsonPart<T>(get: () => T, set: (v: T) => void, check: (v: unknown, where: string) => T): Part {
  return {
    save: () => JSON.stringify(get()),
    load(t, where) {
      if (typeof t !== 'string') throw new CpnasError('checkpoint', `${where} is not a saved value`);
      set(check(parseJson(t, where), where));
    },
  };
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CpnasError('checkpoint', `${where} is not valid JSON (${(e as Error).message})`);
  }
}

// ---- checks of plain values (for jsonPart) ----------------------------------------------------

export function num(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new CpnasError('checkpoint', `${where} is not a finite number (${JSON.stringify(v)})`);
  return v;
}

export function int(v: unknown, where: string, min = 0): number {
  if (!Number.isInteger(v) || (v as number) < min) throw new CpnasError('checkpoint', `${where} is not an integer >= ${min} (${JSON.stringify(v)})`);
  return v as number;
}

export function str(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new CpnasError('checkpoint', `${where} is not a string (${JSON.stringify(v)})`);
  return v;
}

export function nums(v: unknown, where: string): number[] {
  if (!Array.isArray(v)) throw new CpnasError('checkpoint', `${where} is not a list`);
  return v.map((x, i) => num(x, `${where}[${i}]`));
}

export function strs(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) throw new CpnasError('checkpoint', `${where} is not a list`);
  return v.map((x, i) => str(x, `${where}[${i}]`));
}

/** A plain object whose values all pass `each`. */
export function record<T>(v: unknown, where: string, each: (x: unknown, where: string) => T): { [k: string]: T } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CpnasError('checkpoint', `${where} is not an object`);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, each(x, `${where}.${k}`)]));
}

export function obj(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CpnasError('checkpoint', `${where} is not an object`);
  return v as Record<string, unknown>;
}
