// host/sys/netlink on the real kernel: every operation, read back with `ip -j` /
// `bridge -j` (or our own dump where that is simpler), error paths included. The
// code under test acts "as the node": its sockets are opened inside throwaway
// namespaces (withNetns), never in the root namespace.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isSysError, SysError } from '../../host/sys/errors.ts';
import { NetnsError, type NetnsHandle, openNetns, withNetns } from '../../host/sys/netns.ts';
import { addAddress, delAddress, listAddresses } from '../../host/sys/netlink/addresses.ts';
import {
  addBridgeVlan,
  createBridge,
  createVeth,
  createVxlan,
  delBridgeVlan,
  deleteLink,
  findLink,
  getLink,
  listBridgeVlans,
  listLinks,
  moveLinkToNetns,
  setBridgePort,
  setBridgeVlanFiltering,
  setHairpin,
  setLink,
  setLinkAlias,
  setLinkMac,
  setLinkMaster,
  setLinkMtu,
  setLinkName,
  setLinkPromisc,
  setLinkUp,
  setPortIsolated,
} from '../../host/sys/netlink/links.ts';
import { addFdb, addNeighbor, delFdb, delNeighbor, listFdb, listNeighbors } from '../../host/sys/netlink/neigh.ts';
import { addRoute, delRoute, listRoutes, replaceRoute } from '../../host/sys/netlink/routes.ts';
import { NetlinkSocket, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL } from '../../host/sys/netlink/socket.ts';
import { cleanup, makeNetns, type Netns } from '../harness/netns.ts';

// ---- `ip -j` shapes (only the fields read here)
interface IpLink {
  ifindex: number;
  ifname: string;
  mtu: number;
  address?: string;
  flags: string[];
  master?: string;
  ifalias?: string;
  promiscuity?: number;
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: {
    info_kind?: string;
    info_data?: Record<string, unknown>;
    info_slave_kind?: string;
    info_slave_data?: Record<string, unknown>;
  };
}
interface IpAddr {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number; broadcast?: string; nodad?: boolean; noprefixroute?: boolean; scope: string }[];
}
interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
  metric?: number;
  flags: string[];
  scope?: string;
  table?: string;
  metrics?: { mtu?: number }[];
}
interface IpNeigh {
  dst: string;
  dev: string;
  lladdr?: string;
  state: string[];
}
interface BridgeFdb {
  mac: string;
  dst?: string;
  flags: string[];
  master?: string;
  state: string;
  ifname?: string;
}

function expectSysError(f: () => unknown, errno: string): SysError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(isSysError(caught), `expected a SysError ${errno}, got ${String(caught)}`).toBe(true);
  const e = caught as SysError;
  expect(e.errno, e.message).toBe(errno);
  return e;
}

const ipLink = (ns: Netns, name: string): IpLink => {
  const [l] = ns.ipJson<IpLink[]>('-d', 'link', 'show', 'dev', name);
  if (!l) throw new Error(`no link ${name} in ${ns.name}`);
  return l;
};
const hasLink = (ns: Netns, name: string): boolean => ns.ipJson<IpLink[]>('link', 'show').some((l) => l.ifname === name);

let node: Netns;
let ctr: Netns;
let nodeNs: NetnsHandle;
let ctrNs: NetnsHandle;
/** The node's socket, made inside the node namespace as the CNI binary would. */
let s: NetlinkSocket;
/** The container's socket. */
let c: NetlinkSocket;

beforeAll(() => {
  node = makeNetns('node');
  ctr = makeNetns('ctr');
  nodeNs = openNetns(node.path);
  ctrNs = openNetns(ctr.path);
  s = withNetns(nodeNs, () => NetlinkSocket.open());
  c = NetlinkSocket.open(ctrNs);
});

afterAll(() => {
  s.close();
  c.close();
  nodeNs.close();
  ctrNs.close();
  cleanup();
});

