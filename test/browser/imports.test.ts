/**
 * core/, ops/, binary/, nas/ and backends/ import no Node built-in, so they bundle for a web page: the
 * only exceptions are Node-only files that have a `.browser.ts` sibling the browser bundle uses instead
 * (examples/browser/build.mjs), the worker threads' own entries (nas/shard-worker.ts, nas/parent-worker.ts,
 * backends/cpu/thread-worker.ts and its TypeScript loader, reached only from threads.ts) and
 * binary/runtime/node.ts (the `cpnas/runtime/node` loader).
 */
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

describe('browser-safe layers', () => {
  it('core/, ops/, binary/, nas/ and backends/ import no node: module (except files with a .browser.ts sibling)', () => {
    const offenders: string[] = [];
    for (const folder of ['core', 'ops', 'binary', 'nas', 'backends']) {
      for (const file of sources(join(ROOT, folder))) {
        const rel = relative(ROOT, file);
        // Node entries by design: the worker thread's own file, the runtime's Node loader (cpnas/runtime/node)
        const nodeEntries = [join('nas', 'shard-worker.ts'), join('nas', 'parent-worker.ts'), join('binary', 'runtime', 'node.ts'), join('backends', 'cpu', 'thread-worker.ts'), join('backends', 'cpu', 'ts-loader.ts')];
        if (rel.endsWith('.browser.ts') || nodeEntries.includes(rel)) continue;
        if (existsSync(file.replace(/\.ts$/, '.browser.ts'))) continue;
        const imports = [...readFileSync(file, 'utf8').matchAll(/^\s*import[^'"]*['"](node:[^'"]+)['"]/gm)].map((m) => m[1]);
        if (imports.length) offenders.push(`${rel}: ${imports.join(', ')}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('every .browser.ts sibling exports what the Node file exports', () => {
    const exportsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^export (?:async )?(?:function|const|let|class) (\w+)/gm)].map((m) => m[1]).sort();
    const pairs = ['core', 'ops', 'binary', 'nas', 'backends'].flatMap((f) => sources(join(ROOT, f))).filter((f) => f.endsWith('.browser.ts'));
    expect(pairs.length).toBeGreaterThanOrEqual(3);
    for (const b of pairs) expect(exportsOf(b), relative(ROOT, b)).toEqual(exportsOf(b.replace(/\.browser\.ts$/, '.ts')));
  });
});
