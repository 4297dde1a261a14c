// The runtime side on the real kernel: `cni-wasm net add|check|del|gc` drives the Go reference
// plugins (bridge + host-local, tuning, portmap from /usr/lib/cni) as cnitool would. The "node"
// is a throwaway namespace (every plugin runs inside it via `ip netns exec`), each container is
// another; deleting both removes every link, address and rule the plugins made.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, makeNetns, type Netns } from '../harness/netns.ts';

const REF = '/usr/lib/cni';
const NET = 'libcnit';
const SUBNET = '10.77.0';

function findBinary(): string {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { bin?: Record<string, string> };
  const candidates = [pkg.bin?.['cni-wasm'], 'dist/cni-wasm.cjs', 'dist/cni-wasm.mjs'].filter((c): c is string => !!c);
  const found = candidates.map((c) => resolve(c)).find((c) => existsSync(c));
  if (!found) throw new Error(`no built cni-wasm binary (looked for ${candidates.join(', ')}): run "npm run build" first`);
  return found;
}

let BIN = '';
beforeAll(() => {
  for (const p of ['bridge', 'host-local', 'tuning', 'portmap']) {
    if (!existsSync(join(REF, p))) throw new Error(`the reference plugin ${REF}/${p} is missing: apt-get install containernetworking-plugins`);
  }
  BIN = findBinary();
});

interface Addr {
  ifname: string;
  mtu: number;
  addr_info: { family: string; local: string; prefixlen: number }[];
}
interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

