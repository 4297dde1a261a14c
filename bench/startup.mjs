#!/usr/bin/env node
// Start-up cost of the CNI hot path: `CNI_COMMAND=VERSION cni-wasm` against `node -e 0`,
// run alternately (A B A B) so machine noise hits both; ratio taken pair by pair.
// Usage: node bench/startup.mjs [--runs N] [--json FILE]
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || (args.includes('--quick') ? 3 : 40);
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const bin = fileURLToPath(new URL('../dist/cni-wasm.cjs', import.meta.url));

function time(cmd, argv, env, input) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { env, input, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return ms;
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p90: q(0.9), min: s[0], max: s[s.length - 1] };
};

const env = { PATH: process.env.PATH, CNI_COMMAND: 'VERSION' };
const a = [];
const b = [];
const ratios = [];
for (let i = 0; i < 3; i++) time(process.execPath, [bin], env, '{"cniVersion":"1.1.0"}'); // warm the page cache
for (let i = 0; i < runs; i++) {
  const x = time(process.execPath, ['-e', '0'], { PATH: process.env.PATH });
  const y = time(process.execPath, [bin], env, '{"cniVersion":"1.1.0"}');
  a.push(x);
  b.push(y);
  ratios.push(y / x);
}
const out = { runs, nodeE0: stats(a), version: stats(b), ratio: stats(ratios) };
const f = (n) => n.toFixed(1).padStart(6);
console.log(`start-up, ${runs} alternating pairs (ms)      median    p90    min    max`);
console.log(`node -e 0                                  ${f(out.nodeE0.median)} ${f(out.nodeE0.p90)} ${f(out.nodeE0.min)} ${f(out.nodeE0.max)}`);
console.log(`CNI_COMMAND=VERSION cni-wasm               ${f(out.version.median)} ${f(out.version.p90)} ${f(out.version.min)} ${f(out.version.max)}`);
console.log(`ratio (pairwise)                           ${out.ratio.median.toFixed(3).padStart(6)} (budget 1.3)`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(out, null, 2));
