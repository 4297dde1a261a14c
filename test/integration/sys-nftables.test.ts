// host/sys/nftables on the real kernel, in throwaway namespaces:
//   ctr (10.10.0.2/24, fd10::2/64) ── node (router, cni-wasm's table lives here) ── outside (192.168.50.2, fd50::2)
//                                                                                ── peer (10.10.200.2, inside a /16 given for the container)
// "outside" has no route back to the container subnet, so a ping from the container only
// comes back when the node masquerades it; counters in outside/peer show which source
// address arrived. Everything is read back with the nft tool; other tables in the node
// (the reference bridge plugin's iptables-nft chains) must come out untouched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSysError } from '../../host/sys/errors.ts';
import { type NetnsHandle, openNetns } from '../../host/sys/netns.ts';
import {
  deleteMasqueradeTable,
  ensureMasquerade,
  ensureMasqueradeTable,
  gcMasquerade,
  listMasquerade,
  removeMasquerade,
} from '../../host/sys/nftables/index.ts';
import { deleteMacSpoofTable, ensureMacSpoofCheck, gcMacSpoofCheck, listMacSpoofCheck, removeMacSpoofCheck } from '../../host/sys/nftables/macspoof.ts';
import { ensureMasqueradeNft, gcMasqueradeNft, listMasqueradeNft, removeMasqueradeNft } from '../../host/sys/nftables/nft-cli.ts';
import { setSysctl } from '../../host/sys/sysctl.ts';
import { cleanup, makeNetns, type Netns } from '../harness/netns.ts';

let node: Netns;
let ctr: Netns;
let outside: Netns;
let peer: Netns;
let nodeNs: NetnsHandle;
const dataDir = mkdtempSync(join(tmpdir(), 'cniw-nft-'));

const C1 = { network: 'net1', containerId: 'ctr-one', ifname: 'eth0' };
const C2 = { network: 'net1', containerId: 'ctr-two', ifname: 'eth0' };

function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isSysError(e)) return e.errno;
    throw e;
  }
  throw new Error('expected a SysError, nothing was thrown');
}

interface NftObj {
  [kind: string]: Record<string, unknown>;
}
function ruleset(ns: Netns): NftObj[] {
  return (JSON.parse(ns.run('nft', ['-j', 'list', 'ruleset'])) as { nftables: NftObj[] }).nftables.filter((o) => !o.metainfo);
}
/** Everything in the ruleset except cni-wasm's table, without handles (they are per-table counters). */
function othersOf(ns: Netns): string {
  return JSON.stringify(
    ruleset(ns)
      .filter((o) => {
        const v = Object.values(o)[0]!;
        return !(v.family === 'inet' && (v.table === 'cni_wasm' || v.name === 'cni_wasm'));
      })
      .map((o) => JSON.parse(JSON.stringify(o, (k, v: unknown) => (k === 'handle' ? undefined : v))) as unknown),
  );
}
function ourTableText(ns: Netns): string {
  return ns.run('nft', ['list', 'table', 'inet', 'cni_wasm']);
}
/** Elements of our sets as nft prints them, as a sorted list of "set: element comment". */
function elementsAsNftSeesThem(ns: Netns): string[] {
  const out: string[] = [];
  for (const o of ruleset(ns)) {
    const s = o.set as { table?: string; name?: string; elem?: { elem: { val: unknown; comment?: string } }[] } | undefined;
    if (!s || s.table !== 'cni_wasm') continue;
    for (const e of s.elem ?? []) out.push(`${s.name}: ${JSON.stringify(e.elem.val)} ${e.elem.comment ?? ''}`);
  }
  return out.sort();
}
/** Packet counter of the rule whose comment is `comment` in `ns`. */
function counterByComment(ns: Netns, comment: string): number {
  for (const o of ruleset(ns)) {
    const r = o.rule as { comment?: string; expr?: { counter?: { packets: number } }[] } | undefined;
    if (r?.comment !== comment) continue;
    for (const x of r.expr ?? []) if (x.counter) return x.counter.packets;
  }
  throw new Error(`no rule with comment ${comment}`);
}
/** Packets counted by our masquerade rules (v4, v6). */
function masqCounters(ns: Netns): { v4: number; v6: number } {
  const res = { v4: -1, v6: -1 };
  for (const o of ruleset(ns)) {
    const r = o.rule as { table?: string; expr?: { counter?: { packets: number }; match?: { left?: { payload?: { protocol?: string } } } }[] } | undefined;
    if (!r || r.table !== 'cni_wasm') continue;
    const c = r.expr?.find((x) => x.counter)?.counter;
    if (!c) continue;
    const proto = r.expr?.find((x) => x.match?.left?.payload)?.match?.left?.payload?.protocol;
    if (proto === 'ip') res.v4 = c.packets;
    if (proto === 'ip6') res.v6 = c.packets;
  }
  return res;
}
const ping = (from: Netns, to: string): boolean =>
  from.spawn('/bin/busybox', [to.includes(':') ? 'ping6' : 'ping', '-c1', '-W2', to], { timeoutMs: 10_000 }).status === 0;

