/**
 * Sizes of the bench network's exported Child file (binary/runtime/README.md's tables): the DARTS-V2
 * Child of bench/net.ts compiled and encoded in format versions 2 and 3 with each float storage,
 * against its Parent's saved file (saveSafetensors, as the training stage saves a model); and how often
 * the f16 and q8 runtimes predict the f32 runtime's class on 256 structured random images. The same
 * again with trained-looking BatchNorm statistics (random γ of both signs, β, means, variances), since
 * an untrained BatchNorm makes every `B` map one repeated value.
 *
 *   npm run build && node dist/bench/child-file.js
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../index.js'; // the Node entry: installs the file system storage that saveSafetensors writes through
import { Random } from '../core/index.js';
import { saveSafetensors } from '../ops/state.js';
import { compileChild } from '../nas/compile.js';
import { namedGenotype } from '../nas/named-genotypes.js';
import type { GenotypeNetwork } from '../nas/network.js';
import { ChildModel, encodePlan } from '../binary/runtime/index.js';
import type { EncodeOptions } from '../binary/runtime/format.js';
import { dartsV2Network, randomizeBatchNorm } from './net.js';

const FORMATS: [string, EncodeOptions][] = [
  ['version 2, f32', { version: 2 }], ['version 2, f16', { version: 2, floats: 'f16' }],
  ['version 3, f32', {}], ['version 3, f16', { floats: 'f16' }], ['version 3, q8', { floats: 'q8' }],
];

/** 256 images with structure (per channel: an offset, a scale, a plane wave, noise): pure noise gets one class from these untrained networks. */
function images(n: number, rng: Random): Float32Array {
  const x = new Float32Array(n * 3072);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) {
    const o = rng.normal(), s = 0.2 + 2 * rng.uniform(), fx = rng.uniform() * 0.5, fy = rng.uniform() * 0.5;
    for (let p = 0; p < 1024; p++) x[i * 3072 + c * 1024 + p] = o + s * Math.sin(fx * (p % 32) + fy * Math.floor(p / 32)) + 0.3 * rng.normal();
  }
  return x;
}

function predict(bytes: Uint8Array, x: Float32Array, n: number): number[] {
  const m = ChildModel.fromBytes(bytes), out: number[] = [];
  for (let i = 0; i < n; i += 64) out.push(...m.predict(x.subarray(i * 3072, (i + 64) * 3072), 64));
  return out;
}

function report(title: string, child: GenotypeNetwork, parentBytes: number, x: Float32Array, n: number): void {
  const plan = compileChild(child.eval(), [3, 32, 32]);
  console.log(`\n${title}\n| format | bytes | Parent's file / file |\n| --- | ---: | ---: |`);
  const files = new Map<string, Uint8Array>();
  for (const [name, options] of FORMATS) {
    const b = encodePlan(plan, options);
    files.set(name, b);
    console.log(`| ${name} | ${b.length} | ${(parentBytes / b.length).toFixed(1)} |`);
  }
  const ref = predict(files.get('version 3, f32')!, x, n);
  const classes: Record<number, number> = {};
  for (const c of ref) classes[c] = (classes[c] ?? 0) + 1;
  console.log(`f32 runtime's classes on ${n} images: ${JSON.stringify(classes)}`);
  for (const f of ['f16', 'q8']) {
    const p = predict(files.get(`version 3, ${f}`)!, x, n);
    console.log(`${f} runtime predicts the f32 runtime's class on ${p.filter((c, i) => c === ref[i]).length}/${n}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'cpnas-child-file-'));
try {
  const parent = dartsV2Network(false, new Random(0));
  const file = saveSafetensors(parent, join(dir, 'model.safetensors'), {
    kind: 'parent', genotype: namedGenotype('darts_v2'), classNames: Array.from({ length: 10 }, (_, i) => String(i)), inputShape: [3, 32, 32], testAccuracy: 0,
  });
  const parentBytes = statSync(file).size;
  const params = parent.parameters().reduce((s, p) => s + 4 * p.data.length, 0);
  console.log(`bench Parent (DARTS-V2, 8 cells, C = 16): ${params} bytes of parameters; saved safetensors file ${parentBytes} bytes`);
  const n = 256, x = images(n, new Random(1));
  report('bench Child (untrained: BatchNorm at γ = 1, β = 0)', dartsV2Network(true, new Random(0)), parentBytes, x, n);
  const trained = dartsV2Network(true, new Random(0));
  randomizeBatchNorm(trained, new Random(5));
  report('bench Child with trained-looking BatchNorm statistics', trained, parentBytes, x, n);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
