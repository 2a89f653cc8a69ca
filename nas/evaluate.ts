/**
 * Evaluation of a saved model. The Child runs twice over the test images: on the bit-packed inference
 * path (eval mode without gradients: BinaryConv2d uses XNOR + popcount on packed signs) and on the
 * float-simulated path (the float convolution of the signs, which BinaryConv2d takes whenever a
 * gradient could be wanted). Both compute the same numbers, so their predictions agree; the report
 * gives both accuracies, their agreement, and images per second on each path.
 */
import { CpnasError, enableGrad, noGrad, type Tensor } from '../core/index.js';
import { getStorage, joinPath as join } from '../core/storage.js';
import { nonFiniteEntry, readStateFiles, type StateJson } from '../ops/state.js';
import { validateGenotype } from './genotype.js';
import { firstSamples, predictions } from './loop.js';
import { GenotypeNetwork } from './network.js';
import { CHILD_BLOCKS } from './units.js';
import type { ModelMeta } from './train.js';
import type { EvaluationResult, NasDataset, RunEvaluationOptions } from './types.js';

/** The model file of a model folder (`run/child`), or of a run folder's Child (`run`). */
export function modelPath(dir: string): string {
  for (const candidate of [join(dir, 'model'), join(dir, 'child', 'model')]) {
    if (getStorage().exists(candidate + '.json')) return candidate;
  }
  throw new CpnasError('evaluate', `no saved model in ${dir} (expected ${join(dir, 'model.json')} or ${join(dir, 'child', 'model.json')}: train first)`);
}

/** Rebuilds a saved Child or Parent from its folder, weights loaded, in eval mode. */
export function loadModel(dir: string): { net: GenotypeNetwork; meta: ModelMeta } {
  const path = modelPath(dir);
  const { json, blob } = readStateFiles(path, 'evaluate');
  const meta = (json as StateJson).meta as unknown as ModelMeta | undefined;
  if (!meta || !meta.genotype || !meta.config) throw new CpnasError('evaluate', `${path}.json has no model description (genotype, config): not a model saved by cpnas training`);
  // models saved before the Child forms existed were Bi-Real Children
  const childBlock = meta.config.childBlock ?? 'bireal';
  if (!CHILD_BLOCKS.includes(childBlock)) {
    throw new CpnasError('evaluate', `${path}.json names an unknown Child form ${JSON.stringify(childBlock)} (known: ${CHILD_BLOCKS.join(', ')})`);
  }
  const bad = nonFiniteEntry({ json: json as StateJson, blob });
  if (bad) throw new CpnasError('evaluate', `${path}.json: ${bad}; the model cannot be evaluated (train it again with a lower learning rate)`);
  const net = new GenotypeNetwork(validateGenotype(meta.genotype), { ...meta.config, childBlock });
  net.loadStateDict({ json: json as StateJson, blob });
  net.eval();
  return { net, meta };
}

function predictAll(forward: (x: Tensor) => Tensor, ds: NasDataset, batchSize: number): { pred: Int32Array; labels: Int32Array; seconds: number } {
  const pred = new Int32Array(ds.length), labels = new Int32Array(ds.length);
  let i = 0;
  const t0 = process.hrtime.bigint();
  for (const b of ds.batches(batchSize, { shuffle: false })) {
    pred.set(predictions(forward(b.x)), i);
    labels.set(b.y, i);
    i += b.y.length;
  }
  return { pred, labels, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

export function runEvaluation(opts: RunEvaluationOptions): EvaluationResult {
  const { net, meta } = loadModel(opts.modelDir);
  const test = opts.limit !== undefined ? firstSamples(opts.data.test, opts.limit) : opts.data.test;
  const shape = test.shape;
  if (shape.join(',') !== meta.inputShape.join(',')) {
    throw new CpnasError('evaluate', `the model takes images [${meta.inputShape.join(',')}] but the test images are [${shape.join(',')}]: load the dataset with imageSize ${meta.inputShape[1]}`);
  }
  if (test.length === 0) throw new CpnasError('evaluate', 'the test split is empty');
  const batchSize = opts.batchSize ?? 100;
  // bit-packed path: eval mode, no gradient wanted
  const packed = noGrad(() => predictAll((x) => net.forward(x), test, batchSize));
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
