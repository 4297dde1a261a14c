// Build: bundle the host into dist/ (one entry file + lazily loaded chunks), so that
// process start-up reads as little JavaScript as possible.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { buildNative } from './build-native.mjs';

const out = 'dist';
rmSync(`${out}/chunks`, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { 'cni-wasm': 'host/cli/main.ts' },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: false,
  legalComments: 'none',
  banner: {
    // Bundled CommonJS dependencies (pino, commander) need require().
    js: "#!/usr/bin/env node\nimport { createRequire as __cniwCreateRequire } from 'node:module';const require = __cniwCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync(`${out}/cni-wasm.mjs`, 0o755);
buildNative(`${out}/native`);
