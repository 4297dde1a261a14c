// The vxlan plugin end to end, as a runtime runs it: the built binary installed as `vxlan`
// (cni-wasm install) and exec'd inside throwaway "node" namespaces, IPAM by host-local with a
// temp dataDir per node. Nodes are joined by a veth "underlay" through a router namespace
// (harness/topology.ts): on different subnets for the overlay, on one subnet for
// directRouting. The machine's own namespace is never touched (the global root guard checks).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINARY } from '../binary/run-binary.ts';
import { cleanup, makeNetns, type Netns } from '../harness/netns.ts';
import { type CniAnswer, Install, type Node, Topology, cniExec, cniExecAsync, linkCounters, ping } from '../harness/topology.ts';

const PLUGIN = join(BINARY, '..', 'plugins', 'vxlan.wasm');

let topo: Topology;
let install: Install;
let work: string;

interface Ctr {
  ns: Netns;
  id: string;
  node: Node;
  ip?: string;
  result?: Record<string, unknown>;
  conf: Record<string, unknown>;
}

interface LinkJson {
  ifname: string;
  ifindex: number;
  mtu: number;
  address: string;
  master?: string;
  ifalias?: string;
  operstate: string;
  linkinfo?: { info_kind: string; info_data?: Record<string, unknown> };
}

interface RouteJson {
  dst: string;
  gateway?: string;
  dev: string;
  flags: string[];
  protocol?: string;
}

const link = (ns: Netns, dev: string): LinkJson => ns.ipJson<LinkJson[]>('-d', 'link', 'show', 'dev', dev)[0]!;
const routes = (ns: Netns, ...filter: string[]): RouteJson[] => ns.ipJson<RouteJson[]>('-4', 'route', 'show', ...filter);
const neighs = (ns: Netns, dev: string): { dst: string; lladdr: string; state: string[] }[] => ns.ipJson('-4', 'neigh', 'show', 'dev', dev);
function fdb(ns: Netns, dev: string): { mac: string; dst?: string; flags: string[]; state?: string }[] {
  const out = ns.run('bridge', ['-j', 'fdb', 'show', 'dev', dev]);
  return out.trim() ? JSON.parse(out) : [];
}

function conf(name: string, vni: number, dataDir: string, subnet: string, peers: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name,
    type: 'vxlan',
    vxlanId: vni,
    peers,
    ...extra,
    ipam: { type: 'host-local', subnet, dataDir },
  };
}

let logSeq = 0;
function cni(c: Ctr, command: 'ADD' | 'DEL' | 'CHECK', opts: { conf?: Record<string, unknown>; log?: boolean } = {}): CniAnswer & { log: Record<string, unknown>[] } {
  let config = opts.conf ?? c.conf;
  if (command === 'CHECK' || (command === 'DEL' && c.result)) config = { ...config, prevResult: c.result };
  const logFile = join(work, `log-${++logSeq}.jsonl`);
  const env: Record<string, string> = opts.log ? { CNI_LOG_LEVEL: 'debug', CNI_LOG_FILE: logFile } : {};
  const a = cniExec(c.node.ns, install, 'vxlan', config, { command, containerId: c.id, netns: c.ns.path, ifname: 'eth0', env });
  const log = existsSync(logFile)
    ? readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
  return { ...a, log };
}

function add(c: Ctr, opts: { log?: boolean } = {}): CniAnswer & { log: Record<string, unknown>[] } {
  const a = cni(c, 'ADD', opts);
  if (a.status !== 0) throw new Error(`ADD ${c.id} failed (${a.status}): ${a.stdout}${a.stderr}`);
  c.result = a.json;
  const ips = a.json!.ips as { address: string }[];
  c.ip = ips[0]!.address.split('/')[0];
  return a;
}

/** The host calls an invocation made that change the node (from its audit log). */
const hostWrites = (log: Record<string, unknown>[]): string[] =>
  log
    .filter((l) => l.audit === true && l.outcome === 'ok' && typeof l.call === 'string' && /^netlink\.(create|add|del|replace|set)/.test(l.call as string))
    .filter((l) => !(Array.isArray(l.args) && l.args[0] === 'container'))
    .map((l) => `${l.call as string} ${JSON.stringify(l.args)}`);

