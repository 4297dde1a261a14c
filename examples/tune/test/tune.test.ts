// tune's own test, as its author would write it: only the cni-wasm command line and iproute2.
// Build the plugin, install it with the grant it declares, run it after bridge in a network
// configuration list, in throwaway network namespaces (a "node" where cni-wasm runs and a
// container), and check what it changed in the container and that the previous result passes
// through. Needs root. Run by cni-wasm's `npm test`; on its own: `npx vitest run examples/tune`.
//
// The cni-wasm binary: $CNI_WASM_BIN, else the one built in this repository.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const HERE = dirname(fileURLToPath(import.meta.url));
const PROJECT = join(HERE, '..');
const REPO = join(PROJECT, '..', '..');
const BIN = process.env.CNI_WASM_BIN ?? join(REPO, 'dist', 'cni-wasm.cjs');
const WASM_PLUGINS = join(REPO, 'dist', 'plugins');
const WASM_BRIDGE = existsSync(join(WASM_PLUGINS, 'bridge.wasm'));
const MAC = 'c2:00:00:00:00:42';

// Throwaway namespaces, named like cni-wasm's own tests so its run guard removes leftovers.
const RUN = process.env.CNIWT_RUN ?? String(process.pid);
const made: string[] = [];
function netns(role: string): { name: string; path: string } {
  const name = `cniwt-${RUN}-${role}-${randomBytes(4).toString('hex')}`;
  ip('netns', 'add', name);
  made.push(name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
  return { name, path: `/var/run/netns/${name}` };
}
function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
function inNs(ns: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, input = ''): SpawnSyncReturns<string> {
  return spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', env, input, timeout: 60_000 });
}
function cniWasm(...args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`cni-wasm ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

let tmp: string;
let node: { name: string; path: string };
let ctr: { name: string; path: string };

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NETCONFPATH: join(tmp, 'net.d'),
    CNI_PATH: [join(tmp, 'bin'), WASM_PLUGINS, '/usr/lib/cni'].join(':'),
    CNI_WASM_PLUGIN_DIR: join(tmp, 'plugins'),
    CNI_WASM_POLICY: join(tmp, 'policy.json'),
    ...extra,
  };
}
/** `cni-wasm net <op>` on the node, as cnitool would run the list. */
function net(op: string): SpawnSyncReturns<string> {
  return inNs(node.name, process.execPath, [BIN, 'net', op, 'tune-test', ctr.path, '--cache-dir', join(tmp, 'cache')], env());
}
/** tune alone, exec'd as a runtime would, with a prevResult. */
function tuneAlone(conf: Record<string, unknown>): { status: number | null; json: { code?: number; msg?: string } } {
  const r = inNs(node.name, process.execPath, [BIN], env({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'alone', CNI_NETNS: ctr.path, CNI_IFNAME: 'eth0' }), JSON.stringify(conf));
  return { status: r.status, json: JSON.parse(r.stdout) as { code?: number; msg?: string } };
}
function link(): { mtu: number; address: string; flags: string[] } {
  return (JSON.parse(ip('-n', ctr.name, '-j', 'link', 'show', 'eth0')) as { mtu: number; address: string; flags: string[] }[])[0]!;
}
const sysctl = (key: string): string => inNs(ctr.name, 'cat', [`/proc/sys/${key.replaceAll('.', '/')}`], env()).stdout.trim();

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tune-test-'));
  const wasm = join(tmp, 'tune.wasm');
  cniWasm('plugin', 'build', PROJECT, '-o', wasm);
  cniWasm('plugin', 'install', wasm, '--grant-declared', '--plugin-dir', join(tmp, 'plugins'), '--policy', join(tmp, 'policy.json'), '--bin-dir', join(tmp, 'bin'));
  if (WASM_BRIDGE) cniWasm('install', '--dir', join(tmp, 'bin'), '--plugins', 'bridge,host-local');
  const list = JSON.parse(readFileSync(join(PROJECT, 'test', 'conflist.json'), 'utf8')) as { plugins: { ipam?: { dataDir?: string } }[] };
  list.plugins[0]!.ipam!.dataDir = join(tmp, 'ipam');
  mkdirSync(join(tmp, 'net.d'));
  writeFileSync(join(tmp, 'net.d', 'tune.conflist'), JSON.stringify(list));
  node = netns('tune-node');
  ctr = netns('tune-ctr');
}, 240_000);

afterAll(() => {
  for (const n of made) spawnSync('ip', ['netns', 'del', n]);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe(`tune after ${WASM_BRIDGE ? 'the wasm' : 'the reference'} bridge`, () => {
  it('declares what it needs', () => {
    const i = JSON.parse(cniWasm('plugin', 'inspect', join(tmp, 'tune.wasm'), '--json')) as { capabilities: { links: unknown; sysctl: { container: string[] } }; imports: { functions: string[] } };
    expect(i.capabilities.links).toEqual({ container: true });
    expect(i.capabilities.sysctl.container).toContain('net.ipv4.conf.**');
    expect(i.imports.functions.sort()).toEqual(['log.write', 'netlink.get-link', 'netlink.set-link', 'sysctl.get', 'sysctl.set']);
  });

  it('ADD sets MTU, MAC, promiscuous mode and sysctls on the container interface; the result passes through with the new MAC', () => {
    const add = net('add');
    expect(add.status, add.stdout + add.stderr).toBe(0);
    const l = link();
    expect(l.mtu).toBe(1400);
    expect(l.address).toBe(MAC);
    expect(l.flags).toContain('PROMISC');
    expect(sysctl('net.ipv4.conf.eth0.rp_filter')).toBe('2');
    expect(sysctl('net.ipv4.conf.eth0.arp_notify')).toBe('1');
    const result = JSON.parse(add.stdout) as { interfaces: { name: string; mac: string; sandbox?: string }[]; ips: { address: string; gateway: string; interface: number }[] };
    // bridge's result: the bridge, the host veth, the container's eth0 and its address...
    expect(result.interfaces.map((i) => i.name)).toEqual(['cnitune0', expect.stringMatching(/^veth/), 'eth0']);
    expect(result.ips).toEqual([{ interface: 2, address: expect.stringMatching(/^10\.251\.0\.\d+\/24$/), gateway: '10.251.0.1' }]);
    // ...with eth0's MAC as tune left it.
    expect(result.interfaces[2]).toEqual({ name: 'eth0', mac: MAC, sandbox: ctr.path });
    const addr = JSON.parse(ip('-n', ctr.name, '-j', 'addr', 'show', 'eth0')) as { addr_info: { local: string }[] }[];
    expect(addr[0]!.addr_info.map((a) => a.local)).toContain(result.ips[0]!.address.split('/')[0]);
  });

  it('CHECK passes, and fails naming the setting that drifted', () => {
    const check = net('check');
    expect(check.status, check.stdout + check.stderr).toBe(0);
    ip('-n', ctr.name, 'link', 'set', 'eth0', 'mtu', '1500');
    const drift = net('check');
    expect(drift.status).toBe(1);
    expect(JSON.parse(drift.stdout).msg).toContain('CHECK: eth0 has MTU 1500, want 1400');
    ip('-n', ctr.name, 'link', 'set', 'eth0', 'mtu', '1400');
    expect(net('check').status).toBe(0);
  });

  it('refuses configs it cannot apply, and the sandbox holds where its manifest ends', () => {
    const prevResult = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: ctr.path }] };
    const base = { cniVersion: '1.0.0', name: 'tune-test', type: 'tune', prevResult };
    expect(tuneAlone({ ...base, prevResult: undefined }).json).toMatchObject({ code: 7, msg: 'tune must be called as a chained plugin (no prevResult)' });
    expect(tuneAlone({ ...base, mac: 'ff:ff:ff:ff:ff:ff' }).json).toMatchObject({ code: 7, msg: expect.stringContaining('config.mac is not a unicast MAC address') });
    expect(tuneAlone({ ...base, mtu: 12 }).json).toMatchObject({ code: 7, msg: 'config.mtu must be at least 68' });
    expect(tuneAlone({ ...base, sysctl: { 'kernel.domainname': 'x' } }).json).toMatchObject({ code: 7, msg: expect.stringContaining('is not a net.* sysctl') });
    // A net.* key outside the sysctls it declared: the host refuses the call, the plugin reports it.
    const denied = tuneAlone({ ...base, sysctl: { 'net.ipv4.tcp_syncookies': '0' } });
    expect(denied.status).toBe(1);
    expect(denied.json.code).toBe(5);
    expect(denied.json.msg).toContain('permission-denied: sysctl.container');
    expect(sysctl('net.ipv4.tcp_syncookies')).not.toBe('0');
  });

  it('DEL succeeds and the interface is gone', () => {
    const del = net('del');
    expect(del.status, del.stdout + del.stderr).toBe(0);
    expect((JSON.parse(ip('-n', ctr.name, '-j', 'link', 'show')) as { ifname: string }[]).map((l) => l.ifname)).toEqual(['lo']);
  });
});
