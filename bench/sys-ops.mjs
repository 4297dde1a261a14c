#!/usr/bin/env node
// Per-operation latency of host/sys on the real kernel, and the start-up cost of
// loading its modules.
//
//   node bench/sys-ops.mjs [--runs 50] [--load-runs 20]      (as root; needs dist/native/cniw.node:
//                                                              `node scripts/build-native.mjs`)
//
// The TypeScript sources are bundled on the fly with esbuild into dist/, next to
// dist/native/cniw.node, as CommonJS with the options of scripts/build.mjs (the way
// the host ships), then required. Every
// operation runs in throwaway namespaces (cniwb-*: a "node" and a "container"),
// removed at the end, also on failure; the machine's own namespace is not touched.
// Printed figures are medians (with p10/p90) over the runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('--runs', 50);
const LOAD_RUNS = arg('--load-runs', 20);

const tag = randomBytes(3).toString('hex');
const out = (name) => join(root, 'dist', `.bench-sys-${tag}-${name}.cjs`);
const made = new Set();
const files = new Set();

function cleanup() {
  for (const n of made) spawnSync('ip', ['netns', 'del', n]);
  made.clear();
  for (const f of files) rmSync(f, { force: true });
  files.clear();
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

function netns(role) {
  const name = `cniwb-${role}-${tag}`;
  execFileSync('ip', ['netns', 'add', name]);
  made.add(name);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return { name, path: `/var/run/netns/${name}` };
}

async function bundle(name, contents) {
  const file = out(name);
  files.add(file);
  await build({
    stdin: { contents, resolveDir: root, sourcefile: `${name}.ts`, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    outfile: file,
    define: { 'import.meta.url': '__cniwMetaUrl' },
    banner: { js: "const __cniwMetaUrl=require('url').pathToFileURL(__filename).href;" },
    logLevel: 'warning',
  });
  return file;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return { median: q(0.5), p10: q(0.1), p90: q(0.9), n: s.length };
}
const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
const rows = [];
const sizes = new Map();
function report(label, xs) {
  const st = stats(xs);
  rows.push([label, fmt(st.median), `${fmt(st.p10)} – ${fmt(st.p90)}`, String(st.n)]);
}

// ---------------------------------------------------------------- module load cost

const ALL = `
export * from './host/sys/netns.ts';
export * from './host/sys/netlink/socket.ts';
export * from './host/sys/netlink/links.ts';
export * from './host/sys/netlink/addresses.ts';
export * from './host/sys/netlink/routes.ts';
export * from './host/sys/netlink/neigh.ts';
`;
const CORE = `
export * from './host/sys/netns.ts';
export * from './host/sys/netlink/socket.ts';
`;

/** Times of `require(file)` in fresh processes, and of require + a first real call. */
function loadCost(file, nsPath, firstCall) {
  sizes.set(file, statSync(file).size);
  const probe = `
    const t0 = performance.now();
    const m = require(${JSON.stringify(file)});
    const t1 = performance.now();
    ${firstCall}
    const t2 = performance.now();
    process.stdout.write(JSON.stringify([t1 - t0, t2 - t0]));
  `;
  const imp = [];
  const first = [];
  for (let i = 0; i < LOAD_RUNS; i++) {
    const r = spawnSync(process.execPath, ['-e', probe, nsPath], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`load probe failed: ${r.stderr}`);
    const [a, b] = JSON.parse(r.stdout);
    imp.push(a);
    first.push(b);
  }
  return { imp, first };
}

/** The first getLink of a fresh process (the decoder cold), after require and socket open. */
function coldGetLink(file, nsPath) {
  const probe = `
    const m = require(${JSON.stringify(file)});
    const h = m.openNetns(process.argv[1]);
    const s = m.NetlinkSocket.open(h);
    const t0 = performance.now();
    m.getLink(s, 'eth0');
    const t1 = performance.now();
    m.getLink(s, 'lo');
    const t2 = performance.now();
    process.stdout.write(JSON.stringify([t1 - t0, t2 - t1]));
  `;
  const first = [];
  const second = [];
  for (let i = 0; i < LOAD_RUNS; i++) {
    const r = spawnSync(process.execPath, ['-e', probe, nsPath], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`get-link probe failed: ${r.stderr}`);
    const [a, b] = JSON.parse(r.stdout);
    first.push(a);
    second.push(b);
  }
  return { first, second };
}

function processFloor() {
  const xs = [];
  for (let i = 0; i < LOAD_RUNS; i++) {
    const t = now();
    spawnSync(process.execPath, ['-e', '0']);
    xs.push(now() - t);
  }
  return xs;
}

// ---------------------------------------------------------------- per-operation

async function main() {
  const allFile = await bundle('all', ALL);
  const coreFile = await bundle('core', CORE);
  const emptyFile = await bundle('empty', 'export const nothing = 0;');
  const sys = createRequire(import.meta.url)(allFile);
  const { openNetns, withNetns, NetlinkSocket, createBridge, createVeth, deleteLink, getLink, setLinkUp, addAddress, delAddress, addRoute, delRoute, listLinks } = sys;

  const node = netns('node');
  const ctr = netns('ctr');
  const nodeNs = openNetns(node.path);
  const ctrNs = openNetns(ctr.path);
  const s = withNetns(nodeNs, () => NetlinkSocket.open());
  const bridge = createBridge(s, { name: 'cni0', up: true });

  // Warm-up (JIT, addon load) so that the medians describe steady per-call cost; the
  // cold, first-call figure is reported with the load cost below.
  for (let i = 0; i < 5; i++) {
    const h = openNetns(ctr.path);
    NetlinkSocket.open(h).close();
    h.close();
    listLinks(s);
  }

  // 1. open a namespace by path and a netlink socket in it
  const open = [];
  for (let i = 0; i < RUNS; i++) {
    const t = now();
    const h = openNetns(ctr.path);
    const sock = NetlinkSocket.open(h);
    open.push(now() - t);
    sock.close();
    h.close();
  }
  report('open namespace + netlink socket', open);

  // 2. veth with the peer created directly in the container namespace
  const veth = [];
  const vethBridge = [];
  for (let i = 0; i < RUNS; i++) {
    let t = now();
    createVeth(s, { name: 'vethb0', peer: { name: 'eth0', ns: ctrNs } });
    veth.push(now() - t);
    deleteLink(s, 'vethb0');
    // as the bridge plugin does: MTU, master and up in the same request
    t = now();
    createVeth(s, { name: 'vethb0', mtu: 1500, up: true, master: bridge.index, peer: { name: 'eth0', ns: ctrNs, mtu: 1500, mac: '0a:58:0a:f4:00:05' } });
    vethBridge.push(now() - t);
    deleteLink(s, 'vethb0');
  }
  report('create veth, peer in container ns', veth);
  report('  same + MTU, MAC, master, up', vethBridge);

  // 3. + 4. address and route in the container namespace
  createVeth(s, { name: 'vethb0', up: true, master: bridge.index, peer: { name: 'eth0', ns: ctrNs } });
  const c = NetlinkSocket.open(ctrNs);
  const eth0 = getLink(c, 'eth0').index;
  setLinkUp(c, eth0);
  const addr = [];
  for (let i = 0; i < RUNS; i++) {
    const t = now();
    addAddress(c, { link: eth0, address: '10.244.0.5/24' });
    addr.push(now() - t);
    delAddress(c, { link: eth0, address: '10.244.0.5/24' });
  }
  report('add address (IPv4, by ifindex)', addr);
  const addrV6 = [];
  for (let i = 0; i < RUNS; i++) {
    const t = now();
    addAddress(c, { link: eth0, address: 'fd00:244::5/64', nodad: true });
    addrV6.push(now() - t);
    delAddress(c, { link: eth0, address: 'fd00:244::5/64' });
  }
  report('add address (IPv6, nodad)', addrV6);

  addAddress(c, { link: eth0, address: '10.244.0.5/24' });
  const route = [];
  for (let i = 0; i < RUNS; i++) {
    const t = now();
    addRoute(c, { dst: 'default', gateway: '10.244.0.1', link: eth0 });
    route.push(now() - t);
    delRoute(c, { dst: 'default' });
  }
  report('add route (default via gateway)', route);

  const get = [];
  for (let i = 0; i < RUNS; i++) {
    const t = now();
    getLink(s, 'cni0');
    get.push(now() - t);
  }
  report('get link by name (bridge)', get);

  const dump = [];
  for (let i = 0; i < RUNS; i++) {
    const t = now();
    listLinks(s);
    dump.push(now() - t);
  }
  report(`link dump (${listLinks(s).length} links)`, dump);

  const sw = [];
  for (let i = 0; i < RUNS; i++) {
    const t = now();
    for (let j = 0; j < 100; j++) withNetns(ctrNs, () => j);
    sw.push((now() - t) / 100);
  }
  report('setns window (enter + leave)', sw);

  c.close();
  s.close();
  nodeNs.close();
  ctrNs.close();

  // 5. load cost, in fresh processes
  const floor = processFloor();
  report('node -e 0 (process floor, wall)', floor);
  report('require() of an empty module (baseline)', loadCost(emptyFile, ctr.path, '').imp);
  const firstCall = `
    const h = m.openNetns(process.argv[1]);
    const s = m.NetlinkSocket.open(h);
    if (m.listLinks) m.listLinks(s); else s.dump(18, new Uint8Array(16));
    s.close(); h.close();
  `;
  const all = loadCost(allFile, ctr.path, firstCall);
  report(`load host/sys (netns + rtnetlink; ${(sizes.get(allFile) / 1024).toFixed(0)} KiB bundle), require()`, all.imp);
  report('  require + first call (open ns, socket, link dump)', all.first);
  const cold = coldGetLink(allFile, ctr.path);
  report('  first getLink in a fresh process (cold decoder)', cold.first);
  report('  second getLink in that process', cold.second);
  const core = loadCost(coreFile, ctr.path, firstCall);
  report(`load netns + socket only (${(sizes.get(coreFile) / 1024).toFixed(0)} KiB), require()`, core.imp);
  report('  require + first call (open ns, socket, link dump)', core.first);

  const w = [0, 0, 0, 0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => r.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('   ');
  console.log(`host/sys latency on ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}, node ${process.version}; median over runs (p10 – p90)\n`);
  console.log(line(['operation', 'median', 'p10 – p90', 'runs']));
  for (const r of rows) console.log(line(r));
}

try {
  await main();
} finally {
  cleanup();
}
