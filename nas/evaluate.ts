/**
 * Evaluation of a saved model. The Child runs twice over the test images: on the 1-bit inference
 * engine (the Child compiled to a plan over packed signs, nas/compile.ts, binary/runtime/) and on the
 * float-simulated path (the float convolution of the signs, which BinaryConv2d takes whenever a
 * gradient could be wanted). Both compute the same numbers up to float rounding, so their predictions
 * agree; the report gives both accuracies, their agreement, and images per second on each path.
 * An exported Child file (`cpnas export`) runs on the engine alone: it holds no float weights to
 * simulate with.
 */
import { CpnasError, enableGrad, noGrad, type Tensor } from '../core/index.js';
import { getStorage, joinPath as join } from '../core/storage.js';
import { nonFiniteEntry, readModelState } from '../ops/state.js';
import { validateGenotype } from './genotype.js';
import { firstSamples, predictions } from './loop.js';
import { GenotypeNetwork } from './network.js';
import { CHILD_BLOCKS } from './units.js';
import { compileChild } from './compile.js';
import { PlanRunner } from '../binary/runtime/execute.js';
import { ChildModel } from '../binary/runtime/index.js';
import type { ModelMeta } from './train.js';
import type { EvaluationResult, NasDataset, RunEvaluationOptions } from './types.js';

/**
 * The model of a model folder (`run/child`), or of a run folder's Child (`run`): `model.safetensors`,
 * or the `model.json` + `model.bin` of earlier versions. Returns the path without extension.
 */
export function modelPath(dir: string): string {
  for (const candidate of [join(dir, 'model'), join(dir, 'child', 'model')]) {
    if (getStorage().exists(candidate + '.safetensors') || getStorage().exists(candidate + '.json')) return candidate;
  }
  throw new CpnasError('evaluate', `no saved model in ${dir} (expected ${join(dir, 'model.safetensors')} or ${join(dir, 'child', 'model.safetensors')}: train first)`);
}

/** Rebuilds a saved Child or Parent from its folder, weights loaded, in eval mode. */
export function loadModel(dir: string): { net: GenotypeNetwork; meta: ModelMeta } {
  const { state, file } = readModelState(modelPath(dir), 'evaluate');
  const meta = state.json.meta as unknown as ModelMeta | undefined;
  if (!meta || !meta.genotype || !meta.config) throw new CpnasError('evaluate', `${file} has no model description (genotype, config): not a model saved by cpnas training`);
  // models saved before the Child forms existed were Bi-Real Children
  const childBlock = meta.config.childBlock ?? 'bireal';
  if (!CHILD_BLOCKS.includes(childBlock)) {
    throw new CpnasError('evaluate', `${file} names an unknown Child form ${JSON.stringify(childBlock)} (known: ${CHILD_BLOCKS.join(', ')})`);
  }
  const bad = nonFiniteEntry(state);
  if (bad) throw new CpnasError('evaluate', `${file}: ${bad}; the model cannot be evaluated (train it again with a lower learning rate)`);
  const net = new GenotypeNetwork(validateGenotype(meta.genotype), { ...meta.config, childBlock });
  net.loadStateDict(state);
  net.eval();
  return { net, meta };
}

/** Predictions over a dataset; `forward` gives the logits [n, classes] of a batch as a Tensor or plain values. */
function predictAll(forward: (x: Tensor) => Tensor | Float32Array, ds: NasDataset, batchSize: number): { pred: Int32Array; labels: Int32Array; seconds: number } {
  const pred = new Int32Array(ds.length), labels = new Int32Array(ds.length);
  let i = 0;
  const t0 = performance.now();
  for (const b of ds.batches(batchSize, { shuffle: false })) {
    const out = forward(b.x), n = b.y.length;
    pred.set(out instanceof Float32Array ? argmaxRows(out, n) : predictions(out), i);
    labels.set(b.y, i);
    i += b.y.length;
  }
  return { pred, labels, seconds: (performance.now() - t0) / 1000 };
}

function argmaxRows(logits: Float32Array, n: number): Int32Array {
  const K = logits.length / n, out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[i * K + k] > logits[i * K + best]) best = k;
    out[i] = best;
  }
  return out;
}

