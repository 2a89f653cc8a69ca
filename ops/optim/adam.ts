/**
 * Adam (Kingma & Ba), PyTorch semantics (torch.optim.Adam, amsgrad off):
 *
 *   g = grad + weightDecay * p                       (coupled L2 decay, as in torch.optim.Adam)
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g^2
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 *
 * t counts the updates of each parameter. Weight decay here is L2 added to the gradient (so it is
 * rescaled by the moments); AdamW's decoupled decay is a different rule, not this one.
 */
import { check, type Tensor } from '../../core/index.js';
import { Optimizer, checkNonNegative, type HasParameters } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class Adam extends Optimizer {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;

  constructor(params: Iterable<Tensor> | HasParameters, opts: AdamOptions) {
    super('Adam', params, opts.lr, ['expAvg', 'expAvgSq']);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    for (const [n, b] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      check(b >= 0 && b < 1, 'Adam', () => `${n} must lie in [0, 1), got ${b}`);
    }
    checkNonNegative('Adam', 'eps', this.eps);
    checkNonNegative('Adam', 'weightDecay', this.weightDecay);
  }

  protected hyper(): { [key: string]: number | boolean } {
    return { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }

  step(): void {
    const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd } = this;
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      if (!p.grad) continue;
      const w = p.data, g = p.grad.data;
      const m = this.slot('expAvg', i), v = this.slot('expAvgSq', i);
      const t = ++this.steps[i];
      const stepSize = lr / (1 - Math.pow(b1, t));
      const sqrtBc2 = Math.sqrt(1 - Math.pow(b2, t));
      for (let j = 0; j < w.length; j++) {
        const gj = g[j] + wd * w[j];
        const mj = (m[j] = b1 * m[j] + (1 - b1) * gj);
        const vj = (v[j] = b2 * v[j] + (1 - b2) * gj * gj);
        w[j] -= (stepSize * mj) / (Math.sqrt(vj) / sqrtBc2 + eps);
      }
      p.markChanged();
    }
  }
}
