#!/usr/bin/env node
// npm run demo:vxlan (as root): a two-node overlay with the vxlan plugin, through the installed
// binary. Everything happens in throwaway namespaces: a router joining two underlay subnets,
// two "nodes" (the hosts a runtime would run on), each with its own pod subnet, and three
// containers. The machine's own network namespace is never touched, and everything is
// removed at the end, also on failure or Ctrl-C.
//
//   node scripts/demo/vxlan.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tty = process.stdout.isTTY;
const c = (code, s) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const step = (s) => console.log(`\n${c('1;36', '==>')} ${c('1', s)}`);
const ok = (s) => console.log(`    ${c('32', '✓')} ${s}`);
const bad = (s) => console.log(`    ${c('31', '✗')} ${s}`);
const show = (s) => console.log(s.replace(/^/gm, '    '));

if (process.getuid?.() !== 0) {
  console.error('The demo creates network namespaces: run it as root (sudo npm run demo:vxlan).');
  process.exit(1);
}

const id = randomBytes(3).toString('hex');
const NS = {
  router: `cniw-vx-rtr-${id}`,
  nodeA: `cniw-vx-a-${id}`,
  nodeB: `cniw-vx-b-${id}`,
  a1: `cniw-vx-a1-${id}`,
  a2: `cniw-vx-a2-${id}`,
  b1: `cniw-vx-b1-${id}`,
};
const work = mkdtempSync(join(tmpdir(), 'cni-wasm-vxlan-demo-'));

const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts });
const ipn = (ns, ...args) => sh('ip', ['-n', ns, ...args]);
const inNs = (ns, cmd, ...args) => sh('ip', ['netns', 'exec', ns, cmd, ...args]);

