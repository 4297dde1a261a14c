// ABI round trips through real wasm. An AssemblyScript fixture (test/fixtures/abi/roundtrip.ts),
// built with the generated bindings, calls every host import with known values and checks
// what comes back; the recording fake host below checks what it received. The host side is
// the generated glue (host/runtime/generated/abi.ts), instantiated directly. Hand-written
// hostile modules (WAT) then try to get garbage past the lifting code.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco';
import {
  AbiTrap, bindHandler, buildImports, WitResultError,
  type CniError, type GuestMemory, type HostError, type HostImports, type LinkInfo, type Request, type Route,
} from '../../host/runtime/generated/abi.ts';
import { ROOT } from '../../scripts/wit/generate.mjs';
import { loadDefaultMap, renameExports } from '../../scripts/wit/rename-exports.mjs';

type Call = unknown[];

const execFileAsync = promisify(execFile);

/** Wraps an implementation so that every method call is recorded as [iface.method, ...args]. */
function recording<T extends object>(iface: string, impl: T, calls: Call[]): T {
  return new Proxy(impl, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.push([`${iface}.${String(prop)}`, ...structuredClone(args)]);
        return Reflect.apply(v, target, args);
      };
    },
  });
}

const hostErr = (tag: HostError['tag'], val: string) => new WitResultError<HostError>({ tag, val });
const cniErr = (code: number, msg: string, details: string) => new WitResultError<CniError>({ code, msg, details });
const link = (over: Partial<LinkInfo>): LinkInfo => ({
  index: 0, name: '', kind: '', mtu: 0, mac: '', up: false, promisc: false, master: undefined, alias: undefined, ...over,
});
const hostLink = (name: string) => link({ index: 4294967295, name, kind: 'bridge', mac: 'aa:bb:cc:dd:ee:ff', up: true, master: 'cni0 ✓' });
const containerLink = (name: string) => link({ index: 1, name, kind: 'veth', mtu: 65535, promisc: true, alias: 'ălias' });
const route = (dst: string, over: Partial<Route> = {}): Route => ({
  dst, gw: undefined, dev: undefined, src: undefined, metric: undefined, table: undefined, scope: undefined, onlink: false, mtu: undefined, ...over,
});
const HOST_ERROR_TAGS: HostError['tag'][] = ['not-found', 'exists', 'invalid', 'permission-denied', 'io', 'other'];

