/**
 * Stochastic gradient descent with momentum, PyTorch semantics (torch.optim.SGD):
 *
 *   d = grad + weightDecay * p                      (coupled L2 decay: added to the gradient)
 *   buf = d on the first step, else momentum * buf + (1 - dampening) * d
 *   d = d + momentum * buf   (nesterov)   or   d = buf   (plain momentum)
 *   p = p - lr * d
 *
 * Weight decay is L2 regularization folded into the gradient, so it also passes through momentum
 * (as in PyTorch's SGD; not the decoupled decay of AdamW).
 */
import { check, type Tensor } from '../../core/index.js';
import { Optimizer, checkNonNegative, type HasParameters } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;

  constructor(params: Iterable<Tensor> | HasParameters, opts: SGDOptions) {
    super('SGD', params, opts.lr, ['momentum']);
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.weightDecay = opts.weightDecay ?? 0;
    checkNonNegative('SGD', 'momentum', this.momentum);
    checkNonNegative('SGD', 'weightDecay', this.weightDecay);
    check(!this.nesterov || (this.momentum > 0 && this.dampening === 0), 'SGD',
      () => `nesterov needs momentum > 0 and dampening 0 (momentum ${this.momentum}, dampening ${this.dampening})`);
  }

  protected hyper(): { [key: string]: number | boolean } {
    return { momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }

  step(): void {
    const { lr, momentum: mu, dampening, nesterov, weightDecay: wd } = this;
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i];
      if (!p.grad) continue;
      const w = p.data, g = p.grad.data;
      if (mu === 0) {
        for (let j = 0; j < w.length; j++) w[j] -= lr * (g[j] + wd * w[j]);
      } else {
        const first = this.steps[i] === 0 || this.slots.momentum[i] === null;
        const buf = this.slot('momentum', i);
        for (let j = 0; j < w.length; j++) {
          const d = g[j] + wd * w[j];
          const b = first ? d : mu * buf[j] + (1 - dampening) * d;
          buf[j] = b;
          w[j] -= lr * (nesterov ? d + mu * b : b);
        }
      }
      this.steps[i]++;
      p.markChanged();
    }
  }
}
