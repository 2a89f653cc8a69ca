/**
 * A module loader for the kernel workers when they run from the TypeScript sources (vitest runs the
 * .ts files; a worker thread is plain Node and cannot): `./x.js` imports made by a .ts file resolve to
 * the .ts file beside it, and .ts files are transpiled with `typescript.transpileModule` (types
 * stripped, nothing checked), the compiler of the dev dependencies. threads.ts registers it in a worker
 * (Node's module customization hooks, node:module `register`) only when no compiled thread-worker.js
 * exists; the built package never uses it. It is JavaScript text because it runs before anything can
 * be transpiled.
 */
export const TS_LOADER_SOURCE = `
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

let ts = null;

export function initialize(data) {
  const path = fileURLToPath(data.typescript);
  ts = createRequire(path)(path);
}

export async function resolve(specifier, context, next) {
  if (context.parentURL && context.parentURL.endsWith('.ts') && specifier.startsWith('.') && specifier.endsWith('.js')) {
    const url = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts') || !ts) return next(url, context);
  const path = fileURLToPath(url);
  const out = ts.transpileModule(readFileSync(path, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, fileName: path,
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
`;
