#!/usr/bin/env node
// ADD latency of the vxlan plugin with 1 and with 50 peers, exec'd as a runtime does
// (`ip netns exec <node> <launcher from cni-wasm install>`, config on stdin), each peer count on
// its own throwaway node namespace with a veth underlay, a fresh container namespace per ADD.
//
//   first ADD  the node has nothing yet: bridge, vxlan device and every peer's route,
//              neighbour and FDB entry are created (the device and bridge are removed again
//              between runs, which takes the peer entries with them)
//   next ADD   the node side is in place: the plugin reads it (three dumps) and writes only the
//              container's veth, address and routes (one per peer subnet)
//
// Runs alternate between the peer counts and kinds (1 first, 50 first, 1 next, 50 next, ...)
// after one warm-up each, so machine noise hits all of them; medians (and min, p90) of --runs.
//
// A few more runs per case are traced (CNI_WASM_TRACE=1) to count the host calls.
//
//   sudo node bench/vxlan.mjs [--runs 15] [--peers 1,50] [--json FILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg('--runs', 15));
const PEERS = arg('--peers', '1,50').split(',').map(Number);
const jsonOut = arg('--json', undefined);
const bin = join(root, 'dist', 'cni-wasm.cjs');
if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark creates network namespaces');
if (!existsSync(bin) || !existsSync(join(root, 'dist', 'plugins', 'vxlan.wasm'))) throw new Error('dist/ has no vxlan plugin: npm run build');
if (PEERS.some((n) => !Number.isInteger(n) || n < 0 || n > 200)) throw new Error('--peers: integers 0..200');