/** The fake host the fixture expects (see the expected strings in roundtrip.ts). */
function fakeHost(calls: Call[]): HostImports {
  return {
    log: recording('log', { write() {} }, calls),
    netlink: recording('netlink', {
      getLink: (ns, name) => {
        if (name === 'missing') throw hostErr('not-found', 'no link missing');
        return ns === 'host' ? hostLink(name) : containerLink(name);
      },
      listLinks: (ns) => (ns === 'host' ? [hostLink('a'), hostLink('b'), containerLink('c')] : []),
      createBridge: (name, o) => link({ index: 7, name, kind: 'bridge', mtu: o.mtu ?? 1500, mac: o.mac ?? '', up: o.vlanFiltering, promisc: o.promisc }),
      createVeth: (o) => {
        if (o.containerName === 'exists') throw hostErr('exists', 'exists');
        return [
          link({ index: 8, name: o.hostName ?? 'veth1234', kind: 'veth', mtu: o.mtu ?? 0, up: true }),
          link({ index: 9, name: o.containerName, kind: 'veth', mtu: o.mtu ?? 0, mac: o.containerMac ?? '', up: true }),
        ];
      },
      createVxlan: (name, o) => link({
        index: o.vni, name, kind: `ttl=${o.ttl ?? 'none'}`, mtu: o.port, mac: o.local ?? '', up: o.learning, promisc: o.gbp, master: o.mac, alias: o.underlay,
      }),
      setLink: (_ns, name) => { if (name === 'bad') throw hostErr('invalid', 'bad change'); },
      deleteLink: (_ns, name) => { if (name === 'gone') throw hostErr('not-found', 'gone'); },
      addAddress: () => {},
      delAddress: () => {},
      listAddresses: (_ns, l, family) => {
        if (family === 'any') return [];
        return family === 'v4' ? [{ link: l ?? '', cidr: '10.0.0.2/24', nodad: false }] : [{ link: l ?? '', cidr: 'fd00::2/64', nodad: true }];
      },
      addRoute: () => {},
      replaceRoute: () => {},
      delRoute: (_ns, r) => { throw hostErr('permission-denied', `route ${r.dst} needs net.routes`); },
      listRoutes: (_ns, _family, table) => {
        if (table === undefined) throw hostErr('io', 'table <none>');
        return [
          route('10.0.0.0/24'),
          route('10.0.1.0/24', { gw: '10.0.0.1', dev: 'eth0', src: '10.0.0.2', metric: 4294967295, table, scope: 'universe', onlink: true, mtu: 65535 }),
          route('10.0.2.0/24', { scope: 'site' }),
          route('10.0.3.0/24', { scope: 'link' }),
          route('10.0.4.0/24', { scope: 'host' }),
          route('10.0.5.0/24', { scope: 'nowhere' }),
        ];
      },
      addNeighbour: () => {},
      delNeighbour: () => {},
      listNeighbours: (_ns, l) => (l === undefined ? [] : [{ link: l, ip: '10.0.0.9', mac: 'aa:aa:aa:aa:aa:aa' }]),
      addFdb: () => {},
      delFdb: () => {},
      listFdb: (_ns, l) => [{ link: l, mac: '00:00:00:00:00:00', dst: '192.0.2.1' }, { link: l, mac: 'ff:ff:ff:ff:ff:ff', dst: undefined }],
      addVlan: () => {},
      delVlan: () => { throw hostErr('other', 'vlan filtering is off'); },
    }, calls),
    sysctl: recording('sysctl', {
      get: (ns, key) => {
        const tag = HOST_ERROR_TAGS.find((t) => t === key);
        if (tag) throw hostErr(tag, `${key} ✗`);
        return `${ns}:${key}=1`;
      },
      set: () => {},
    }, calls),
    firewall: recording('firewall', {
      addMasquerade: (a) => { if (a.length === 0) throw hostErr('invalid', 'no addresses'); },
      delMasquerade: () => {},
    }, calls),
    store: recording('store', {
      open: () => {},
      lock: () => {},
      unlock: () => {},
      createExclusive: (name) => name !== 'taken',
      read: (name) => {
        if (name === '../escape') throw hostErr('permission-denied', name);
        return name === 'absent' ? undefined : name === 'empty' ? '' : '10.0.0.2 🌍';
      },
      replace: () => {},
      remove: (name) => name !== 'nothing',
      entries: () => ['a', 'ü', ''],
    }, calls),
    ipam: recording('ipam', {
      add: () => '{"cniVersion":"1.1.0","ips":[]}',
      del: () => { throw cniErr(4294967295, 'ipam ✗', ''); },
      check: () => {},
      status: () => { throw cniErr(50, 'not ready', 'détails'); },
      gc: () => {},
    }, calls),
  };
}

