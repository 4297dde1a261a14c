// The host API's rule for routes through a host link the plugin may only read (the vxlan
// plugin's directRouting over its underlay), called directly on the real kernel in a throwaway
// node namespace: add (and delete) a non-default route with a gateway, marked proto 67; never
// replace, never a default route, never onlink, never without a gateway; and the node's own
// routes through the link cannot be deleted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCapabilities, resolveCapabilities } from '../../host/caps/manifest.ts';
import type { NetConf } from '../../host/cni/config.ts';
import type { PluginEnv } from '../../host/cni/env.ts';
import { type HostError, type Route, WitResultError } from '../../host/runtime/generated/abi.ts';
import { type HostApi, createHostImports } from '../../host/runtime/host-api/index.ts';
import { RTPROT_CNI_WASM } from '../../host/runtime/host-api/netlink.ts';
import { DEFAULT_LIMITS } from '../../host/runtime/limits.ts';
import { type NetnsHandle, openNetns } from '../../host/sys/netns.ts';
import { cleanup, makeNetns, type Netns } from '../harness/netns.ts';

let node: Netns;
let nodeNs: NetnsHandle;
const apis: HostApi[] = [];

function api(manifest: unknown): HostApi {
  const config = { cniVersion: '1.0.0', name: 'net1', type: 'vxlan', dev: 'uplink' } as unknown as NetConf;
  const env: PluginEnv = { command: 'ADD', containerId: 'c1', netns: '', ifname: 'eth0', args: [], ignoreUnknownArgs: false, path: ['/usr/lib/cni'] };
  const host = createHostImports({
    plugin: 'vxlan',
    env,
    config,
    configText: JSON.stringify(config),
    caps: resolveCapabilities(parseCapabilities(manifest, 'test'), config),
    limits: DEFAULT_LIMITS,
    hostNs: nodeNs,
    pluginDirs: [],
    auditSink: () => {},
  });
  apis.push(host);
  return host;
}

const MANIFEST = { links: { read: ['${dev}'] }, routes: { host: true } };

const route = (r: Partial<Route>): Route => ({
  dst: '10.50.0.0/24',
  gw: '192.0.2.1',
  dev: 'uplink',
  src: undefined,
  metric: undefined,
  table: undefined,
  scope: undefined,
  onlink: false,
  mtu: undefined,
  ...r,
});

function hostError(fn: () => unknown): HostError {
  try {
    fn();
  } catch (e) {
    if (e instanceof WitResultError) return e.payload as HostError;
    throw e;
  }
  throw new Error('the call succeeded');
}

const routesJson = (): { dst: string; gateway?: string; protocol?: string }[] => node.ipJson('-4', 'route', 'show');