let tmp: string;
let node: Netns;
let ctrs: Netns[];

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'libcni-it-'));
  node = makeNetns('node');
  ctrs = [];
});
afterEach(() => {
  cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

function container(): Netns {
  const c = makeNetns('ctr');
  ctrs.push(c);
  return c;
}

const confDir = () => join(tmp, 'net.d');
const cacheDir = () => join(tmp, 'cache');
const ipamDir = () => join(tmp, 'ipam');

function bridgePlugin(): Record<string, unknown> {
  return {
    type: 'bridge',
    bridge: 'cnitbr0',
    isGateway: true,
    ipam: { type: 'host-local', subnet: `${SUBNET}.0/24`, dataDir: ipamDir(), routes: [{ dst: '0.0.0.0/0' }] },
  };
}

/** Write a conflist file; returns its exact bytes. */
function writeConflist(version: string, plugins: Record<string, unknown>[], file = '10-libcnit.conflist'): Buffer {
  const bytes = Buffer.from(`${JSON.stringify({ cniVersion: version, name: NET, plugins }, null, 2)}\n`);
  rmSync(confDir(), { recursive: true, force: true });
  mkdirSync(confDir(), { recursive: true });
  writeFileSync(join(confDir(), file), bytes);
  return bytes;
}


/** `cni-wasm net <op> <NET> <netns>` inside the node namespace, with cnitool's environment. */
function net(op: string, netns: string, env: Record<string, string> = {}, extra: string[] = []): Run {
  const r = node.spawn(process.execPath, [BIN, 'net', op, NET, netns, ...extra], {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', NETCONFPATH: confDir(), CNI_PATH: REF, CNI_CACHE_DIR: cacheDir(), ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run): Run {
  if (r.status !== 0) throw new Error(`cni-wasm net failed (${r.status}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** cnitool's container ID: "cnitool-" + hex of the first 10 bytes of sha512(netns path). */
function cnitoolId(netnsPath: string): string {
  return `cnitool-${createHash('sha512').update(netnsPath).digest('hex').slice(0, 20)}`;
}

function ipv4Of(ns: Netns, ifname = 'eth0'): string[] {
  const links = ns.ipJson<Addr[]>('addr', 'show');
  const l = links.find((x) => x.ifname === ifname);
  return (l?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

function hasLink(ns: Netns, ifname: string): boolean {
  return ns.ipJson<Addr[]>('link', 'show').some((l) => l.ifname === ifname);
}

function cacheFile(ctr: Netns, ifname = 'eth0'): string {
  return join(cacheDir(), 'results', `${NET}-${cnitoolId(ctr.path)}-${ifname}`);
}

function allocated(): string[] {
  const d = join(ipamDir(), NET);
  if (!existsSync(d)) return [];
  return readdirSync(d).filter((f) => f.startsWith(SUBNET)).sort();
}

describe('cni-wasm net with the reference bridge + host-local', () => {
  it('add gives the container the result address, caches it in libcni format; check passes; del undoes it; a second del succeeds', () => {
    const conf = writeConflist('1.0.0', [bridgePlugin()]);
    const ctr = container();

    const add = ok(net('add', ctr.path));
    const result = JSON.parse(add.stdout) as { cniVersion: string; ips: { address: string; gateway: string; interface: number }[]; interfaces: { name: string; sandbox?: string }[] };
    expect(result.cniVersion).toBe('1.0.0');
    expect(result.ips).toHaveLength(1);
    const addr = result.ips[0]!.address;
    expect(addr).toMatch(new RegExp(`^${SUBNET.replace(/\./g, '\\.')}\\.\\d+/24$`));
    expect(result.ips[0]!.gateway).toBe(`${SUBNET}.1`);
    expect(result.interfaces[result.ips[0]!.interface]).toMatchObject({ name: 'eth0', sandbox: ctr.path });
    // cnitool prints Go's indented JSON.
    expect(add.stdout.startsWith('{\n    "cniVersion": "1.0.0",')).toBe(true);

    expect(ipv4Of(ctr)).toEqual([addr]);
    expect(hasLink(node, 'cnitbr0')).toBe(true);
    expect(allocated()).toEqual([addr.split('/')[0]]);

    // The cache file, exactly as libcni writes it.
    const file = cacheFile(ctr);
    expect(statSync(join(cacheDir(), 'results')).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    const cached = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(cached)).toEqual(['kind', 'containerId', 'config', 'ifName', 'networkName', 'netns', 'result']);
    expect(cached).toMatchObject({ kind: 'cniCacheV1', containerId: cnitoolId(ctr.path), ifName: 'eth0', networkName: NET, netns: ctr.path });
    expect(Buffer.from(cached.config as string, 'base64').equals(conf)).toBe(true);
    expect(cached.result).toEqual(result);
    expect(text).not.toContain('\n');

    ok(net('check', ctr.path));

    const del = ok(net('del', ctr.path));
    expect(del.stdout).toBe('');
    expect(hasLink(ctr, 'eth0')).toBe(false);
    expect(existsSync(file)).toBe(false);
    expect(allocated()).toEqual([]);

    ok(net('del', ctr.path));
  });

  it('check reports what the reference plugin finds wrong, as CNI error JSON with a non-zero exit', () => {
    writeConflist('1.0.0', [bridgePlugin()]);
    const ctr = container();
    const result = JSON.parse(ok(net('add', ctr.path)).stdout) as { ips: { address: string }[] };
    ctr.run('ip', ['addr', 'del', result.ips[0]!.address, 'dev', 'eth0']);
    const r = net('check', ctr.path);
    expect(r.status).toBe(1);
    const err = JSON.parse(r.stdout) as { cniVersion: string; code: number; msg: string };
    expect(err.cniVersion).toBe('1.0.0');
    expect(err.code).toBeGreaterThan(0);
    expect(err.msg).toContain(result.ips[0]!.address.split('/')[0]!);
  });

  it('works at cniVersion 0.4.0 too, with CNI_IFNAME and CNI_ARGS', () => {
    writeConflist('0.4.0', [bridgePlugin()]);
    const ctr = container();
    const env = { CNI_IFNAME: 'net1', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=pod1' };
    const result = JSON.parse(ok(net('add', ctr.path, env)).stdout) as { cniVersion: string; ips: { version: string; address: string }[] };
    expect(result.cniVersion).toBe('0.4.0');
    expect(result.ips[0]!.version).toBe('4');
    expect(ipv4Of(ctr, 'net1')).toEqual([result.ips[0]!.address]);
    const cached = JSON.parse(readFileSync(cacheFile(ctr, 'net1'), 'utf8')) as Record<string, unknown>;
    expect(cached.cniArgs).toEqual([
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAME', 'pod1'],
    ]);
    ok(net('check', ctr.path, env));
    ok(net('del', ctr.path, env));
    expect(hasLink(ctr, 'net1')).toBe(false);
    expect(allocated()).toEqual([]);
  });

  it('gc deletes cached attachments missing from the valid list (and all of them without one), releasing their addresses', () => {
    writeConflist('1.0.0', [bridgePlugin()]);
    const [a, b] = [container(), container()];
    const ra = JSON.parse(ok(net('add', a.path)).stdout) as { ips: { address: string }[] };
    const rb = JSON.parse(ok(net('add', b.path)).stdout) as { ips: { address: string }[] };
    expect(allocated()).toHaveLength(2);

    const valid = JSON.stringify([{ containerID: cnitoolId(a.path), ifname: 'eth0' }]);
    ok(net('gc', a.path, {}, ['--valid-attachments', valid]));
    expect(ipv4Of(a)).toEqual([ra.ips[0]!.address]);
    expect(hasLink(b, 'eth0')).toBe(false);
    expect(existsSync(cacheFile(a))).toBe(true);
    expect(existsSync(cacheFile(b))).toBe(false);
    expect(allocated()).toEqual([ra.ips[0]!.address.split('/')[0]]);
    expect(rb.ips[0]!.address).not.toBe(ra.ips[0]!.address);

    // cnitool's gc: no valid list, so every attachment of the network goes. The netns argument
    // is not used by gc.
    ok(net('gc', '/nonexistent'));
    expect(hasLink(a, 'eth0')).toBe(false);
    expect(readdirSync(join(cacheDir(), 'results'))).toEqual([]);
    expect(allocated()).toEqual([]);
  });

  it('status of a pre-1.1.0 list is ready without asking the plugins', () => {
    writeConflist('1.0.0', [bridgePlugin()]);
    const r = ok(net('status', '/nonexistent'));
    expect(r.stdout).toBe('');
  });
});

describe('chained plugins', () => {
  it('passes prevResult along (bridge → tuning → portmap) and CAP_ARGS to portmap as runtimeConfig', () => {
    writeConflist('1.0.0', [bridgePlugin(), { type: 'tuning', mtu: 1400 }, { type: 'portmap', capabilities: { portMappings: true }, snat: true }]);
    const ctr = container();
    const env = { CAP_ARGS: JSON.stringify({ portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }], bandwidth: { ingressRate: 1 } }) };
    const result = JSON.parse(ok(net('add', ctr.path, env)).stdout) as { ips: { address: string }[] };
    const ip = result.ips[0]!.address.split('/')[0]!;
    // tuning ran on the container's interface: it could only find it through prevResult.
    expect(ctr.ipJson<Addr[]>('link', 'show', 'eth0')[0]!.mtu).toBe(1400);
    // portmap got the mapping (runtimeConfig) and the container address (prevResult).
    const nat = node.run('iptables-save', ['-t', 'nat']);
    expect(nat).toMatch(new RegExp(`--dport 18080 .*-j DNAT --to-destination ${ip.replace(/\./g, '\\.')}:80`));
    const cached = JSON.parse(readFileSync(cacheFile(ctr), 'utf8')) as Record<string, unknown>;
    expect(cached.capabilityArgs).toEqual(JSON.parse(env.CAP_ARGS));

    // No CHECK here: the reference portmap (1.1.1) fails CHECK for IPv4-only containers
    // (containernetworking/plugins#819, it looks for ip6tables rules it never made).
    ok(net('del', ctr.path, env));
    expect(node.run('iptables-save', ['-t', 'nat'])).not.toContain('18080');
    expect(hasLink(ctr, 'eth0')).toBe(false);
  });

  it('check and del give every plugin of the chain the cached result (bridge → tuning)', () => {
    writeConflist('1.0.0', [bridgePlugin(), { type: 'tuning', sysctl: { 'net.ipv4.conf.eth0.rp_filter': '2' } }]);
    const ctr = container();
    ok(net('add', ctr.path));
    expect(ctr.run('cat', ['/proc/sys/net/ipv4/conf/eth0/rp_filter']).trim()).toBe('2');
    ok(net('check', ctr.path));
    // tuning's CHECK compares the sysctl with its config: change it behind its back.
    ctr.run('sh', ['-c', 'echo 0 > /proc/sys/net/ipv4/conf/eth0/rp_filter']);
    const r = net('check', ctr.path);
    expect(r.status).toBe(1);
    expect((JSON.parse(r.stdout) as { msg: string }).msg).toContain('rp_filter');
    ok(net('del', ctr.path));
    expect(hasLink(ctr, 'eth0')).toBe(false);
  });

  it('a chained plugin without prevResult fails: tuning alone is refused by the reference plugin', () => {
    writeConflist('1.0.0', [{ type: 'tuning', mtu: 1400 }]);
    const ctr = container();
    const r = net('add', ctr.path);
    expect(r.status).toBe(1);
    const err = JSON.parse(r.stdout) as { msg: string };
    expect(err.msg).toMatch(/^plugin type="tuning" failed \(add\): /);
    expect(existsSync(cacheFile(ctr))).toBe(false);
  });
});

describe('errors', () => {
  it('names the missing network or plugin in CNI error JSON', () => {
    writeConflist('1.0.0', [{ type: 'no-such-plugin' }]);
    const ctr = container();
    const missingNet = node.spawn(process.execPath, [BIN, 'net', 'add', 'othernet', ctr.path], {
      env: { PATH: process.env.PATH ?? '', NETCONFPATH: confDir(), CNI_PATH: REF, CNI_CACHE_DIR: cacheDir() },
    });
    expect(missingNet.status).toBe(1);
    expect(JSON.parse(missingNet.stdout)).toEqual({ cniVersion: '1.1.0', code: 7, msg: `no net configuration with name "othernet" in ${confDir()}` });

    const r = net('add', ctr.path);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      cniVersion: '1.0.0',
      code: 4,
      msg: `plugin type="no-such-plugin" failed (add): failed to find plugin "no-such-plugin" in path [${REF}]`,
    });
  });
});
