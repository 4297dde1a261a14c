// The host API on the real kernel, called directly (no wasm) with a grant, inside throwaway
// namespaces: a "node" namespace plays the host, another the container. Allowed calls are
// read back with `ip -j`; every denied call must answer `permission-denied` naming the
// capability and leave the node exactly as it was.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLevel } from '../../host/caps/audit.ts';
import { parseCapabilities, resolveCapabilities } from '../../host/caps/manifest.ts';
import type { NetConf } from '../../host/cni/config.ts';
import type { Command, PluginEnv } from '../../host/cni/env.ts';
import { type HostError, type LinkChange, type Route, WitResultError, buildImports, AbiTrap } from '../../host/runtime/generated/abi.ts';
import { type HostApi, createHostImports } from '../../host/runtime/host-api/index.ts';
import { DEFAULT_LIMITS } from '../../host/runtime/limits.ts';
import { type NetnsHandle, openNetns } from '../../host/sys/netns.ts';
import { cleanup, makeNetns, type Netns } from '../harness/netns.ts';

let node: Netns;
let ctr: Netns;
let ctr2: Netns;
let nodeNs: NetnsHandle;
let stateDir: string;
const apis: HostApi[] = [];

interface Line {
  level: AuditLevel;
  fields: Record<string, unknown>;
  msg: string;
}

const BRIDGE_MANIFEST = {
  links: { create: ['bridge', 'veth'], host: ['${bridge}'], read: ['${underlay}'], container: true },
  sysctl: { host: ['net.ipv4.ip_forward', 'net.ipv4.conf.${bridge}.*'], container: ['net.ipv4.conf.*.*', 'net.ipv6.conf.**'] },
  firewall: true,
  ipam: true,
};

function api(
  opts: { manifest?: unknown; plugin?: string; containerId?: string; ifname?: string; netns?: string; command?: Command; config?: Partial<NetConf>; store?: string[] } = {},
): { host: HostApi; lines: Line[] } {
  const config = { cniVersion: '1.0.0', name: 'net1', type: 'bridge', bridge: 'brc', underlay: 'uplink', ...opts.config } as NetConf;
  const manifest = { ...(opts.manifest ?? BRIDGE_MANIFEST), ...(opts.store ? { store: opts.store } : {}) };
  const caps = resolveCapabilities(parseCapabilities(manifest, 'test'), config);
  const env: PluginEnv = {
    command: opts.command ?? 'ADD',
    containerId: opts.containerId ?? 'c1',
    netns: opts.netns ?? ctr.path,
    ifname: opts.ifname ?? 'eth0',
    args: [],
    ignoreUnknownArgs: false,
    path: ['/usr/lib/cni'],
  };
  const lines: Line[] = [];
  const host = createHostImports({
    plugin: opts.plugin ?? 'bridge',
    env,
    config,
    configText: JSON.stringify(config),
    caps,
    limits: DEFAULT_LIMITS,
    hostNs: nodeNs,
    pluginDirs: [],
    auditSink: (level, fields, msg) => lines.push({ level, fields, msg }),
  });
  apis.push(host);
  return { host, lines };
}

/** The node namespace as `ip` sees it: links, addresses, routes, neighbours, a few sysctls, nft. */
function nodeState(): string {
  const links = node.ipJson<Record<string, unknown>[]>('-d', 'link', 'show').map((l) => ({
    n: l.ifname,
    f: l.flags,
    mtu: l.mtu,
    m: l.master,
    a: l.address,
    al: l.ifalias,
    k: (l.linkinfo as { info_kind?: string } | undefined)?.info_kind,
  }));
  const sys = ['net/ipv4/ip_forward', 'net/ipv4/conf/all/forwarding', 'net/ipv4/conf/uplink/forwarding', 'net/ipv4/conf/dummy0/forwarding'].map((k) =>
    node.run('cat', [`/proc/sys/${k}`]).trim(),
  );
  return JSON.stringify({
    links,
    addrs: node.ipJson<{ addr_info: unknown }[]>('addr', 'show').map((a) => a.addr_info),
    routes: node.ipJson('route', 'show', 'table', 'all'),
    neigh: node.ipJson('neigh', 'show'),
    sys,
    nft: node.run('nft', ['list', 'ruleset']),
  });
}

