/**
 * Whole-network rows (shared/BENCH.md): the DARTS-V2 cell (`namedGenotype('darts_v2')`, the same as
 * shared/genotypes/darts_v2.json) in DARTS's NetworkCIFAR without auxiliary head or drop-path: 8 cells,
 * C = 16, stem 3C, batch 64, 3x32x32 inputs, 10 classes; the network of shared/tools/peer-bench-torch.py,
 * so every row sets beside PyTorch's row of the same name.
 *
 *   net_darts_v2.train_step        Parent: forward, cross-entropy, backward, SGD step (momentum 0.9)
 *   net_darts_v2.infer / infer_b1  Parent in eval mode without gradients, batch 64 / 1
 *   net_darts_v2.child_train_step  the 1-bit Child, the same step (cross-entropy only)
 *   net_darts_v2.child_infer / child_infer_b1   the Child on the 1-bit inference engine (the Child
 *                                  compiled to a plan over packed signs, nas/compile.ts; compiling is setup)
 *   net_darts_v2.child_infer_float the Child in eval mode on the float-simulated path (same values)
 *   search.sample                  one CP-NAS sample of the default preset: the sampled architecture's
 *                                  Child and Parent supernets each trained on one batch (64 digits 14x14)
 *
 * These calls take seconds: each row is the median of a few timed calls after two warm-up calls,
 * measured with performance.now (tinybench's minimum run counts would take minutes). The warm-ups and
 * a train step's 5 timed calls are shared/tools/peer-bench-torch.py's (its inference rows take the
 * median of 10 calls, 30 at batch 1; these of 5 and 20). The first train steps
 * of a process run slower than later ones: their fresh arrays fault their pages in until the C
 * allocator keeps freed memory (on this project's 2-core machine, a Parent step on 2 threads had about
 * 300,000 page faults and 2 s of system time in each of its first 3 steps and almost none from the
 * sixth, 4.4 s against 2.6-3 s; `.measure/trainstep2.mjs`, untracked). Run them alone
 * with `npm run bench -- --suite net` (or `--filter search.sample`); every row carries the kernel
 * threads it ran with (`--threads N`).
 */
import { Random, Tensor, enableGrad, noGrad, setBackend } from '../core/index.js';
import { crossEntropy } from '../ops/loss.js';
import { clipGradNorm } from '../ops/optim/clip.js';
import { SGD } from '../ops/optim/sgd.js';
import type { Optimizer } from '../ops/optim/optimizer.js';
import { BatchNorm2d } from '../ops/layers.js';
import type { Module } from '../ops/module.js';
import { GenotypeNetwork } from '../nas/network.js';
import { compileChild } from '../nas/compile.js';
import { PlanRunner } from '../binary/runtime/execute.js';
import { namedGenotype } from '../nas/named-genotypes.js';
import { listOperations } from '../nas/operations.js';
import { architectureAt, drawOrders } from '../nas/sampling.js';
import { defaultSearchSettings } from '../nas/settings.js';
import { Supernet } from '../nas/supernet.js';
import { allEdgeKeys } from '../nas/genotype.js';
import { getThreads } from '../backends/cpu/threads.js';
import { simdEnabled } from '../backends/cpu/simd/simd.js';
import type { BenchOptions, BenchRow, BenchSuite } from './types.js';

interface Case {
  bench: string;
  /** Timed calls (the median is reported); one more call warms up. */
  reps: number;
  note: string;
  /** Builds the case's objects (untimed) and returns the call to time. */
  setup: () => () => void;
}

/**
 * Gives every BatchNorm of `net` statistics and affine weights as after training, drawn from `rng`:
 * means, variances, scales γ of both signs, shifts β. An untrained BatchNorm (γ = 1, β = 0, mean 0,
 * variance 1) folds into degenerate maps (every B the same), which flatters a file's compression and
 * hides a sign flip.
 */
export function randomizeBatchNorm(net: Module, rng: Random): void {
  for (const m of net.modules()) {
    if (!(m instanceof BatchNorm2d) || !m.running) continue;
    for (let c = 0; c < m.channels; c++) {
      m.running.mean[c] = rng.uniform() - 0.5;
      m.running.var[c] = 0.2 + rng.uniform();
      if (m.weight) m.weight.data[c] = (rng.uniform() < 0.2 ? -1 : 1) * (0.3 + rng.uniform());
      if (m.bias) m.bias.data[c] = rng.uniform() - 0.5;
    }
  }
}

/** The network of peer-bench-torch.py: DARTS-V2 cells, 8 cells, C = 16, 3x32x32 in, 10 classes. */
export function dartsV2Network(binary: boolean, rng: Random): GenotypeNetwork {
  return new GenotypeNetwork(namedGenotype('darts_v2'), {
    inputChannels: 3, numClasses: 10, cells: 8, channels: 16, nodes: 4, stemMultiplier: 3, binary,
    binarizers: defaultSearchSettings().binarizers, rng,
  });
}