beforeAll(() => {
  node = makeNetns('nft-node');
  ctr = makeNetns('nft-ctr');
  outside = makeNetns('nft-out');
  peer = makeNetns('nft-peer');
  nodeNs = openNetns(node.path);
  const n = (...a: string[]) => node.run('ip', a);
  n('link', 'add', 'ctr0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ctr.name);
  n('link', 'add', 'out0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside.name);
  n('link', 'add', 'peer0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer.name);
  n('addr', 'add', '10.10.0.1/24', 'dev', 'ctr0');
  n('addr', 'add', 'fd10::1/64', 'dev', 'ctr0', 'nodad');
  n('addr', 'add', '192.168.50.1/24', 'dev', 'out0');
  n('addr', 'add', 'fd50::1/64', 'dev', 'out0', 'nodad');
  n('addr', 'add', '10.10.200.1/24', 'dev', 'peer0');
  for (const l of ['ctr0', 'out0', 'peer0']) n('link', 'set', l, 'up');
  const c = (...a: string[]) => ctr.run('ip', a);
  c('addr', 'add', '10.10.0.2/24', 'dev', 'eth0');
  c('addr', 'add', 'fd10::2/64', 'dev', 'eth0', 'nodad');
  c('link', 'set', 'eth0', 'up');
  c('route', 'add', 'default', 'via', '10.10.0.1');
  c('-6', 'route', 'add', 'default', 'via', 'fd10::1');
  const o = (...a: string[]) => outside.run('ip', a);
  o('addr', 'add', '192.168.50.2/24', 'dev', 'eth0');
  o('addr', 'add', 'fd50::2/64', 'dev', 'eth0', 'nodad');
  o('link', 'set', 'eth0', 'up'); // no route back to 10.10.0.0/24 or fd10::/64
  peer.run('ip', ['addr', 'add', '10.10.200.2/24', 'dev', 'eth0']);
  peer.run('ip', ['link', 'set', 'eth0', 'up']);
  peer.run('ip', ['route', 'add', '10.10.0.0/24', 'via', '10.10.200.1']);
  // the node routes (cni-wasm's own sysctl module, inside the node namespace only)
  setSysctl('net.ipv4.ip_forward', '1', nodeNs);
  setSysctl('net.ipv6.conf.all.forwarding', '1', nodeNs);
  // observers: which source addresses arrive
  outside.run('nft', ['-f', '-'], {
    input: `table inet obs { chain input { type filter hook input priority 0;
      ip saddr 192.168.50.1 icmp type echo-request counter comment "from-node4"
      ip saddr 10.10.0.2 icmp type echo-request counter comment "from-ctr4"
      ip6 saddr fd50::1 icmpv6 type echo-request counter comment "from-node6"
      ip6 saddr fd10::2 icmpv6 type echo-request counter comment "from-ctr6"
    }
    }`,
  });
  peer.run('nft', ['-f', '-'], {
    input: `table inet obs { chain input { type filter hook input priority 0;
      ip saddr 10.10.200.1 icmp type echo-request counter comment "from-node4"
      ip saddr 10.10.0.2 icmp type echo-request counter comment "from-ctr4"
    }
    }`,
  });
});

afterAll(() => {
  nodeNs?.close();
  cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the table', () => {
  it('is what nft itself makes of the ruleset documented in layout.ts', () => {
    const a = makeNetns('nft-a');
    const b = makeNetns('nft-b');
    const ha = openNetns(a.path);
    try {
      ensureMasqueradeTable(ha);
      b.run('nft', ['-f', '-'], {
        input: `table inet cni_wasm {
          comment "cni-wasm: masquerade for container addresses"
          set masq4 { type ipv4_addr; }
          set subnet4 { type ipv4_addr . ipv4_addr; flags interval; }
          set masq6 { type ipv6_addr; }
          set subnet6 { type ipv6_addr . ipv6_addr; flags interval; }
          chain postrouting {
            type nat hook postrouting priority srcnat; policy accept;
            ip daddr 224.0.0.0/4 return
            ip6 daddr ff00::/8 return
            ip saddr . ip daddr @subnet4 return
            ip6 saddr . ip6 daddr @subnet6 return
            ip saddr @masq4 counter masquerade
            ip6 saddr @masq6 counter masquerade
          }
        }`,
      });
      expect(ourTableText(a)).toBe(ourTableText(b));
      // and their bytecode is the same too
      const dbg = (ns: Netns) => ns.run('nft', ['--debug=netlink', 'list', 'chain', 'inet', 'cni_wasm', 'postrouting']).replace(/handle \d+/g, '');
      expect(dbg(a)).toBe(dbg(b));
      // elements written by nft parse back through netlink, and the reverse
      b.run('nft', ['add element inet cni_wasm masq4 { 10.1.0.2 comment "x" }; add element inet cni_wasm subnet4 { 10.1.0.2 . 10.1.0.0/24 comment "x" }']);
      const hb = openNetns(b.path);
      expect(listMasquerade(hb)).toEqual([{ family: 4, address: '10.1.0.2', subnet: '10.1.0.0/24', comment: 'x', masquerade: true }]);
      hb.close();
      // re-asserting the table is idempotent: still six rules, not twelve
      ensureMasqueradeTable(ha);
      ensureMasqueradeTable(ha);
      expect(ourTableText(a)).toBe(ourTableText(b).replace(/\n\t\telements = \{[^}]*\}/g, ''));
    } finally {
      ha.close();
      a.remove();
      b.remove();
    }
  });
});

describe('masquerade through raw netlink', () => {
  it('ADD makes container traffic leave with the node address (v4 and v6)', () => {
    const before4 = counterByComment(outside, 'from-ctr4');
    // without masquerade the reply cannot come back: outside has no route to the container
    expect(ping(ctr, '192.168.50.2')).toBe(false);
    expect(counterByComment(outside, 'from-ctr4')).toBeGreaterThan(before4); // it did arrive, unmasqueraded
    expect(ping(ctr, 'fd50::2')).toBe(false);

    ensureMasquerade({ ...C1, addresses: ['10.10.0.2/24', 'fd10::2/64'] }, nodeNs);
    expect(elementsAsNftSeesThem(node)).toEqual(
      [
        `masq4: "10.10.0.2" ${listMasquerade(nodeNs)[0]!.comment}`,
        `masq6: "fd10::2" ${listMasquerade(nodeNs)[0]!.comment}`,
        `subnet4: {"concat":["10.10.0.2",{"prefix":{"addr":"10.10.0.0","len":24}}]} ${listMasquerade(nodeNs)[0]!.comment}`,
        `subnet6: {"concat":["fd10::2",{"prefix":{"addr":"fd10::","len":64}}]} ${listMasquerade(nodeNs)[0]!.comment}`,
      ].sort(),
    );
    expect(listMasquerade(nodeNs)[0]!.comment).toMatch(/^[0-9a-f]{16}-[0-9a-f]{16}-[0-9a-f]{8} net: net1, if: eth0, id: ctr-one$/);

    const ctrBefore = counterByComment(outside, 'from-ctr4');
    const nodeBefore = counterByComment(outside, 'from-node4');
    const masqBefore = masqCounters(node);
    expect(ping(ctr, '192.168.50.2')).toBe(true);
    expect(counterByComment(outside, 'from-node4')).toBe(nodeBefore + 1);
    expect(counterByComment(outside, 'from-ctr4')).toBe(ctrBefore);
    expect(masqCounters(node).v4).toBe(masqBefore.v4 + 1);

    const node6 = counterByComment(outside, 'from-node6');
    expect(ping(ctr, 'fd50::2')).toBe(true);
    expect(counterByComment(outside, 'from-node6')).toBe(node6 + 1);
    expect(masqCounters(node).v6).toBe(masqBefore.v6 + 1);
  });

  it('ADD is idempotent', () => {
    const text = ourTableText(node).replace(/packets \d+ bytes \d+/g, '');
    ensureMasquerade({ ...C1, addresses: ['10.10.0.2/24', 'fd10::2/64'] }, nodeNs);
    ensureMasquerade({ ...C1, addresses: ['10.10.0.2/24', 'fd10::2/64', '10.10.0.2/24'] }, nodeNs);
    expect(ourTableText(node).replace(/packets \d+ bytes \d+/g, '')).toBe(text);
  });

  it('ADD repairs an attachment of which only some elements are left', () => {
    node.run('nft', ['delete', 'element', 'inet', 'cni_wasm', 'masq4', '{ 10.10.0.2 }']);
    expect(ping(ctr, '192.168.50.2')).toBe(false);
    ensureMasquerade({ ...C1, addresses: ['10.10.0.2/24', 'fd10::2/64'] }, nodeNs);
    expect(elementsAsNftSeesThem(node)).toHaveLength(4);
    expect(ping(ctr, '192.168.50.2')).toBe(true);
  });

  it('does not masquerade traffic to the container subnet', () => {
    // the container's address given with a /16: the peer at 10.10.200.2 is inside it
    expect(removeMasquerade(C1, nodeNs)).toBe(4);
    ensureMasquerade({ ...C1, addresses: ['10.10.0.2/16'] }, nodeNs);
    const fromCtr = counterByComment(peer, 'from-ctr4');
    const fromNode = counterByComment(peer, 'from-node4');
    expect(ping(ctr, '10.10.200.2')).toBe(true);
    expect(counterByComment(peer, 'from-ctr4')).toBe(fromCtr + 1);
    expect(counterByComment(peer, 'from-node4')).toBe(fromNode);
    // while traffic leaving the /16 still is
    expect(ping(ctr, '192.168.50.2')).toBe(true);
    expect(removeMasquerade(C1, nodeNs)).toBe(2);
    ensureMasquerade({ ...C1, addresses: ['10.10.0.2/24', 'fd10::2/64'] }, nodeNs);
  });

  it('DEL removes only its own attachment, and twice is fine', () => {
    ensureMasquerade({ ...C2, addresses: ['10.10.0.3/24'] }, nodeNs);
    ensureMasquerade({ ...C1, ifname: 'net1', addresses: ['10.10.0.4/24'] }, nodeNs); // same container, another interface
    expect(listMasquerade(nodeNs).map((e) => e.address).sort()).toEqual(['10.10.0.2', '10.10.0.3', '10.10.0.4', 'fd10::2']);
    expect(removeMasquerade(C1, nodeNs)).toBe(4);
    expect(removeMasquerade(C1, nodeNs)).toBe(0);
    expect(listMasquerade(nodeNs).map((e) => e.address).sort()).toEqual(['10.10.0.3', '10.10.0.4']);
    expect(ping(ctr, '192.168.50.2')).toBe(false); // masquerade for .2 is gone
    // without ifname: every interface of the container
    expect(removeMasquerade({ network: 'net1', containerId: 'ctr-one' }, nodeNs)).toBe(2);
    expect(listMasquerade(nodeNs).map((e) => e.address)).toEqual(['10.10.0.3']);
    // another network's DEL of the same container ID touches nothing here
    expect(removeMasquerade({ ...C2, network: 'net2' }, nodeNs)).toBe(0);
    expect(removeMasquerade(C2, nodeNs)).toBe(2);
    expect(elementsAsNftSeesThem(node)).toEqual([]);
  });

  it('an address taken over by a new attachment survives the old attachment\'s DEL', () => {
    ensureMasquerade({ ...C1, addresses: ['10.10.0.9/24'] }, nodeNs);
    ensureMasquerade({ ...C2, addresses: ['10.10.0.9/24'] }, nodeNs);
    const [e] = listMasquerade(nodeNs);
    expect(e!.comment).toContain('id: ctr-two');
    expect(elementsAsNftSeesThem(node)).toHaveLength(2);
    expect(removeMasquerade(C1, nodeNs)).toBe(0);
    expect(listMasquerade(nodeNs)).toHaveLength(1);
    expect(removeMasquerade(C2, nodeNs)).toBe(2);
  });

  it('a DEL racing an ADD that takes its address over does not delete the new owner\'s elements', () => {
    ensureMasquerade({ ...C1, addresses: ['10.10.0.9/24'] }, nodeNs);
    let raced = 0;
    // between DEL's read of the sets and its delete batch, another attachment takes the address over
    const removed = removeMasquerade(C1, nodeNs, {
      afterList: () => {
        if (raced++ === 0) ensureMasquerade({ ...C2, addresses: ['10.10.0.9/24'] }, nodeNs);
      },
    });
    expect(raced).toBe(1); // the batch was refused (ERESTART) and the DEL read again: nothing of C1 left
    expect(removed).toBe(0);
    expect(listMasquerade(nodeNs).map((e) => e.comment?.includes('id: ctr-two'))).toEqual([true]);
    expect(elementsAsNftSeesThem(node)).toHaveLength(2);
    expect(removeMasquerade(C2, nodeNs)).toBe(2);
  });

  it('GC keeps the live attachments of a network and nothing of other networks is touched', () => {
    ensureMasquerade({ ...C1, addresses: ['10.10.0.2/24'] }, nodeNs);
    ensureMasquerade({ ...C2, addresses: ['10.10.0.3/24'] }, nodeNs);
    ensureMasquerade({ network: 'net1', containerId: 'gone', ifname: 'eth0', addresses: ['10.10.0.5/24'] }, nodeNs);
    ensureMasquerade({ network: 'net2', containerId: 'other', ifname: 'eth0', addresses: ['10.20.0.5/24'] }, nodeNs);
    expect(gcMasquerade('net1', [C1, C2], nodeNs)).toBe(2);
    expect(listMasquerade(nodeNs).map((e) => e.address).sort()).toEqual(['10.10.0.2', '10.10.0.3', '10.20.0.5']);
    expect(gcMasquerade('net2', [], nodeNs)).toBe(2);
    expect(gcMasquerade('net1', [], nodeNs)).toBe(4);
    expect(listMasquerade(nodeNs)).toEqual([]);
  });

  it('recreates its table when someone deleted it', () => {
    node.run('nft', ['delete', 'table', 'inet', 'cni_wasm']);
    expect(listMasquerade(nodeNs)).toEqual([]);
    expect(removeMasquerade(C1, nodeNs)).toBe(0); // DEL without a table is fine
    ensureMasquerade({ ...C1, addresses: ['10.10.0.2/24'] }, nodeNs);
    expect(ping(ctr, '192.168.50.2')).toBe(true);
    expect(removeMasquerade(C1, nodeNs)).toBe(2);
  });

  it('reports errors as SysError and changes nothing', () => {
    const text = ourTableText(node);
    for (const bad of [['10.10.0.300/24'], ['10.10.0.2/33'], ['fd10::2/129'], ['not-an-ip'], ['10.10.0.2/24/1'], ['010.10.0.2/24'], ['1:2:3:4:5:6:7:8:9/64']]) {
      expect(errnoOf(() => ensureMasquerade({ ...C1, addresses: bad }, nodeNs)), bad[0]).toBe('EINVAL');
    }
    expect(errnoOf(() => ensureMasquerade({ ...C1, addresses: ['10.10.0.2/24', '10.10.0.2/16'] }, nodeNs))).toBe('EINVAL');
    expect(errnoOf(() => ensureMasquerade({ ...C1, containerId: '', addresses: ['10.10.0.2/24'] }, nodeNs))).toBe('EINVAL');
    expect(ourTableText(node)).toBe(text);
    const closed = openNetns(node.path);
    closed.close();
    expect(errnoOf(() => ensureMasquerade({ ...C1, addresses: ['10.10.0.2/24'] }, closed))).toBe('EBADF');
    // a foreign table of the same name with an incompatible set: the kernel refuses the whole batch
    const other = makeNetns('nft-foreign');
    const ho = openNetns(other.path);
    try {
      other.run('nft', ['add table inet cni_wasm; add set inet cni_wasm masq4 { type ipv6_addr; }']);
      const before = other.run('nft', ['list', 'ruleset']);
      let err: unknown;
      try {
        ensureMasquerade({ ...C1, addresses: ['10.10.0.2/24'] }, ho);
      } catch (e) {
        err = e;
      }
      expect(isSysError(err)).toBe(true);
      const se = err as { errno: string; op: string; message: string };
      expect(['EINVAL', 'EEXIST']).toContain(se.errno);
      expect(se.op).toMatch(/^masquerade\.add ctr-one: (get element|add element|add set) masq4/);
      expect(other.run('nft', ['list', 'ruleset'])).toBe(before); // all or nothing
    } finally {
      ho.close();
      other.remove();
    }
  });
});

describe('masquerade through nft -f -', () => {
  it('does the same, and interoperates with the netlink path', () => {
    ensureMasqueradeNft({ ...C1, addresses: ['10.10.0.2/24', 'fd10::2/64'] }, nodeNs);
    const viaNetlink = listMasquerade(nodeNs);
    const viaNft = listMasqueradeNft(nodeNs);
    const sort = (l: typeof viaNft) => [...l].sort((a, b) => a.address.localeCompare(b.address));
    expect(sort(viaNft)).toEqual(sort(viaNetlink));
    expect(viaNetlink.map((e) => e.address).sort()).toEqual(['10.10.0.2', 'fd10::2']);
    expect(ping(ctr, '192.168.50.2')).toBe(true);
    // written by nft, removed by netlink, and the reverse
    expect(removeMasquerade(C1, nodeNs)).toBe(4);
    ensureMasquerade({ ...C2, addresses: ['10.10.0.3/24'] }, nodeNs);
    ensureMasqueradeNft({ ...C1, addresses: ['10.10.0.2/24'] }, nodeNs);
    expect(removeMasqueradeNft(C2, nodeNs)).toBe(2);
    expect(removeMasqueradeNft(C2, nodeNs)).toBe(0);
    expect(listMasquerade(nodeNs).map((e) => e.address)).toEqual(['10.10.0.2']);
    expect(gcMasqueradeNft('net1', [], nodeNs)).toBe(2);
    expect(listMasqueradeNft(nodeNs)).toEqual([]);
    expect(errnoOf(() => ensureMasqueradeNft({ ...C1, addresses: ['10.10.0.2/24'] }, nodeNs, { nft: '/nonexistent/nft' }))).toBe('ENOENT');
  });
});

describe('coexistence', () => {
  it('leaves the reference bridge plugin\'s iptables-nft rules and CNI- chains alone, and they leave it alone', () => {
    const ctr2 = makeNetns('nft-ctr2');
    const conf = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'refnet',
      type: 'bridge',
      bridge: 'cni-ref0',
      isGateway: true,
      ipMasq: true,
      ipam: { type: 'host-local', subnet: '10.99.0.0/24', dataDir },
    });
    const env = (cmd: string) => ({ ...process.env, CNI_COMMAND: cmd, CNI_CONTAINERID: 'refctr', CNI_NETNS: ctr2.path, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' });
    const add = node.spawn('/usr/lib/cni/bridge', [], { input: conf, env: env('ADD') });
    expect(add.status, add.stdout + add.stderr).toBe(0);
    const iptBefore = node.run('iptables-nft-save', ['-t', 'nat']).replace(/^#.*$/gm, '').replace(/\[\d+:\d+\]/g, '');
    expect(iptBefore).toMatch(/CNI-/);
    // some more foreign state: a plain nft table with a chain hooked at the same place
    node.run('nft', ['add table ip other; add chain ip other post { type nat hook postrouting priority 100; }; add rule ip other post ip saddr 10.98.0.0/24 counter masquerade']);
    const others = othersOf(node);

    ensureMasquerade({ ...C1, addresses: ['10.10.0.2/24', 'fd10::2/64'] }, nodeNs);
    ensureMasquerade({ ...C2, addresses: ['10.10.0.3/24'] }, nodeNs);
    expect(ping(ctr, '192.168.50.2')).toBe(true);
    expect(removeMasquerade(C1, nodeNs)).toBe(4);
    expect(gcMasquerade('net1', [], nodeNs)).toBe(2);
    ensureMasqueradeNft({ ...C1, addresses: ['10.10.0.2/24'] }, nodeNs);
    expect(removeMasqueradeNft(C1, nodeNs)).toBe(2);
    expect(othersOf(node)).toBe(others);
    expect(node.run('iptables-nft-save', ['-t', 'nat']).replace(/^#.*$/gm, '').replace(/\[\d+:\d+\]/g, '')).toBe(iptBefore);

    // and the reference plugin's own DEL still works and does not touch cni-wasm's table
    ensureMasquerade({ ...C1, addresses: ['10.10.0.2/24'] }, nodeNs);
    const ours = ourTableText(node).replace(/packets \d+ bytes \d+/g, '');
    const del = node.spawn('/usr/lib/cni/bridge', [], { input: conf, env: env('DEL') });
    expect(del.status, del.stdout + del.stderr).toBe(0);
    expect(node.run('iptables-nft-save', ['-t', 'nat'])).not.toMatch(/CNI-[0-9a-f]/);
    expect(ourTableText(node).replace(/packets \d+ bytes \d+/g, '')).toBe(ours);
    expect(ping(ctr, '192.168.50.2')).toBe(true);

    deleteMasqueradeTable(nodeNs);
    deleteMasqueradeTable(nodeNs); // idempotent
    expect(node.spawn('nft', ['list', 'table', 'inet', 'cni_wasm']).status).not.toBe(0);
    expect(node.run('nft', ['list', 'table', 'ip', 'other'])).toMatch(/10\.98\.0\.0\/24/);
    ctr2.remove();
  });
});

describe('MAC spoof check through raw netlink', () => {
  //   a (10.77.0.2) ── vA ┐
  //                       br0 (node)
  //   b (10.77.0.3) ── vB ┘
  it('drops frames from the veth whose source MAC is not the container\'s, and DEL lifts it', () => {
    const br = makeNetns('nft-br');
    const a = makeNetns('nft-a');
    const b = makeNetns('nft-b');
    const hbr = openNetns(br.path);
    try {
      const n = (...x: string[]) => br.run('ip', x);
      n('link', 'add', 'br0', 'type', 'bridge');
      n('link', 'set', 'br0', 'up');
      for (const [peerNs, veth, ip] of [[a, 'vA', '10.77.0.2/24'], [b, 'vB', '10.77.0.3/24']] as const) {
        n('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peerNs.name);
        n('link', 'set', veth, 'master', 'br0');
        n('link', 'set', veth, 'up');
        peerNs.run('ip', ['addr', 'add', ip, 'dev', 'eth0']);
        peerNs.run('ip', ['link', 'set', 'eth0', 'up']);
      }
      const macA = (JSON.parse(a.run('ip', ['-j', 'link', 'show', 'eth0'])) as { address: string }[])[0]!.address;
      const A = { network: 'net1', containerId: 'ctr-a', ifname: 'eth0' };
      expect(ping(a, '10.77.0.3')).toBe(true);

      ensureMacSpoofCheck({ ...A, hostLink: 'vA', mac: macA.toUpperCase() }, hbr);
      ensureMacSpoofCheck({ ...A, hostLink: 'vA', mac: macA }, hbr); // idempotent
      // read back with nft: cni-wasm's own bridge table, one rule, owned by its comment
      const objs = ruleset(br);
      const chain = objs.find((o) => o.chain)?.chain as Record<string, unknown>;
      expect(chain).toMatchObject({ family: 'bridge', table: 'cni_wasm', name: 'prerouting', type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' });
      const rules = objs.filter((o) => o.rule).map((o) => o.rule as { family: string; table: string; comment?: string; expr: unknown[] });
      expect(rules).toHaveLength(1);
      expect(rules[0]).toMatchObject({ family: 'bridge', table: 'cni_wasm', chain: 'prerouting' });
      expect(rules[0]!.comment).toMatch(new RegExp(`^[0-9a-f]{16}-[0-9a-f]{16}-[0-9a-f]{8} via: vA, mac: ${macA}, net: net1, if: eth0, id: ctr-a$`));
      expect(rules[0]!.expr).toEqual([
        { match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'vA' } },
        { match: { op: '!=', left: { payload: { protocol: 'ether', field: 'saddr' } }, right: macA } },
        { counter: { packets: 0, bytes: 0 } },
        { drop: null },
      ]);
      expect(listMacSpoofCheck(hbr)).toMatchObject([{ hostLink: 'vA', mac: macA }]);

      // the container keeps its MAC: it still reaches b; with another MAC it does not
      expect(ping(a, '10.77.0.3')).toBe(true);
      b.run('ip', ['neigh', 'flush', 'all']);
      a.run('ip', ['neigh', 'flush', 'all']);
      a.run('ip', ['link', 'set', 'eth0', 'address', '02:00:00:00:77:99']);
      expect(ping(a, '10.77.0.3')).toBe(false);
      expect((JSON.parse(br.run('nft', ['-j', 'list', 'table', 'bridge', 'cni_wasm'])) as { nftables: NftObj[] }).nftables
        .find((o) => o.rule)?.rule?.expr).toContainEqual({ counter: expect.objectContaining({ packets: expect.any(Number) }) });
      const dropped = ((ruleset(br).find((o) => o.rule)!.rule!.expr as { counter?: { packets: number } }[]).find((x) => x.counter)!.counter!.packets);
      expect(dropped).toBeGreaterThan(0);

      // a new filter for the same MAC changes: ADD again with the new MAC replaces the rule
      ensureMacSpoofCheck({ ...A, hostLink: 'vA', mac: '02:00:00:00:77:99' }, hbr);
      expect(listMacSpoofCheck(hbr)).toMatchObject([{ hostLink: 'vA', mac: '02:00:00:00:77:99' }]);
      expect(ping(a, '10.77.0.3')).toBe(true);

      // another attachment for the same (reused) veth name takes the rule over
      const A2 = { network: 'net1', containerId: 'ctr-a2', ifname: 'eth0' };
      ensureMacSpoofCheck({ ...A2, hostLink: 'vA', mac: '02:00:00:00:77:99' }, hbr);
      expect(listMacSpoofCheck(hbr)).toHaveLength(1);
      expect(removeMacSpoofCheck(A, hbr)).toBe(0);
      ensureMacSpoofCheck({ ...A, hostLink: 'vB', mac: (JSON.parse(b.run('ip', ['-j', 'link', 'show', 'eth0'])) as { address: string }[])[0]!.address }, hbr);
      expect(listMacSpoofCheck(hbr)).toHaveLength(2);
      expect(gcMacSpoofCheck('net1', [A], hbr)).toBe(1); // A2 is not live
      expect(listMacSpoofCheck(hbr)).toMatchObject([{ hostLink: 'vB' }]);

      // DEL: removes its rule, twice is fine; the container's old MAC is blocked no more
      ensureMacSpoofCheck({ ...A, hostLink: 'vA', mac: macA }, hbr);
      expect(ping(a, '10.77.0.3')).toBe(false);
      expect(removeMacSpoofCheck(A, hbr)).toBe(1);
      expect(removeMacSpoofCheck(A, hbr)).toBe(0);
      expect(listMacSpoofCheck(hbr)).toEqual([]);
      expect(ping(a, '10.77.0.3')).toBe(true);

      // bad input changes nothing
      expect(errnoOf(() => ensureMacSpoofCheck({ ...A, hostLink: 'vA', mac: 'nope' }, hbr))).toBe('EINVAL');
      expect(errnoOf(() => ensureMacSpoofCheck({ ...A, hostLink: 'a/b', mac: macA }, hbr))).toBe('EINVAL');
      expect(errnoOf(() => ensureMacSpoofCheck({ ...A, hostLink: 'x'.repeat(16), mac: macA }, hbr))).toBe('EINVAL');
      expect(listMacSpoofCheck(hbr)).toEqual([]);

      // the masquerade table (inet) and the MAC table (bridge) are separate
      ensureMacSpoofCheck({ ...A, hostLink: 'vA', mac: macA }, hbr);
      deleteMacSpoofTable(hbr);
      deleteMacSpoofTable(hbr); // idempotent
      expect(br.spawn('nft', ['list', 'table', 'bridge', 'cni_wasm']).status).not.toBe(0);
      expect(listMacSpoofCheck(hbr)).toEqual([]);
      expect(removeMacSpoofCheck(A, hbr)).toBe(0); // no table: DEL still succeeds
    } finally {
      hbr.close();
      a.remove();
      b.remove();
      br.remove();
    }
  });
});
