/**
 * Learning-rate schedules. A schedule owns its optimizer's `lr`: it sets it at construction (the lr of
 * step 0) and at every `step()` (call once per epoch, or per iteration: tMax counts whatever you step).
 */
import { CpnasError, check } from '../../core/index.js';
import type { Optimizer } from './optimizer.js';

export interface CosineOptions {
  /** Steps from the start to the end of the schedule (warmup included). */
  tMax: number;
  /** The lr the cosine ends at. */
  etaMin?: number;
  /** Steps of linear warmup before the cosine: lr = base * (t + 1) / (warmup + 1) for t < warmup. */
  warmup?: number;
}

export type ScheduleState = { type: string; t: number; baseLr: number };

/**
 * Cosine annealing (SGDR without restarts, the closed form of torch's CosineAnnealingLR):
 *   lr(t) = etaMin + (base - etaMin) * (1 + cos(pi * t' / T')) / 2,  t' = t - warmup, T' = tMax - warmup,
 * after an optional linear warmup. Past tMax the lr stays at etaMin (no restart).
 */
export class CosineAnnealingLR {
  readonly tMax: number;
  readonly etaMin: number;
  readonly warmup: number;
  /** The lr the optimizer had when the schedule was made. */
  baseLr: number;
  /** Steps taken so far. */
  t = 0;

  constructor(readonly optimizer: Optimizer, opts: CosineOptions) {
    this.tMax = opts.tMax;
    this.etaMin = opts.etaMin ?? 0;
    this.warmup = opts.warmup ?? 0;
    check(Number.isInteger(this.tMax) && this.tMax > 0, 'CosineAnnealingLR', () => `tMax must be a positive integer, got ${this.tMax}`);
    check(Number.isInteger(this.warmup) && this.warmup >= 0 && this.warmup < this.tMax, 'CosineAnnealingLR',
      () => `warmup must be an integer in [0, tMax), got ${this.warmup} (tMax ${this.tMax})`);
    check(Number.isFinite(this.etaMin) && this.etaMin >= 0, 'CosineAnnealingLR', () => `etaMin must be >= 0, got ${this.etaMin}`);
    this.baseLr = optimizer.lr;
    optimizer.lr = this.lrAt(0);
  }

  /** The lr of step t. */
  lrAt(t: number): number {
    const { baseLr: base, etaMin, warmup, tMax } = this;
    if (t < warmup) return (base * (t + 1)) / (warmup + 1);
    const tt = Math.min(t, tMax) - warmup, T = tMax - warmup;
    return etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * tt) / T))) / 2;
  }

  /** The current lr. */
  get lr(): number {
    return this.lrAt(this.t);
  }

  /** Advances one step and sets the optimizer's lr. */
  step(): void {
    this.t++;
    this.optimizer.lr = this.lr;
  }

  state(): ScheduleState {
    return { type: 'CosineAnnealingLR', t: this.t, baseLr: this.baseLr };
  }

  loadState(s: ScheduleState): void {
    if (!s || s.type !== 'CosineAnnealingLR') throw new CpnasError('CosineAnnealingLR.loadState', `the state is for ${JSON.stringify(s?.type)}`);
    this.t = s.t;
    this.baseLr = s.baseLr;
    this.optimizer.lr = this.lr;
  }
}
