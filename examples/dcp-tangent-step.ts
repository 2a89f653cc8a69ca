/**
 * DCP-NAS's one new idea, in a few lines: the 1-bit Child's architecture gradient is pulled towards
 * the full-precision Parent's (the "tangent direction"), with a Hessian that costs only first-order
 * gradients (the empirical Fisher). Eq. numbers are those of the book version (section 4.4).
 *
 *   G       = CE(Child) + KL(p_Parent || p_Child)                        the Child's objective
 *   t       = d CE(Parent) / d alpha                                     the tangent direction (eq. 4.29)
 *   step    = g + 2 lambda (g - t)^T F,  g = dG/d alpha,  F = mean_s g_s g_s^T         (eqs. 4.33, 4.41)
 *
 * `cpnas search --strategy dcp` runs this step inside the whole search (nas/strategies/dcp.ts).
 * Run it: `npx tsc -p . && node dist/examples/dcp-tangent-step.js`
 */
import { pathToFileURL } from 'node:url';
import { Random, Tensor, add, crossEntropy, softmax } from '../index.js';
import { loadDataset } from '../data/index.js';
import { Supernet, distillationLoss, mixedChoice, tangentStep } from '../nas/index.js';

export function main(log: (line: string) => void = console.log): { D: number; cosStep: number; cosPlain: number } {
  const primitives = ['none', 'max_pool_3x3', 'skip_connect', 'sep_conv_3x3'];
  const data = loadDataset('synthetic', { seed: 1, synthetic: { size: 8, channels: 1, classes: 4, train: 32, val: 8, test: 8 } });
  const batch = [...data.train.batches(32)][0];
  const config = { inputChannels: 1, numClasses: 4, cells: 3, channels: 2, nodes: 4, binarizers: { activation: 'approx', weight: 'scaled' } };
  const rng = new Random(0);
  const parent = new Supernet({ ...config, binary: false, rng }, primitives); // full precision
  const child = new Supernet({ ...config, binary: true, rng }, primitives); // 1-bit weights and activations
  // one architecture alpha (14 edges x 4 operations per cell type), shared by Parent and Child (alpha-hat <- alpha)
  const alphas = [Tensor.randn([14, 4], 1e-3, rng, true), Tensor.randn([14, 4], 1e-3, rng, true)];
  const mix = () => mixedChoice(softmax(alphas[0], -1), softmax(alphas[1], -1));

  // 1. the tangent direction: the Parent's architecture gradient
  const parentLogits = parent.forward(batch.x, mix());
  crossEntropy(parentLogits, batch.y).backward();
  const t = alphas.map((a) => a.grad!.data.slice());
  const target = parentLogits.detach();

  // 2. the Child's step: G with the KL to the Parent, corrected along t with the Fisher (4 groups of 8 images)
  const step = tangentStep({
    loss: (x, y, start, end) => {
      const logits = child.forward(x, mix());
      return add(crossEntropy(logits, y), distillationLoss(logits, Tensor.from(target.data.slice(start * 4, end * 4), [end - start, 4])));
    },
    alphas, weights: [...parent.parameters(), ...child.parameters()], tangent: t, lambda: 50, groups: 4,
  }, batch);

  const cos = (a: Float32Array[], b: Float32Array[]) => {
    let ab = 0, aa = 0, bb = 0;
    a.forEach((x, i) => x.forEach((v, j) => { ab += v * b[i][j]; aa += v * v; bb += b[i][j] ** 2; }));
    return ab / Math.sqrt(aa * bb);
  };
  const out = { D: step.D, cosStep: cos(step.grad, t), cosPlain: cos(step.g, t) };
  log(`G (CE + KL) = ${step.G.toFixed(4)}, discrepancy D = ||g - t||^2 = ${step.D.toExponential(3)}`);
  log(`cosine with the Parent's direction: plain Child gradient ${out.cosPlain.toFixed(3)}, after tangent propagation ${out.cosStep.toFixed(3)}`);
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