const U = undefined;
const noChange = { up: U, mtu: U, mac: U, master: U, alias: U, hairpin: U, promisc: U, isolated: U, newName: U };
const bareRoute = route('::/0');
/** Every host call the fixture's `add` makes, in order, with the exact values lifted. */
const EXPECTED_CALLS: Call[] = [
  ['log.write', 'debug', ''],
  ['log.write', 'info', 'héllo wörld'],
  ['log.write', 'warn', 'emoji 🦀🎉 and a lone surrogate \uFFFD!'],
  ['log.write', 'error', '日本語'],
  ['netlink.getLink', 'host', 'eth0 🐧'],
  ['netlink.getLink', 'container', 'x'],
  ['netlink.getLink', 'host', 'missing'],
  ['netlink.listLinks', 'host'],
  ['netlink.listLinks', 'container'],
  ['netlink.createBridge', 'cni0', { mtu: 9000, mac: U, vlanFiltering: true, promisc: false }],
  ['netlink.createBridge', '', { mtu: U, mac: '02:00:00:00:00:01', vlanFiltering: false, promisc: true }],
  ['netlink.createVeth', { hostName: U, containerName: 'eth0', mtu: 4294967295, containerMac: '0a:58:0a:00:00:02' }],
  ['netlink.createVeth', { hostName: 'vethé', containerName: 'exists', mtu: U, containerMac: U }],
  ['netlink.createVxlan', 'vx0', { vni: 4294967295, port: 65535, local: '10.0.0.1', underlay: U, learning: true, gbp: false, ttl: 255, mtu: 0, mac: 'm' }],
  ['netlink.createVxlan', 'vx1', { vni: 0, port: 0, local: U, underlay: 'eth1', learning: false, gbp: true, ttl: 0, mtu: U, mac: U }],
  ['netlink.createVxlan', 'vx2', { vni: 0, port: 0, local: U, underlay: U, learning: false, gbp: false, ttl: U, mtu: U, mac: U }],
  ['netlink.setLink', 'container', 'eth0', {
    up: true, mtu: 1400, mac: '02:42:ac:11:00:02', master: '', alias: 'ä', hairpin: false, promisc: true, isolated: false, newName: 'n',
  }],
  ['netlink.setLink', 'host', 'bad', noChange],
  ['netlink.deleteLink', 'container', 'eth0'],
  ['netlink.deleteLink', 'host', 'gone'],
  ['netlink.addAddress', 'container', { link: 'eth0', cidr: '10.0.0.2/24', nodad: true }],
  ['netlink.delAddress', 'host', { link: '', cidr: 'fd00::2/64', nodad: false }],
  ['netlink.listAddresses', 'container', U, 'any'],
  ['netlink.listAddresses', 'container', 'eth0', 'v4'],
  ['netlink.listAddresses', 'container', '', 'v6'],
  ['netlink.addRoute', 'container', {
    dst: '0.0.0.0/0', gw: '10.0.0.1', dev: 'eth0', src: '10.0.0.2', metric: 4294967295, table: 0, scope: 'nowhere', onlink: true, mtu: 1500,
  }],
  ['netlink.replaceRoute', 'host', bareRoute],
  ['netlink.delRoute', 'host', bareRoute],
  ['netlink.listRoutes', 'container', 'v4', 254],
  ['netlink.listRoutes', 'host', 'any', U],
  ['netlink.addNeighbour', 'host', { link: 'br0', ip: '10.0.0.9', mac: 'aa:aa:aa:aa:aa:aa' }],
  ['netlink.delNeighbour', 'host', { link: '', ip: '', mac: '' }],
  ['netlink.listNeighbours', 'host', 'br0'],
  ['netlink.listNeighbours', 'host', U],
  ['netlink.addFdb', 'host', { link: 'vx0', mac: '00:00:00:00:00:00', dst: '192.0.2.1' }],
  ['netlink.delFdb', 'host', { link: 'vx0', mac: '', dst: U }],
  ['netlink.listFdb', 'host', 'vx0'],
  ['netlink.addVlan', 'host', { link: 'veth0', vid: 65535, pvid: true, untagged: false }],
  ['netlink.delVlan', 'host', { link: 'veth0', vid: 1, pvid: false, untagged: true }],
  ['sysctl.get', 'container', 'net.ipv4.ip_forward'],
  ...HOST_ERROR_TAGS.map((t) => ['sysctl.get', 'host', t]),
  ['sysctl.set', 'host', 'net.ipv4.conf.all.forwarding', '1'],
  ['firewall.addMasquerade', ['10.0.0.2/24', 'fd00::2/64']],
  ['firewall.addMasquerade', []],
  ['firewall.delMasquerade'],
  ['store.open', U],
  ['store.open', '/var/lib/cni/networks'],
  ['store.lock'],
  ['store.createExclusive', '10.0.0.2', 'c-1\neth0'],
  ['store.createExclusive', 'taken', ''],
  ['store.read', 'absent'],
  ['store.read', 'empty'],
  ['store.read', 'last_reserved_ip.0'],
  ['store.read', '../escape'],
  ['store.replace', 'last_reserved_ip.0', '10.0.0.3'],
  ['store.remove', '10.0.0.2'],
  ['store.remove', 'nothing'],
  ['store.entries'],
  ['store.unlock'],
  ['ipam.add'],
  ['ipam.del'],
  ['ipam.check'],
  ['ipam.status'],
  ['ipam.gc'],
];

