#!/usr/bin/env node
// Start-up cost of the CNI hot path: `CNI_COMMAND=VERSION cni-wasm` against `node -e 0`,
// run alternately (A B A B) so machine noise hits both; ratio taken pair by pair.
// Usage: node bench/startup.mjs [--runs N] [--json FILE]
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mustRun } from './lib/exec.mjs';
import { pairRatios, stats } from './lib/stats.mjs';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || (args.includes('--quick') ? 3 : 40);
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const bin = fileURLToPath(new URL('../dist/cni-wasm.cjs', import.meta.url));

const time = (argv, env, input) => mustRun(process.execPath, argv, { env, input }).ms;

const env = { PATH: process.env.PATH, CNI_COMMAND: 'VERSION' };
const a = [];
const b = [];
for (let i = 0; i < 3; i++) time([bin], env, '{"cniVersion":"1.1.0"}'); // warm the page cache
for (let i = 0; i < runs; i++) {
  a.push(time(['-e', '0'], { PATH: process.env.PATH }));
  b.push(time([bin], env, '{"cniVersion":"1.1.0"}'));
}
const out = { runs, nodeE0: stats(a), version: stats(b), ratio: stats(pairRatios(a, b)) };
const f = (n) => n.toFixed(1).padStart(6);
console.log(`start-up, ${runs} alternating pairs (ms)      median    p90    min    max`);
console.log(`node -e 0                                  ${f(out.nodeE0.median)} ${f(out.nodeE0.p90)} ${f(out.nodeE0.min)} ${f(out.nodeE0.max)}`);
console.log(`CNI_COMMAND=VERSION cni-wasm               ${f(out.version.median)} ${f(out.version.p90)} ${f(out.version.min)} ${f(out.version.max)}`);
console.log(`ratio (pairwise)                           ${out.ratio.median.toFixed(3).padStart(6)} (budget 1.3)`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(out, null, 2));