function hostError(fn: () => unknown): HostError {
  try {
    fn();
  } catch (e) {
    if (e instanceof WitResultError) return e.payload as HostError;
    throw e;
  }
  throw new Error('the call succeeded');
}

/** A denied call: permission-denied, naming the capability, and the node unchanged. */
function expectDenied(fn: () => unknown, capability: string, contains?: string): string {
  const before = nodeState();
  const err = hostError(fn);
  expect(err.tag).toBe('permission-denied');
  expect(err.val.startsWith(`${capability}: `)).toBe(true);
  if (contains) expect(err.val).toContain(contains);
  expect(nodeState()).toEqual(before);
  return err.val;
}

const link = (ns: Netns, name: string): Record<string, unknown> => ns.ipJson<Record<string, unknown>[]>('-d', 'link', 'show', name)[0]!;
const noChange = (c: Partial<LinkChange>): LinkChange => ({
  up: undefined,
  mtu: undefined,
  mac: undefined,
  master: undefined,
  alias: undefined,
  hairpin: undefined,
  promisc: undefined,
  isolated: undefined,
  newName: undefined,
  ...c,
});
const route = (r: Partial<Route>): Route => ({
  dst: '0.0.0.0/0',
  gw: undefined,
  dev: undefined,
  src: undefined,
  metric: undefined,
  table: undefined,
  scope: undefined,
  onlink: false,
  mtu: undefined,
  ...r,
});

