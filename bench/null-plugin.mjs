#!/usr/bin/env node
// Fixed cost of running a wasm plugin: the null plugin (bench/null-plugin.wat, every handler
// returns at once) exec'd through the built binary as a runtime execs it, against
// `node -e 0` and against VERSION (which loads no runtime), alternating A B C A B C so
// machine noise hits all three; medians, and ratios taken run by run.
//
// Then how the runtime instantiates: the same component run to its first ADD in a fresh
// process (a) with host/runtime (read, verify, cap, compile, instantiate with the generated
// glue, call) and (b) with `jco transpile --instantiation sync` output, both bundled as
// CommonJS like the shipped binary.
//
//   npm run build && node bench/null-plugin.mjs [--runs 30] [--json FILE]
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco';
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { mustRun } from './lib/exec.mjs';
import { stats } from './lib/stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg('--runs', 30));
const jsonOut = arg('--json', undefined);
const bin = join(root, 'dist', 'cni-wasm.cjs');
if (!existsSync(bin)) throw new Error('dist/cni-wasm.cjs is missing: npm run build');

const tmp = mkdtempSync(join(tmpdir(), 'cniw-bench-null-'));
const temps = [tmp];
process.on('exit', () => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));

// The null plugin, componentized as a plugin author would (embed the WIT, componentNew).
const wit = readFileSync(join(root, 'wit/plugin.wit'), 'utf8');
const core = await parse(readFileSync(join(root, 'bench/null-plugin.wat'), 'utf8'));
const component = await componentNew(await componentEmbed({ binary: core, witSource: wit, world: 'plugin' }));
const plugins = join(tmp, 'plugins');
mkdirSync(plugins);
const wasm = join(plugins, 'null.wasm');
writeFileSync(wasm, component);
// The AssemblyScript null plugin the build makes (plugins-as/null), when present: the SDK's own fixed cost.
const asNull = join(root, 'dist', 'plugins', 'null.wasm');
const asPlugins = join(tmp, 'as-plugins');
const haveAs = existsSync(asNull);
if (haveAs) {
  mkdirSync(asPlugins);
  writeFileSync(join(asPlugins, 'null.wasm'), readFileSync(asNull));
}
const policy = join(tmp, 'policy.json');
writeFileSync(policy, JSON.stringify({ version: 1 }));

const time = (argv, env, input = '') => mustRun(process.execPath, argv, { env: { PATH: process.env.PATH, ...env }, input });

// ---- 1. the binary: process start -> handler returns -> exit
const addEnv = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'bench',
  CNI_NETNS: '/var/run/netns/none',
  CNI_IFNAME: 'eth0',
  CNI_PATH: tmp,
  CNI_WASM_PLUGIN_DIR: plugins,
  CNI_WASM_POLICY: policy,
  CNI_LOG_LEVEL: 'silent',
};
const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'bench', type: 'null' });
const first = time([bin], addEnv, conf);
if (!JSON.parse(first.stdout).interfaces) throw new Error(`unexpected ADD answer: ${first.stdout}`);
const e0 = [];
const add = [];
const ver = [];
const rAdd = [];
const rVer = [];
const addAs = [];
const rAddAs = [];
for (let i = 0; i < 3; i++) time(['-e', '0'], {});
for (let i = 0; i < RUNS; i++) {
  const a = time(['-e', '0'], {}).ms;
  const b = time([bin], addEnv, conf).ms;
  const c = time([bin], { CNI_COMMAND: 'VERSION' }).ms;
  e0.push(a);
  add.push(b);
  ver.push(c);
  rAdd.push(b / a);
  rVer.push(c / a);
  if (haveAs) {
    const d = time([bin], { ...addEnv, CNI_WASM_PLUGIN_DIR: asPlugins }, conf).ms;
    addAs.push(d);
    rAddAs.push(d / a);
  }
}

