/**
 * The browser demo (examples/browser/) in headless Chromium: builds the bundle with esbuild, serves
 * the page, runs a CP-NAS search to its genotype on the CPU backend and on gpu.js's WebGL, checks both
 * genotypes against Node's for the same seed and settings (the same function, run here), and stops a
 * running search. Chromium is Debian's (`apt-get install -y chromium`, which .ci/run does), driven by
 * playwright-core; without them the tests are skipped, saying why.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemoSearch, type DemoOptions, type DemoResult } from '../../examples/browser/search.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = process.env.CPNAS_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

/** Why the browser tests cannot run here, or null. */
function missing(): string | null {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CPNAS_CHROMIUM)`;
  const require = createRequire(import.meta.url);
  for (const pkg of ['playwright-core', 'esbuild']) {
    try { require.resolve(pkg); } catch { return `the devDependency ${pkg} is not installed (npm install)`; }
  }
  return null;
}
const why = missing();
if (why) console.warn(`test/browser/demo.test.ts skipped: ${why}`);

// the slice of playwright-core used here (imported by name at run time, so the types need not exist)
interface Page {
  goto(url: string): Promise<unknown>;
  selectOption(selector: string, value: string): Promise<unknown>;
  click(selector: string): Promise<void>;
  waitForFunction(fn: string, arg?: unknown, opts?: { timeout: number }): Promise<unknown>;
  evaluate<T>(fn: string): Promise<T>;
  on(event: 'pageerror', fn: (e: Error) => void): void;
  locator(selector: string): { count(): Promise<number> };
}
interface Context { newPage(): Promise<Page>; close(): Promise<void> }
interface Demo { state: string; result: DemoResult | null; error: string | null; steps: number }

describe.skipIf(why !== null)(`the browser demo in headless Chromium${why ? ` (skipped: ${why})` : ''}`, () => {
  let context: Context;
  let server: { close(): void; address(): { port: number } };
  let base = '';
  let userDataDir = '';
  const errors: string[] = [];

  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, 'examples', 'browser', 'build.mjs'), '--quiet'], { stdio: 'pipe' });
    const serve = (await import(join(ROOT, 'examples', 'browser', 'serve.mjs'))) as { startServer(port: number): Promise<typeof server> };
    server = await serve.startServer(0);
    base = `http://127.0.0.1:${server.address().port}/`;
    const pw = (await import('playwright-core' as string)) as { chromium: { launchPersistentContext(dir: string, o: object): Promise<Context> } };
    userDataDir = mkdtempSync(join(tmpdir(), 'cpnas-chromium-'));
    context = await pw.chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    server?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  /** Opens the page, runs a search on `backend`, and returns what the page holds at the end. */
  async function search(backend: 'cpu' | 'gpu', query: string, seed: number): Promise<{ demo: Demo; svgs: number }> {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base + query);
    await page.selectOption('#backend', backend);
    await page.evaluate(`document.getElementById('seed').value = '${seed}'`);
    await page.click('#start');
    await page.waitForFunction("['done', 'failed', 'stopped'].includes(document.body.dataset.state)", null, { timeout: 150_000 });
    const demo = await page.evaluate<Demo>('window.cpnasDemo');
    return { demo, svgs: await page.locator('#cells svg').count() };
  }

  function node(opts: DemoOptions): DemoResult {
    return runDemoSearch(opts);
  }

  it('runs the tiny search on the CPU backend to the genotype Node finds for the same seed', async () => {
    const { demo, svgs } = await search('cpu', '', 3);
    expect(demo.error).toBeNull();
    expect(demo.state).toBe('done');
    expect(demo.result!.backend).toMatch(/^cpu/);
    expect(svgs).toBe(2);
    expect(demo.result!.genotype).toEqual(node({ seed: 3, backend: 'cpu' }).genotype);
    expect(errors).toEqual([]);
  }, 180_000);

  it('runs a search on gpu.js\'s WebGL to (up to float rounding) the genotype Node finds on the CPU for the same seed', async () => {
    // a smaller search (one cell, no convolutions on the edges): WebGL in a headless, GPU-less
    // Chromium is software rendering, where every kernel's first run compiles a shader
    const query = '?primitives=none,max_pool_3x3,skip_connect&cells=1';
    const { demo, svgs } = await search('gpu', query, 1);
    expect(demo.error).toBeNull();
    expect(demo.state).toBe('done');
    expect(demo.result!.backend).toMatch(/gpu\.js \(webgl2?\)/);
    expect(svgs).toBe(2);
    // WebGL computes in the GPU's float arithmetic (SwiftShader in a GPU-less Chromium), whose rounding
    // differs from the CPU's: an edge whose operations score within rounding of each other can go either
    // way, and with it the later picks (seen: 2 and 5 of 16 picks differ), so the WebGL genotype must keep
    // Node's shape and agree on at least half of its picks (a broken WebGL computation scores at random and
    // agrees on about 1 pick in 5); exact agreement is what the CPU test above checks
    const ref = node({ seed: 1, backend: 'cpu', primitives: ['none', 'max_pool_3x3', 'skip_connect'], cells: 1 });
    const got = demo.result!.genotype;
    expect(demo.result!.rounds.map((r) => r.K)).toEqual(ref.rounds.map((r) => r.K));
    expect(got.normalConcat).toEqual(ref.genotype.normalConcat);
    expect(got.reduceConcat).toEqual(ref.genotype.reduceConcat);
    const picks = [...got.normal, ...got.reduce];
    const refPicks = [...ref.genotype.normal, ...ref.genotype.reduce];
    expect(picks.length).toBe(refPicks.length);
    for (const [op] of picks) expect(['max_pool_3x3', 'skip_connect']).toContain(op);
    const same = picks.filter(([op, from], i) => op === refPicks[i][0] && from === refPicks[i][1]).length;
    expect(same, `WebGL genotype ${JSON.stringify(got)} vs Node's ${JSON.stringify(ref.genotype)}`).toBeGreaterThanOrEqual(Math.ceil(0.5 * picks.length));
    expect(errors).toEqual([]);
  }, 180_000);

  it('stops a running search at once', async () => {
    const page = await context.newPage();
    await page.goto(base);
    await page.click('#start');
    await page.waitForFunction('window.cpnasDemo.steps >= 1', null, { timeout: 60_000 });
    await page.click('#stop');
    const demo = await page.evaluate<Demo>('window.cpnasDemo');
    expect(demo.state).toBe('stopped');
    expect(demo.result).toBeNull();
    // the page works again after a stop
    expect(await page.evaluate<boolean>("document.getElementById('start').disabled")).toBe(false);
  }, 120_000);
});
