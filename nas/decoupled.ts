/**
 * The decoupled optimization of DCP-NAS (section 4.4.6 of the book version, eqs. 4.42-4.53): weights w
 * and architecture alpha are updated in turn, but alpha's step is corrected for its coupling with w
 * by backtracking:
 *
 *   alpha~^{t+1}_{:,m} = alpha^{t+1}_{:,m} + eta * psi~ (.) alpha^t_{:,m}   if ranking(R(w_m)) > tau  (eq. 4.52)
 *                      = alpha^{t+1}_{:,m}                                   otherwise
 *   psi~^{t+1} = | psi~^t - eta_psi * dL/d psi~^t |                                              (eq. 4.51)
 *
 * with eta = eta_1 * eta_2 (architecture and weight learning rates), (.) the Hadamard product,
 * R(w_m) = ||w_m||^2 the squared norm of operation m's weights (eq. 4.53; pooling counts as weights
 * 1/(k*k), identity as 1), alpha in R^{E x M} (E edges, M operations) and psi~ in R^E, learnable,
 * standing for the unsolvable psi = -sum_m sum_e g~_e dw_m/d alpha (eq. 4.50).
 *
 * Choices where the text is silent:
 * - ranking is ascending (rank 1 = smallest norm), so the M - tau operations with the largest weight
 *   norms, whose alpha the coupling with their weights pushes most, are backtracked;
 * - psi~ starts at 0 (no backtracking until its first update), one psi~ per cell type;
 * - dL/d psi~ is read from the next architecture gradient, the one taken at alpha~^{t+1}:
 *   dL/d psi~_e = sum_{m backtracked} eta * alpha^t_{e,m} * dL/d alpha~_{e,m}.
 */
import type { Tensor } from '../core/index.js';

export interface DecoupledOptions {
  /** eta = eta_1 * eta_2. */
  eta: number;
  /** eta_psi of eq. 4.51. */
  psiLr: number;
  /** Operations ranked above tau by R(w_m) are backtracked (rank 1 = smallest norm). */
  tau: number;
}

export interface DecoupledState {
  psi: number[][];
  /** alpha^t of the last backtracked step and its mask (null before the first step). */
  prevAlpha: number[][] | null;
  mask: number[][] | null;
}

export class DecoupledBacktrack {
  private psi: Float64Array[];
  private prevAlpha: Float32Array[] | null = null;
  private mask: Uint8Array[] | null = null;

  /** `shapes`: [E, M] of every alpha tensor (one per cell type). */
  constructor(readonly shapes: [number, number][], readonly o: DecoupledOptions) {
    this.psi = shapes.map(([E]) => new Float64Array(E));
  }

  /** psi~, per alpha tensor (for reports). */
  get values(): number[][] {
    return this.psi.map((p) => [...p]);
  }

  /** Eq. 4.51 with the gradient taken at the backtracked alpha (call before the optimizer step). */
  updatePsi(grads: Float32Array[]): void {
    if (!this.prevAlpha || !this.mask) return;
    this.shapes.forEach(([E, M], i) => {
      const a = this.prevAlpha![i], g = grads[i], mask = this.mask![i], psi = this.psi[i];
      for (let e = 0; e < E; e++) {
        let d = 0;
        for (let m = 0; m < M; m++) if (mask[m]) d += this.o.eta * a[e * M + m] * g[e * M + m];
        psi[e] = Math.abs(psi[e] - this.o.psiLr * d);
      }
    });
  }

  /**
   * Eq. 4.52 after the optimizer step: `before` holds alpha^t, the tensors alpha^{t+1}; `norms` R(w_m)
   * of every operation, per alpha tensor.
   */
  backtrack(alphas: Tensor[], before: Float32Array[], norms: number[][]): void {
    this.mask = this.shapes.map(([, M], i) => rankMask(norms[i], M, this.o.tau));
    this.shapes.forEach(([E, M], i) => {
      const a = alphas[i].data, b = before[i], mask = this.mask![i], psi = this.psi[i];
      for (let e = 0; e < E; e++) for (let m = 0; m < M; m++) if (mask[m]) a[e * M + m] += this.o.eta * psi[e] * b[e * M + m];
      alphas[i].markChanged();
    });
    this.prevAlpha = before.map((b) => b.slice());
  }

  state(): DecoupledState {
    return {
      psi: this.psi.map((p) => [...p]),
      prevAlpha: this.prevAlpha ? this.prevAlpha.map((a) => [...a]) : null,
      mask: this.mask ? this.mask.map((m) => [...m]) : null,
    };
  }

  load(s: DecoupledState): void {
    this.psi = s.psi.map((p) => Float64Array.from(p));
    this.prevAlpha = s.prevAlpha ? s.prevAlpha.map((a) => Float32Array.from(a)) : null;
    this.mask = s.mask ? s.mask.map((m) => Uint8Array.from(m)) : null;
  }
}

/** 1 for the operations whose ascending rank of R(w_m) (1-based, ties by index) is above tau. */
export function rankMask(norms: number[], M: number, tau: number): Uint8Array {
  const order = Array.from({ length: M }, (_, m) => m).sort((a, b) => norms[a] - norms[b] || a - b);
  const mask = new Uint8Array(M);
  order.forEach((m, r) => { if (r + 1 > tau) mask[m] = 1; });
  return mask;
}
