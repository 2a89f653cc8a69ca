/**
 * The cpnas runtime (`cpnas/runtime`; for web pages the bundle dist/browser/runtime.js): loads an
 * exported Child (`cpnas export`, format.ts, versions 1 to 3) and predicts with the 1-bit inference
 * engine, without the training code (no tensors, no autograd, no layers; one package, fflate, for the
 * compressed body: test/binary/runtime.test.ts keeps it so).
 *
 *   import { readChildFile } from 'cpnas/runtime/node';
 *   const child = readChildFile('digits.cpnas-child');
 *   const classes = child.predict(images, n);      // images: n x C x H x W floats, normalized as in training
 */
import { CpnasError } from '../../core/errors.js';
import { PlanRunner } from './execute.js';
import { decodePlan, encodePlan } from './format.js';
import type { InferencePlan, PlanMeta } from './plan.js';

export { CHILD_FORMAT_VERSION, CHILD_MAGIC, crc32, decodePlan, encodePlan, validatePlan } from './format.js';
export { PlanRunner, runnerSettings } from './execute.js';
export type * from './plan.js';

/** A loaded Child: its plan and the engine that runs it. */
export class ChildModel {
  readonly plan: InferencePlan;
  private readonly runner: PlanRunner;

  constructor(plan: InferencePlan) {
    this.plan = plan;
    this.runner = new PlanRunner(plan);
  }

  /** Reads a Child file's bytes (`name` is used in errors). */
  static fromBytes(bytes: Uint8Array, name = 'the Child file'): ChildModel {
    return new ChildModel(decodePlan(bytes, name));
  }

  /** The file's bytes (what `cpnas export` writes). */
  toBytes(): Uint8Array {
    return encodePlan(this.plan);
  }

  /** Input shape [C, H, W]. */
  get inputShape(): [number, number, number] {
    return [...this.plan.input];
  }

  get numClasses(): number {
    return this.plan.numClasses;
  }

  get meta(): PlanMeta {
    return this.plan.meta;
  }

  /** Logits [n, numClasses] of n images [n, C, H, W]. */
  logits(images: Float32Array, n: number): Float32Array {
    return this.runner.run(images, n);
  }

  /** The predicted class of each of n images. */
  predict(images: Float32Array, n: number): Int32Array {
    const logits = this.logits(images, n), K = this.plan.numClasses, out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (logits[i * K + k] > logits[i * K + best]) best = k;
      out[i] = best;
    }
    return out;
  }

  /** The class names, when the file has them (else the class indices as text). */
  classNames(): string[] {
    const names = this.plan.meta.classNames;
    if (Array.isArray(names) && names.length === this.plan.numClasses) return names.map(String);
    return Array.from({ length: this.plan.numClasses }, (_, i) => String(i));
  }
}

/** Reads a Child file's bytes; an error names `name`. */
export function loadChild(bytes: Uint8Array, name?: string): ChildModel {
  if (!(bytes instanceof Uint8Array)) throw new CpnasError('runtime', `loadChild needs the file's bytes (a Uint8Array), got ${typeof bytes}`);
  return ChildModel.fromBytes(bytes, name);
}
