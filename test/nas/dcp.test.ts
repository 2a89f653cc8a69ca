import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../core/index.js';
import { add, mul } from '../../ops/arithmetic.js';
import { gradCheck } from '../../ops/gradcheck.js';
import { crossEntropy } from '../../ops/loss.js';
import { matmul } from '../../ops/matmul.js';
import { reshape, slice } from '../../ops/shape.js';
import { softmax } from '../../ops/softmax.js';
import { DecoupledBacktrack, rankMask } from '../../nas/decoupled.js';
import { distillationLoss } from '../../nas/distill.js';
import { validateGenotype } from '../../nas/genotype.js';
import { runSearch } from '../../nas/search.js';
import { tangentStep } from '../../nas/tangent.js';
import type { HistoryRecord } from '../../nas/types.js';
import { FEW, tiny, tinySplits } from './tiny.js';

describe('the Child-Parent KL term of DCP-NAS', () => {
  it('passes gradCheck against central finite differences (Child logits; the Parent is a constant)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0.5, max: 4, noNaN: true }),
      (N, K, seed, T) => {
        const rng = new Random(seed);
        const child = Tensor.randn([N, K], 1.5, rng, true);
        const parent = Tensor.randn([N, K], 1.5, rng);
        const rep = gradCheck((c) => distillationLoss(c, parent, T), [child]);
        expect(rep.ok).toBe(true);
      }), { numRuns: 25 });
  });

  it('is zero when the distributions agree and positive otherwise', () => {
    const a = Tensor.from([1, 2, 3, -1, 0, 1], [2, 3]);
    expect(distillationLoss(a, a).item()).toBeCloseTo(0, 6);
    expect(distillationLoss(a, Tensor.from([3, 2, 1, 1, 0, -1], [2, 3])).item()).toBeGreaterThan(0.1);
  });
});

/**
 * A tiny network whose architecture gradient is easy to compute independently: two "edges", each mixing
 * K = 3 fixed linear maps by softmax(alpha_e): logits = sum_e sum_k softmax(alpha_e)_k x W_{e,k}.
 */
const D = 3, C = 3, KOPS = 3, EDGES = 2;
function makeMaps(rng: Random): number[][][][] {
  return Array.from({ length: EDGES }, () => Array.from({ length: KOPS }, () => Array.from({ length: D }, () => Array.from({ length: C }, () => rng.normal()))));
}
function autogradLoss(maps: number[][][][]) {
  const Ws = maps.map((e) => e.map((k) => Tensor.from(k.flat(), [D, C])));
  return (alpha: Tensor) => (x: Tensor, y: Int32Array) => {
    let logits: Tensor | null = null;
    for (let e = 0; e < EDGES; e++) {
      const w = softmax(reshape(slice(alpha, 0, e, e + 1), [KOPS]), -1);
      for (let k = 0; k < KOPS; k++) {
        const term = mul(matmul(x, Ws[e][k]), reshape(slice(w, 0, k, k + 1), [1, 1]));
        logits = logits ? add(logits, term) : term;
      }
    }
    return crossEntropy(logits!, y);
  };
}
/** The same loss in float64, written out by hand. */
function directLoss(maps: number[][][][], alpha: number[], xs: number[][], ys: number[]): number {
  let total = 0;
  for (let n = 0; n < xs.length; n++) {
    const logits = new Array(C).fill(0);
    for (let e = 0; e < EDGES; e++) {
      const row = alpha.slice(e * KOPS, (e + 1) * KOPS);
      const m = Math.max(...row);
      const ex = row.map((v) => Math.exp(v - m));
      const s = ex.reduce((a, b) => a + b, 0);
      for (let k = 0; k < KOPS; k++) for (let c = 0; c < C; c++) for (let d = 0; d < D; d++) logits[c] += (ex[k] / s) * xs[n][d] * maps[e][k][d][c];
    }
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((a, v) => a + Math.exp(v - m), 0));
    total += lse - logits[ys[n]];
  }
  return total / xs.length;
}

