/**
 * Writes a grid of a dataset's first samples with their labels, to look at what a run will train on.
 *
 *   npm run build
 *   node dist/examples/show-data.js --dataset digits --out grid.svg
 *   node dist/examples/show-data.js --dataset fashion-mnist --image-size 16 --out fashion.png
 *   node dist/examples/show-data.js --dataset cifar10 --data ~/cifar-10-batches-bin --split test --out cifar.png
 *
 * Flags: --dataset NAME (digits), --data DIR, --split train|val|test (train), --count N (32),
 * --cols N (8), --scale N (3), --image-size N, --crop N, --seed N (synthetic data), --out FILE
 * (.svg or .png; grid.svg). Prints the dataset's summary as well.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DATASET_NAMES, loadDataset, renderGridPng, renderGridSvg, type DatasetName } from '../data/index.js';

function main(): void {
  const { values } = parseArgs({
    options: {
      dataset: { type: 'string', default: 'digits' },
      data: { type: 'string' },
      split: { type: 'string', default: 'train' },
      count: { type: 'string', default: '32' },
      cols: { type: 'string', default: '8' },
      scale: { type: 'string', default: '3' },
      'image-size': { type: 'string' },
      crop: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string', default: 'grid.svg' },
    },
  });
  const name = values.dataset as DatasetName;
  if (!DATASET_NAMES.includes(name)) throw new Error(`--dataset must be one of ${DATASET_NAMES.join(', ')}, got ${name}`);
  const split = values.split as 'train' | 'val' | 'test';
  if (!['train', 'val', 'test'].includes(split)) throw new Error(`--split must be train, val or test, got ${split}`);
  const int = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const count = int(values.count)!;

  const t0 = performance.now();
  const data = loadDataset(name, {
    dataDir: values.data, imageSize: int(values['image-size']), crop: int(values.crop), seed: int(values.seed),
    limit: { [split]: count },
  });
  const ms = performance.now() - t0;
  const { info } = data;
  const ds = data[split];
  console.log(`${info.name}: ${info.source}`);
  console.log(`  shape [${info.shape.join(',')}] (on disk [${info.originalShape.join(',')}]), ${info.classNames.length} classes, loaded in ${ms.toFixed(0)} ms`);
  console.log(`  mean [${info.normalization.mean.map((v) => v.toFixed(4)).join(', ')}], std [${info.normalization.std.map((v) => v.toFixed(4)).join(', ')}] (of the ${count} samples shown)`);

  const grid = { count, cols: int(values.cols), scale: int(values.scale) };
  const out = values.out!;
  if (out.endsWith('.png')) writeFileSync(out, renderGridPng(ds, grid));
  else writeFileSync(out, renderGridSvg(ds, grid));
  const labels = Array.from(ds.labels.subarray(0, Math.min(count, ds.length)), (l) => info.classNames[l]);
  console.log(`wrote ${out}: the first ${labels.length} ${split} samples: ${labels.join(', ')}`);
}

try {
  main();
} catch (e) {
  console.error((e as Error).message);
  process.exitCode = 1;
}