const REQUEST: Request = {
  config: '{"cniVersion":"1.0.0","name":"ñet 🌐"}',
  containerId: 'c-1',
  ifname: 'eth0',
  args: [['K8S_POD_NAME', 'pöd'], ['', '']],
  prevResult: undefined,
  hasContainer: true,
};
const EMPTY_REQUEST: Request = { config: '', containerId: '', ifname: '', args: [], prevResult: '{"ips":[]}', hasContainer: false };

let dir = '';
const fixtures = new Map<string, Uint8Array<ArrayBuffer>>();

/**
 * Compiles the fixture with asc (as the plugin build does) and renames its exports. The
 * stub-runtime build is unoptimized and the incremental one optimized, to cover both.
 */
async function buildFixture(runtime: 'stub' | 'incremental'): Promise<Uint8Array<ArrayBuffer>> {
  const out = join(dir, `roundtrip-${runtime}.wasm`);
  await execFileAsync(process.execPath, [
    join(ROOT, 'node_modules/assemblyscript/bin/asc.js'),
    'test/fixtures/abi/roundtrip.ts',
    '--runtime', runtime,
    '--use', 'abort=plugins-as/sdk/generated/bindings/cniwAbort',
    ...(runtime === 'incremental' ? ['--optimizeLevel', '2'] : []),
    '--outFile', out,
  ], { cwd: ROOT });
  return renameExports(readFileSync(out), loadDefaultMap()).wasm;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cniw-abi-'));
  const [stub, incremental] = await Promise.all([buildFixture('stub'), buildFixture('incremental')]);
  fixtures.set('stub', stub);
  fixtures.set('incremental', incremental);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function instantiate(wasm: Uint8Array<ArrayBuffer>, host: HostImports, maxLiftBytes = 1 << 20) {
  const mem: GuestMemory = { maxLiftBytes };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm), buildImports(host, mem));
  return { instance, mem, handler: bindHandler(instance.exports, mem) };
}

function fixture(rt: string): Uint8Array<ArrayBuffer> {
  const f = fixtures.get(rt);
  if (!f) throw new Error(`fixture ${rt} not built`);
  return f;
}