beforeAll(() => {
  node = makeNetns('caps-node');
  ctr = makeNetns('caps-ctr');
  ctr2 = makeNetns('caps-ctr2');
  nodeNs = openNetns(node.path);
  // IPv6 autoconfiguration (DAD, link-local routes) changes the node by itself while tests
  // compare before and after: keep it off in the node namespace.
  for (const k of ['all', 'default']) node.run('sysctl', ['-qw', `net.ipv6.conf.${k}.disable_ipv6=1`]);
  // This kernel has no dummy driver: veth pairs stand in for the node's own devices.
  node.run('ip', ['link', 'add', 'dummy0', 'type', 'veth', 'peer', 'name', 'dummy0p']);
  node.run('ip', ['link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'uplinkp']);
  node.run('ip', ['link', 'set', 'uplink', 'up']);
  node.run('ip', ['addr', 'add', '192.0.2.10/24', 'dev', 'uplink']);
  node.run('ip', ['link', 'add', 'br-other', 'type', 'bridge']);
  stateDir = mkdtempSync(join(tmpdir(), 'caps-store-'));
});

afterAll(() => {
  for (const a of apis) a.dispose();
  nodeNs?.close();
  cleanup();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('a plugin using its grant', () => {
  let vethName = '';

  it('creates a bridge in the host namespace, marked for the network', () => {
    const { host } = api();
    const br = host.netlink.createBridge('brc', { mtu: 1400, mac: undefined, vlanFiltering: false, promisc: false });
    expect(br).toMatchObject({ name: 'brc', kind: 'bridge', mtu: 1400, alias: 'cni-wasm plugin=bridge net=net1' });
    const l = link(node, 'brc');
    expect((l.linkinfo as { info_kind: string }).info_kind).toBe('bridge');
    expect(l.ifalias).toBe('cni-wasm plugin=bridge net=net1');
    host.netlink.setLink('host', 'brc', noChange({ up: true }));
    host.netlink.addAddress('host', { link: 'brc', cidr: '10.9.0.1/24', nodad: false });
    expect(node.ipJson<{ addr_info: { local: string }[] }[]>('addr', 'show', 'brc')[0]!.addr_info.map((a) => a.local)).toContain('10.9.0.1');
  });

  it('creates a veth with its peer inside the container, marked for the attachment, and attaches it', () => {
    const { host } = api();
    const [h, c] = host.netlink.createVeth({ hostName: undefined, containerName: 'eth0', mtu: 1400, containerMac: '02:00:00:00:00:2a' });
    vethName = h.name;
    expect(h.name).toMatch(/^veth[0-9a-f]{8}$/);
    expect(h.alias).toBe('cni-wasm plugin=bridge net=net1 ctr=c1 if=eth0');
    expect(c).toMatchObject({ name: 'eth0', kind: 'veth', mac: '02:00:00:00:00:2a', mtu: 1400 });
    expect(link(ctr, 'eth0').address).toBe('02:00:00:00:00:2a');
    host.netlink.setLink('host', h.name, noChange({ master: 'brc', up: true, hairpin: true }));
    const l = link(node, h.name);
    expect(l.master).toBe('brc');
    expect((l.linkinfo as { info_slave_data: { hairpin: boolean } }).info_slave_data.hairpin).toBe(true);
    expect(host.netlink.getLink('host', h.name).master).toBe('brc');
  });

  it('configures the container side: address, link up, default route', () => {
    const { host } = api();
    host.netlink.addAddress('container', { link: 'eth0', cidr: '10.9.0.2/24', nodad: false });
    host.netlink.setLink('container', 'eth0', noChange({ up: true }));
    host.netlink.addRoute('container', route({ gw: '10.9.0.1' }));
    const routes = ctr.ipJson<{ dst: string; gateway?: string; dev: string }[]>('route', 'show');
    expect(routes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.9.0.1', dev: 'eth0' }));
    expect(host.netlink.listRoutes('container', 'v4', undefined).map((r) => r.dst)).toContain('0.0.0.0/0');
    expect(host.netlink.listAddresses('container', 'eth0', 'v4')).toEqual([{ link: 'eth0', cidr: '10.9.0.2/24', nodad: false }]);
  });

  it('sees only the host links it may read', () => {
    const { host } = api();
    const names = host.netlink.listLinks('host').map((l) => l.name).sort();
    expect(names).toEqual(['brc', 'uplink', vethName].sort());
    expect(host.netlink.getLink('host', 'uplink').kind).toBe('veth');
    const addrs = host.netlink.listAddresses('host', undefined, 'v4').map((a) => `${a.link} ${a.cidr}`);
    expect(addrs.sort()).toEqual(['brc 10.9.0.1/24', 'uplink 192.0.2.10/24']);
    expect(host.netlink.listRoutes('host', 'v4', undefined).every((r) => r.dev === 'brc' || r.dev === 'uplink')).toBe(true);
    expect(hostError(() => host.netlink.getLink('host', 'nonexistent')).tag).toBe('not-found');
  });

  it("names a host link's master only when it may read the master, as it does a vxlan underlay", () => {
    // A port the plugin may read (links.read), attached to a bridge it may not (br-other); another
    // plugin type than the bridge tests', so that their marked links here are not its own.
    node.run('ip', ['link', 'add', 'rport', 'type', 'veth', 'peer', 'name', 'rportp']);
    try {
      node.run('ip', ['link', 'set', 'rport', 'master', 'br-other']);
      const readOnly = api({ plugin: 'reader', manifest: { links: { read: ['rport'] } } }).host;
      expect(readOnly.netlink.getLink('host', 'rport')).toMatchObject({ name: 'rport', master: undefined });
      expect(readOnly.netlink.listLinks('host')).toEqual([expect.objectContaining({ name: 'rport', master: undefined })]);
      expectDenied(() => readOnly.netlink.getLink('host', 'br-other'), 'links.read');
      // Once the bridge is readable too, it is named.
      const both = api({ plugin: 'reader', manifest: { links: { read: ['rport', 'br-*'] } } }).host;
      expect(both.netlink.getLink('host', 'rport').master).toBe('br-other');
      expect(both.netlink.listLinks('host').find((l) => l.name === 'rport')?.master).toBe('br-other');
    } finally {
      node.run('ip', ['link', 'del', 'rport']);
    }
    // Its own links on its own bridge: named as before.
    expect(api().host.netlink.listLinks('host').find((l) => l.alias?.includes('ctr=c1'))?.master).toBe('brc');
  });

  it('writes granted sysctls in each namespace', () => {
    const { host } = api();
    host.sysctl.set('host', 'net.ipv4.ip_forward', '1');
    expect(node.run('cat', ['/proc/sys/net/ipv4/ip_forward']).trim()).toBe('1');
    host.sysctl.set('host', 'net.ipv4.conf.brc.forwarding', '1');
    expect(host.sysctl.get('host', 'net/ipv4/conf/brc/forwarding')).toBe('1');
    host.sysctl.set('container', 'net.ipv4.conf.eth0.arp_notify', '1');
    expect(ctr.run('cat', ['/proc/sys/net/ipv4/conf/eth0/arp_notify']).trim()).toBe('1');
  });

  it('masquerades its container addresses, keyed by network, container and interface', () => {
    const { host } = api();
    host.firewall.addMasquerade(['10.9.0.2/24']);
    expect(node.run('nft', ['list', 'table', 'inet', 'cni_wasm'])).toContain('10.9.0.2');
    host.firewall.delMasquerade();
    expect(node.run('nft', ['list', 'table', 'inet', 'cni_wasm'])).not.toContain('10.9.0.2 comment');
  });

  it('filters source MACs on its own veth only (firewall + a host link it may change)', () => {
    const { host } = api();
    host.firewall.addMacSpoofCheck(vethName, '02:00:00:00:00:2a');
    const table = () => node.run('nft', ['list', 'table', 'bridge', 'cni_wasm']);
    expect(table()).toContain(`iifname "${vethName}" ether saddr != 02:00:00:00:00:2a counter packets 0 bytes 0 drop comment`);
    expect(table()).toMatch(/comment "[0-9a-f]{16}-[0-9a-f]{16}-[0-9a-f]{8} via: veth[0-9a-f]{8}, mac: 02:00:00:00:00:2a, net: net1, if: eth0, id: c1"/);
    host.firewall.addMacSpoofCheck(vethName, '02:00:00:00:00:2A'); // idempotent
    expect(table().match(/ drop /g)).toHaveLength(1);
    // not its own link: the read-only underlay, an ungranted link, another attachment's veth
    expectDenied(() => host.firewall.addMacSpoofCheck('uplink', '02:00:00:00:00:2a'), 'links.host', 'read-only');
    expectDenied(() => host.firewall.addMacSpoofCheck('dummy0', '02:00:00:00:00:2a'), 'links.host');
    expectDenied(() => host.firewall.addMacSpoofCheck('br-other', '02:00:00:00:00:2a'), 'links.host');
    expectDenied(() => api({ containerId: 'c2' }).host.firewall.addMacSpoofCheck(vethName, '02:00:00:00:00:2b'), 'links.host');
    // without the firewall grant, even on a link it may change
    expectDenied(() => api({ manifest: { ...BRIDGE_MANIFEST, firewall: false } }).host.firewall.addMacSpoofCheck(vethName, '02:00:00:00:00:2a'), 'firewall');
    expectDenied(() => api({ manifest: { ...BRIDGE_MANIFEST, firewall: false } }).host.firewall.delMacSpoofCheck(), 'firewall');
    expect(hostError(() => host.firewall.addMacSpoofCheck('nosuch0', '02:00:00:00:00:2a')).tag).toBe('not-found');
    expect(hostError(() => host.firewall.addMacSpoofCheck(vethName, 'not-a-mac')).tag).toBe('invalid');
    // another attachment's DEL leaves it; its own DEL removes it, twice is fine
    api({ containerId: 'c2' }).host.firewall.delMacSpoofCheck();
    expect(table()).toContain(vethName);
    host.firewall.delMacSpoofCheck();
    host.firewall.delMacSpoofCheck();
    expect(table()).not.toContain(vethName);
  });

  it('keeps state under a granted store root: <root>/<network>', () => {
    const { host } = api({ store: [stateDir] });
    host.store.open(stateDir);
    host.store.lock();
    expect(host.store.createExclusive('10.9.0.2', 'c1\r\neth0')).toBe(true);
    expect(host.store.createExclusive('10.9.0.2', 'x')).toBe(false);
    expect(host.store.read('10.9.0.2')).toBe('c1\r\neth0');
    host.store.replace('last_reserved_ip.0', '10.9.0.2');
    expect(host.store.entries()).toEqual(['10.9.0.2', 'last_reserved_ip.0']);
    expect(host.store.remove('10.9.0.2')).toBe(true);
    host.store.unlock();
    expect(readdirSync(join(stateDir, 'net1')).sort()).toEqual(['last_reserved_ip.0', 'lock']);
  });

  it('delegates IPAM to a native plugin from CNI_PATH and reads its result in the 1.x form', () => {
    const dataDir = join(stateDir, 'ipam');
    const config = { ipam: { type: 'host-local', subnet: '10.77.0.0/24', dataDir } } as Partial<NetConf>;
    const { host, lines } = api({ config, containerId: 'ipam-c1' });
    const out = JSON.parse(host.ipam.add()) as { cniVersion: string; ips: { address: string }[] };
    expect(out.cniVersion).toBe('1.1.0');
    expect(out.ips[0]!.address).toBe('10.77.0.2/24');
    expect(readdirSync(join(dataDir, 'net1'))).toContain('10.77.0.2');
    host.ipam.check();
    host.ipam.del();
    expect(readdirSync(join(dataDir, 'net1'))).not.toContain('10.77.0.2');
    expect(lines.filter((l) => l.fields.call === 'ipam.add' && l.fields.outcome === 'ok')).toHaveLength(1);
  });

  it("reports a native IPAM plugin's own error, a missing ipam.type and an unknown IPAM binary as CNI errors", () => {
    const cniErr = (fn: () => unknown): { code: number; msg: string; details: string } => {
      try {
        fn();
      } catch (e) {
        if (e instanceof WitResultError) return e.payload as { code: number; msg: string; details: string };
        throw e;
      }
      throw new Error('the call succeeded');
    };
    const bad = api({ config: { ipam: { type: 'host-local', dataDir: join(stateDir, 'ipam2') } } as Partial<NetConf> }).host;
    const e1 = cniErr(() => bad.ipam.add());
    expect(e1.code).not.toBe(0);
    expect(e1.msg.length).toBeGreaterThan(0);
    expect(cniErr(() => api({ config: { ipam: undefined } as Partial<NetConf> }).host.ipam.add())).toMatchObject({ code: 7, msg: 'cannot delegate IPAM: the config has no "ipam.type"' });
    expect(cniErr(() => api({ config: { ipam: { type: 'no-such-ipam' } } as Partial<NetConf> }).host.ipam.del())).toMatchObject({ code: 4 });
  });

  it('writes every call to the audit trail at debug', () => {
    const { host, lines } = api();
    host.netlink.getLink('host', 'brc');
    host.sysctl.get('host', 'net.ipv4.ip_forward');
    expect(lines.map((l) => [l.level, l.fields.call, l.fields.outcome])).toEqual([
      ['debug', 'netlink.get-link', 'ok'],
      ['debug', 'sysctl.get', 'ok'],
    ]);
    expect(lines[0]!.fields).toMatchObject({ plugin: 'bridge', network: 'net1', containerId: 'c1', args: ['host', 'brc'] });
    expect(typeof lines[0]!.fields.durationMs).toBe('number');
  });
});

describe('a plugin going beyond its grant is contained', () => {
  it('may not delete or change host links it did not create', () => {
    const { host, lines } = api();
    expectDenied(() => host.netlink.deleteLink('host', 'lo'), 'links.host', 'may not delete host link "lo"');
    expectDenied(() => host.netlink.deleteLink('host', 'dummy0'), 'links.host', '"dummy0"');
    expectDenied(() => host.netlink.setLink('host', 'dummy0', noChange({ up: true })), 'links.host');
    expectDenied(() => host.netlink.setLink('host', 'lo', noChange({ newName: 'brc2' })), 'links.host');
    expectDenied(() => host.netlink.addAddress('host', { link: 'dummy0', cidr: '10.1.1.1/24', nodad: false }), 'links.host');
    expectDenied(() => host.netlink.addNeighbour('host', { link: 'lo', ip: '10.1.1.1', mac: '02:00:00:00:00:01' }), 'links.host');
    expectDenied(() => host.netlink.addFdb('host', { link: 'dummy0', mac: '02:00:00:00:00:01', dst: undefined }), 'links.host');
    expectDenied(() => host.netlink.getLink('host', 'dummy0'), 'links.read');
    const warns = lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(8);
    expect(warns[0]!.fields).toMatchObject({ capability: 'links.host', call: 'netlink.delete-link', outcome: 'denied' });
  });

  it('may read but not change the underlay', () => {
    const { host } = api();
    expect(host.netlink.getLink('host', 'uplink').name).toBe('uplink');
    expectDenied(() => host.netlink.setLink('host', 'uplink', noChange({ mtu: 1400 })), 'links.host', 'read-only');
    expectDenied(() => host.netlink.deleteLink('host', 'uplink'), 'links.host', 'read-only');
    expectDenied(() => host.netlink.delAddress('host', { link: 'uplink', cidr: '192.0.2.10/24', nodad: false }), 'links.host');
  });

  it('may not attach its links to a bridge it was not granted', () => {
    const { host } = api();
    const veth = host.netlink.listLinks('host').find((l) => l.alias?.includes('ctr=c1'))!;
    expectDenied(() => host.netlink.setLink('host', veth.name, noChange({ master: 'br-other' })), 'links.host', 'attach a port to host link "br-other"');
  });

  it("may not touch another container's links, another network's or another plugin's", () => {
    const veth = api().host.netlink.listLinks('host').find((l) => l.alias?.includes('ctr=c1'))!;
    expectDenied(() => api({ containerId: 'c2', netns: ctr2.path }).host.netlink.deleteLink('host', veth.name), 'links.host');
    expectDenied(() => api({ ifname: 'eth1' }).host.netlink.deleteLink('host', veth.name), 'links.host');
    expectDenied(() => api({ config: { name: 'net2', bridge: 'br-net2' } }).host.netlink.deleteLink('host', 'brc'), 'links.host');
    expectDenied(() => api({ plugin: 'evil', config: { bridge: 'other' } }).host.netlink.deleteLink('host', 'brc'), 'links.host');
  });

  it('may not forge or remove a mark', () => {
    const { host } = api();
    const before = nodeState();
    expect(hostError(() => host.netlink.setLink('host', 'brc', noChange({ alias: 'cni-wasm plugin=bridge net=other' }))).tag).toBe('invalid');
    expect(hostError(() => host.netlink.setLink('host', 'brc', noChange({ alias: 'mine now' }))).tag).toBe('invalid');
    expect(nodeState()).toEqual(before);
  });

  it('may not write a sysctl outside its grant', () => {
    const { host } = api();
    expectDenied(() => host.sysctl.set('host', 'net.ipv4.conf.all.forwarding', '1'), 'sysctl.host', '"net.ipv4.conf.all.forwarding"');
    expectDenied(() => host.sysctl.set('host', 'net/ipv4/conf/uplink/forwarding', '1'), 'sysctl.host');
    expectDenied(() => host.sysctl.set('host', 'net.ipv4.conf.dummy0.forwarding', '1'), 'sysctl.host');
    expectDenied(() => host.sysctl.set('container', 'net.ipv4.ip_forward', '1'), 'sysctl.container');
    expectDenied(() => host.sysctl.get('host', 'net.ipv4.conf.uplink.forwarding'), 'sysctl.host', 'may not read');
  });

  it('may not create a link kind it was not granted', () => {
    const { host } = api();
    expectDenied(
      () => host.netlink.createVxlan('vx0', { vni: 42, port: 4789, local: undefined, underlay: 'uplink', learning: false, gbp: false, ttl: undefined, mtu: undefined, mac: undefined }),
      'links.create',
      'may not create a "vxlan" link',
    );
    expectDenied(() => api({ manifest: { links: { create: ['bridge'] } } }).host.netlink.createVeth({ hostName: 'vx', containerName: 'eth9', mtu: undefined, containerMac: undefined }), 'links.create');
  });

  it('may not route through the host namespace without routes.host, nor without naming a device', () => {
    const { host } = api();
    expectDenied(() => host.netlink.addRoute('host', route({ dev: 'brc' })), 'routes.host');
    const withRoutes = api({ manifest: { ...BRIDGE_MANIFEST, routes: { host: true } } }).host;
    expectDenied(() => withRoutes.netlink.addRoute('host', route({ gw: '192.0.2.1' })), 'routes.host', 'without naming its device');
    expectDenied(() => withRoutes.netlink.addRoute('host', route({ dev: 'uplink', gw: '192.0.2.1' })), 'links.host');
  });

  it('a plugin without links.container may not act in the container namespace', () => {
    const { host } = api({ manifest: { links: { create: ['bridge'] } } });
    const before = ctr.ipJson('-d', 'link', 'show');
    expectDenied(() => host.netlink.deleteLink('container', 'eth0'), 'links.container');
    expectDenied(() => host.netlink.listLinks('container'), 'links.container');
    expectDenied(() => host.netlink.addAddress('container', { link: 'eth0', cidr: '10.9.9.9/24', nodad: false }), 'links.container');
    expect(ctr.ipJson('-d', 'link', 'show')).toEqual(before);
  });

  it('may not open state outside its store grant', () => {
    const { host } = api({ store: [stateDir] });
    expectDenied(() => host.store.open('/etc'), 'store', 'outside the granted roots');
    expectDenied(() => host.store.open(`${stateDir}/../..`), 'store');
    expectDenied(() => host.store.open(undefined), 'store', '"/var/lib/cni/networks"');
    expect(hostError(() => host.store.read('x')).tag).toBe('invalid');
  });

  it('may not use the firewall or IPAM without the grant', () => {
    const { host } = api({ manifest: {} });
    expectDenied(() => host.firewall.addMasquerade(['10.9.0.3/24']), 'firewall');
    expectDenied(() => host.firewall.addMacSpoofCheck('uplink', '02:00:00:00:00:2a'), 'firewall');
    const before = nodeState();
    try {
      host.ipam.add();
      throw new Error('the call succeeded');
    } catch (e) {
      expect(e).toBeInstanceOf(WitResultError);
      const p = (e as WitResultError<{ code: number; msg: string }>).payload;
      expect(p.code).toBe(105);
      expect(p.msg).toBe('permission-denied: ipam: may not delegate ADD to an IPAM plugin');
    }
    expect(nodeState()).toEqual(before);
  });

  it('cannot name a namespace other than host or container: the ABI layer traps', () => {
    const { host } = api();
    const memory = new WebAssembly.Memory({ initial: 1 });
    const imports = buildImports(host, { memory, maxLiftBytes: 1 << 20 });
    const name = new TextEncoder().encode('lo');
    new Uint8Array(memory.buffer).set(name, 64);
    const del = (imports['cni:plugin/netlink@0.1.0'] as Record<string, (...a: number[]) => void>)['delete-link']!;
    const before = nodeState();
    for (const disc of [2, 3, 255, -1]) expect(() => del(disc, 64, name.length, 128)).toThrow(AbiTrap);
    expect(nodeState()).toEqual(before);
    // Defence in depth behind the glue: the host API refuses it too.
    expectDenied(() => host.netlink.deleteLink('node' as 'host', 'lo'), 'netns');
  });

  it('a container namespace that is absent or vanished is not-found; the host namespace is not a container', () => {
    const gone = makeNetns('caps-gone');
    const path = gone.path;
    gone.remove();
    expect(hostError(() => api({ netns: path }).host.netlink.listLinks('container'))).toMatchObject({ tag: 'not-found' });
    expect(hostError(() => api({ netns: '' }).host.sysctl.get('container', 'net.ipv4.conf.all.forwarding'))).toMatchObject({ tag: 'not-found' });
    expect(hostError(() => api({ netns: node.path }).host.netlink.deleteLink('container', 'dummy0'))).toMatchObject({ tag: 'invalid' });
    expect(link(node, 'dummy0').ifname).toBe('dummy0');
  });

  it('after dispose, calls fail and nothing is held', () => {
    const { host } = api();
    host.dispose();
    expect(hostError(() => host.netlink.listLinks('host')).tag).toBe('other');
  });
});

describe('files.read: exact granted paths, symlinks resolved and checked, small regular files only', () => {
  let dir: string;
  const p = (name: string): string => join(dir, name);
  const files = (read: string[], config: Partial<NetConf> = {}) => api({ manifest: { files: { read } }, config });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'caps-files-'));
    writeFileSync(p('resolv.conf'), 'nameserver 192.0.2.53\nsearch exämple.org\n');
    writeFileSync(p('secret'), 'not for plugins\n');
    writeFileSync(p('big'), 'x'.repeat(64 * 1024 + 1));
    writeFileSync(p('max'), 'y'.repeat(64 * 1024));
    writeFileSync(p('latin1'), Buffer.from([0x6e, 0xe9, 0x0a]));
    symlinkSync(p('secret'), p('link-out'));
    symlinkSync(p('resolv.conf'), p('link-in'));
    mkdirSync(p('sub'));
    symlinkSync(dir, p('dirlink'));
    execFileSync('mkfifo', [p('fifo')]);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads a granted file, named by a placeholder or literally; the call is audited without the content', () => {
    const { host, lines } = files(['${ipam.resolvConf}'], { ipam: { type: 'host-local', resolvConf: p('resolv.conf') } } as Partial<NetConf>);
    expect(host.files.readText(p('resolv.conf'))).toBe('nameserver 192.0.2.53\nsearch exämple.org\n');
    // the same path written another way ('//', '/./') is the same file
    expect(host.files.readText(`${dir}//./resolv.conf`)).toBe('nameserver 192.0.2.53\nsearch exämple.org\n');
    const line = lines.find((l) => l.fields.call === 'files.read-text');
    expect(line?.fields).toMatchObject({ outcome: 'ok', args: [p('resolv.conf')], result: { bytes: 42 } });
    expect(files([p('max')]).host.files.readText(p('max'))).toHaveLength(64 * 1024);
  });

  it('refuses a path not granted, a relative path and ".." with permission-denied naming files.read, audited at warn', () => {
    const { host, lines } = files([p('resolv.conf')]);
    expectDenied(() => host.files.readText(p('secret')), 'files.read', `may not read ${JSON.stringify(p('secret'))}: not granted (granted: ${JSON.stringify(p('resolv.conf'))})`);
    expectDenied(() => host.files.readText('resolv.conf'), 'files.read', 'not an absolute path without ".."');
    expectDenied(() => host.files.readText(`${dir}/sub/../resolv.conf`), 'files.read', 'not an absolute path without ".."');
    expectDenied(() => files([]).host.files.readText(p('resolv.conf')), 'files.read', '(none granted)');
    // a placeholder that resolves to nothing (field absent) or to a relative path grants nothing
    expectDenied(() => files(['${ipam.resolvConf}']).host.files.readText(p('resolv.conf')), 'files.read');
    expectDenied(() => files(['${ipam.resolvConf}'], { ipam: { type: 'x', resolvConf: 'resolv.conf' } } as Partial<NetConf>).host.files.readText('resolv.conf'), 'files.read');
    expect(lines.filter((l) => l.level === 'warn').map((l) => [l.fields.capability, l.fields.outcome])).toEqual([
      ['files.read', 'denied'],
      ['files.read', 'denied'],
      ['files.read', 'denied'],
    ]);
  });

  it('follows symlinks, and the file actually opened must be granted too', () => {
    const out = files([p('link-out')]).host;
    expectDenied(() => out.files.readText(p('link-out')), 'files.read', `it resolves to ${JSON.stringify(p('secret'))}, which is not granted`);
    expect(files([p('link-in'), p('resolv.conf')]).host.files.readText(p('link-in'))).toContain('nameserver');
    // a symlinked directory on the way counts as well
    expectDenied(() => files([p('dirlink/secret')]).host.files.readText(p('dirlink/secret')), 'files.read', `resolves to ${JSON.stringify(p('secret'))}`);
  });

  it('reads regular files of at most 64 KiB of UTF-8 only (invalid), never opening a FIFO; a missing file is not-found', () => {
    const host = files([p('sub'), p('fifo'), p('big'), p('latin1'), p('absent'), '/dev/zero']).host;
    expect(hostError(() => host.files.readText(p('sub')))).toEqual({ tag: 'invalid', val: `${JSON.stringify(p('sub'))} is not a regular file` });
    expect(hostError(() => host.files.readText(p('fifo')))).toEqual({ tag: 'invalid', val: `${JSON.stringify(p('fifo'))} is not a regular file` });
    expect(hostError(() => host.files.readText('/dev/zero'))).toEqual({ tag: 'invalid', val: '"/dev/zero" is not a regular file' });
    expect(hostError(() => host.files.readText(p('big')))).toEqual({ tag: 'invalid', val: `${JSON.stringify(p('big'))} is larger than 65536 bytes (65537)` });
    expect(hostError(() => host.files.readText(p('latin1')))).toEqual({ tag: 'invalid', val: `${JSON.stringify(p('latin1'))} is not UTF-8 text` });
    expect(hostError(() => host.files.readText(p('absent')))).toEqual({ tag: 'not-found', val: `no file ${JSON.stringify(p('absent'))}` });
  });
});
