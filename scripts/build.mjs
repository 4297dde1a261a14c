// Build: bundle the host into dist/ as CommonJS files. One file per start-up path,
// because CommonJS starts ~8 ms faster than an ES module on Node 20 (measured:
// a CJS bundle of the plugin path starts as fast as `node -e 0`, the ESM one does not).
//   dist/cni-wasm.cjs  the binary: plugin path (what a runtime execs)
//   dist/runtime.cjs   the wasm runtime + host API, required only when a .wasm plugin is found
//   dist/cli.cjs       the CLI for people, required only without CNI_COMMAND
//   dist/lib/pino.cjs  the logger, required only when a line is written
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { buildNative } from './build-native.mjs';
import { buildPlugins } from './build-plugins.mjs';

const out = 'dist';
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
for (const stale of ['chunks', 'cni-wasm.mjs']) rmSync(`${out}/${stale}`, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// Lazily loaded parts stay separate files: map their imports to the sibling bundle.
const LAZY = { './cli.ts': './cli.cjs', pino: './lib/pino.cjs' };
// The runtime is the large one on the hot path: it goes through the V8 code cache loader.
const CACHED = { '../runtime/register.ts': 'runtime.cjs' };
const lazyExternals = {
  name: 'lazy-externals',
  setup(b) {
    b.onResolve({ filter: /^(\.\/cli\.ts|pino)$/ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      return { path: LAZY[args.path], external: true };
    });
    b.onResolve({ filter: /^\.\.\/runtime\/register\.ts$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: CACHED[args.path], namespace: 'cached-bundle' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'cached-bundle' }, (args) => ({
      contents: `module.exports = require('./load-cached.cjs')(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
    b.onResolve({ filter: /^\.\/load-cached\.cjs$/ }, () => ({ path: './load-cached.cjs', external: true }));
  },
};

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  // Sources are ESM and use import.meta.url; in a CJS bundle it is this file's URL.
  define: { 'import.meta.url': '__cniwMetaUrl', CNI_WASM_VERSION: JSON.stringify(pkg.version) },
  banner: { js: "const __cniwMetaUrl=require('url').pathToFileURL(__filename).href;" },
  plugins: [lazyExternals],
  // Lazy parts are require()d: import() of a CJS file runs cjs-module-lexer over all of it
  // (~200 ms for the 380 KB runtime bundle).
  supported: { 'dynamic-import': false },
  logLevel: 'warning',
};

await Promise.all([
  build({ ...common, entryPoints: ['host/cli/main.ts'], outfile: `${out}/cni-wasm.cjs`, banner: { js: `#!/usr/bin/env node\n${common.banner.js}` } }),
  build({ ...common, entryPoints: ['host/cli/cli.ts'], outfile: `${out}/cli.cjs` }),
  build({ ...common, entryPoints: ['host/runtime/register.ts'], outfile: `${out}/runtime.cjs` }),
  build({ ...common, entryPoints: ['scripts/pino-entry.cjs'], outfile: `${out}/lib/pino.cjs` }),
]);
chmodSync(`${out}/cni-wasm.cjs`, 0o755);
buildNative(`${out}/native`);
copyFileSync('scripts/load-cached.cjs', `${out}/load-cached.cjs`);
await buildPlugins({ outDir: `${out}/plugins` });
// V8 code cache for the runtime bundle, made in a separate process exactly as the binary loads
// it. Trained by a real bridge ADD/CHECK/DEL in scratch namespaces when we may make them (root);
// otherwise from loading alone.
const trained = spawnSync('unshare', ['--net', process.execPath, 'scripts/train-cache.cjs', out], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (trained.status !== 0) {
  execFileSync(process.execPath, ['-e', `require(${JSON.stringify(`./${out}/load-cached.cjs`)}).makeCache(${JSON.stringify(Object.values(CACHED)[0])})`]);
  console.log(`runtime code cache: untrained (${(trained.stderr || trained.error?.message || 'no namespaces').trim().split('\n').pop()})`);
}