describe.each(['stub', 'incremental'])('AssemblyScript bindings <-> host glue (--runtime %s)', (rt) => {
  it('the module imports only the WIT interfaces and exports the component-model names', () => {
    const m = new WebAssembly.Module(fixture(rt));
    const modules = new Set(WebAssembly.Module.imports(m).map((i) => i.module));
    expect([...modules].every((x) => /^cni:plugin\/(log|netlink|sysctl|firewall|store|ipam)@0\.1\.0$/.test(x))).toBe(true);
    expect(WebAssembly.Module.exports(m).map((e) => e.name).sort()).toEqual([
      'cabi_post_cni:plugin/handler@0.1.0#add', 'cabi_post_cni:plugin/handler@0.1.0#check', 'cabi_post_cni:plugin/handler@0.1.0#del',
      'cabi_post_cni:plugin/handler@0.1.0#gc', 'cabi_post_cni:plugin/handler@0.1.0#status', 'cabi_realloc',
      'cni:plugin/handler@0.1.0#add', 'cni:plugin/handler@0.1.0#check', 'cni:plugin/handler@0.1.0#del',
      'cni:plugin/handler@0.1.0#gc', 'cni:plugin/handler@0.1.0#status', 'memory',
    ]);
  });

  it('add: every import round-trips every value (guest checks results, host checks arguments)', () => {
    const calls: Call[] = [];
    const { handler } = instantiate(fixture(rt), fakeHost(calls));
    const out = handler.add(REQUEST);
    expect(out).toBe('passed 65 checks; request {"cniVersion":"1.0.0","name":"ñet 🌐"}|c-1|eth0|2|K8S_POD_NAME=pöd|=|<none>|true');
    expect(calls).toStrictEqual(EXPECTED_CALLS);
  });

  it('del: an error result carries the request back (empty strings and list, some prevResult, false)', () => {
    const { handler } = instantiate(fixture(rt), fakeHost([]));
    let caught: unknown;
    try {
      handler.del(EMPTY_REQUEST);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WitResultError);
    expect((caught as WitResultError<CniError>).payload).toStrictEqual({ code: 0, msg: '', details: '|||0|<{"ips":[]}>|false' });
  });

  it('check: ok without a value; status: error with u32 max and empty strings', () => {
    const { handler } = instantiate(fixture(rt), fakeHost([]));
    expect(handler.check(REQUEST)).toBeUndefined();
    expect(() => handler.status(REQUEST)).toThrow(WitResultError);
    try {
      handler.status(REQUEST);
    } catch (e) {
      expect((e as WitResultError<CniError>).payload).toStrictEqual({ code: 4294967295, msg: '', details: '' });
    }
  });

  it('gc (not overridden) aborts: the message reaches the host log, then the guest traps', () => {
    const calls: Call[] = [];
    const { handler } = instantiate(fixture(rt), fakeHost(calls));
    expect(() => handler.gc(REQUEST)).toThrow(WebAssembly.RuntimeError);
    expect(calls).toStrictEqual([['log.write', 'error', 'abort: handler.gc is not implemented by this plugin']]);
  });

  it('repeated calls stay correct (allocations are freed and reused)', () => {
    const calls: Call[] = [];
    const { handler, instance } = instantiate(fixture(rt), fakeHost(calls));
    handler.add(REQUEST);
    const memory = instance.exports['memory'] as WebAssembly.Memory;
    const after1 = memory.buffer.byteLength;
    for (let i = 0; i < 30; i++) {
      calls.length = 0;
      expect(handler.add(REQUEST)).toMatch(/^passed 65 checks/);
      expect(calls).toStrictEqual(EXPECTED_CALLS);
    }
    if (rt === 'incremental') expect(memory.buffer.byteLength).toBe(after1);
  });
});

describe('componentization', () => {
  it('jco embeds the WIT into the fixture and makes a component of it (names and signatures match the world)', async () => {
    const witSource = readFileSync(join(ROOT, 'wit/plugin.wit'), 'utf8');
    const embedded = await componentEmbed({ binary: fixture('stub'), witSource, world: 'plugin' });
    const component = await componentNew(embedded);
    expect(component.length).toBeGreaterThan(fixture('stub').length);
  });

  it('rename-exports refuses an unmapped __cniw_ export and duplicate names', async () => {
    const wasm = await parse('(module (func (export "__cniw_unknown")) (func (export "a")) (func (export "b")))');
    expect(() => renameExports(wasm, {})).toThrow(/__cniw_unknown/);
    expect(() => renameExports(wasm, { __cniw_unknown: 'x', a: 'b' })).toThrow(/duplicate export 'b'/);
    const { wasm: out, renamed } = renameExports(wasm, { __cniw_unknown: 'cni:plugin/handler@0.1.0#add' });
    expect(renamed).toBe(1);
    expect(WebAssembly.Module.exports(new WebAssembly.Module(out)).map((e) => e.name)).toEqual(['cni:plugin/handler@0.1.0#add', 'a', 'b']);
  });
});
