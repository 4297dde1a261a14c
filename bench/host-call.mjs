#!/usr/bin/env node
// Cost of one host call crossing (guest -> host -> guest) through the generated glue, timed
// inside the process: bench/host-call.wat makes 10000 calls per handler, the runtime runs it
// as it runs any plugin (loader, budget, one instance per call), with a host API that does
// nothing, so what is measured is the crossing: lifting the arguments, the call, lowering the
// answer. Per crossing = (handler with 10000 calls - empty handler) / 10000.
// For reference the same module is also called with bare JS imports (no glue, no budget):
// V8's own wasm -> JS floor.
//
//   node bench/host-call.mjs [--procs 5] [--runs 30] [--json FILE]
//
// The runtime sources are bundled on the fly with esbuild as CommonJS (as scripts/build.mjs
// ships them) into a temporary file, run in fresh processes; medians over all runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const PROCS = Number(arg('--procs', 5));
const RUNS = Number(arg('--runs', 30));
const CALLS = 10000;
const jsonOut = arg('--json', undefined);

const tmp = mkdtempSync(join(tmpdir(), 'cniw-bench-hostcall-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const wit = readFileSync(join(root, 'wit/plugin.wit'), 'utf8');
const core = await parse(readFileSync(join(root, 'bench/host-call.wat'), 'utf8'));
const wasm = join(tmp, 'hostcall.wasm');
writeFileSync(wasm, await componentNew(await componentEmbed({ binary: core, witSource: wit, world: 'plugin' })));

const entry = `
import { loadWasmPluginSync } from './host/runtime/loader.ts';
import { verifyStructure } from './host/runtime/verify.ts';
import { resolveLimits } from './host/runtime/limits.ts';
import { readFileSync } from 'node:fs';
const [wasm, runs] = [process.argv[2], Number(process.argv[3])];
const none = () => { throw new Error('not used'); };
const host = {
  log: { write: () => {} },
  sysctl: { get: () => '1', set: none },
  netlink: {}, firewall: {}, store: {}, ipam: {},
};
const hooks = { env: {}, authorize: () => ({ limits: resolveLimits({ callTimeoutMs: 60000 }) }), createHost: () => ({ imports: host }) };
const plugin = loadWasmPluginSync(hooks, 'hostcall', wasm);
const conf = { cniVersion: '1.1.0', name: 'b', type: 'hostcall' };
const req = (command) => ({ env: { command, containerId: 'c', netns: '', ifname: 'eth0', args: [], ignoreUnknownArgs: false, path: [] }, config: conf, configText: JSON.stringify(conf) });
const time = (f) => { const t = performance.now(); f(); return performance.now() - t; };
const out = { glue: { log: [], sysctl: [], empty: [] }, raw: { log: [], sysctl: [], empty: [] } };
// raw floor: the same main module, bare imports
const mod = new WebAssembly.Module(verifyStructure({ type: 'hostcall', path: wasm }, readFileSync(wasm)).module);
let mem;
const raw = new WebAssembly.Instance(mod, {
  'cni:plugin/log@0.1.0': { write: () => {} },
  'cni:plugin/sysctl@0.1.0': { get: (_ns, _p, _l, ret) => { new Uint8Array(mem.buffer)[ret] = 0; } },
});
mem = raw.exports.memory;
const args = new Array(12).fill(0);
for (let i = 0; i < runs; i++) {
  out.glue.log.push(time(() => plugin.run(req('ADD'))));
  out.glue.sysctl.push(time(() => plugin.run(req('CHECK'))));
  out.glue.empty.push(time(() => plugin.run(req('DEL'))));
  out.raw.log.push(time(() => raw.exports['cni:plugin/handler@0.1.0#add'](...args)));
  out.raw.sysctl.push(time(() => raw.exports['cni:plugin/handler@0.1.0#check'](...args)));
  out.raw.empty.push(time(() => raw.exports['cni:plugin/handler@0.1.0#del'](...args)));
}
process.stdout.write(JSON.stringify(out));
`;
const bundle = join(root, 'dist', `.bench-hostcall-${process.pid}.cjs`);
process.on('exit', () => rmSync(bundle, { force: true }));
await build({
  stdin: { contents: entry, resolveDir: root, sourcefile: 'bench-hostcall.ts', loader: 'ts' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  outfile: bundle,
  define: { 'import.meta.url': '__cniwMetaUrl' },
  banner: { js: "const __cniwMetaUrl=require('url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

const all = { glue: { log: [], sysctl: [], empty: [] }, raw: { log: [], sysctl: [], empty: [] } };
const first = { log: [], sysctl: [] };
for (let p = 0; p < PROCS; p++) {
  const r = spawnSync(process.execPath, [bundle, wasm, String(RUNS)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench process failed: ${r.stderr}`);
  const o = JSON.parse(r.stdout);
  for (const k of ['glue', 'raw']) for (const c of ['log', 'sysctl', 'empty']) all[k][c].push(...o[k][c]);
  first.log.push((o.glue.log[0] - o.glue.empty[0]) / CALLS);
  first.sysctl.push((o.glue.sysctl[0] - o.glue.empty[0]) / CALLS);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const perCall = (k, c) => (median(all[k][c]) - median(all[k].empty)) / CALLS;
const us = (ms) => `${(ms * 1000).toFixed(2)} µs`;
const res = {
  procs: PROCS,
  runs: RUNS,
  callsPerRun: CALLS,
  emptyHandlerMs: median(all.glue.empty),
  glue: { logWrite: perCall('glue', 'log'), sysctlGet: perCall('glue', 'sysctl') },
  firstRunGlue: { logWrite: median(first.log), sysctlGet: median(first.sysctl) },
  raw: { logWrite: perCall('raw', 'log'), sysctlGet: perCall('raw', 'sysctl') },
};
console.log(`host call crossing, ${PROCS} processes x ${RUNS} runs x ${CALLS} calls (medians)`);
console.log(`  log.write("hello")                  ${us(res.glue.logWrite).padStart(10)}  (first run in a process ${us(res.firstRunGlue.logWrite)}; bare JS import ${us(res.raw.logWrite)})`);
console.log(`  sysctl.get(host, key) -> string     ${us(res.glue.sysctlGet).padStart(10)}  (first run in a process ${us(res.firstRunGlue.sysctlGet)}; bare JS import ${us(res.raw.sysctlGet)})`);
console.log(`  one empty handler call (new instance, budget, lowering the request)  ${res.emptyHandlerMs.toFixed(3)} ms`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(res, null, 2));