/** One training step as DARTS's train.py takes it (without the auxiliary head): CE, backward, SGD. */
function trainStep(net: GenotypeNetwork, opt: Optimizer, x: Tensor, y: Int32Array): void {
  const loss = crossEntropy(net.forward(x), y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
}

function batch(n: number, rng: Random): { x: Tensor; y: Int32Array } {
  const x = Tensor.randn([n, 3, 32, 32], 1, rng);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = rng.nextUint32() % 10;
  return { x, y };
}

function trainCase(bench: string, binary: boolean, quick: boolean): Case {
  return {
    bench, reps: quick ? 1 : 5,
    note: `${binary ? '1-bit Child' : 'Parent'}: forward, CE, backward, SGD(momentum 0.9); batch 64, 8 cells, C=16`,
    setup: () => {
      const rng = new Random(0);
      const net = dartsV2Network(binary, rng).train();
      const opt = new SGD(net.parameters(), { lr: 0.025, momentum: 0.9, weightDecay: 3e-4 });
      const { x, y } = batch(64, rng);
      return () => enableGrad(() => trainStep(net, opt, x, y));
    },
  };
}

/**
 * The Child's forward on the 1-bit inference engine: the trained network compiled once (setup) into a
 * plan over packed signs (nas/compile.ts, binary/runtime/), then run on typed arrays.
 */
function childInferPacked(net: GenotypeNetwork, n: number): (x: Tensor) => Float32Array {
  const runner = new PlanRunner(compileChild(net, [net.config.inputChannels, 32, 32])); // the bench's images
  return (x) => runner.run(x.data, n);
}

function inferCase(bench: string, n: number, kind: 'parent' | 'child' | 'child_float', quick: boolean): Case {
  const what = kind === 'parent' ? 'Parent, eval, no grad' : kind === 'child' ? '1-bit Child, inference engine (packed signs)' : '1-bit Child, float-simulated path';
  return {
    bench, reps: quick ? 1 : n === 1 ? 20 : 5, note: `${what}; batch ${n}`,
    setup: () => {
      const rng = new Random(0);
      const net = dartsV2Network(kind !== 'parent', rng).eval();
      const { x } = batch(n, rng);
      if (kind === 'parent') return () => { noGrad(() => net.forward(x)); };
      if (kind === 'child') {
        const run = childInferPacked(net, n);
        return () => { run(x); };
      }
      // an eval-mode forward that wants gradients keeps BinaryConv2d on its float path (binarized
      // activations and reconstructed weights through the float convolution); no backward is run
      return () => { enableGrad(() => net.forward(x)); };
    },
  };
}

/** One sample of the CP search at the default preset's settings (cp.ts): Child then Parent, one batch each. */
function searchSampleCase(quick: boolean): Case {
  return {
    bench: 'search.sample', reps: quick ? 3 : 15,
    note: 'default preset: supernets 3 cells C=4, 64 digits 14x14; Child and Parent one SGD step each on one sampled architecture',
    setup: () => {
      const s = defaultSearchSettings();
      const rng = new Random(0);
      const config = {
        inputChannels: 1, numClasses: 10, cells: s.cells, channels: s.channels, nodes: s.nodes,
        binarizers: s.binarizers, rng,
      };
      const primitives = listOperations();
      const child = new Supernet({ ...config, binary: true }, primitives).train();
      const parent = new Supernet({ ...config, binary: false }, primitives).train();
      const optOf = (net: Supernet) => new SGD(net.parameters(), { lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay });
      const childOpt = optOf(child), parentOpt = optOf(parent);
      const edges = allEdgeKeys(s.nodes);
      const orders = drawOrders(Object.fromEntries(edges.map((e) => [e, primitives])), rng);
      const x = Tensor.randn([s.batchSize, 1, s.imageSize, s.imageSize], 1, rng);
      const y = new Int32Array(s.batchSize).map(() => rng.nextUint32() % 10);
      let e = 0;
      return () => enableGrad(() => {
        const choice = child.choiceOf(architectureAt(orders, e++ % primitives.length));
        for (const [net, opt] of [[child, childOpt], [parent, parentOpt]] as const) {
          const loss = crossEntropy(net.forward(x, choice), y);
          opt.zeroGrad();
          loss.backward();
          clipGradNorm(opt.params, s.gradClip);
          opt.step();
        }
      });
    },
  };
}

/** Warm-up calls before the timed ones: they compile the kernels and grow the scratch buffers. */
const WARMUPS = 2;

function medianMs(fn: () => void, reps: number, warmups: number): number {
  for (let i = 0; i < warmups; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export const suite: BenchSuite = {
  name: 'net',
  async run(opts: BenchOptions): Promise<BenchRow[]> {
    const backends = opts.backends ?? ['cpu'];
    if (!backends.includes('cpu')) return [];
    setBackend('cpu');
    const q = opts.quick;
    const cases: Case[] = [
      trainCase('net_darts_v2.train_step', false, q),
      inferCase('net_darts_v2.infer', 64, 'parent', q),
      inferCase('net_darts_v2.infer_b1', 1, 'parent', q),
      trainCase('net_darts_v2.child_train_step', true, q),
      inferCase('net_darts_v2.child_infer', 64, 'child', q),
      inferCase('net_darts_v2.child_infer_b1', 1, 'child', q),
      inferCase('net_darts_v2.child_infer_float', 64, 'child_float', q),
      searchSampleCase(q),
    ].filter((c) => !opts.filter || c.bench.includes(opts.filter));
    const rows: BenchRow[] = [];
    for (const c of cases) {
      const ms = medianMs(c.setup(), c.reps, q ? 1 : WARMUPS);
      rows.push({ backend: 'cpu', bench: c.bench, ms: Math.round(ms * 100) / 100, threads: getThreads(), simd: simdEnabled(), note: c.note });
      process.stderr.write(`  ${c.bench}: ${ms.toFixed(1)} ms\n`);
    }
    return rows;
  },
};