beforeAll(() => {
  node = makeNetns('vxha-node');
  nodeNs = openNetns(node.path);
  node.run('ip', ['link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'uplinkp']);
  node.run('ip', ['link', 'set', 'uplink', 'up']);
  node.run('ip', ['link', 'set', 'uplinkp', 'up']);
  node.run('ip', ['addr', 'add', '192.0.2.10/24', 'dev', 'uplink']);
});

afterAll(() => {
  for (const a of apis) a.dispose();
  nodeNs?.close();
  cleanup();
});

describe('routes.host through a read-only link', () => {
  it('adds a route with a gateway, marked with cni-wasm\'s route protocol, and deletes it again', () => {
    const host = api(MANIFEST);
    host.netlink.addRoute('host', route({}));
    expect(routesJson()).toContainEqual(expect.objectContaining({ dst: '10.50.0.0/24', gateway: '192.0.2.1', protocol: String(RTPROT_CNI_WASM) }));
    host.netlink.delRoute('host', route({}));
    expect(routesJson().map((r) => r.dst)).not.toContain('10.50.0.0/24');
  });

  it("cannot delete the node's own route through the link (not-found), nor replace it", () => {
    const host = api(MANIFEST);
    node.run('ip', ['route', 'add', '10.60.0.0/24', 'via', '192.0.2.1', 'dev', 'uplink']);
    const before = JSON.stringify(routesJson());
    expect(hostError(() => host.netlink.delRoute('host', route({ dst: '10.60.0.0/24' }))).tag).toBe('not-found');
    const rep = hostError(() => host.netlink.replaceRoute('host', route({ dst: '10.60.0.0/24', gw: '192.0.2.2' })));
    expect(rep.tag).toBe('permission-denied');
    expect(rep.val).toBe('links.host: may not replace a route through host link "uplink": it is read-only (links.read)');
    expect(hostError(() => host.netlink.addRoute('host', route({ dst: '10.60.0.0/24', gw: '192.0.2.2' }))).tag).toBe('exists');
    expect(JSON.stringify(routesJson())).toBe(before);
  });

  it('refuses a default route, an onlink route and a route without a gateway through it', () => {
    const host = api(MANIFEST);
    const before = JSON.stringify(routesJson());
    for (const r of [route({ dst: '0.0.0.0/0' }), route({ onlink: true }), route({ gw: undefined })]) {
      const e = hostError(() => host.netlink.addRoute('host', r));
      expect(e.tag).toBe('permission-denied');
      expect(e.val).toContain('links.host: may not add a route through host link "uplink": it is read-only (links.read)');
    }
    expect(JSON.stringify(routesJson())).toBe(before);
  });

  it('still needs routes.host, and a link it may read at all', () => {
    expect(hostError(() => api({ links: { read: ['${dev}'] } }).netlink.addRoute('host', route({}))).val).toMatch(/^routes\.host: /);
    expect(hostError(() => api({ routes: { host: true } }).netlink.addRoute('host', route({}))).val).toMatch(/^links\.host: .*neither created/);
  });
});

describe("link-info's vxlan attributes", () => {
  it('get-link, list-links and create-vxlan show what the kernel reports; the underlay only to a plugin that may read it', () => {
    const host = api({ links: { create: ['vxlan'], read: ['${dev}'] } });
    const made = host.netlink.createVxlan('vxha1', {
      vni: 4242, port: 8472, local: '192.0.2.10', underlay: 'uplink', learning: true, gbp: true, ttl: 64, mtu: 1400, mac: '02:00:00:00:42:42',
    });
    const want = { vni: 4242, port: 8472, local: '192.0.2.10', group: undefined, underlay: 'uplink', learning: true, gbp: true, ttl: 64 };
    expect(made.vxlan).toEqual(want);
    expect(host.netlink.getLink('host', 'vxha1')).toMatchObject({ kind: 'vxlan', mtu: 1400, mac: '02:00:00:00:42:42', vxlan: want });
    expect(host.netlink.listLinks('host').find((l) => l.name === 'vxha1')?.vxlan).toEqual(want);
    // other kinds have none
    expect(host.netlink.getLink('host', 'uplink').vxlan).toBeUndefined();

    // A device made by someone else, with a default remote, no local address and no underlay.
    node.run('ip', ['link', 'add', 'vxha2', 'type', 'vxlan', 'id', '7', 'remote', '192.0.2.99', 'dstport', '4789', 'nolearning']);
    const reader = api({ links: { read: ['vxha*'] } });
    expect(reader.netlink.getLink('host', 'vxha2').vxlan).toEqual({
      vni: 7, port: 4789, local: undefined, group: '192.0.2.99', underlay: undefined, learning: false, gbp: false, ttl: 0,
    });
    // may read the device but not its underlay: the underlay is not named
    expect(reader.netlink.getLink('host', 'vxha1').vxlan).toEqual({ ...want, underlay: undefined });
    expect(reader.netlink.listLinks('host').map((l) => [l.name, l.vxlan?.underlay])).toEqual([['vxha1', undefined], ['vxha2', undefined]]);
    node.run('ip', ['link', 'del', 'vxha1']);
    node.run('ip', ['link', 'del', 'vxha2']);
  });
});
