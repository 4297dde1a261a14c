#!/usr/bin/env node
// npm run demo (as root): the seed's example, verbatim, against the installed binary: cni-wasm
// by default (its bridge.wasm, and host-local.wasm in process when built; otherwise the native
// host-local from /usr/lib/cni), or the Go reference plugins with --impl reference.
// Everything happens in throwaway namespaces: a "node" (the host a runtime would run on),
// two containers and an "outside" network reachable only through masquerade. The machine's
// own network namespace is never touched, and everything is removed at the end, also on failure.
//
//   node scripts/demo/bridge.mjs [--impl cni-wasm|reference] [--keep-going]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const impl = process.argv.includes('--impl') ? process.argv[process.argv.indexOf('--impl') + 1] : 'cni-wasm';
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tty = process.stdout.isTTY;
const c = (code, s) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const step = (s) => console.log(`\n${c('1;36', '==>')} ${c('1', s)}`);
const ok = (s) => console.log(`    ${c('32', '✓')} ${s}`);
const show = (s) => console.log(s.replace(/^/gm, '    '));

if (process.getuid?.() !== 0) {
  console.error('The demo creates network namespaces: run it as root (sudo npm run demo).');
  process.exit(1);
}

// The seed's network configuration, verbatim.
const CONFIG = `{
  "cniVersion": "0.4.0",
  "name": "example-network",
  "type": "bridge",
  "bridge": "cni0",
  "isGateway": true,
  "ipMasq": true,
  "ipam": {
    "type": "host-local",
    "subnet": "10.22.0.0/16",
    "routes": [
      { "dst": "0.0.0.0/0" }
    ]
  }
}`;

const id = randomBytes(3).toString('hex');
const NS = { node: `cniw-demo-node-${id}`, ctr1: `cniw-demo-c1-${id}`, ctr2: `cniw-demo-c2-${id}`, outside: `cniw-demo-out-${id}` };
const work = mkdtempSync(join(tmpdir(), 'cni-wasm-demo-'));
const state = join(work, 'var-lib-cni');
mkdirSync(state, { recursive: true });

const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts });
const inNs = (ns, cmd, ...args) => sh('ip', ['netns', 'exec', ns, cmd, ...args]);

