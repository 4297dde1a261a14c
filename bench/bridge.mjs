#!/usr/bin/env node
// ADD and DEL latency of the bridge plugin: cni-wasm (bridge.wasm behind the installed
// launcher, host-local in process when built) against the Go reference (/usr/lib/cni), on the
// seed's config (ipMasq, cniVersion 0.4.0) and on IPv4 without masquerade. Exec'd as a runtime
// does, with `ip netns exec <node>`, each implementation on its own throwaway node namespace
// and a fresh container namespace per iteration. Runs alternate A B A B (after one warm-up
// each, which also creates the bridge), so machine noise hits both; medians, and the ratio
// taken pair by pair (cni-wasm / reference), then its median.
//
//   sudo node bench/bridge.mjs [--runs 20] [--json FILE]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg('--runs', 20));
const jsonOut = arg('--json', undefined);
const bin = join(root, 'dist', 'cni-wasm.cjs');
if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark creates network namespaces');
if (!existsSync(bin)) throw new Error('dist/cni-wasm.cjs is missing: npm run build');

const id = randomBytes(3).toString('hex');
const tmp = mkdtempSync(join(tmpdir(), 'cniw-bench-bridge-'));
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

const wasmBin = join(tmp, 'bin');
execFileSync(process.execPath, [bin, 'install', '--dir', wasmBin, '--plugins', 'bridge'], { encoding: 'utf8' });
const IMPLS = {
  reference: { exe: '/usr/lib/cni/bridge', cniPath: '/usr/lib/cni' },
  'cni-wasm': { exe: join(wasmBin, 'bridge'), cniPath: `${wasmBin}:/usr/lib/cni` },
};

const SCENARIOS = {
  seed: (dataDir) => ({
    cniVersion: '0.4.0',
    name: 'example-network',
    type: 'bridge',
    bridge: 'cni0',
    isGateway: true,
    ipMasq: true,
    ipam: { type: 'host-local', subnet: '10.22.0.0/16', dataDir, routes: [{ dst: '0.0.0.0/0' }] },
  }),
  'ipv4-no-masq': (dataDir) => ({
    cniVersion: '1.0.0',
    name: 'bench-v4',
    type: 'bridge',
    bridge: 'cni1',
    isGateway: true,
    ipam: { type: 'host-local', subnet: '10.23.0.0/16', dataDir, routes: [{ dst: '0.0.0.0/0' }] },
  }),
};

function invoke(impl, node, command, conf, ctr, cid) {
  const { exe, cniPath } = IMPLS[impl];
  const env = { PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: cid, CNI_NETNS: `/var/run/netns/${ctr}`, CNI_IFNAME: 'eth0', CNI_PATH: cniPath };
  const t = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', node, exe], { input: JSON.stringify(conf), env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${impl} ${command} failed: ${r.stdout}${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// `ip netns exec` itself, the floor under both.
const floorNode = addNs('floor');
const floor = median(Array.from({ length: 10 }, () => {
  const t = process.hrtime.bigint();
  spawnSync('ip', ['netns', 'exec', floorNode, '/bin/true']);
  return Number(process.hrtime.bigint() - t) / 1e6;
}));

// Node.js start-up, the floor under cni-wasm (its own start-up comes on top).
const nodeFloor = median(Array.from({ length: 10 }, () => {
  const t = process.hrtime.bigint();
  spawnSync('ip', ['netns', 'exec', floorNode, process.execPath, '-e', '0']);
  return Number(process.hrtime.bigint() - t) / 1e6;
}));

const report = { runs: RUNS, floorIpNetnsExecMs: floor, floorNodeMs: nodeFloor, loadAverage: (await import('node:os')).loadavg(), scenarios: {} };
let seq = 0;
for (const [scenario, makeConf] of Object.entries(SCENARIOS)) {
  const nodes = {};
  const confs = {};
  const samples = {};
  for (const impl of Object.keys(IMPLS)) {
    nodes[impl] = addNs(`${scenario}-${impl === 'reference' ? 'ref' : 'wasm'}`);
    confs[impl] = makeConf(join(tmp, `${scenario}-${impl}-ipam`));
    samples[impl] = { add: [], del: [] };
  }
  const once = (impl, record) => {
    const ctr = addNs(`c${++seq}`);
    const cid = `bench${seq}`;
    const add = invoke(impl, nodes[impl], 'ADD', confs[impl], ctr, cid);
    const del = invoke(impl, nodes[impl], 'DEL', confs[impl], ctr, cid);
    delNs(ctr);
    if (record) {
      samples[impl].add.push(add);
      samples[impl].del.push(del);
    }
  };
  for (const impl of Object.keys(IMPLS)) once(impl, false); // warm-up: creates the bridge, the nft table
  for (let i = 0; i < RUNS; i++) for (const impl of i % 2 ? ['cni-wasm', 'reference'] : ['reference', 'cni-wasm']) once(impl, true);

  const out = {};
  for (const op of ['add', 'del']) {
    const ref = samples.reference[op];
    const wasm = samples['cni-wasm'][op];
    out[op] = {
      referenceMedianMs: median(ref),
      cniWasmMedianMs: median(wasm),
      pairwiseRatioMedian: median(wasm.map((w, i) => w / ref[i])),
    };
  }
  report.scenarios[scenario] = out;
}

const f = (x) => x.toFixed(1).padStart(7);
console.log(`bridge ADD/DEL latency, ${RUNS} alternating runs each (floors: ip netns exec ${floor.toFixed(1)} ms, + node -e 0 ${nodeFloor.toFixed(1)} ms; load average ${report.loadAverage.map((x) => x.toFixed(1)).join(' ')})`);
console.log('scenario        op    reference ms  cni-wasm ms  ratio (pairwise median)');
for (const [s, r] of Object.entries(report.scenarios)) {
  for (const op of ['add', 'del']) {
    const x = r[op];
    console.log(`${s.padEnd(15)} ${op.toUpperCase().padEnd(4)} ${f(x.referenceMedianMs)}       ${f(x.cniWasmMedianMs)}      ${x.pairwiseRatioMedian.toFixed(2)}x`);
  }
}
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
