#!/usr/bin/env node
// Per-operation latency of host/sys's sysctl and masquerade, and the load cost of their
// modules. Everything runs in throwaway network namespaces (named cniwb-*), never in
// the machine's own.
//
// Run as root, after `npm run build` (for dist/native/cniw.node):
//   node bench/sys-firewall-sysctl.mjs [--runs N] [--exec-runs N] [--load-runs N] [--quick] [--json FILE]
//
// What it prints (medians over repeated runs, plus p90/min):
//   sysctl set / get in a namespace          setns in, open /proc/sys/..., write/read, close, setns back
//   masquerade ADD, raw netlink              ensureMasquerade() for a new container, table present (the hot path):
//                                            socket in the node namespace + one nf_tables batch of set elements
//   masquerade ADD, raw netlink, first use   the same with the table absent (ENOENT, then table+chain+sets+rules+elements)
//   masquerade ADD, nft -f -                 ensureMasqueradeNft(): exec nsenter+nft with the whole script
//   nft add element (exec, minimum)          one `nft add element` exec: the floor of any exec-based ADD
//   masquerade ADD taking over               the address exists with another owner's comment (add+del+add)
//   masquerade DEL, raw netlink / nft        removeMasquerade*() with 100 containers in the table; the raw
//                                            DEL closes its socket later (close waits for an RCU grace
//                                            period after a deletion), the "+ socket close" row pays it
//   process rows                             wall time of fresh node processes doing one ADD / one DEL
//   module load                              require() of each esbuild bundle (CJS, as scripts/build.mjs makes
//                                            them) in a fresh node process whose loader is already warm,
//                                            and the addon's first load
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const quick = args.includes('--quick');
const RUNS = opt('--runs', quick ? 30 : 300);
const EXEC_RUNS = opt('--exec-runs', quick ? 5 : 30);
const LOAD_RUNS = opt('--load-runs', quick ? 5 : 20);
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;

const repo = fileURLToPath(new URL('..', import.meta.url));
const addon = join(repo, 'dist/native/cniw.node');
if (!existsSync(addon)) {
  console.error('dist/native/cniw.node is missing: run "npm run build" (or node scripts/build-native.mjs) first');
  process.exit(1);
}