function cleanup() {
  for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

let binDir;
let cniPath;
if (impl === 'reference') {
  binDir = '/usr/lib/cni';
  cniPath = binDir;
} else if (impl === 'cni-wasm') {
  if (!existsSync(join(repo, 'dist', 'cni-wasm.cjs'))) {
    console.error('dist/cni-wasm.cjs is missing: run npm run build first.');
    process.exit(1);
  }
  binDir = join(work, 'opt-cni-bin');
  // host-local runs in process when its .wasm is built; otherwise the native one from /usr/lib/cni.
  const wasmIpam = existsSync(join(repo, 'dist', 'plugins', 'host-local.wasm'));
  const plugins = wasmIpam ? 'bridge,host-local' : 'bridge';
  cniPath = wasmIpam ? binDir : `${binDir}:/usr/lib/cni`;
  step(`Install cni-wasm as the plugin${wasmIpam ? 's "bridge" and "host-local"' : ' "bridge" (host-local: the native one from /usr/lib/cni)'} into ${binDir}`);
  show(sh(process.execPath, [join(repo, 'dist', 'cni-wasm.cjs'), 'install', '--dir', binDir, '--plugins', plugins]).trimEnd());
} else {
  console.error(`--impl must be cni-wasm or reference, not ${impl}`);
  process.exit(2);
}

step('Create throwaway namespaces: a node, two containers, and an "outside" network');
for (const ns of Object.values(NS)) {
  sh('ip', ['netns', 'add', ns]);
  sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
}
// node <-> outside: 203.0.113.0/24 (TEST-NET-3). Outside has no route back to 10.22.0.0/16,
// so a container can only reach it if the node masquerades.
sh('ip', ['-n', NS.node, 'link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'wan', 'netns', NS.outside]);
sh('ip', ['-n', NS.node, 'addr', 'add', '203.0.113.1/24', 'dev', 'uplink']);
sh('ip', ['-n', NS.node, 'link', 'set', 'uplink', 'up']);
sh('ip', ['-n', NS.outside, 'addr', 'add', '203.0.113.2/24', 'dev', 'wan']);
sh('ip', ['-n', NS.outside, 'link', 'set', 'wan', 'up']);
show(Object.entries(NS).map(([k, v]) => `${k.padEnd(8)} ${v}`).join('\n'));

// The plugin writes IPAM state under /var/lib/cni; give the node its own, so the demo leaves nothing behind.
function invoke(command, ns, containerId) {
  const env = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_NETNS: `/var/run/netns/${ns}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: cniPath,
  };
  const wrapped = `mkdir -p /var/lib/cni && mount --bind "$DEMO_STATE" /var/lib/cni && exec "$DEMO_BIN"`;
  const t = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', NS.node, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', wrapped], {
    input: CONFIG,
    encoding: 'utf8',
    env: { ...env, DEMO_STATE: state, DEMO_BIN: join(binDir, 'bridge') },
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  return { ...r, ms };
}

const shown = (command, ns, cid) =>
  `$ echo "$CONFIG" | \\\n  CNI_COMMAND=${command} \\\n  CNI_CONTAINERID=${cid} \\\n  CNI_NETNS=/var/run/netns/${ns} \\\n  CNI_IFNAME=eth0 \\\n  CNI_PATH=${cniPath} \\\n  ${binDir}/bridge`;

step('The network configuration (the seed\'s, verbatim)');
show(CONFIG);

const results = {};
for (const [key, cid] of [['ctr1', 'example'], ['ctr2', 'example2']]) {
  step(`ADD container ${key} (run "as the node")`);
  show(shown('ADD', NS[key], cid));
  const r = invoke('ADD', NS[key], cid);
  show(r.stdout.trimEnd());
  if (r.status !== 0) {
    console.error(r.stderr);
    throw new Error(`ADD failed with exit ${r.status}`);
  }
  const res = JSON.parse(r.stdout);
  results[key] = res.ips[0].address.split('/')[0];
  ok(`exit 0 in ${r.ms.toFixed(0)} ms; ${key} has ${res.ips[0].address} via gateway ${res.ips[0].gateway}`);
}

const ping = (from, to) => spawnSync('ip', ['netns', 'exec', from, 'busybox', 'ping', '-c', '1', '-W', '2', to], { encoding: 'utf8' }).status === 0;

step('Connectivity');
const checks = [
  [NS.ctr1, results.ctr2, `ctr1 -> ctr2 (${results.ctr2})`],
  [NS.ctr2, results.ctr1, `ctr2 -> ctr1 (${results.ctr1})`],
  [NS.ctr1, '10.22.0.1', 'ctr1 -> gateway (10.22.0.1)'],
  [NS.ctr2, '203.0.113.2', 'ctr2 -> outside (203.0.113.2), only possible through masquerade'],
];
let failed = 0;
for (const [from, to, label] of checks) {
  if (ping(from, to)) ok(label);
  else {
    failed++;
    console.log(`    ${c('31', '✗')} ${label}`);
  }
}
const seen = inNs(NS.node, 'ip', '-br', 'addr', 'show', 'dev', 'cni0').trim();
show(`node: ${seen}`);

for (const [key, cid] of [['ctr1', 'example'], ['ctr2', 'example2']]) {
  step(`DEL container ${key}`);
  show(shown('DEL', NS[key], cid));
  const r = invoke('DEL', NS[key], cid);
  if (r.status !== 0) throw new Error(`DEL failed: ${r.stdout}${r.stderr}`);
  ok(`exit 0 in ${r.ms.toFixed(0)} ms`);
}

step('After DEL: nothing of the containers is left');
const ctrLinks = [NS.ctr1, NS.ctr2].map((ns) => sh('ip', ['-n', ns, '-br', 'link']).trim());
show(`ctr1 links: ${ctrLinks[0].split('\n').map((l) => l.split(/\s+/)[0]).join(', ')}`);
show(`ctr2 links: ${ctrLinks[1].split('\n').map((l) => l.split(/\s+/)[0]).join(', ')}`);
const vethLeft = sh('ip', ['-n', NS.node, '-br', 'link', 'show', 'type', 'veth']).trim().split('\n').filter((l) => l && !l.startsWith('uplink'));
const leases = spawnSync('sh', ['-c', `ls "${state}/networks/example-network" 2>/dev/null | grep -v -e lock -e last_reserved || true`], { encoding: 'utf8' }).stdout.trim();
if (ctrLinks.every((l) => l.split('\n').length === 1) && vethLeft.length === 0 && leases === '') ok('no container interfaces, no host veths, no IP allocations left');
else {
  failed++;
  console.log(`    ${c('31', '✗')} left behind: veths [${vethLeft.join(', ')}] leases [${leases}]`);
}
// Masquerade entries (cni-wasm's nftables table, or the reference's iptables rules) name the addresses.
const ruleset = sh('ip', ['netns', 'exec', NS.node, 'nft', 'list', 'ruleset']);
if (!/10\.22\.\d+\.\d+/.test(ruleset)) ok('no masquerade entries left for 10.22.0.0/16 in the node\'s ruleset');
else {
  failed++;
  console.log(`    ${c('31', '✗')} masquerade entries left:\n${ruleset}`);
}
if (!ping(NS.ctr1, results.ctr2)) ok('ctr1 can no longer reach ctr2');
else {
  failed++;
  console.log(`    ${c('31', '✗')} ctr1 still reaches ctr2`);
}

step(failed ? `${failed} check(s) failed` : 'Demo complete; removing the namespaces');
process.exitCode = failed ? 1 : 0;
