// 50 concurrent ADDs onto one bridge, each a separate cni-wasm process exec'd in the same node
// namespace (as a runtime starting 50 pods at once would): all succeed, all addresses are
// unique, every container has its own; then 50 concurrent DELs release every address, veth and
// masquerade entry.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, type World, makeWorld } from '../harness/diff.ts';
import { cleanup } from '../harness/netns.ts';
import { ipamFiles } from '../harness/diff.ts';

const N = 50;
let w: World;

function conf(): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: 'crowd',
    type: 'bridge',
    bridge: 'cni0',
    isGateway: true,
    ipMasq: true,
    ipam: { type: 'host-local', dataDir: join(w.dir, 'ipam'), subnet: '10.44.0.0/24', routes: [{ dst: '0.0.0.0/0' }] },
  };
}

beforeAll(() => {
  w = makeWorld('cni-wasm', { containers: N });
}, 60_000);

afterAll(() => {
  w?.dispose();
  cleanup();
});

describe(`bridge: ${N} concurrent ADDs and DELs from separate processes`, () => {
  let adds: Answer[] = [];

  it(`${N} ADDs at once: all succeed with unique addresses`, async () => {
    adds = await Promise.all(Array.from({ length: N }, (_, i) => w.invokeAsync('ADD', conf(), { ctr: i, containerId: `pod${i}` })));
    const failed = adds.filter((a) => a.status !== 0).map((a) => a.stdout + a.stderr);
    expect(failed).toEqual([]);
    const ips = adds.map((a) => ((a.json?.ips ?? []) as { address: string }[])[0]?.address);
    expect(new Set(ips).size).toBe(N);
    // Each container holds the address its result names, and the node has one veth per container on cni0.
    for (let i = 0; i < N; i += 7) {
      const have = w.containers[i]!.ipJson<{ ifname: string; addr_info: { local: string; prefixlen: number }[] }[]>('addr', 'show', 'dev', 'eth0')[0]!;
      expect(have.addr_info.map((x) => `${x.local}/${x.prefixlen}`)).toContain(ips[i]);
    }
    const ports = w.node.ipJson<{ ifname: string; master?: string }[]>('link', 'show', 'type', 'veth').filter((l) => l.master === 'cni0');
    expect(ports).toHaveLength(N);
    expect(Object.keys(ipamFiles(join(w.dir, 'ipam'))).filter((f) => /\d+\.\d+\.\d+\.\d+$/.test(f))).toHaveLength(N);
    expect(w.node.run('nft', ['list', 'set', 'inet', 'cni_wasm', 'masq4']).match(/10\.44\.0\.\d+/g)).toHaveLength(N);
  }, 120_000);

  it(`${N} DELs at once: every address, veth and masquerade entry released`, async () => {
    const dels = await Promise.all(Array.from({ length: N }, (_, i) => w.invokeAsync('DEL', conf(), { ctr: i, containerId: `pod${i}` })));
    expect(dels.filter((a) => a.status !== 0).map((a) => a.stdout + a.stderr)).toEqual([]);
    expect(Object.keys(ipamFiles(join(w.dir, 'ipam'))).filter((f) => /\d+\.\d+\.\d+\.\d+$/.test(f))).toEqual([]);
    expect(w.node.ipJson<unknown[]>('link', 'show', 'type', 'veth')).toEqual([]);
    expect(w.node.run('nft', ['list', 'set', 'inet', 'cni_wasm', 'masq4'])).not.toMatch(/10\.44\.0\.\d+/);
  }, 120_000);
});