function cleanup() {
  for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const binDir = join(work, 'opt-cni-bin');
step(`Install cni-wasm as the plugin "vxlan" into ${binDir}`);
show(sh(process.execPath, [join(repo, 'dist', 'cni-wasm.cjs'), 'install', '--dir', binDir, '--plugins', 'vxlan']).trimEnd());
const CNI_PATH = `${binDir}:/usr/lib/cni`; // host-local: in process when built as wasm, else the reference binary

step('Underlay: two nodes on different subnets, joined by a router');
for (const ns of Object.values(NS)) {
  sh('ip', ['netns', 'add', ns]);
  ipn(ns, 'link', 'set', 'lo', 'up');
  inNs(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
}
inNs(NS.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
const NODES = {
  A: { ns: NS.nodeA, ip: '192.168.10.2', gw: '192.168.10.1', subnet: '10.244.1.0/24', port: 'pa' },
  B: { ns: NS.nodeB, ip: '192.168.20.2', gw: '192.168.20.1', subnet: '10.244.2.0/24', port: 'pb' },
};
for (const n of Object.values(NODES)) {
  ipn(NS.router, 'link', 'add', n.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.ns);
  ipn(NS.router, 'addr', 'add', `${n.gw}/24`, 'dev', n.port);
  ipn(NS.router, 'link', 'set', n.port, 'up');
  ipn(n.ns, 'addr', 'add', `${n.ip}/24`, 'dev', 'eth0');
  ipn(n.ns, 'link', 'set', 'eth0', 'up');
  ipn(n.ns, 'route', 'add', 'default', 'via', n.gw);
}
show(`router   ${NS.router}   192.168.10.1/24, 192.168.20.1/24
node A   ${NS.nodeA}     eth0 192.168.10.2/24, pods 10.244.1.0/24
node B   ${NS.nodeB}     eth0 192.168.20.2/24, pods 10.244.2.0/24`);

// One network, seen from each node: its own pod subnet, the other node as a peer.
const config = (self, peer) =>
  JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'overlay',
      type: 'vxlan',
      vxlanId: 1,
      peers: [{ ip: peer.ip, subnet: peer.subnet }],
      ipam: { type: 'host-local', subnet: self.subnet, dataDir: join(work, `ipam-${self.ns}`) },
    },
    null,
    2,
  );
const CONF = { A: config(NODES.A, NODES.B), B: config(NODES.B, NODES.A) };

step('The network configuration on node A (node B\'s names node A as its peer)');
show(CONF.A);

function invoke(command, node, ctrNs, containerId) {
  const env = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_NETNS: `/var/run/netns/${ctrNs}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH,
  };
  const t = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', NODES[node].ns, join(binDir, 'vxlan')], { input: CONF[node], encoding: 'utf8', env });
  return { ...r, ms: Number(process.hrtime.bigint() - t) / 1e6 };
}

const CTRS = [
  ['a1', 'A'],
  ['a2', 'A'],
  ['b1', 'B'],
];
const ips = {};
for (const [key, node] of CTRS) {
  step(`ADD container ${key} on node ${node}`);
  show(`$ echo "$CONFIG_${node}" | CNI_COMMAND=ADD CNI_CONTAINERID=ctr-${key} CNI_NETNS=/var/run/netns/${NS[key]} \\\n    CNI_IFNAME=eth0 CNI_PATH=${CNI_PATH} ip netns exec <node ${node}> ${binDir}/vxlan`);
  const r = invoke('ADD', node, NS[key], `ctr-${key}`);
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    throw new Error(`ADD failed with exit ${r.status}`);
  }
  const res = JSON.parse(r.stdout);
  ips[key] = res.ips[0].address.split('/')[0];
  ok(`exit 0 in ${r.ms.toFixed(0)} ms; ${key} has ${res.ips[0].address} via ${res.ips[0].gateway}; routes ${res.routes.map((x) => `${x.dst} via ${x.gw}`).join(', ')}`);
}

step('What node A holds now');
show(inNs(NS.nodeA, 'ip', '-d', 'link', 'show', 'vxlan1').trim().split('\n').slice(0, 3).join('\n'));
show(`$ ip route show dev vxlan1\n${inNs(NS.nodeA, 'ip', 'route', 'show', 'dev', 'vxlan1').trim()}`);
show(`$ ip neigh show dev vxlan1\n${inNs(NS.nodeA, 'ip', 'neigh', 'show', 'dev', 'vxlan1').trim()}`);
show(`$ bridge fdb show dev vxlan1\n${inNs(NS.nodeA, 'bridge', 'fdb', 'show', 'dev', 'vxlan1').trim()}`);
show(`$ ip -br addr (vxbr1, vxlan1)\n${inNs(NS.nodeA, 'ip', '-br', '-4', 'addr', 'show', 'dev', 'vxbr1').trim()}\n${inNs(NS.nodeA, 'ip', '-br', '-4', 'addr', 'show', 'dev', 'vxlan1').trim()}`);

const ping = (from, to) => spawnSync('ip', ['netns', 'exec', from, 'busybox', 'ping', '-c', '1', '-W', '2', to], { encoding: 'utf8' }).status === 0;
const txPackets = (ns) => JSON.parse(inNs(ns, 'ip', '-s', '-j', 'link', 'show', 'vxlan1'))[0].stats64.tx.packets;

step('Connectivity across the overlay');
let failed = 0;
const check = (cond, label) => (cond ? ok(label) : (failed++, bad(label)));
const before = { A: txPackets(NS.nodeA), B: txPackets(NS.nodeB) };
check(ping(NS.a1, ips.b1), `a1 (${ips.a1}, node A) -> b1 (${ips.b1}, node B)`);
check(ping(NS.b1, ips.a2), `b1 (${ips.b1}, node B) -> a2 (${ips.a2}, node A)`);
check(ping(NS.a1, ips.a2), `a1 -> a2 (same node, through the bridge)`);
const after = { A: txPackets(NS.nodeA), B: txPackets(NS.nodeB) };
check(after.A > before.A && after.B > before.B, `encapsulated: vxlan1 sent ${after.A - before.A} packets on node A, ${after.B - before.B} on node B`);

step('DEL container a1: the others stay connected');
const d = invoke('DEL', 'A', NS.a1, 'ctr-a1');
if (d.status !== 0) throw new Error(`DEL failed: ${d.stdout}${d.stderr}`);
ok(`exit 0 in ${d.ms.toFixed(0)} ms`);
check(!ping(NS.b1, ips.a1), 'b1 can no longer reach a1');
check(ping(NS.b1, ips.a2), 'b1 -> a2 still works (vxlan1 and the peer entries stay)');
for (const [key, node] of CTRS.slice(1)) {
  const r = invoke('DEL', node, NS[key], `ctr-${key}`);
  if (r.status !== 0) throw new Error(`DEL ${key} failed: ${r.stdout}${r.stderr}`);
}
ok('a2 and b1 deleted too');

step(failed ? `${failed} check(s) failed` : 'Demo complete; removing the namespaces');
process.exitCode = failed ? 1 : 0;