const id = randomBytes(3).toString('hex');
const tmp = mkdtempSync(join(tmpdir(), 'cniw-bench-vxlan-'));
const namespaces = new Set();
const addNs = (role) => {
  const n = `cniwb-${id}-${role}`;
  execFileSync('ip', ['netns', 'add', n]);
  namespaces.add(n);
  execFileSync('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
  return n;
};
const delNs = (n) => {
  spawnSync('ip', ['netns', 'del', n]);
  namespaces.delete(n);
};
process.on('exit', () => {
  for (const n of [...namespaces]) delNs(n);
  rmSync(tmp, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const binDir = join(tmp, 'bin');
execFileSync(process.execPath, [bin, 'install', '--dir', binDir, '--plugins', 'vxlan'], { encoding: 'utf8' });
const CNI_PATH = `${binDir}:/usr/lib/cni`;

/** A node with underlay ul0 192.168.77.1/24 (its far end in a stub namespace) and a config with `peers` peers. */
function makeNode(peers) {
  const node = addNs(`node${peers}`);
  const wire = addNs(`wire${peers}`);
  execFileSync('ip', ['-n', node, 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', 'wire0', 'netns', wire]);
  execFileSync('ip', ['-n', node, 'addr', 'add', '192.168.77.1/24', 'dev', 'ul0']);
  execFileSync('ip', ['-n', node, 'link', 'set', 'ul0', 'up']);
  execFileSync('ip', ['-n', wire, 'link', 'set', 'wire0', 'up']);
  execFileSync('ip', ['-n', node, 'route', 'add', 'default', 'via', '192.168.77.254', 'dev', 'ul0', 'onlink']);
  const config = JSON.stringify({
    cniVersion: '1.0.0',
    name: `bench-vxlan-${peers}`,
    type: 'vxlan',
    vxlanId: 42,
    peers: Array.from({ length: peers }, (_, i) => ({ ip: `192.168.77.${i + 2}`, subnet: `10.250.${i + 2}.0/24` })),
    ipam: { type: 'host-local', subnet: '10.250.1.0/24', dataDir: join(tmp, `ipam-${peers}`) },
  });
  return { node, peers, config };
}

let seq = 0;
let traceFile;
function invoke(n, command, ctr, cid) {
  const env = { PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: cid, CNI_NETNS: `/var/run/netns/${ctr}`, CNI_IFNAME: 'eth0', CNI_PATH };
  if (traceFile && command === 'ADD') Object.assign(env, { CNI_WASM_TRACE: '1', CNI_WASM_TRACE_FILE: traceFile });
  const t = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', n.node, join(binDir, 'vxlan')], { input: n.config, encoding: 'utf8', env });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${command} with ${n.peers} peers failed (${r.status}): ${r.stdout}${r.stderr}`);
  return ms;
}

/** One timed ADD into a fresh container, then its DEL (untimed); `first` empties the node side before. */
function addOnce(n, first) {
  if (first) {
    for (const dev of ['vxlan42', 'vxbr42']) spawnSync('ip', ['-n', n.node, 'link', 'del', dev]);
  }
  const ctr = addNs(`c${++seq}`);
  const cid = `bench-${seq}`;
  const ms = invoke(n, 'ADD', ctr, cid);
  if (first) {
    const routes = execFileSync('ip', ['-n', n.node, 'route', 'show', 'dev', 'vxlan42'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    if (routes.length !== n.peers) throw new Error(`expected ${n.peers} peer routes, found ${routes.length}`);
  }
  invoke(n, 'DEL', ctr, cid);
  delNs(ctr);
  return ms;
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, median: s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2, min: s[0], p90: q(0.9) };
}

const nodes = PEERS.map(makeNode);
const samples = {};
for (const n of nodes) for (const kind of ['first', 'next']) samples[`${kind}/${n.peers}`] = [];
// warm-up: page cache, the V8 code cache, each node's state directory
for (const n of nodes) {
  addOnce(n, true);
  addOnce(n, false);
}
for (let r = 0; r < RUNS; r++) {
  for (const kind of ['first', 'next']) for (const n of nodes) samples[`${kind}/${n.peers}`].push(addOnce(n, kind === 'first'));
}

// Traced runs (host/trace.ts), apart from the timed ones (tracing costs time): how many host
// calls an ADD makes.
const TRACE_RUNS = Math.max(3, Math.min(RUNS, 7));
const traced = {};
for (const k of Object.keys(samples)) traced[k] = [];
for (let r = 0; r < TRACE_RUNS; r++) {
  for (const kind of ['first', 'next']) {
    for (const n of nodes) {
      traceFile = join(tmp, `trace-${kind}-${n.peers}-${r}.jsonl`);
      addOnce(n, kind === 'first');
      const t = JSON.parse(readFileSync(traceFile, 'utf8').trim().split('\n').at(-1)).trace;
      const calls = Object.values(t.hostCalls).reduce((a, c) => a + c.n, 0);
      traced[`${kind}/${n.peers}`].push({ calls });
    }
  }
}
traceFile = undefined;

const rows = Object.entries(samples).map(([k, xs]) => {
  const [kind, peers] = k.split('/');
  const tr = traced[k];
  return {
    kind,
    peers: Number(peers),
    ...stats(xs),
    hostCalls: stats(tr.map((t) => t.calls)).median,
  };
});
const f = (x) => x.toFixed(1).padStart(7);
console.log(`vxlan ADD latency, ${RUNS} runs each, exec'd through the installed launcher (ms)`);
console.log(`${'ADD'.padEnd(6)} ${'peers'.padStart(5)} ${'median'.padStart(7)} ${'min'.padStart(7)} ${'p90'.padStart(7)} ${'host calls'.padStart(11)}`);
for (const r of rows) {
  console.log(`${r.kind.padEnd(6)} ${String(r.peers).padStart(5)} ${f(r.median)} ${f(r.min)} ${f(r.p90)} ${String(r.hostCalls).padStart(11)}`);
}
const lo = Math.min(...PEERS);
const hi = Math.max(...PEERS);
if (hi > lo) {
  for (const kind of ['first', 'next']) {
    const a = rows.find((r) => r.kind === kind && r.peers === lo).median;
    const b = rows.find((r) => r.kind === kind && r.peers === hi).median;
    console.log(`${kind} ADD: ${((b - a) / (hi - lo)).toFixed(2)} ms per additional peer`);
  }
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ runs: RUNS, peers: PEERS, rows, samples, traced }, null, 2));