/** Remove every link but lo from both namespaces, so each test starts clean. */
function wipe(): void {
  for (const [ns, sock] of [
    [node, s],
    [ctr, c],
  ] as const) {
    for (const l of listLinks(sock)) if (l.name !== 'lo' && findLink(sock, l.index)) deleteLink(sock, l.index);
    expect(ns.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
  }
}

describe('links: read', () => {
  afterEach(wipe);

  it('lists links as ip does, and gets one by name or index', () => {
    node.run('ip', ['link', 'add', 'br-a', 'type', 'bridge']);
    node.run('ip', ['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
    const ours = listLinks(s).map((l) => [l.index, l.name, l.mtu, l.mac ?? '00:00:00:00:00:00']);
    const theirs = node.ipJson<IpLink[]>('link', 'show').map((l) => [l.ifindex, l.ifname, l.mtu, l.address]);
    expect(ours).toEqual(theirs);
    const br = getLink(s, 'br-a');
    expect(br.kind).toBe('bridge');
    expect(getLink(s, br.index).name).toBe('br-a');
    expect(getLink(s, 'va').kind).toBe('veth');
    expect(getLink(s, 'va').peerIndex).toBe(getLink(s, 'vb').index);
    expect(getLink(s, 'lo').kind).toBeUndefined();
  });

  it('a missing link is ENODEV (by name and by index); findLink says undefined', () => {
    const e = expectSysError(() => getLink(s, 'nosuch0'), 'ENODEV');
    expect(e.kind).toBe('not-found');
    expect(e.op).toBe('link.get nosuch0');
    expectSysError(() => getLink(s, 4242), 'ENODEV');
    expect(findLink(s, 'nosuch0')).toBeUndefined();
  });

  it('refuses bad names and indexes before asking the kernel', () => {
    expectSysError(() => getLink(s, 'name-longer-than-15'), 'EINVAL');
    expectSysError(() => getLink(s, 'a/b'), 'EINVAL');
    expectSysError(() => getLink(s, 0), 'EINVAL');
  });

  it('a multi-part dump returns every link (300 veth pairs)', () => {
    const batch = Array.from({ length: 150 }, (_, i) => `link add d${i}a type veth peer name d${i}b`).join('\n');
    node.run('ip', ['-batch', '-'], { input: `${batch}\n` });
    const ours = listLinks(s).map((l) => l.name).sort();
    const theirs = node.ipJson<IpLink[]>('link', 'show').map((l) => l.ifname).sort();
    expect(ours.length).toBe(301);
    expect(ours).toEqual(theirs);
  });
});

describe('links: create', () => {
  afterEach(wipe);

  it('creates a bridge with MTU, MAC, alias, up', () => {
    const br = createBridge(s, { name: 'cni0', mtu: 1450, mac: '02:42:ac:11:00:01', alias: 'cni-wasm:test', up: true });
    expect(br).toMatchObject({ name: 'cni0', kind: 'bridge', mtu: 1450, mac: '02:42:ac:11:00:01', alias: 'cni-wasm:test', up: true });
    expect(br.bridge).toEqual({ vlanFiltering: false });
    const l = ipLink(node, 'cni0');
    expect(l.ifindex).toBe(br.index);
    expect(l.linkinfo?.info_kind).toBe('bridge');
    expect(l.mtu).toBe(1450);
    expect(l.address).toBe('02:42:ac:11:00:01');
    expect(l.ifalias).toBe('cni-wasm:test');
    expect(l.flags).toContain('UP');
  });

  it('a taken name is EEXIST', () => {
    createBridge(s, { name: 'cni0' });
    const e = expectSysError(() => createBridge(s, { name: 'cni0' }), 'EEXIST');
    expect(e.kind).toBe('exists');
    expect(e.op).toBe('link.create bridge cni0');
  });

  it('creates a veth with the peer directly in the container namespace, with its name, MTU and MAC', () => {
    const br = createBridge(s, { name: 'cni0', up: true });
    const v = createVeth(s, { name: 'veth1234', up: true, master: br.index, mtu: 1400, peer: { name: 'eth0', ns: ctrNs, mtu: 1400, mac: '0a:58:0a:f4:00:05' } });
    expect(v).toMatchObject({ name: 'veth1234', kind: 'veth', mtu: 1400, up: true, master: br.index });
    const host = ipLink(node, 'veth1234');
    expect(host.master).toBe('cni0');
    expect(host.flags).toContain('UP');
    expect(host.link_netnsid).toBeDefined();
    const peer = ipLink(ctr, 'eth0');
    expect(peer.linkinfo?.info_kind).toBe('veth');
    expect(peer.mtu).toBe(1400);
    expect(peer.address).toBe('0a:58:0a:f4:00:05');
    expect(peer.flags).not.toContain('UP');
    expect(v.peerIndex).toBe(peer.ifindex);
    expect(hasLink(node, 'eth0')).toBe(false);
    // The container side is driven through the container's own socket.
    setLinkUp(c, 'eth0');
    expect(ipLink(ctr, 'eth0').flags).toContain('UP');
    expect(getLink(c, 'eth0').peerIndex).toBe(v.index);
  });

  it('creates a veth pair in one namespace', () => {
    const v = createVeth(s, { name: 'va', peer: { name: 'vb', mac: '02:00:00:00:00:0b' } });
    expect(getLink(s, 'vb').peerIndex).toBe(v.index);
    expect(ipLink(node, 'vb').address).toBe('02:00:00:00:00:0b');
  });

  it('a peer name taken in the container is EEXIST, and nothing is left on the node', () => {
    ctr.run('ip', ['link', 'add', 'eth0', 'type', 'bridge']);
    expectSysError(() => createVeth(s, { name: 'vethX', peer: { name: 'eth0', ns: ctrNs } }), 'EEXIST');
    expect(hasLink(node, 'vethX')).toBe(false);
  });

  it('creates a vxlan with VNI, port, local address, underlay, learning, GBP and TTL', () => {
    const ul = createBridge(s, { name: 'ul0', up: true });
    const vx = createVxlan(s, { name: 'vx0', vni: 4242, port: 4789, local: '10.0.0.1', underlay: ul.index, learning: false, gbp: true, ttl: 16, mtu: 1450 });
    expect(vx.vxlan).toEqual({ vni: 4242, port: 4789, local: '10.0.0.1', underlay: ul.index, learning: false, gbp: true, ttl: 16 });
    const d = ipLink(node, 'vx0').linkinfo?.info_data;
    expect(d).toMatchObject({ id: 4242, port: 4789, local: '10.0.0.1', link: 'ul0', learning: false, gbp: true, ttl: 16 });
    expect(ipLink(node, 'vx0').mtu).toBe(1450);
    const vx6 = createVxlan(s, { name: 'vx6', vni: 7, local: 'fd00::1', learning: true });
    expect(vx6.vxlan).toMatchObject({ vni: 7, local: 'fd00::1', learning: true, gbp: false });
    expect(ipLink(node, 'vx6').linkinfo?.info_data).toMatchObject({ id: 7, local6: 'fd00::1', learning: true });
  });

  it('a second vxlan with the same VNI and port is EEXIST with the kernel\'s extended-ack message', () => {
    createVxlan(s, { name: 'vx0', vni: 9, port: 4789 });
    const e = expectSysError(() => createVxlan(s, { name: 'vx1', vni: 9, port: 4789 }), 'EEXIST');
    expect(e.extack).toMatch(/VNI/);
    expect(e.message).toContain(e.extack);
  });

  it('an out-of-range VNI is refused before asking the kernel', () => {
    expectSysError(() => createVxlan(s, { name: 'vx0', vni: 1 << 24 }), 'EINVAL');
    expect(hasLink(node, 'vx0')).toBe(false);
  });
});

describe('links: change and delete', () => {
  let br: number;
  beforeEach(() => {
    br = createBridge(s, { name: 'cni0', up: true }).index;
    createVeth(s, { name: 'veth0', peer: { name: 'eth0', ns: ctrNs } });
  });
  afterEach(wipe);

  it('sets up and down', () => {
    setLinkUp(s, 'veth0');
    expect(ipLink(node, 'veth0').flags).toContain('UP');
    expect(getLink(s, 'veth0').up).toBe(true);
    setLinkUp(s, 'veth0', false);
    expect(ipLink(node, 'veth0').flags).not.toContain('UP');
  });

  it('sets MTU, MAC, alias, name (by name and by index)', () => {
    const idx = getLink(s, 'veth0').index;
    setLinkMtu(s, 'veth0', 1380);
    setLinkMac(s, idx, '02:11:22:33:44:55');
    setLinkAlias(s, 'veth0', 'cni-wasm:owned');
    expect(ipLink(node, 'veth0')).toMatchObject({ mtu: 1380, address: '02:11:22:33:44:55', ifalias: 'cni-wasm:owned' });
    setLinkAlias(s, idx, '');
    expect(ipLink(node, 'veth0').ifalias).toBeUndefined();
    setLinkName(s, 'veth0', 'vethRenamed');
    expect(hasLink(node, 'veth0')).toBe(false);
    expect(getLink(s, 'vethRenamed').index).toBe(idx);
    setLinkName(s, idx, 'veth0');
    expect(getLink(s, 'veth0').index).toBe(idx);
  });

  it('applies several changes in one request', () => {
    setLink(s, 'veth0', { up: true, mtu: 1300, master: br, alias: 'x' });
    const l = ipLink(node, 'veth0');
    expect(l).toMatchObject({ mtu: 1300, master: 'cni0', ifalias: 'x' });
    expect(l.flags).toContain('UP');
  });

  it('sets and clears the master', () => {
    setLinkMaster(s, 'veth0', br);
    expect(ipLink(node, 'veth0').master).toBe('cni0');
    expect(getLink(s, 'veth0').master).toBe(br);
    setLinkMaster(s, 'veth0', null);
    expect(ipLink(node, 'veth0').master).toBeUndefined();
  });

  it('sets promiscuous mode on and off', () => {
    setLinkPromisc(s, 'veth0', true);
    expect(ipLink(node, 'veth0').flags).toContain('PROMISC');
    expect(getLink(s, 'veth0').promisc).toBe(true);
    setLinkPromisc(s, 'veth0', false);
    expect(ipLink(node, 'veth0').flags).not.toContain('PROMISC');
  });

  it('sets hairpin, port isolation and learning on a bridge port', () => {
    setLinkMaster(s, 'veth0', br);
    setHairpin(s, 'veth0', true);
    setPortIsolated(s, 'veth0', true);
    setBridgePort(s, 'veth0', { learning: false });
    expect(ipLink(node, 'veth0').linkinfo?.info_slave_data).toMatchObject({ hairpin: true, isolated: true, learning: false });
    expect(getLink(s, 'veth0').bridgePort).toEqual({ hairpin: true, isolated: true, learning: false });
    setBridgePort(s, 'veth0', { hairpin: false, isolated: false, learning: true });
    expect(ipLink(node, 'veth0').linkinfo?.info_slave_data).toMatchObject({ hairpin: false, isolated: false, learning: true });
  });

  it('port options on a link that is no bridge port are EOPNOTSUPP', () => {
    expectSysError(() => setHairpin(s, 'veth0', true), 'EOPNOTSUPP');
  });

  it('bad values come back as typed errors with the kernel\'s message', () => {
    const e = expectSysError(() => setLinkMtu(s, 'veth0', 10), 'EINVAL');
    expect(e.kind).toBe('invalid');
    expect(e.extack).toMatch(/mtu/i);
    expectSysError(() => setLinkMaster(s, 'lo', br), 'EINVAL');
    expectSysError(() => setLinkMac(s, 'veth0', 'not-a-mac'), 'EINVAL');
  });

  it('changing a missing link is ENODEV', () => {
    expectSysError(() => setLinkUp(s, 'nosuch0'), 'ENODEV');
    expectSysError(() => setLinkMtu(s, 4242, 1400), 'ENODEV');
    expectSysError(() => setLinkName(s, 'nosuch0', 'x'), 'ENODEV');
  });

  it('renaming onto a taken name is EEXIST', () => {
    expectSysError(() => setLinkName(s, 'veth0', 'cni0'), 'EEXIST');
  });

  it('moves a link into another namespace', () => {
    createVeth(s, { name: 'mv0', peer: { name: 'mv1' } });
    moveLinkToNetns(s, 'mv1', ctrNs);
    expect(hasLink(node, 'mv1')).toBe(false);
    expect(hasLink(ctr, 'mv1')).toBe(true);
  });

  it('deletes by name and by index; the veth peer goes too; a second delete is ENODEV', () => {
    deleteLink(s, 'veth0');
    expect(hasLink(node, 'veth0')).toBe(false);
    expect(hasLink(ctr, 'eth0')).toBe(false);
    deleteLink(s, br);
    expect(hasLink(node, 'cni0')).toBe(false);
    expectSysError(() => deleteLink(s, 'veth0'), 'ENODEV');
    expectSysError(() => deleteLink(s, br), 'ENODEV');
  });
});

/** Whether this kernel has bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING). */
function vlanFilteringSupported(): boolean {
  try {
    createBridge(s, { name: 'vlanprobe', vlanFiltering: true });
    deleteLink(s, 'vlanprobe');
    return true;
  } catch (e) {
    if (isSysError(e) && e.errno === 'EOPNOTSUPP') return false;
    throw e;
  }
}
const VLAN_SKIP = 'kernel lacks bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING): creating a bridge with vlan_filtering 1 answers EOPNOTSUPP';

describe('bridge VLANs', () => {
  let supported = false;
  beforeAll(() => {
    supported = vlanFilteringSupported();
  });
  beforeEach(() => {
    const br = createBridge(s, { name: 'cni0', up: true });
    createVeth(s, { name: 'veth0', master: br.index, peer: { name: 'eth0', ns: ctrNs } });
  });
  afterEach(wipe);

  it('without kernel support, every VLAN call fails with a typed EOPNOTSUPP that names the operation', (ctx) => {
    ctx.skip(supported, 'this kernel has bridge VLAN filtering; the success tests below cover it');
    const e = expectSysError(() => createBridge(s, { name: 'brv', vlanFiltering: true }), 'EOPNOTSUPP');
    expect(e.kind).toBe('invalid');
    expect(e.op).toBe('link.create bridge brv');
    expect(hasLink(node, 'brv')).toBe(false);
    expectSysError(() => setBridgeVlanFiltering(s, 'cni0', true), 'EOPNOTSUPP');
    const add = expectSysError(() => addBridgeVlan(s, 'veth0', { vid: 10, pvid: true, untagged: true }), 'EOPNOTSUPP');
    expect(add.op).toBe('bridge.vlan-add veth0 vid 10');
    expectSysError(() => addBridgeVlan(s, 'cni0', { vid: 10, self: true }), 'EOPNOTSUPP');
    expect(listBridgeVlans(s).size).toBe(0);
  });

  it('refuses an out-of-range VLAN id before asking the kernel', () => {
    expectSysError(() => addBridgeVlan(s, 'veth0', { vid: 4095 }), 'EINVAL');
    expectSysError(() => addBridgeVlan(s, 'veth0', { vid: 0 }), 'EINVAL');
  });

  it('turns VLAN filtering on and off on a bridge', (ctx) => {
    ctx.skip(!supported, VLAN_SKIP);
    setBridgeVlanFiltering(s, 'cni0', true);
    expect(ipLink(node, 'cni0').linkinfo?.info_data?.vlan_filtering).toBe(1);
    expect(getLink(s, 'cni0').bridge).toEqual({ vlanFiltering: true });
    setBridgeVlanFiltering(s, 'cni0', false);
    expect(ipLink(node, 'cni0').linkinfo?.info_data?.vlan_filtering).toBe(0);
    const b = createBridge(s, { name: 'brv', vlanFiltering: true });
    expect(b.bridge).toEqual({ vlanFiltering: true });
  });

  it('adds, lists and deletes VLAN entries on a port and on the bridge itself', (ctx) => {
    ctx.skip(!supported, VLAN_SKIP);
    setBridgeVlanFiltering(s, 'cni0', true);
    const port = getLink(s, 'veth0').index;
    addBridgeVlan(s, 'veth0', { vid: 10, pvid: true, untagged: true });
    addBridgeVlan(s, 'veth0', { vid: 20 });
    addBridgeVlan(s, 'cni0', { vid: 10, self: true });
    const vlans = listBridgeVlans(s);
    expect(vlans.get(port)).toEqual(expect.arrayContaining([{ vid: 10, pvid: true, untagged: true }, { vid: 20, pvid: false, untagged: false }]));
    const json = JSON.parse(node.run('bridge', ['-j', 'vlan', 'show', 'dev', 'veth0'])) as { vlans: { vlan: number; flags?: string[] }[] }[];
    expect(json[0]?.vlans.map((v) => v.vlan)).toEqual(expect.arrayContaining([10, 20]));
    delBridgeVlan(s, 'veth0', { vid: 20 });
    expect(listBridgeVlans(s).get(port)?.map((v) => v.vid)).not.toContain(20);
  });
});

describe('addresses', () => {
  beforeEach(() => {
    createVeth(s, { name: 'veth0', up: true, peer: { name: 'eth0', ns: ctrNs } });
    setLinkUp(c, 'eth0');
  });
  afterEach(wipe);

  it('adds IPv4 and IPv6 addresses (broadcast computed, nodad) and lists them as ip does', () => {
    addAddress(c, { link: 'eth0', address: '10.22.0.5/16' });
    addAddress(c, { link: 'eth0', address: 'fd00:22::5/64', nodad: true });
    const [ip] = ctr.ipJson<IpAddr[]>('addr', 'show', 'dev', 'eth0');
    const v4 = ip?.addr_info.find((a) => a.family === 'inet');
    const v6 = ip?.addr_info.find((a) => a.local === 'fd00:22::5');
    expect(v4).toMatchObject({ local: '10.22.0.5', prefixlen: 16, broadcast: '10.22.255.255' });
    expect(v6).toMatchObject({ prefixlen: 64, nodad: true });
    const ours = listAddresses(c, { link: 'eth0' });
    expect(ours.find((a) => a.family === 4)).toMatchObject({ cidr: '10.22.0.5/16', broadcast: '10.22.255.255', scope: 'universe' });
    expect(ours.find((a) => a.address === 'fd00:22::5')?.flags).toContain('nodad');
    expect(listAddresses(c, { family: 4 }).map((a) => a.cidr).sort()).toEqual(
      ctr
        .ipJson<IpAddr[]>('-4', 'addr', 'show')
        .flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`))
        .sort(),
    );
  });

  it('noprefixroute adds no prefix route', () => {
    addAddress(c, { link: 'eth0', address: '10.23.0.5/24', noprefixroute: true });
    expect(ctr.ipJson<IpAddr[]>('addr', 'show', 'dev', 'eth0')[0]?.addr_info.find((a) => a.family === 'inet')?.noprefixroute).toBe(true);
    expect(ctr.ipJson<IpRoute[]>('route', 'show').map((r) => r.dst)).not.toContain('10.23.0.0/24');
  });

  it('an address already there is EEXIST with the kernel\'s message; replace succeeds', () => {
    addAddress(c, { link: 'eth0', address: '10.22.0.5/16' });
    const e = expectSysError(() => addAddress(c, { link: 'eth0', address: '10.22.0.5/16' }), 'EEXIST');
    expect(e.extack).toBeTruthy();
    addAddress(c, { link: 'eth0', address: '10.22.0.5/16', replace: true });
  });

  it('deletes; deleting a missing address is EADDRNOTAVAIL', () => {
    addAddress(c, { link: 'eth0', address: '10.22.0.5/16' });
    addAddress(c, { link: 'eth0', address: 'fd00:22::5/64', nodad: true });
    delAddress(c, { link: 'eth0', address: '10.22.0.5/16' });
    delAddress(c, { link: 'eth0', address: 'fd00:22::5/64' });
    expect(listAddresses(c, { link: 'eth0' }).filter((a) => a.scope === 'universe')).toEqual([]);
    const e = expectSysError(() => delAddress(c, { link: 'eth0', address: '10.22.0.5/16' }), 'EADDRNOTAVAIL');
    expect(e.kind).toBe('not-found');
  });

  it('a missing link is ENODEV; a bad address is EINVAL', () => {
    expectSysError(() => addAddress(c, { link: 'nosuch0', address: '10.0.0.1/24' }), 'ENODEV');
    expectSysError(() => addAddress(c, { link: 4242, address: '10.0.0.1/24' }), 'ENODEV');
    expectSysError(() => addAddress(c, { link: 'eth0', address: '10.0.0.300/24' }), 'EINVAL');
    expectSysError(() => addAddress(c, { link: 'eth0', address: '10.0.0.1/33' }), 'EINVAL');
  });
});

describe('routes', () => {
  beforeEach(() => {
    createVeth(s, { name: 'veth0', up: true, peer: { name: 'eth0', ns: ctrNs } });
    setLinkUp(c, 'eth0');
    addAddress(c, { link: 'eth0', address: '10.22.0.5/16' });
    addAddress(c, { link: 'eth0', address: 'fd00:22::5/64', nodad: true });
  });
  afterEach(wipe);

  const ipRoutes = (...args: string[]): IpRoute[] => ctr.ipJson<IpRoute[]>('route', 'show', ...args);

  it('adds a default route and a gateway route with metric and src, as ip shows them', () => {
    addRoute(c, { dst: 'default', gateway: '10.22.0.1' });
    addRoute(c, { dst: '10.96.0.0/12', gateway: '10.22.0.1', link: 'eth0', metric: 50, src: '10.22.0.5' });
    const def = ipRoutes().find((r) => r.dst === 'default');
    expect(def).toMatchObject({ gateway: '10.22.0.1', dev: 'eth0' });
    expect(ipRoutes().find((r) => r.dst === '10.96.0.0/12')).toMatchObject({ gateway: '10.22.0.1', dev: 'eth0', metric: 50, prefsrc: '10.22.0.5' });
    const ours = listRoutes(c, { family: 4 });
    expect(ours.find((r) => r.dst === '0.0.0.0/0')).toMatchObject({ gateway: '10.22.0.1', scope: 'universe', type: 'unicast', protocol: 3, table: 254 });
    expect(ours.map((r) => r.dst).sort()).toEqual(
      ctr
        .ipJson<IpRoute[]>('-4', 'route', 'show')
        .map((r) => (r.dst === 'default' ? '0.0.0.0/0' : r.dst.includes('/') ? r.dst : `${r.dst}/32`))
        .sort(),
    );
  });

  it('a device route gets link scope; onlink reaches a gateway outside every subnet; tables work', () => {
    addRoute(c, { dst: '192.168.50.0/24', link: 'eth0' });
    expect(ipRoutes().find((r) => r.dst === '192.168.50.0/24')).toMatchObject({ dev: 'eth0', scope: 'link' });
    const e = expectSysError(() => addRoute(c, { dst: '172.30.0.0/16', gateway: '169.254.1.1', link: 'eth0' }), 'ENETUNREACH');
    expect(e.extack).toMatch(/gateway/i);
    addRoute(c, { dst: '172.30.0.0/16', gateway: '169.254.1.1', link: 'eth0', onlink: true, table: 100 });
    const r = ipRoutes('table', '100').find((x) => x.dst === '172.30.0.0/16');
    expect(r).toMatchObject({ gateway: '169.254.1.1', dev: 'eth0' });
    expect(r?.flags).toContain('onlink');
    expect(listRoutes(c, { table: 100 })).toEqual([expect.objectContaining({ dst: '172.30.0.0/16', onlink: true, table: 100 })]);
    expect(listRoutes(c).find((x) => x.dst === '172.30.0.0/16')).toBeUndefined();
    expect(listRoutes(c, { table: 'all' }).find((x) => x.dst === '172.30.0.0/16')).toBeDefined();
    addRoute(c, { dst: '10.200.0.0/16', link: 'eth0', scope: 'host', table: 5000 });
    expect(listRoutes(c, { table: 5000 })[0]).toMatchObject({ scope: 'host', table: 5000 });
  });

  it('IPv6 routes, with an MTU', () => {
    addRoute(c, { dst: 'default', gateway: 'fd00:22::1' });
    addRoute(c, { dst: 'fd00:99::/64', gateway: 'fd00:22::1', mtu: 1400 });
    const v6 = ctr.ipJson<IpRoute[]>('-6', 'route', 'show');
    expect(v6.find((r) => r.dst === 'default')).toMatchObject({ gateway: 'fd00:22::1', dev: 'eth0' });
    expect(v6.find((r) => r.dst === 'fd00:99::/64')).toMatchObject({ gateway: 'fd00:22::1', metrics: [{ mtu: 1400 }] });
    expect(listRoutes(c, { family: 6 }).find((r) => r.dst === 'fd00:99::/64')).toMatchObject({ mtu: 1400, gateway: 'fd00:22::1' });
    expect(listRoutes(c, { family: 6 }).find((r) => r.dst === '::/0')).toBeDefined();
  });

  it('a route already there is EEXIST; replace swaps it', () => {
    addRoute(c, { dst: '10.96.0.0/12', gateway: '10.22.0.1' });
    const e = expectSysError(() => addRoute(c, { dst: '10.96.0.0/12', gateway: '10.22.0.2' }), 'EEXIST');
    expect(e.kind).toBe('exists');
    replaceRoute(c, { dst: '10.96.0.0/12', gateway: '10.22.0.2' });
    const rs = ipRoutes().filter((r) => r.dst === '10.96.0.0/12');
    expect(rs).toHaveLength(1);
    expect(rs[0]?.gateway).toBe('10.22.0.2');
    replaceRoute(c, { dst: '10.97.0.0/16', gateway: '10.22.0.2' }); // replace also creates
    expect(ipRoutes().find((r) => r.dst === '10.97.0.0/16')).toBeDefined();
  });

  it('deletes (host bits of the destination are cleared); a missing route is ESRCH', () => {
    addRoute(c, { dst: '10.96.0.0/12', gateway: '10.22.0.1', metric: 7 });
    addRoute(c, { dst: 'default', gateway: '10.22.0.1' });
    delRoute(c, { dst: '10.96.1.2/12' });
    delRoute(c, { dst: 'default' });
    expect(ipRoutes().map((r) => r.dst)).toEqual(['10.22.0.0/16']);
    const e = expectSysError(() => delRoute(c, { dst: '10.96.0.0/12' }), 'ESRCH');
    expect(e.kind).toBe('not-found');
  });

  it('a missing link is ENODEV; a gateway of the wrong family is EINVAL', () => {
    expectSysError(() => addRoute(c, { dst: '10.1.0.0/16', link: 'nosuch0' }), 'ENODEV');
    expectSysError(() => addRoute(c, { dst: '10.1.0.0/16', link: 4242 }), 'ENODEV');
    expectSysError(() => addRoute(c, { dst: '10.1.0.0/16', gateway: 'fd00::1' }), 'EINVAL');
  });
});

describe('neighbours', () => {
  beforeEach(() => {
    createVeth(s, { name: 'veth0', up: true, peer: { name: 'eth0', ns: ctrNs } });
    setLinkUp(c, 'eth0');
    addAddress(c, { link: 'eth0', address: '10.22.0.5/16' });
  });
  afterEach(wipe);

  it('adds permanent ARP and NDP entries, as ip neigh shows them', () => {
    addNeighbor(c, { link: 'eth0', ip: '10.22.0.1', mac: '0a:58:0a:16:00:01' });
    addNeighbor(c, { link: 'eth0', ip: 'fd00:22::1', mac: '0a:58:0a:16:00:02' });
    const theirs = ctr.ipJson<IpNeigh[]>('neigh', 'show', 'dev', 'eth0');
    expect(theirs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dst: '10.22.0.1', lladdr: '0a:58:0a:16:00:01', state: ['PERMANENT'] }),
        expect.objectContaining({ dst: 'fd00:22::1', lladdr: '0a:58:0a:16:00:02', state: ['PERMANENT'] }),
      ]),
    );
    const ours = listNeighbors(c, { link: 'eth0' }).filter((n) => n.permanent);
    expect(ours.map((n) => [n.ip, n.mac]).sort()).toEqual([
      ['10.22.0.1', '0a:58:0a:16:00:01'],
      ['fd00:22::1', '0a:58:0a:16:00:02'],
    ]);
    expect(listNeighbors(c, { family: 6 }).every((n) => n.family === 6)).toBe(true);
  });

  it('an entry already there is EEXIST; replace overwrites', () => {
    addNeighbor(c, { link: 'eth0', ip: '10.22.0.1', mac: '0a:58:0a:16:00:01' });
    expectSysError(() => addNeighbor(c, { link: 'eth0', ip: '10.22.0.1', mac: '0a:58:0a:16:00:09' }), 'EEXIST');
    addNeighbor(c, { link: 'eth0', ip: '10.22.0.1', mac: '0a:58:0a:16:00:09', replace: true });
    expect(ctr.ipJson<IpNeigh[]>('neigh', 'show', 'dev', 'eth0').find((n) => n.dst === '10.22.0.1')?.lladdr).toBe('0a:58:0a:16:00:09');
  });

  it('deletes; a missing entry is ENOENT; a missing link is ENODEV', () => {
    addNeighbor(c, { link: 'eth0', ip: '10.22.0.1', mac: '0a:58:0a:16:00:01' });
    delNeighbor(c, { link: 'eth0', ip: '10.22.0.1' });
    expect(ctr.ipJson<IpNeigh[]>('neigh', 'show', 'dev', 'eth0').find((n) => n.dst === '10.22.0.1')).toBeUndefined();
    const e = expectSysError(() => delNeighbor(c, { link: 'eth0', ip: '10.22.0.1' }), 'ENOENT');
    expect(e.kind).toBe('not-found');
    expectSysError(() => addNeighbor(c, { link: 4242, ip: '10.22.0.1', mac: '0a:58:0a:16:00:01' }), 'ENODEV');
  });
});

describe('FDB entries', () => {
  let br: number;
  beforeEach(() => {
    br = createBridge(s, { name: 'cni0', up: true }).index;
    createVeth(s, { name: 'veth0', master: br, peer: { name: 'eth0', ns: ctrNs } });
    createVxlan(s, { name: 'vx0', vni: 1, port: 4789, learning: false, local: '10.0.0.1' });
  });
  afterEach(wipe);

  const fdb = (dev: string): BridgeFdb[] => JSON.parse(node.run('bridge', ['-j', 'fdb', 'show', 'dev', dev])) as BridgeFdb[];

  it('adds vxlan entries (self, permanent) with remote, and appends flood remotes', () => {
    addFdb(s, { link: 'vx0', mac: '0a:58:0a:f4:01:02', dst: '192.168.1.2' });
    addFdb(s, { link: 'vx0', mac: '00:00:00:00:00:00', dst: '192.168.1.3', append: true });
    addFdb(s, { link: 'vx0', mac: '00:00:00:00:00:00', dst: '192.168.1.4', append: true });
    const theirs = fdb('vx0');
    expect(theirs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ mac: '0a:58:0a:f4:01:02', dst: '192.168.1.2', flags: ['self'], state: 'permanent' }),
        expect.objectContaining({ mac: '00:00:00:00:00:00', dst: '192.168.1.3' }),
        expect.objectContaining({ mac: '00:00:00:00:00:00', dst: '192.168.1.4' }),
      ]),
    );
    const ours = listFdb(s, { link: 'vx0' });
    expect(ours.filter((e) => e.dst).map((e) => [e.mac, e.dst, e.self, e.permanent]).sort()).toEqual([
      ['00:00:00:00:00:00', '192.168.1.3', true, true],
      ['00:00:00:00:00:00', '192.168.1.4', true, true],
      ['0a:58:0a:f4:01:02', '192.168.1.2', true, true],
    ]);
  });

  it('adds a static entry to the master bridge of a port', () => {
    addFdb(s, { link: 'veth0', mac: '0a:58:0a:f4:01:09', master: true, state: 'static' });
    expect(fdb('veth0')).toEqual(expect.arrayContaining([expect.objectContaining({ mac: '0a:58:0a:f4:01:09', master: 'cni0', state: 'static' })]));
    const ours = listFdb(s, { master: 'cni0' }).find((e) => e.mac === '0a:58:0a:f4:01:09');
    expect(ours).toMatchObject({ index: getLink(s, 'veth0').index, master: br, self: false, permanent: false });
  });

  it('an entry already there is EEXIST; replace overwrites the remote', () => {
    addFdb(s, { link: 'vx0', mac: '0a:58:0a:f4:01:02', dst: '192.168.1.2' });
    expectSysError(() => addFdb(s, { link: 'vx0', mac: '0a:58:0a:f4:01:02', dst: '192.168.1.2' }), 'EEXIST');
    addFdb(s, { link: 'vx0', mac: '0a:58:0a:f4:01:02', dst: '192.168.1.9', replace: true });
    expect(fdb('vx0').find((e) => e.mac === '0a:58:0a:f4:01:02')?.dst).toBe('192.168.1.9');
  });

  it('deletes; a missing entry is ENOENT; a missing link is ENODEV', () => {
    addFdb(s, { link: 'vx0', mac: '0a:58:0a:f4:01:02', dst: '192.168.1.2' });
    delFdb(s, { link: 'vx0', mac: '0a:58:0a:f4:01:02', dst: '192.168.1.2' });
    expect(fdb('vx0').find((e) => e.mac === '0a:58:0a:f4:01:02')).toBeUndefined();
    expectSysError(() => delFdb(s, { link: 'vx0', mac: '0a:58:0a:f4:01:02', dst: '192.168.1.2' }), 'ENOENT');
    expectSysError(() => addFdb(s, { link: 'nosuch0', mac: '0a:58:0a:f4:01:02' }), 'ENODEV');
  });
});

describe('socket', () => {
  afterEach(wipe);

  it('sends a batch in one datagram and reports each message on its own', () => {
    createVeth(s, { name: 'veth0', up: true, peer: { name: 'eth0', ns: ctrNs } });
    const idx = getLink(s, 'veth0').index;
    const addr = (a: number): Buffer => {
      // struct ifaddrmsg + IFA_LOCAL, by hand: the batch API is protocol-agnostic.
      const b = Buffer.alloc(16);
      b[0] = 2; // AF_INET
      b[1] = 24;
      b.writeUInt32LE(idx, 4);
      b.writeUInt16LE(8, 8);
      b.writeUInt16LE(2, 10); // IFA_LOCAL
      b.set([10, 9, 0, a], 12);
      return b;
    };
    const flags = NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    const replies = s.transact([
      { type: 20, flags, payload: addr(1) },
      { type: 20, flags, payload: addr(1) },
      { type: 20, flags, payload: addr(2) },
    ]);
    expect(replies.map((r) => r.error?.errno)).toEqual([undefined, 'EEXIST', undefined]);
    expect(listAddresses(s, { link: idx, family: 4 }).map((a) => a.address).sort()).toEqual(['10.9.0.1', '10.9.0.2']);
  });

  it('a closed socket refuses calls', () => {
    const t = NetlinkSocket.open(nodeNs);
    t.close();
    expect(t.closed).toBe(true);
    expectSysError(() => listLinks(t), 'EBADF');
  });

  it('a socket for a vanished namespace cannot be opened: NetnsError not-found', () => {
    const gone = makeNetns('gone');
    gone.remove();
    let caught: unknown;
    try {
      NetlinkSocket.open(openNetns(gone.path));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NetnsError);
    expect((caught as NetnsError).kind).toBe('not-found');
  });

  it('a namespace deleted while its socket is open stays usable through the socket', () => {
    const tmp = makeNetns('tmp');
    const h = openNetns(tmp.path);
    const t = NetlinkSocket.open(h);
    h.close();
    tmp.remove();
    createBridge(t, { name: 'late0' });
    expect(listLinks(t).map((l) => l.name)).toEqual(['lo', 'late0']);
    t.close();
  });

  it('sockets of different namespaces do not see each other\'s links', () => {
    createBridge(s, { name: 'onlynode' });
    expect(findLink(c, 'onlynode')).toBeUndefined();
    expect(findLink(s, 'onlynode')).toBeDefined();
  });
});
