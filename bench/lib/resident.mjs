// What a resident host would pay per invocation: the host's own invoke() (host/cni/plugin-main.ts)
// called again and again in one process, so Node's start-up, module loading and V8's cold
// code are paid once. Still conservative: each call reads, verifies and compiles the plugin
// again (a resident host would keep compiled modules).
//
// The sources are bundled with esbuild as CommonJS next to dist/native (the addon is found
// relative to the bundle), into dist/.bench-resident-<pid>.cjs, removed at exit. The worker
// runs in the namespace its parent's main thread was in when it spawned it (the node).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ENTRY = `
import { invoke } from './host/cni/plugin-main.ts';
const { conf, env, runs, warmup } = JSON.parse(process.argv[2]);
const text = JSON.stringify(conf);
const add = [];
const del = [];
const first = {};
void (async () => {
for (let i = 0; i < warmup + runs; i++) {
  const id = 'resident-' + i;
  const t0 = performance.now();
  const a = await invoke({ ...env, CNI_COMMAND: 'ADD', CNI_CONTAINERID: id }, () => text);
  const t1 = performance.now();
  if (a.exitCode !== 0) throw new Error('ADD ' + id + ': ' + a.stdout);
  const d = await invoke({ ...env, CNI_COMMAND: 'DEL', CNI_CONTAINERID: id }, () => text);
  const t2 = performance.now();
  if (d.exitCode !== 0) throw new Error('DEL ' + id + ': ' + d.stdout);
  if (i === 0) Object.assign(first, { add: t1 - t0, del: t2 - t1, loadedAt: t0 });
  if (i >= warmup) { add.push(t1 - t0); del.push(t2 - t1); }
}
process.stdout.write(JSON.stringify({ add, del, first }));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

/** Bundle the worker; returns its path (removed at exit). */
export async function buildResidentWorker(root) {
  const file = join(root, 'dist', `.bench-resident-${process.pid}.cjs`);
  process.on('exit', () => rmSync(file, { force: true }));
  await build({
    stdin: { contents: ENTRY, resolveDir: root, sourcefile: 'resident.ts', loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: file,
    define: { 'import.meta.url': '__cniwMetaUrl', CNI_WASM_VERSION: '"bench"' },
    banner: { js: "const __cniwMetaUrl=require('url').pathToFileURL(__filename).href;" },
    logLevel: 'error',
  });
  return file;
}
