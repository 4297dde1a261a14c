// Connectivity through cni-wasm's bridge plugin, exec'd as a runtime would on a throwaway
// node namespace: two containers on the seed's network reach each other and the gateway, and
// masquerade lets them reach an "outside" namespace that has no route back to the container
// subnet (as the demo shows). IPv6 too. After DEL nothing reaches anything any more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { type World, OUTSIDE_IP, makeWorld } from '../harness/diff.ts';
import { cleanup } from '../harness/netns.ts';

let w: World;
const addr: string[] = [];
const addr6: string[] = [];

function conf(): Record<string, unknown> {
  return {
    cniVersion: '1.1.0',
    name: 'example-network',
    type: 'bridge',
    bridge: 'cni0',
    isGateway: true,
    ipMasq: true,
    ipam: {
      type: 'host-local',
      dataDir: join(w.dir, 'ipam'),
      ranges: [[{ subnet: '10.22.0.0/16' }], [{ subnet: 'fd00:22::/64' }]],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
    },
  };
}

/** Ping with retries: IPv6 addresses are usable once DAD on the bridge's gateway address is done. */
function reach(from: number, to: string, tries = 1): boolean {
  for (let i = 0; i < tries; i++) if (w.ping(w.containers[from]!, to)) return true;
  return false;
}

beforeAll(() => {
  w = makeWorld('cni-wasm', { containers: 2, outside: true });
  for (let i = 0; i < 2; i++) {
    const a = w.invoke('ADD', conf(), { ctr: i, containerId: `web${i}` });
    if (a.status !== 0) throw new Error(`ADD failed: ${a.stdout}${a.stderr}`);
    const ips = (a.json?.ips ?? []) as { address: string }[];
    addr.push(ips.find((x) => !x.address.includes(':'))!.address.split('/')[0]!);
    addr6.push(ips.find((x) => x.address.includes(':'))!.address.split('/')[0]!);
  }
}, 60_000);

afterAll(() => {
  w?.dispose();
  cleanup();
});

describe('bridge connectivity (cni-wasm)', () => {
  it('container to container, both ways (IPv4)', () => {
    expect(reach(0, addr[1]!)).toBe(true);
    expect(reach(1, addr[0]!)).toBe(true);
  });

  it('container to the gateway on the bridge (IPv4)', () => {
    expect(reach(0, '10.22.0.1')).toBe(true);
    expect(reach(1, '10.22.0.1')).toBe(true);
  });

  it('container to container and to the gateway over IPv6', () => {
    expect(reach(0, addr6[1]!, 3)).toBe(true);
    expect(reach(1, 'fd00:22::1', 4)).toBe(true);
  });

  it('masquerade: both containers reach the outside namespace, which sees the node\'s uplink address', () => {
    w.outside!.run('sh', ['-c', 'nft add table ip t; nft add chain ip t in "{ type filter hook input priority 0; }"; nft add rule ip t in ip saddr 203.0.113.1 icmp type echo-request counter']);
    expect(reach(0, OUTSIDE_IP)).toBe(true);
    expect(reach(1, OUTSIDE_IP)).toBe(true);
    // The outside has no route to 10.22.0.0/16, and the echo requests arrived from the uplink address.
    expect(w.outside!.spawn('ip', ['route', 'get', addr[0]!]).status).not.toBe(0);
    expect(w.outside!.run('nft', ['list', 'chain', 'ip', 't', 'in'])).toMatch(/ip saddr 203\.0\.113\.1 .*packets [2-9]/);
  });

  it('after DEL of container 1: it reaches nothing, container 0 still reaches the outside', () => {
    const d = w.invoke('DEL', conf(), { ctr: 1, containerId: 'web1' });
    expect(d.status).toBe(0);
    expect(reach(0, addr[1]!)).toBe(false);
    expect(reach(0, OUTSIDE_IP)).toBe(true);
    expect(w.containers[1]!.ipJson<{ ifname: string }[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
  });

  it('after DEL of container 0: no veth, no masquerade entry, no address left', () => {
    const d = w.invoke('DEL', conf(), { ctr: 0, containerId: 'web0' });
    expect(d.status).toBe(0);
    expect(w.node.ipJson<{ ifname: string }[]>('link', 'show', 'type', 'veth').map((l) => l.ifname)).toEqual(['uplink']);
    const nft = w.node.run('nft', ['list', 'table', 'inet', 'cni_wasm']);
    expect(nft).not.toMatch(/10\.22\.0\.\d+ /);
    expect(nft).not.toMatch(/fd00:22::/);
  });
});