// ---- 2. time to first call: host/runtime vs jco-transpiled, fresh processes
const bundles = join(root, 'dist', `.bench-null-${process.pid}`);
temps.push(bundles);
mkdirSync(bundles, { recursive: true });
const esb = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', minifyWhitespace: true, minifySyntax: true, logLevel: 'warning' };
const req = { config: conf, containerId: 'bench', ifname: 'eth0', args: [], prevResult: undefined, hasContainer: false };
await build({
  ...esb,
  stdin: {
    resolveDir: root,
    loader: 'ts',
    sourcefile: 'direct.ts',
    contents: `
      import { readFileSync } from 'node:fs';
      import { verifyStructure, capMainModule } from './host/runtime/verify.ts';
      import { compileModule, invokePlugin } from './host/runtime/instance.ts';
      import { resolveLimits } from './host/runtime/limits.ts';
      const t0 = performance.now();
      const plugin = { type: 'null', path: process.argv[2] };
      const limits = resolveLimits();
      const s = verifyStructure(plugin, readFileSync(plugin.path));
      const t1 = performance.now();
      const m = compileModule(plugin, capMainModule(plugin, s, limits));
      const t2 = performance.now();
      const out = invokePlugin(m, { plugin, limits, host: {}, hasInitialize: false }, 'add', ${JSON.stringify(req)});
      const t3 = performance.now();
      if (!out.includes('eth0')) throw new Error(out);
      process.stdout.write(JSON.stringify({ start: t0, verify: t1 - t0, compile: t2 - t1, call: t3 - t2, total: t3 }));`,
  },
  outfile: join(bundles, 'direct.cjs'),
  define: { 'import.meta.url': '__u' },
  banner: { js: "const __u=require('url').pathToFileURL(__filename).href;" },
});
const tr = await transpileBytes(component, { name: 'nullp', instantiation: 'sync', noTypescript: true });
for (const [name, bytes] of Object.entries(tr.files)) writeFileSync(join(bundles, name.replace(/\//g, '_')), bytes);
await build({
  ...esb,
  stdin: {
    resolveDir: bundles,
    loader: 'js',
    sourcefile: 'jco.js',
    contents: `
      import { readFileSync } from 'node:fs';
      import { join } from 'node:path';
      import { instantiate } from './nullp.js';
      const t0 = performance.now();
      const root = instantiate((p) => new WebAssembly.Module(readFileSync(join(__dirname, p))), {});
      const t2 = performance.now();
      const out = root.handler.add(${JSON.stringify(req)});
      const t3 = performance.now();
      if (!out.includes('eth0')) throw new Error(out);
      process.stdout.write(JSON.stringify({ start: t0, verify: 0, compile: t2 - t0, call: t3 - t2, total: t3 }));`,
  },
  outfile: join(bundles, 'jco.cjs'),
});
const direct = [];
const jco = [];
const wallDirect = [];
const wallJco = [];
for (let i = 0; i < 3; i++) {
  time([join(bundles, 'direct.cjs'), wasm], {});
  time([join(bundles, 'jco.cjs')], {});
}
for (let i = 0; i < RUNS; i++) {
  const d = time([join(bundles, 'direct.cjs'), wasm], {});
  const j = time([join(bundles, 'jco.cjs')], {});
  direct.push(JSON.parse(d.stdout));
  jco.push(JSON.parse(j.stdout));
  wallDirect.push(d.ms);
  wallJco.push(j.ms);
}
const med = (rows, k) => stats(rows.map((r) => r[k])).median;
const phases = (rows) => ({ loaded: med(rows, 'start'), verify: med(rows, 'verify'), compile: med(rows, 'compile'), call: med(rows, 'call'), firstCall: med(rows, 'total') });

const out = {
  runs: RUNS,
  nodeE0: stats(e0),
  nullAdd: stats(add),
  version: stats(ver),
  ratioAdd: stats(rAdd).median,
  ratioVersion: stats(rVer).median,
  fixedCostMs: stats(add).median - stats(e0).median,
  ...(haveAs ? { asNullAdd: stats(addAs), ratioAsAdd: stats(rAddAs).median, asFixedCostMs: stats(addAs).median - stats(e0).median } : {}),
  toFirstCall: { direct: { ...phases(direct), wall: stats(wallDirect).median }, jco: { ...phases(jco), wall: stats(wallJco).median } },
  bundleBytes: { direct: readFileSync(join(bundles, 'direct.cjs')).length, jco: readFileSync(join(bundles, 'jco.cjs')).length },
};
const f = (n) => n.toFixed(1).padStart(7);
console.log(`null plugin through dist/cni-wasm.cjs, ${RUNS} alternating runs (ms)   median     p90     min`);
console.log(`node -e 0                                                    ${f(out.nodeE0.median)} ${f(out.nodeE0.p90)} ${f(out.nodeE0.min)}`);
console.log(`CNI_COMMAND=VERSION                                          ${f(out.version.median)} ${f(out.version.p90)} ${f(out.version.min)}   ratio ${out.ratioVersion.toFixed(3)}`);
console.log(`CNI_COMMAND=ADD, null.wasm                                   ${f(out.nullAdd.median)} ${f(out.nullAdd.p90)} ${f(out.nullAdd.min)}   ratio ${out.ratioAdd.toFixed(3)}`);
if (haveAs) console.log(`CNI_COMMAND=ADD, AssemblyScript null (dist/plugins)         ${f(out.asNullAdd.median)} ${f(out.asNullAdd.p90)} ${f(out.asNullAdd.min)}   ratio ${out.ratioAsAdd.toFixed(3)}`);
console.log(`fixed cost of a wasm plugin over node -e 0: ${out.fixedCostMs.toFixed(1)} ms (WAT null)${haveAs ? `, ${out.asFixedCostMs.toFixed(1)} ms (AssemblyScript null)` : ''}`);
console.log('');
console.log(`to the first ADD in a fresh process (medians, ms; "loaded" = process start to code loaded)`);
for (const [k, v] of Object.entries(out.toFirstCall)) {
  console.log(`  ${k.padEnd(7)} loaded ${f(v.loaded)}  verify ${f(v.verify)}  compile+inst ${f(v.compile)}  call ${f(v.call)}  first call at ${f(v.firstCall)}  wall ${f(v.wall)}   bundle ${out.bundleBytes[k]} B`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(out, null, 2));
