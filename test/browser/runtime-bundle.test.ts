/**
 * The runtime's browser bundle (dist/browser/runtime.js, built by examples/browser/build.mjs with
 * esbuild for `platform: 'browser'`): no Node built-in in it, fflate's browser build inside, and it
 * reads version-3 files (DEFLATE, q8) to the same logits as the Node runtime.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../core/index.js';
import { ChildModel, encodePlan } from '../../binary/runtime/index.js';
import { compileChild } from '../../nas/compile.js';
import { randomChild } from '../binary/random-child.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUNDLE = join(ROOT, 'dist', 'browser', 'runtime.js');

describe('the runtime bundle for web pages', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'examples', 'browser', 'build.mjs'), '--quiet'], { stdio: 'pipe' });
  }, 60_000);

  it('holds no Node built-in and no worker-thread code', () => {
    const src = readFileSync(BUNDLE, 'utf8');
    expect(src).not.toMatch(/from\s*["']node:|require\(["'](node:|fs|worker_threads)/);
    expect(src).not.toContain('worker_threads');
    expect(src).toContain('invalid block type'); // fflate's inflate is in
  });

  it('reads version-3 files (f32, q8) to the logits of the Node runtime', async () => {
    const bundle = (await import(pathToFileURL(BUNDLE).href)) as { loadChild(bytes: Uint8Array, name?: string): ChildModel };
    const plan = compileChild(randomChild(7, { cells: 2, channels: 4, inputChannels: 3, childBlock: 'paper' }), [3, 8, 8]);
    const rng = new Random(3);
    const x = Float32Array.from({ length: 2 * 3 * 64 }, () => rng.normal());
    for (const floats of ['f32', 'q8'] as const) {
      const bytes = encodePlan(plan, { floats });
      expect(Array.from(bundle.loadChild(bytes, 'page.cpnas-child').logits(x, 2)), floats).toEqual(Array.from(ChildModel.fromBytes(bytes).logits(x, 2)));
    }
    const damaged = encodePlan(plan).slice(0, 60);
    expect(() => bundle.loadChild(damaged, 'page.cpnas-child')).toThrow(/page\.cpnas-child.*truncated/);
  });
});