/** Whether `path` is an exported Child file rather than a model or run folder. */
export function isExportedChild(path: string): boolean {
  const storage = getStorage();
  return storage.exists(path) && !storage.isFolder(path);
}

/** Test accuracy of an exported Child file on the engine (float-simulated fields are NaN: no float weights). */
function runExportedEvaluation(opts: RunEvaluationOptions): EvaluationResult {
  const bytes = getStorage().read(opts.modelDir);
  if (!bytes) throw new CpnasError('evaluate', `no file ${opts.modelDir}`);
  const child = ChildModel.fromBytes(bytes, opts.modelDir);
  const test = opts.limit !== undefined ? firstSamples(opts.data.test, opts.limit) : opts.data.test;
  if (test.shape.join(',') !== child.inputShape.join(',')) {
    throw new CpnasError('evaluate', `${opts.modelDir} takes images [${child.inputShape.join(',')}] but the test images are [${test.shape.join(',')}]: load the dataset with imageSize ${child.inputShape[1]}`);
  }
  if (test.length === 0) throw new CpnasError('evaluate', 'the test split is empty');
  const run = predictAll((x) => child.logits(x.data, x.shape[0]), test, opts.batchSize ?? 100);
  let correct = 0;
  for (let i = 0; i < test.length; i++) if (run.pred[i] === run.labels[i]) correct++;
  const n = test.length;
  return {
    kind: 'child', exported: true, images: n, testAccuracy: correct / n, floatTestAccuracy: NaN, agreement: NaN,
    imagesPerSecondPacked: n / run.seconds, imagesPerSecondFloat: NaN, genotype: child.meta.genotype as EvaluationResult['genotype'],
  };
}

export function runEvaluation(opts: RunEvaluationOptions): EvaluationResult {
  if (isExportedChild(opts.modelDir)) return runExportedEvaluation(opts);
  const { net, meta } = loadModel(opts.modelDir);
  const test = opts.limit !== undefined ? firstSamples(opts.data.test, opts.limit) : opts.data.test;
  const shape = test.shape;
  if (shape.join(',') !== meta.inputShape.join(',')) {
    // Say which part differs: channels mean another dataset, the size only another --image-size.
    const hint = shape[0] !== meta.inputShape[0]
      ? `the model was trained on ${meta.inputShape[0]}-channel images and these have ${shape[0]}: evaluate on the dataset it was trained on (digits and fashion-mnist have 1 channel, cifar10 and cifar100 have 3)`
      : `load the dataset at the model's image size ${meta.inputShape[1]} (--image-size ${meta.inputShape[1]})`;
    throw new CpnasError('evaluate', `the model takes images [${meta.inputShape.join(',')}] but the test images are [${shape.join(',')}]: ${hint}`);
  }
  if (test.length === 0) throw new CpnasError('evaluate', 'the test split is empty');
  const batchSize = opts.batchSize ?? 100;
  // the 1-bit inference engine (a Parent runs its float layers)
  let forward = (x: Tensor): Tensor | Float32Array => net.forward(x);
  if (meta.kind === 'child') {
    const runner = new PlanRunner(compileChild(net, [shape[0], shape[1], shape[2]]));
    forward = (x) => runner.run(x.data, x.shape[0]);
  }
  const packed = noGrad(() => predictAll(forward, test, batchSize));
  // float-simulated path: the same eval-mode network with gradients enabled (BinaryConv2d then uses
  // the float convolution of the signs; the graph is dropped after each batch)
  const float = meta.kind === 'child' ? enableGrad(() => predictAll((x) => net.forward(x).detach(), test, batchSize)) : packed;
  let correctPacked = 0, correctFloat = 0, agree = 0;
  for (let i = 0; i < test.length; i++) {
    if (packed.pred[i] === packed.labels[i]) correctPacked++;
    if (float.pred[i] === float.labels[i]) correctFloat++;
    if (packed.pred[i] === float.pred[i]) agree++;
  }
  const n = test.length;
  return {
    kind: meta.kind,
    images: n,
    testAccuracy: correctPacked / n,
    floatTestAccuracy: correctFloat / n,
    agreement: agree / n,
    imagesPerSecondPacked: n / packed.seconds,
    imagesPerSecondFloat: n / float.seconds,
    genotype: meta.genotype,
  };
}