// ---- throwaway namespaces, removed on any exit
const made = new Set();
function netns(role) {
  const name = `cniwb-${role}-${process.pid}-${made.size}`;
  execFileSync('ip', ['netns', 'add', name]);
  made.add(name);
  return { name, path: `/var/run/netns/${name}` };
}
function cleanup() {
  for (const n of made) spawnSync('ip', ['netns', 'del', n]);
  made.clear();
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

// ---- bundles: the modules as the build makes them (CommonJS, one file each)
const dir = mkdtempSync(join(tmpdir(), 'cniw-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'native'));
copyFileSync(addon, join(dir, 'native', 'cniw.node'));
const entries = {
  sysctl: 'host/sys/sysctl.ts',
  nftables: 'host/sys/nftables/index.ts',
  nftcli: 'host/sys/nftables/nft-cli.ts',
  store: 'host/sys/store/index.ts',
  netns: 'host/sys/netns.ts',
};
await Promise.all(
  Object.entries(entries).map(([name, entry]) =>
    build({
      entryPoints: [join(repo, entry)],
      outfile: join(dir, `${name}.cjs`),
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: 'none',
      define: { 'import.meta.url': '__cniwMetaUrl' },
      banner: { js: "const __cniwMetaUrl=require('url').pathToFileURL(__filename).href;" },
      logLevel: 'warning',
    }),
  ),
);
const req = createRequire(join(dir, 'x.cjs'));
const { openNetns } = req('./netns.cjs');
const { getSysctl, setSysctl } = req('./sysctl.cjs');
const nft = { ...req('./nftables.cjs'), ...req('./nftcli.cjs') };

// ---- statistics
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, median: q(0.5), p90: q(0.9), min: s[0], max: s[s.length - 1] };
};
const results = {};
const f = (n) => (n < 10 ? n.toFixed(3) : n.toFixed(1)).padStart(8);
function report(label, xs) {
  const s = stats(xs);
  results[label] = s;
  console.log(`${label.padEnd(52)} ${f(s.median)} ${f(s.p90)} ${f(s.min)}   (n=${s.n})`);
}
function timeEach(n, fn, setup) {
  const xs = [];
  for (let i = 0; i < n; i++) {
    const ctx = setup?.(i);
    const t = process.hrtime.bigint();
    fn(i, ctx);
    xs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return xs;
}
const addr = (i) => `10.${100 + ((i >> 16) & 0x3f)}.${(i >> 8) & 0xff}.${i & 0xff}/16`;

console.log(`host/sys latency, ms                                   median      p90      min`);

// ---- sysctl
{
  const n = netns('sysctl');
  const ns = openNetns(n.path);
  for (let i = 0; i < 20; i++) setSysctl('net.ipv4.conf.all.forwarding', String(i & 1), ns); // warm
  report('sysctl set in a namespace', timeEach(RUNS, (i) => setSysctl('net.ipv4.conf.all.forwarding', String(i & 1), ns)));
  report('sysctl get in a namespace', timeEach(RUNS, () => getSysctl('net.ipv4.conf.all.forwarding', ns)));
  const cur = openNetns('/proc/self/ns/net');
  report('sysctl get, current namespace (no setns)', timeEach(RUNS, () => getSysctl('net.ipv4.ip_forward')));
  cur.close();
  ns.close();
}

// ---- masquerade, raw netlink
{
  const n = netns('nl');
  const ns = openNetns(n.path);
  nft.ensureMasqueradeTable(ns);
  for (let i = 0; i < 10; i++) nft.ensureMasquerade({ network: 'warm', containerId: `w${i}`, ifname: 'eth0', addresses: [addr(60000 + i)] }, ns);
  report(
    'masquerade ADD, raw netlink (table present)',
    timeEach(RUNS, (i) => nft.ensureMasquerade({ network: 'bench', containerId: `c${i}`, ifname: 'eth0', addresses: [addr(i)] }, ns)),
  );
  report(
    'masquerade ADD, raw netlink, dual-stack',
    timeEach(RUNS, (i) =>
      nft.ensureMasquerade({ network: 'bench', containerId: `d${i}`, ifname: 'eth0', addresses: [addr(20000 + i), `fd00::${(i + 1).toString(16)}/64`] }, ns),
    ),
  );
  report(
    'masquerade ADD again (idempotent re-ADD)',
    timeEach(RUNS, (i) => nft.ensureMasquerade({ network: 'bench', containerId: `c${i}`, ifname: 'eth0', addresses: [addr(i)] }, ns)),
  );
  report(
    'masquerade ADD taking over another owner\'s address',
    timeEach(Math.min(RUNS, 100), (i) => nft.ensureMasquerade({ network: 'bench', containerId: `t${i}`, ifname: 'eth0', addresses: [addr(i)] }, ns)),
  );
  report(
    'masquerade ADD, raw netlink, first use (no table)',
    timeEach(
      Math.min(RUNS, 100),
      (i) => nft.ensureMasquerade({ network: 'bench', containerId: `f${i}`, ifname: 'eth0', addresses: [addr(i)] }, ns),
      () => nft.deleteMasqueradeTable(ns),
    ),
  );
  // DEL with 100 containers present
  nft.deleteMasqueradeTable(ns);
  for (let i = 1; i < 100; i++) nft.ensureMasquerade({ network: 'bench', containerId: `c${i}`, ifname: 'eth0', addresses: [addr(i)] }, ns);
  const delRow = (label, closeNow) =>
    report(
      label,
      timeEach(
        Math.min(RUNS, 100),
        (i) => {
          if (nft.removeMasquerade({ network: 'bench', containerId: `c${i % 100}`, ifname: 'eth0' }, ns) !== 2) throw new Error('DEL removed nothing');
          if (closeNow) nft.closeLingering();
        },
        (i) => {
          nft.closeLingering(); // untimed: no earlier DEL's socket left to close
          nft.ensureMasquerade({ network: 'bench', containerId: `c${i % 100}`, ifname: 'eth0', addresses: [addr(i % 100)] }, ns);
        },
      ),
    );
  delRow('masquerade DEL, raw netlink (100 in table)', false);
  delRow('masquerade DEL + socket close (RCU grace period)', true);
  ns.close();
}

// ---- masquerade through nft (exec)
{
  const n = netns('exec');
  const ns = openNetns(n.path);
  nft.ensureMasqueradeTableNft(ns);
  report(
    'masquerade ADD, nft -f - (exec, whole script)',
    timeEach(EXEC_RUNS, (i) => nft.ensureMasqueradeNft({ network: 'bench', containerId: `c${i}`, ifname: 'eth0', addresses: [addr(i)] }, ns)),
  );
  report(
    'nft add element (one exec, minimum)',
    timeEach(EXEC_RUNS, (i) => {
      const r = spawnSync('nsenter', [`--net=${n.path}`, 'nft', `add element inet cni_wasm masq4 { ${addr(30000 + i).split('/')[0]} comment "x" }`]);
      if (r.status !== 0) throw new Error(String(r.stderr));
    }),
  );
  spawnSync('nsenter', [`--net=${n.path}`, 'nft', 'flush set inet cni_wasm masq4']);
  for (let i = 0; i < 100; i++) nft.ensureMasquerade({ network: 'bench', containerId: `c${i}`, ifname: 'eth0', addresses: [addr(i)] }, ns);
  report(
    'masquerade DEL, nft (list + delete: 2 execs, 100 in table)',
    timeEach(EXEC_RUNS, (i) => {
      if (nft.removeMasqueradeNft({ network: 'bench', containerId: `c${i}`, ifname: 'eth0' }, ns) !== 2) throw new Error('DEL removed nothing');
    }),
  );
  ns.close();
}

// ---- module load cost, in fresh processes
console.log(`\nmodule load, fresh process, ms                         median      p90      min`);
const probe = (code) => {
  const r = spawnSync(process.execPath, ['-e', code], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout.trim());
};
// The loader's own first use (~1-2 ms, paid by any bundle) is taken before the clock starts,
// and process.stdout (whose first use loads the stream machinery, ~3 ms) only after it stops.
writeFileSync(join(dir, 'empty.cjs'), 'module.exports = {};\n');
const timed = (body) =>
  `require(${JSON.stringify(join(dir, 'empty.cjs'))});const t=process.hrtime.bigint();${body};const ms=Number(process.hrtime.bigint()-t)/1e6;process.stdout.write(String(ms))`;
const loadCode = (files) => timed(files.map((x) => `require(${JSON.stringify(join(dir, x))})`).join(';'));
const loads = {
  'require sysctl.cjs (+ netns)': loadCode(['sysctl.cjs']),
  'require nftables.cjs (netlink path, + socket, netns)': loadCode(['nftables.cjs']),
  'require nft-cli.cjs (exec path)': loadCode(['nftcli.cjs']),
  'require store.cjs': loadCode(['store.cjs']),
  'require sysctl + nftables + store (3 bundles)': loadCode(['sysctl.cjs', 'nftables.cjs', 'store.cjs']),
  'addon cniw.node first load (dlopen)': loadCode(['native/cniw.node']),
  'first require of any file (loader warm-up, for scale)': `const t=process.hrtime.bigint();require(${JSON.stringify(join(dir, 'empty.cjs'))});const ms=Number(process.hrtime.bigint()-t)/1e6;process.stdout.write(String(ms))`,
};
// interleaved (one of each per round), so that machine noise hits every row alike
const loadTimes = Object.fromEntries(Object.keys(loads).map((k) => [k, []]));
for (let i = 0; i < LOAD_RUNS; i++) for (const [label, code] of Object.entries(loads)) loadTimes[label].push(probe(code));
for (const [label, xs] of Object.entries(loadTimes)) report(label, xs);
// marginal cost: each bundle timed right after the others in one process, as in a host that
// has already loaded node's builtins (fs, url, module, crypto) and the shared code paths
{
  const order = ['sysctl.cjs', 'store.cjs', 'nftables.cjs'];
  const code = `require(${JSON.stringify(join(dir, 'empty.cjs'))});const o=[];for(const f of ${JSON.stringify(order.map((x) => join(dir, x)))}){const t=process.hrtime.bigint();require(f);o.push(Number(process.hrtime.bigint()-t)/1e6)}process.stdout.write(JSON.stringify(o))`;
  const cols = order.map(() => []);
  for (let i = 0; i < LOAD_RUNS; i++) {
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
    JSON.parse(r.stdout).forEach((x, j) => cols[j].push(x));
  }
  order.forEach((f, j) => report(`  then ${f} (${j === 0 ? 'first' : `after ${order.slice(0, j).join(', ')}`})`, cols[j]));
}
// whole-process view: node running the first masquerade ADD from cold, against node -e 0
{
  const n = netns('cold');
  const wall = (argv) => {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, argv, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const pre = `const {openNetns}=require('./netns.cjs');const m=require('./nftables.cjs');const ns=openNetns(${JSON.stringify(n.path)});const o={network:'cold',containerId:'c',ifname:'eth0',addresses:['10.1.0.2/24']};`;
  const base = [];
  const cold = [];
  const del = [];
  wall(['-e', `${pre}m.ensureMasqueradeTable(ns)`]);
  for (let i = 0; i < LOAD_RUNS; i++) {
    base.push(wall(['-e', '0']));
    cold.push(wall(['-e', `${pre}m.ensureMasquerade(o,ns)`]));
    del.push(wall(['-e', `${pre}m.removeMasquerade(o,ns)`]));
  }
  report('process: node -e 0 (wall)', base);
  report('process: node + load + one masquerade ADD (wall)', cold);
  report('process: node + load + one masquerade DEL (wall)', del);
}

if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ runs: RUNS, execRuns: EXEC_RUNS, loadRuns: LOAD_RUNS, results }, null, 2));
cleanup();
