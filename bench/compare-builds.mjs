#!/usr/bin/env node
// Two builds of cni-wasm side by side on the fixed-cost path: `node -e 0`, VERSION and the
// null plugin's ADD through each build's dist/cni-wasm.cjs, run alternately (A B A B) with
// ratios taken pair by pair. Used to check that a change to the hot path (e.g. the trace
// instrumentation, which must cost nothing when CNI_WASM_TRACE is unset) moves nothing.
//
//   git archive <commit> | tar -x -C /tmp/before && ln -s $PWD/node_modules /tmp/before/ \
//     && (cd /tmp/before && node scripts/build.mjs)
//   node bench/compare-builds.mjs --before /tmp/before/dist [--after dist] [--runs 40]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mustRun } from './lib/exec.mjs';
import { pairDiffs, pairRatios, stats } from './lib/stats.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const before = resolve(arg('--before', ''));
const after = resolve(arg('--after', 'dist'));
const runs = Number(arg('--runs', 40));
if (!arg('--before')) throw new Error('usage: node bench/compare-builds.mjs --before <dist dir> [--after dist] [--runs 40]');

const tmp = mkdtempSync(join(tmpdir(), 'cniwb-cmp-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const policy = join(tmp, 'policy.json');
writeFileSync(policy, '{"version":1}');
const base = { PATH: process.env.PATH };
const add = { ...base, CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'cmp', CNI_NETNS: '/var/run/netns/none', CNI_IFNAME: 'eth0', CNI_PATH: tmp, CNI_WASM_POLICY: policy };
const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'cmp', type: 'null' });
const node = process.execPath;
const legs = {
  'node -e 0': () => mustRun(node, ['-e', '0'], { env: base }).ms,
  'VERSION before': () => mustRun(node, [join(before, 'cni-wasm.cjs')], { env: { ...base, CNI_COMMAND: 'VERSION' } }).ms,
  'VERSION after': () => mustRun(node, [join(after, 'cni-wasm.cjs')], { env: { ...base, CNI_COMMAND: 'VERSION' } }).ms,
  'null ADD before': () => mustRun(node, [join(before, 'cni-wasm.cjs')], { env: add, input: conf }).ms,
  'null ADD after': () => mustRun(node, [join(after, 'cni-wasm.cjs')], { env: add, input: conf }).ms,
};
const xs = Object.fromEntries(Object.keys(legs).map((k) => [k, []]));
for (let i = 0; i < 3; i++) for (const f of Object.values(legs)) f();
for (let i = 0; i < runs; i++) for (const [k, f] of Object.entries(legs)) xs[k].push(f());
const f = (n) => n.toFixed(1).padStart(7);
console.log(`${runs} alternating runs (ms)          median     p90     min`);
for (const [k, v] of Object.entries(xs)) {
  const s = stats(v);
  console.log(`${k.padEnd(30)} ${f(s.median)} ${f(s.p90)} ${f(s.min)}`);
}
for (const what of ['VERSION', 'null ADD']) {
  const r = stats(pairRatios(xs[`${what} before`], xs[`${what} after`]));
  const d = stats(pairDiffs(xs[`${what} before`], xs[`${what} after`]));
  console.log(`${what}: after/before ${r.median.toFixed(3)} (pairwise median), after-before ${d.median.toFixed(2)} ms (p10..p90 of pairs not shown; min ${d.min.toFixed(1)}, max ${d.max.toFixed(1)})`);
}
const e0 = xs['node -e 0'];
console.log(`VERSION after / node -e 0: ${stats(pairRatios(e0, xs['VERSION after'])).median.toFixed(3)} (budget 1.3)`);