describe('the tangent-propagation step (eq. 4.33 with the Fisher Hessian of eqs. 4.36-4.41)', () => {
  it('equals g + 2 lambda H (g - t), H = mean of per-sample gradient outer products, computed directly', () => {
    const rng = new Random(7);
    const maps = makeMaps(rng);
    const N = 4;
    const xs = Array.from({ length: N }, () => Array.from({ length: D }, () => rng.normal()));
    const ys = [0, 2, 1, 2];
    const alpha0 = Array.from({ length: EDGES * KOPS }, () => 0.5 * rng.normal());
    const tangent = Array.from({ length: EDGES * KOPS }, () => 0.2 * rng.normal());
    const lambda = 0.7;

    const alpha = new Tensor(Float32Array.from(alpha0), [EDGES, KOPS], true);
    const lossOf = autogradLoss(maps)(alpha);
    const got = tangentStep({
      loss: (x, y) => lossOf(x, y), alphas: [alpha], weights: [], tangent: [Float32Array.from(tangent)], lambda, groups: N,
    }, { x: Tensor.from(xs.flat(), [N, D]), y: Int32Array.from(ys) });

    // direct: per-sample gradients by central differences in float64, the Fisher as an explicit matrix
    const P = alpha0.length, h = 1e-5;
    const gs = xs.map((x, n) => alpha0.map((_, i) => {
      const up = [...alpha0], dn = [...alpha0];
      up[i] += h;
      dn[i] -= h;
      return (directLoss(maps, up, [x], [ys[n]]) - directLoss(maps, dn, [x], [ys[n]])) / (2 * h);
    }));
    const g = alpha0.map((_, i) => gs.reduce((a, v) => a + v[i], 0) / N);
    const H = alpha0.map((_, i) => alpha0.map((__, j) => gs.reduce((a, v) => a + v[i] * v[j], 0) / N));
    const diff = g.map((v, i) => v - tangent[i]);
    const expected = g.map((v, i) => v + 2 * lambda * H[i].reduce((a, hij, j) => a + hij * diff[j], 0));
    for (let i = 0; i < P; i++) {
      expect(got.g[0][i]).toBeCloseTo(g[i], 4);
      expect(got.grad[0][i]).toBeCloseTo(expected[i], 4);
    }
    expect(got.D).toBeCloseTo(diff.reduce((a, v) => a + v * v, 0), 5);
    expect(got.G).toBeCloseTo(directLoss(maps, alpha0, xs, ys), 5);
    // the tangent term is not negligible here: the test would see it missing
    expect(Math.max(...expected.map((v, i) => Math.abs(v - g[i])))).toBeGreaterThan(1e-2);
  });

  it('with lambda = 0 is the plain architecture gradient', () => {
    const rng = new Random(3);
    const maps = makeMaps(rng);
    const alpha = Tensor.randn([EDGES, KOPS], 0.5, rng, true);
    const x = Tensor.randn([6, D], 1, rng), y = Int32Array.from([0, 1, 2, 0, 1, 2]);
    const lossOf = autogradLoss(maps)(alpha);
    const got = tangentStep({ loss: (a, b) => lossOf(a, b), alphas: [alpha], weights: [], tangent: [new Float32Array(6)], lambda: 0, groups: 3 }, { x, y });
    expect(got.grad[0]).toEqual(got.g[0]);
  });
});

describe('the decoupled optimization (eqs. 4.51-4.52)', () => {
  it('ranks operations by weight norm and backtracks those above tau', () => {
    expect([...rankMask([5, 1, 3, 0], 4, 2)]).toEqual([1, 0, 1, 0]);
    expect([...rankMask([5, 1, 3, 0], 4, 4)]).toEqual([0, 0, 0, 0]);
  });

  it('moves alpha by eta * psi (.) alpha^t on the backtracked columns, psi by |psi - eta_psi dL/dpsi|', () => {
    const dec = new DecoupledBacktrack([[2, 2]], { eta: 0.5, psiLr: 2, tau: 1 });
    const a = Tensor.from([1, 2, 3, 4], [2, 2]);
    // first step: psi = 0, no change, but alpha^t and the mask are kept
    dec.backtrack([a], [Float32Array.from([1, 1, 1, 1])], [[10, 0]]);
    expect([...a.data]).toEqual([1, 2, 3, 4]);
    // dL/dpsi_e = sum over backtracked m (column 0) of eta * alpha^t_{e,0} * g_{e,0}
    dec.updatePsi([Float32Array.from([3, 100, -1, 100])]);
    // psi_0 = |0 - 2 * 0.5 * 1 * 3| = 3, psi_1 = |0 - 2 * 0.5 * 1 * -1| = 1
    expect(dec.values[0]).toEqual([3, 1]);
    const b = Tensor.from([1, 2, 3, 4], [2, 2]);
    dec.backtrack([b], [Float32Array.from([2, 2, 2, 2])], [[10, 0]]);
    // column 0 += 0.5 * psi_e * 2
    expect([...b.data]).toEqual([1 + 3, 2, 3 + 1, 4]);
  });
});

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'cpnas-dcp-'));
  dirs.push(d);
  return d;
}

describe('the dcp strategy', () => {
  it('runs a tiny search to a valid genotype, records the KL curve, and resumes to the same genotype', () => {
    const splits = tinySplits();
    const settings = tiny({ strategy: 'dcp', primitives: FEW, dartsEpochs: 2, dcpFisherGroups: 2 });
    const full = runSearch({ settings, data: splits, outDir: tmp() });
    expect(validateGenotype(full.genotype)).toEqual(full.genotype);
    const steps = full.history.filter((r): r is Extract<HistoryRecord, { type: 'dcp' }> => r.type === 'dcp' && r.phase === 'child');
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.every((r) => Number.isFinite(r.kl) && r.kl >= 0 && r.discrepancy >= 0)).toBe(true);

    const outDir = tmp();
    const stop = new Error('stop');
    expect(() => runSearch({ settings, data: splits, outDir, onProgress: (e) => { if (e.checkpoint && e.round === 1) throw stop; } })).toThrow(stop);
    const resumed = runSearch({ settings, data: splits, outDir, resume: true });
    expect(resumed.genotype).toEqual(full.genotype);
    const strip = (h: HistoryRecord[]) => h.map((r) => ({ ...r, seconds: 0, searchSeconds: 0 }));
    expect(strip(resumed.history)).toEqual(strip(full.history));
  });
});
