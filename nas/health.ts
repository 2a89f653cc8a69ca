/**
 * Numerical health of a training run: a step whose loss, gradients, weights or BatchNorm statistics
 * become NaN or infinite stops the run with an error naming the phase, the epoch and the flags to
 * lower, instead of training on (and saving) a network of infinities. The checks are linear scans of
 * arrays the step already touched, small beside the step itself.
 */
import { CpnasError, type Tensor } from '../core/index.js';
import type { Module } from '../ops/module.js';

/** Where a check runs and what the user can lower. */
export interface HealthWhere {
  /** `parent training`, `child training`, `cp search`... */
  phase: string;
  /** 1-based epoch (or round). */
  epoch: number;
  /** The flags that drive the magnitudes: `--lr`, `--lambda`, `--theta`. */
  flags: string[];
}

function fail(w: HealthWhere, what: string): never {
  throw new CpnasError(w.phase, `epoch ${w.epoch}: ${what}; the run stopped before saving it (lower ${w.flags.join(', or ')})`);
}

function countNonFinite(d: Float32Array): number {
  let n = 0;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) n++;
  return n;
}

/** The first parameter or buffer of `m` holding NaN/Inf, with how many, or null. */
export function firstNonFinite(m: Module): { name: string; count: number; kind: 'parameter' | 'buffer' } | null {
  for (const [name, p] of m.namedParameters()) {
    const n = countNonFinite(p.data);
    if (n) return { name, count: n, kind: 'parameter' };
  }
  for (const [name, b] of m.namedBuffers()) {
    const n = countNonFinite(b);
    if (n) return { name, count: n, kind: 'buffer' };
  }
  return null;
}

/** The loss of a step must be finite. */
export function checkLoss(value: number, w: HealthWhere): void {
  if (!Number.isFinite(value)) fail(w, `the loss became ${value}`);
}

/** The gradients of a step must be finite (checked before the optimizer applies them). */
export function checkGradients(params: readonly Tensor[], w: HealthWhere): void {
  for (const p of params) {
    if (p.grad && countNonFinite(p.grad.data)) fail(w, `the gradients became non-finite (${countNonFinite(p.grad.data)} values of a ${p.shape.join('x')} parameter)`);
  }
}

/** Weights and BatchNorm running statistics must be finite (after a step, before any save). */
export function checkModule(m: Module, label: string, w: HealthWhere): void {
  const bad = firstNonFinite(m);
  if (bad) {
    const what = bad.kind === 'buffer' && /running(Var|Mean)$/.test(bad.name) ? 'BatchNorm statistics' : bad.kind === 'buffer' ? 'buffers' : 'weights';
    fail(w, `the ${label}'s ${what} became non-finite (${bad.count} values of ${bad.name})`);
  }
}