beforeAll(() => {
  if (!existsSync(BINARY) || !existsSync(PLUGIN)) throw new Error(`${PLUGIN} is missing: run npm run build first (npm test does)`);
  work = mkdtempSync(join(tmpdir(), 'cniwt-vxlan-'));
  install = new Install(['vxlan']);
  topo = new Topology('vx');
}, 60_000);

afterAll(() => {
  topo?.remove();
  cleanup();
  install?.remove();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('two nodes on different underlay subnets, routed through the overlay', () => {
  let a: Node;
  let b: Node;
  const ctrs: Record<string, Ctr> = {};
  const MAC_B = '02:2a:c0:a8:14:02'; // VNI 42 -> 0x2a, 192.168.20.2
  const MAC_A = '02:2a:c0:a8:0a:02';

  beforeAll(() => {
    const s10 = topo.addSegment('192.168.10.0/24');
    const s20 = topo.addSegment('192.168.20.0/24');
    a = topo.addNode('vx-a', s10, '192.168.10.2');
    b = topo.addNode('vx-b', s20, '192.168.20.2');
    topo.countUdp(4789);
    const confA = conf('overlay', 42, join(work, 'ipam-a'), '10.244.1.0/24', [{ ip: '192.168.20.2', subnet: '10.244.2.0/24' }]);
    const confB = conf('overlay', 42, join(work, 'ipam-b'), '10.244.2.0/24', [{ ip: '192.168.10.2', subnet: '10.244.1.0/24' }]);
    for (const [key, node, c] of [['a1', a, confA], ['a2', a, confA], ['b1', b, confB]] as const) {
      ctrs[key] = { ns: makeNetns(`vx-${key}`), id: `ctr-${key}`, node, conf: c };
    }
  });

  it('ADD on both nodes: the bridge with the gateway, the container on it, the vxlan device and the peer entries', () => {
    const r = add(ctrs.a1!, { log: true });
    add(ctrs.b1!);
    // within its grant: no call denied (the accept_ra writes of bridge and veth included)
    expect(r.log.filter((l) => l.outcome === 'denied')).toEqual([]);
    expect(r.log.some((l) => l.call === 'sysctl.set')).toBe(true);
    expect(r.json).toMatchObject({ cniVersion: '1.0.0' });
    expect(ctrs.a1!.ip).toMatch(/^10\.244\.1\./);
    expect(ctrs.b1!.ip).toMatch(/^10\.244\.2\./);
    const ips = r.json!.ips as { address: string; gateway: string; interface: number }[];
    expect(ips[0]).toMatchObject({ gateway: '10.244.1.1', interface: 2 });
    expect(r.json!.routes).toEqual([{ dst: '10.244.2.0/24', gw: '10.244.1.1' }]);
    const ifs = r.json!.interfaces as { name: string; sandbox?: string; mtu?: number }[];
    expect(ifs[0]!.name).toBe('vxbr42');
    expect(ifs[2]).toMatchObject({ name: 'eth0', sandbox: ctrs.a1!.ns.path });

    const an = a.ns;
    const dev = link(an, 'vxlan42');
    expect(dev.linkinfo!.info_kind).toBe('vxlan');
    expect(dev.linkinfo!.info_data).toMatchObject({ id: 42, local: '192.168.10.2', link: 'ul0', port: 4789, learning: false });
    expect(dev.linkinfo!.info_data!.gbp).toBeUndefined();
    expect(dev.address).toBe(MAC_A);
    expect(dev.master).toBeUndefined(); // routed: not a bridge port
    expect(dev.ifalias).toBe('cni-wasm plugin=vxlan net=overlay');
    expect(link(b.ns, 'vxlan42').address).toBe(MAC_B);
    // flannel's entries for the peer
    expect(routes(an, 'dev', 'vxlan42')).toEqual([expect.objectContaining({ dst: '10.244.2.0/24', gateway: '10.244.2.0', flags: ['onlink'] })]);
    expect(neighs(an, 'vxlan42')).toEqual([expect.objectContaining({ dst: '10.244.2.0', lladdr: MAC_B, state: ['PERMANENT'] })]);
    expect(fdb(an, 'vxlan42')).toEqual([expect.objectContaining({ mac: MAC_B, dst: '192.168.20.2', flags: ['self'], state: 'permanent' })]);
    // the device's own address: the node's subnet's network address /32
    expect(an.ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>('-4', 'addr', 'show', 'dev', 'vxlan42')[0]!.addr_info).toEqual([
      expect.objectContaining({ local: '10.244.1.0', prefixlen: 32 }),
    ]);
    // the bridge is the gateway, forwarding is on
    expect(an.ipJson<{ addr_info: { local: string }[] }[]>('-4', 'addr', 'show', 'dev', 'vxbr42')[0]!.addr_info.map((x) => x.local)).toEqual(['10.244.1.1']);
    expect(an.run('cat', ['/proc/sys/net/ipv4/ip_forward']).trim()).toBe('1');
    // the container: address, route to the peer subnet through the gateway
    expect(routes(ctrs.a1!.ns)).toContainEqual(expect.objectContaining({ dst: '10.244.2.0/24', gateway: '10.244.1.1', dev: 'eth0' }));
  });

  it('MTU: the underlay MTU - 50 on the vxlan device, the bridge and both ends of the veth', () => {
    for (const n of [a, b]) expect(link(n.ns, 'vxlan42').mtu).toBe(1450);
    expect(link(a.ns, 'vxbr42').mtu).toBe(1450);
    expect(link(ctrs.a1!.ns, 'eth0').mtu).toBe(1450);
    const hostVeth = (ctrs.a1!.result!.interfaces as { name: string }[])[1]!.name;
    expect(link(a.ns, hostVeth).mtu).toBe(1450);
  });

  it('pings cross-node in both directions, encapsulated: the vxlan counters rise and the router forwards UDP to 4789', () => {
    const before = { a: linkCounters(a.ns, 'vxlan42'), b: linkCounters(b.ns, 'vxlan42'), udp: topo.udpCount(4789) };
    expect(ping(ctrs.a1!.ns, ctrs.b1!.ip!)).toBe(true);
    expect(ping(ctrs.b1!.ns, ctrs.a1!.ip!)).toBe(true);
    // a full-size packet for the overlay MTU goes through without fragmenting the underlay
    expect(ping(ctrs.a1!.ns, ctrs.b1!.ip!, { size: 1450 - 28 })).toBe(true);
    const after = { a: linkCounters(a.ns, 'vxlan42'), b: linkCounters(b.ns, 'vxlan42'), udp: topo.udpCount(4789) };
    expect(after.a.tx - before.a.tx).toBeGreaterThanOrEqual(3);
    expect(after.a.rx - before.a.rx).toBeGreaterThanOrEqual(3);
    expect(after.b.tx - before.b.tx).toBeGreaterThanOrEqual(3);
    expect(after.udp - before.udp).toBeGreaterThanOrEqual(6);
    // the node reaches remote pods too, from its device's address
    expect(ping(a.ns, ctrs.b1!.ip!)).toBe(true);
  });

  it('re-ADD of another container on the node adds nothing twice: no host write but its veth, address and MAC pin', () => {
    const state = (): string => JSON.stringify([routes(a.ns), neighs(a.ns, 'vxlan42'), fdb(a.ns, 'vxlan42'), link(a.ns, 'vxlan42').ifindex]);
    const before = state();
    const r = add(ctrs.a2!, { log: true });
    expect(state()).toBe(before);
    const writes = hostWrites(r.log);
    expect(writes.some((w) => w.startsWith('netlink.create-veth'))).toBe(true);
    expect(writes.filter((w) => !w.startsWith('netlink.create-veth') && !w.startsWith('netlink.set-link ["host","veth'))).toEqual([]);
    expect(ping(ctrs.a2!.ns, ctrs.b1!.ip!)).toBe(true);
    expect(ping(ctrs.a2!.ns, ctrs.a1!.ip!)).toBe(true);
  });

  it('CHECK passes, and names what is missing when a peer entry is gone; the next ADD repairs it', () => {
    expect(cni(ctrs.a1!, 'CHECK').status).toBe(0);
    expect(cni(ctrs.b1!, 'CHECK').status).toBe(0);
    a.ns.run('ip', ['neigh', 'del', '10.244.2.0', 'dev', 'vxlan42']);
    const c = cni(ctrs.a1!, 'CHECK');
    expect(c.status).toBe(1);
    expect(c.json?.msg).toContain(`neighbour 10.244.2.0 lladdr ${MAC_B} dev vxlan42`);
    const again = { ...ctrs.a1!, id: 'ctr-a3', ns: makeNetns('vx-a3') };
    add(again);
    expect(cni(ctrs.a1!, 'CHECK').status).toBe(0);
    expect(cni(again, 'DEL').status).toBe(0);
  });

  it('STATUS and GC answer as the bridge plugin does (IPAM)', () => {
    const st = cniExec(a.ns, install, 'vxlan', { ...ctrs.a1!.conf, cniVersion: '1.1.0' }, { command: 'STATUS' });
    expect(st.status).toBe(0);
    const gc = cniExec(a.ns, install, 'vxlan', { ...ctrs.a1!.conf, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'ctr-a1', ifname: 'eth0' }, { containerID: 'ctr-a2', ifname: 'eth0' }] }, { command: 'GC' });
    expect(gc.status, gc.stdout + gc.stderr).toBe(0);
    expect(ping(ctrs.a1!.ns, ctrs.b1!.ip!)).toBe(true);
  });

  it('DEL of one container removes its veth and address and keeps the others connected', () => {
    const a1 = ctrs.a1!;
    const hostVeth = (a1.result!.interfaces as { name: string }[])[1]!.name;
    const d = cni(a1, 'DEL');
    expect(d.status, d.stdout).toBe(0);
    expect(a1.ns.ipJson<{ ifname: string }[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(a.ns.spawn('ip', ['link', 'show', hostVeth]).status).not.toBe(0);
    const leases = readdirSync(join(work, 'ipam-a', 'overlay')).filter((f) => /^\d/.test(f));
    expect(leases).toEqual([ctrs.a2!.ip]);
    // shared device and peer entries stay
    expect(link(a.ns, 'vxlan42').linkinfo!.info_kind).toBe('vxlan');
    expect(neighs(a.ns, 'vxlan42')).toHaveLength(1);
    expect(ping(ctrs.a2!.ns, ctrs.b1!.ip!)).toBe(true);
    expect(ping(ctrs.b1!.ns, ctrs.a2!.ip!)).toBe(true);
    // DEL is idempotent
    expect(cni(a1, 'DEL').status).toBe(0);
  });

  it('an incompatible device is recreated and a changed MTU set in place; a removed peer loses its entries', () => {
    const ctr = { ...ctrs.a2!, id: 'ctr-a4', ns: makeNetns('vx-a4') };
    a.ns.run('ip', ['link', 'set', 'vxlan42', 'mtu', '1300']);
    const idx = link(a.ns, 'vxlan42').ifindex;
    add(ctr);
    expect(link(a.ns, 'vxlan42')).toMatchObject({ ifindex: idx, mtu: 1450 });
    a.ns.run('ip', ['link', 'set', 'vxlan42', 'address', '02:00:00:00:00:01']);
    cni(ctr, 'DEL');
    add(ctr);
    const now = link(a.ns, 'vxlan42');
    expect(now.ifindex).not.toBe(idx);
    expect(now.address).toBe(MAC_A);
    expect(neighs(a.ns, 'vxlan42')).toHaveLength(1);
    expect(ping(ctr.ns, ctrs.b1!.ip!)).toBe(true);
    // a config without the peer: its route, neighbour and FDB entry go on the next ADD
    const lonely = { ...ctr, id: 'ctr-a5', ns: makeNetns('vx-a5'), conf: { ...ctr.conf, peers: [] } };
    add(lonely);
    expect(routes(a.ns, 'dev', 'vxlan42')).toEqual([]);
    expect(neighs(a.ns, 'vxlan42')).toEqual([]);
    expect(fdb(a.ns, 'vxlan42')).toEqual([]);
    expect(cni(lonely, 'DEL').status).toBe(0);
    add({ ...ctr, id: 'ctr-a6', ns: makeNetns('vx-a6') });
    expect(ping(ctrs.b1!.ns, ctrs.a2!.ip!)).toBe(true);
  });

  it('a second network with GBP, another port and a configured MTU', () => {
    topo.countUdp(8472);
    const ca = conf('gbpnet', 77, join(work, 'ipam-ga'), '10.245.1.0/24', [{ ip: '192.168.20.2', subnet: '10.245.2.0/24' }], { gbp: true, port: 8472, mtu: 1400 });
    const cb = conf('gbpnet', 77, join(work, 'ipam-gb'), '10.245.2.0/24', [{ ip: '192.168.10.2', subnet: '10.245.1.0/24' }], { gbp: true, port: 8472, mtu: 1400 });
    const ga: Ctr = { ns: makeNetns('vx-ga'), id: 'ctr-ga', node: a, conf: ca };
    const gb: Ctr = { ns: makeNetns('vx-gb'), id: 'ctr-gb', node: b, conf: cb };
    add(ga);
    add(gb);
    const dev = link(a.ns, 'vxlan77');
    expect(dev.linkinfo!.info_data).toMatchObject({ id: 77, port: 8472, gbp: true });
    expect(dev.mtu).toBe(1400);
    expect(dev.address).toBe('02:4d:c0:a8:0a:02');
    expect(link(ga.ns, 'eth0').mtu).toBe(1400);
    expect(link(a.ns, 'vxbr77').mtu).toBe(1400);
    const before = linkCounters(a.ns, 'vxlan77');
    expect(ping(ga.ns, gb.ip!)).toBe(true);
    expect(ping(gb.ns, ga.ip!)).toBe(true);
    expect(linkCounters(a.ns, 'vxlan77').tx).toBeGreaterThan(before.tx);
    // the two overlays are separate: no route from one to the other's pods
    expect(routes(ga.ns).map((r) => r.dst)).not.toContain('10.244.2.0/24');
    expect(cni(ga, 'CHECK').status).toBe(0);
  });
});

describe('an existing device made for another configuration: recreated when any vxlan attribute differs, kept when identical', () => {
  // Devices left by an earlier configuration of the same network (they carry the network's
  // host mark, so the plugin may remove them), with this node's VTEP MAC and the right MTU:
  // only the vxlan attributes of link-info tell them apart.
  let n: Node;
  const NET = 'recreate';
  const MAC = '02:1f:c0:a8:46:02'; // VNI 31 -> 0x1f, 192.168.70.2
  let seq = 0;

  beforeAll(() => {
    const s = topo.addSegment('192.168.70.0/24');
    n = topo.addNode('vx-re', s, '192.168.70.2');
  });

  /** `ip link add vxlan31 type vxlan ...` with the given options, marked as the network's. */
  function precreate(...opts: string[]): number {
    n.ns.spawn('ip', ['link', 'del', 'vxlan31']);
    n.ns.run('ip', ['link', 'add', 'vxlan31', 'mtu', '1450', 'address', MAC, 'type', 'vxlan', 'id', '31', 'local', '192.168.70.2', 'dev', 'ul0', ...opts]);
    n.ns.run('ip', ['link', 'set', 'vxlan31', 'alias', `cni-wasm plugin=vxlan net=${NET}`, 'up']);
    return link(n.ns, 'vxlan31').ifindex;
  }

  function ctr(): Ctr {
    const k = `re${++seq}`;
    return { ns: makeNetns(`vx-${k}`), id: `ctr-${k}`, node: n, conf: conf(NET, 31, join(work, 'ipam-re'), '10.249.1.0/24', [{ ip: '192.168.80.2', subnet: '10.249.2.0/24' }]) };
  }

  const recreated: [string, string[], string][] = [
    ['port', ['dstport', '8472', 'nolearning'], 'port 8472, expected 4789'],
    ['GBP', ['dstport', '4789', 'nolearning', 'gbp'], 'GBP on, expected off'],
    ['learning', ['dstport', '4789', 'learning'], 'learning on, expected off'],
  ];

  for (const [what, opts, diff] of recreated) {
    it(`differing only in ${what}: recreated as configured`, () => {
      const idx = precreate(...opts);
      const c = ctr();
      const r = add(c, { log: true });
      const now = link(n.ns, 'vxlan31');
      expect(now.ifindex).not.toBe(idx);
      expect(now.linkinfo!.info_data).toMatchObject({ id: 31, local: '192.168.70.2', link: 'ul0', port: 4789, learning: false });
      expect(now.linkinfo!.info_data!.gbp).toBeUndefined();
      expect(now).toMatchObject({ address: MAC, mtu: 1450, ifalias: `cni-wasm plugin=vxlan net=${NET}` });
      expect(r.log.some((l) => typeof l.msg === 'string' && l.msg.includes(`vxlan device "vxlan31" exists with ${diff}: recreating it`))).toBe(true);
      expect(hostWrites(r.log).filter((w) => w.startsWith('netlink.delete-link'))).toEqual(['netlink.delete-link ["host","vxlan31"]']);
      expect(cni(c, 'CHECK').status).toBe(0);
      expect(cni(c, 'DEL').status).toBe(0);
    });
  }

  it('identical: kept (same ifindex, nothing deleted or created); CHECK names a changed attribute, the next ADD recreates it', () => {
    const idx = precreate('dstport', '4789', 'nolearning');
    const c = ctr();
    const r = add(c, { log: true });
    expect(link(n.ns, 'vxlan31').ifindex).toBe(idx);
    expect(hostWrites(r.log).filter((w) => /^netlink\.(delete-link|create-vxlan)/.test(w))).toEqual([]);
    expect(cni(c, 'CHECK').status).toBe(0);
    // learning can be changed in place by someone else: CHECK says so
    n.ns.run('ip', ['link', 'set', 'vxlan31', 'type', 'vxlan', 'learning']);
    const chk = cni(c, 'CHECK');
    expect(chk.status).toBe(1);
    expect(chk.json?.msg).toBe('vxlan device vxlan31 has learning on, expected off');
    add(ctr());
    expect(link(n.ns, 'vxlan31').ifindex).not.toBe(idx);
    expect(link(n.ns, 'vxlan31').linkinfo!.info_data).toMatchObject({ learning: false });
    expect(cni(c, 'CHECK').status).toBe(0);
  });
});

describe('directRouting: a peer on the same underlay subnet gets a plain route, one elsewhere the overlay', () => {
  let c: Node;
  let d: Node;
  let e: Node;
  const ctrs: Record<string, Ctr> = {};

  beforeAll(() => {
    const s30 = topo.addSegment('192.168.30.0/24');
    const s40 = topo.addSegment('192.168.40.0/24');
    c = topo.addNode('vx-c', s30, '192.168.30.2');
    d = topo.addNode('vx-d', s30, '192.168.30.3');
    e = topo.addNode('vx-e', s40, '192.168.40.2');
    const nodes = [
      { key: 'c1', node: c, subnet: '10.246.1.0/24' },
      { key: 'd1', node: d, subnet: '10.246.2.0/24' },
      { key: 'e1', node: e, subnet: '10.246.3.0/24' },
    ];
    for (const n of nodes) {
      const peers = nodes.filter((o) => o !== n).map((o) => ({ ip: o.node.ip, subnet: o.subnet }));
      const cf = conf('direct', 9, join(work, `ipam-${n.key}`), n.subnet, peers, { directRouting: true, dev: 'ul0' });
      ctrs[n.key] = { ns: makeNetns(`vx-${n.key}`), id: `ctr-${n.key}`, node: n.node, conf: cf };
    }
  });

  it('ADD programs a direct route to the same-subnet peer and overlay entries for the other', () => {
    for (const k of ['c1', 'd1', 'e1']) add(ctrs[k]!);
    const cr = routes(c.ns, 'table', 'main');
    expect(cr).toContainEqual(expect.objectContaining({ dst: '10.246.2.0/24', gateway: '192.168.30.3', dev: 'ul0', protocol: '67' }));
    expect(cr).toContainEqual(expect.objectContaining({ dst: '10.246.3.0/24', gateway: '10.246.3.0', dev: 'vxlan9', flags: ['onlink'] }));
    expect(neighs(c.ns, 'vxlan9').map((n) => n.dst)).toEqual(['10.246.3.0']);
    expect(fdb(c.ns, 'vxlan9').map((f) => f.dst)).toEqual(['192.168.40.2']);
    // node e has no peer on its subnet: both through the overlay
    expect(routes(e.ns, 'dev', 'vxlan9').map((r) => r.dst).sort()).toEqual(['10.246.1.0/24', '10.246.2.0/24']);
  });

  it('same-subnet traffic is not encapsulated, the rest is; pings in both directions', () => {
    const before = linkCounters(c.ns, 'vxlan9');
    expect(ping(ctrs.c1!.ns, ctrs.d1!.ip!)).toBe(true);
    expect(ping(ctrs.d1!.ns, ctrs.c1!.ip!)).toBe(true);
    const mid = linkCounters(c.ns, 'vxlan9');
    expect(mid.tx).toBe(before.tx);
    expect(mid.rx).toBe(before.rx);
    expect(ping(ctrs.c1!.ns, ctrs.e1!.ip!)).toBe(true);
    expect(ping(ctrs.e1!.ns, ctrs.d1!.ip!)).toBe(true);
    expect(linkCounters(c.ns, 'vxlan9').tx).toBeGreaterThan(mid.tx);
  });

  it('re-ADD keeps the direct route as it is; CHECK verifies it; turning directRouting off moves the peer to the overlay', () => {
    const second = { ...ctrs.c1!, id: 'ctr-c2', ns: makeNetns('vx-c2') };
    const r = add(second, { log: true });
    expect(hostWrites(r.log).filter((w) => /route|neighbour|fdb/.test(w))).toEqual([]);
    expect(cni(ctrs.c1!, 'CHECK').status).toBe(0);
    const overlay = { ...second, id: 'ctr-c3', ns: makeNetns('vx-c3'), conf: { ...second.conf, directRouting: false } };
    add(overlay);
    expect(routes(c.ns, 'table', 'main')).toContainEqual(expect.objectContaining({ dst: '10.246.2.0/24', gateway: '10.246.2.0', dev: 'vxlan9' }));
    expect(routes(c.ns, 'dev', 'ul0').map((x) => x.dst)).not.toContain('10.246.2.0/24');
    // and back
    add({ ...second, id: 'ctr-c4', ns: makeNetns('vx-c4') });
    expect(routes(c.ns, 'table', 'main')).toContainEqual(expect.objectContaining({ dst: '10.246.2.0/24', gateway: '192.168.30.3', dev: 'ul0' }));
    expect(neighs(c.ns, 'vxlan9').map((n) => n.dst)).toEqual(['10.246.3.0']);
    expect(ping(ctrs.c1!.ns, ctrs.d1!.ip!)).toBe(true);
  });

  it("the node's own routes through the underlay stay out of reach", () => {
    // A route the plugin did not add through the underlay, on a configured peer's subnet: ADD
    // cannot remove it and says so (the host deletes only routes it marked, proto 67).
    const cf = { ...ctrs.c1!.conf, peers: [{ ip: '192.168.30.3', subnet: '10.246.2.0/24' }, { ip: '192.168.30.9', subnet: '10.99.0.0/24' }] };
    c.ns.run('ip', ['route', 'add', '10.99.0.0/24', 'via', '192.168.30.1', 'dev', 'ul0']);
    const r = cni({ ...ctrs.c1!, id: 'ctr-c5', ns: makeNetns('vx-c5'), conf: cf }, 'ADD');
    expect(r.status).toBe(1);
    expect(r.json?.msg).toContain('already has a route 10.99.0.0/24 via 192.168.30.1 dev ul0');
    expect(routes(c.ns, 'table', 'main')).toContainEqual(expect.objectContaining({ dst: '10.99.0.0/24', gateway: '192.168.30.1', dev: 'ul0' }));
    c.ns.run('ip', ['route', 'del', '10.99.0.0/24']);
  });
});

describe('concurrent ADDs on a node that has nothing of the network yet', () => {
  it('all succeed with distinct addresses: the shared bridge, device and peer entries are made once', async () => {
    const s = topo.addSegment('192.168.60.0/24');
    const n = topo.addNode('vx-conc', s, '192.168.60.2');
    const peers = Array.from({ length: 10 }, (_, i) => ({ ip: `192.168.60.${i + 10}`, subnet: `10.248.${i + 10}.0/24` }));
    const cf = conf('conc', 60, join(work, 'ipam-conc'), '10.248.1.0/24', peers);
    const ctrs = Array.from({ length: 8 }, (_, i) => makeNetns(`vx-conc${i}`));
    const answers = await Promise.all(ctrs.map((c, i) => cniExecAsync(n.ns, install, 'vxlan', cf, { command: 'ADD', containerId: `conc-${i}`, netns: c.path, ifname: 'eth0' })));
    for (const a of answers) expect(a.status, a.stdout + a.stderr).toBe(0);
    const addrs = answers.map((a) => (a.json!.ips as { address: string }[])[0]!.address);
    expect(new Set(addrs).size).toBe(8);
    expect(routes(n.ns, 'dev', 'vxlan60')).toHaveLength(10);
    expect(neighs(n.ns, 'vxlan60')).toHaveLength(10);
    expect(fdb(n.ns, 'vxlan60')).toHaveLength(10);
    expect(n.ns.ipJson<unknown[]>('link', 'show', 'master', 'vxbr60')).toHaveLength(8);
    expect(ping(ctrs[0]!, addrs[7]!.split('/')[0]!)).toBe(true);
  });
});

describe('invalid configurations are code 7 and change nothing', () => {
  let n: Node;
  let ctr: Netns;

  beforeAll(() => {
    const s = topo.addSegment('192.168.50.0/24');
    n = topo.addNode('vx-inv', s, '192.168.50.2');
    ctr = makeNetns('vx-inv-c');
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ['vxlanId out of range', { vxlanId: 1 << 24 }, 'config.vxlanId must be between 0 and 16777215'],
    ['vxlanId not an integer', { vxlanId: '7' }, 'config.vxlanId must be an integer'],
    ['port 0', { port: 0 }, 'config.port must be between 1 and 65535'],
    ['port too large', { port: 70000 }, 'config.port must be between 1 and 65535'],
    ['mtu too small', { mtu: 40 }, 'config.mtu must be at least 68'],
    ['mtu beyond the underlay', { mtu: 1480 }, 'config.mtu 1480 does not fit the underlay "ul0": at most its MTU 1500 - 50 = 1450'],
    ['gbp not a boolean', { gbp: 'yes' }, 'config.gbp must be a boolean'],
    ['dev not a name', { dev: 'a/b' }, 'config.dev is not a valid interface name'],
    ['dev missing', { dev: 'nope0' }, 'config.dev: '],
    ['localIP IPv6', { localIP: 'fd00::1' }, 'config.localIP must be a unicast IPv4 address'],
    ['isGateway false', { isGateway: false }, 'config.isGateway cannot be false'],
    ['no ipam', { ipam: undefined }, 'config.ipam.type is required'],
    ['peers not an array', { peers: {} }, 'config.peers must be an array'],
    ['peer without ip', { peers: [{ subnet: '10.1.0.0/24' }] }, 'config.peers[0].ip is required'],
    ['peer ip multicast', { peers: [{ ip: '239.1.1.1', subnet: '10.1.0.0/24' }] }, 'config.peers[0].ip must be a unicast IPv4 address'],
    ['peer subnet with host bits', { peers: [{ ip: '192.168.50.3', subnet: '10.1.0.5/24' }] }, 'config.peers[0].subnet must be a network address (10.1.0.0/24)'],
    ['peer subnet IPv6', { peers: [{ ip: '192.168.50.3', subnet: 'fd00::/64' }] }, 'config.peers[0].subnet must be an IPv4 CIDR'],
    ['peer mac multicast', { peers: [{ ip: '192.168.50.3', subnet: '10.1.0.0/24', mac: '01:00:5e:00:00:01' }] }, 'config.peers[0].mac must be a unicast MAC address'],
    ['peer mac garbage', { peers: [{ ip: '192.168.50.3', subnet: '10.1.0.0/24', mac: 'zz' }] }, 'config.peers[0].mac is not a MAC address'],
    [
      'peers overlapping',
      { peers: [{ ip: '192.168.50.3', subnet: '10.1.0.0/16' }, { ip: '192.168.50.4', subnet: '10.1.2.0/24' }] },
      'config.peers[1].subnet 10.1.2.0/24 overlaps config.peers[0].subnet 10.1.0.0/16',
    ],
    ['peer is this node', { peers: [{ ip: '192.168.50.2', subnet: '10.1.0.0/24' }] }, "config.peers[0].ip 192.168.50.2 is this node's own VTEP address"],
    ['peer subnet is ours', { peers: [{ ip: '192.168.50.3', subnet: '10.247.0.0/16' }] }, "overlaps this node's pod subnet 10.247.1.0/24"],
  ];

  for (const [what, change, msg] of cases) {
    it(what, () => {
      const base = conf('bad', 5, join(work, 'ipam-inv'), '10.247.1.0/24', []);
      const cf = { ...base, ...change };
      const before = JSON.stringify([n.ns.ipJson<unknown[]>('-d', 'link', 'show').length, routes(n.ns)]);
      const r = cniExec(n.ns, install, 'vxlan', cf, { command: 'ADD', containerId: 'inv', netns: ctr.path, ifname: 'eth0' });
      expect(r.status).toBe(1);
      expect(r.json?.code, r.stdout).toBe(7);
      expect(r.json?.msg).toContain(msg);
      if (what !== 'peer subnet is ours') expect(JSON.stringify([n.ns.ipJson<unknown[]>('-d', 'link', 'show').length, routes(n.ns)])).toBe(before);
      else expect(readdirSync(join(work, 'ipam-inv', 'bad')).filter((f) => /^\d/.test(f))).toEqual([]);
    });
  }
});
