// Builds the browser bundle and the demo page with esbuild (a devDependency: one fast, dependency-free
// bundler for TypeScript sources; no configuration files).
//   dist/browser/cpnas.js      the `cpnas/browser` library bundle (ES module)
//   dist/browser/runtime.js    the runtime alone (`cpnas/runtime` for pages: loads an exported Child)
//   dist/demo/                 the demo page: index.html, demo.js (page), worker.js (the search)
// A source file `X.ts` with a sibling `X.browser.ts` is replaced by the sibling in these bundles (the
// Node-only pieces: worker threads, gpu.js's Node build); any other `node:` import is a build error,
// which is the check that core/, ops/, binary/ and nas/ stay free of Node built-ins.
// Usage: node examples/browser/build.mjs [--quiet]
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const quiet = process.argv.includes('--quiet');

/** `./x.js` imports resolve to `x.browser.ts` when that file exists beside `x.ts`. */
const browserSiblings = {
  name: 'browser-siblings',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!args.path.endsWith('.js')) return undefined;
      const target = resolve(args.resolveDir, args.path.replace(/\.js$/, '.browser.ts'));
      if (args.importer.endsWith('.browser.ts') && target === args.importer) return undefined;
      return existsSync(target) ? { path: target } : undefined;
    });
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  logLevel: quiet ? 'warning' : 'info',
  plugins: [browserSiblings],
  // gpu.js's browser build reads `process` only behind typeof checks
  define: { 'process.env.NODE_ENV': '"production"' },
};

const outDemo = join(root, 'dist', 'demo');
mkdirSync(outDemo, { recursive: true });
await Promise.all([
  build({ ...common, entryPoints: [join(root, 'browser.ts')], outfile: join(root, 'dist', 'browser', 'cpnas.js') }),
  build({ ...common, entryPoints: [join(root, 'binary', 'runtime', 'index.ts')], outfile: join(root, 'dist', 'browser', 'runtime.js') }),
  build({ ...common, entryPoints: [join(root, 'examples', 'browser', 'demo.ts')], outfile: join(outDemo, 'demo.js') }),
  build({ ...common, entryPoints: [join(root, 'examples', 'browser', 'worker.ts')], outfile: join(outDemo, 'worker.js') }),
]);
copyFileSync(join(root, 'examples', 'browser', 'index.html'), join(outDemo, 'index.html'));
if (!quiet) console.log(`built dist/browser/cpnas.js, dist/browser/runtime.js and ${outDemo}/ (serve it: npm run demo)`);
