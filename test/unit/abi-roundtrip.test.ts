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
  type CniError, type GuestMemory, type HostError, type HostImports, type LinkInfo, type Request, type Route, type VxlanInfo,
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
  index: 0, name: '', kind: '', mtu: 0, mac: '', up: false, promisc: false, master: undefined, alias: undefined, vxlan: undefined, ...over,
});
const hostLink = (name: string) => link({ index: 4294967295, name, kind: 'bridge', mac: 'aa:bb:cc:dd:ee:ff', up: true, master: 'cni0 ✓' });
const containerLink = (name: string) => link({ index: 1, name, kind: 'veth', mtu: 65535, promisc: true, alias: 'ălias' });
const vxlanInfo = (over: Partial<VxlanInfo> = {}): VxlanInfo => ({
  vni: 0, port: 0, local: undefined, group: undefined, underlay: undefined, learning: false, gbp: false, ttl: 0, ...over,
});
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
        if (name === 'vxlan16777215') {
          return link({
            index: 3, name, kind: 'vxlan', mtu: 1450, mac: '02:ff:c0:00:02:01', up: true, alias: 'cni-wasm mark',
            vxlan: vxlanInfo({ vni: 16777215, port: 65535, local: '192.0.2.1', group: 'ff02::1:ü', underlay: 'ul0 ✓', learning: true, gbp: true, ttl: 255 }),
          });
        }
        return ns === 'host' ? hostLink(name) : containerLink(name);
      },
      listLinks: (ns) => (ns === 'host' ? [hostLink('a'), link({ index: 4, name: 'b', kind: 'vxlan', vxlan: vxlanInfo() }), containerLink('c')] : []),
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
        vxlan: vxlanInfo({ vni: o.vni, port: o.port, local: o.local, underlay: o.underlay, learning: o.learning, gbp: o.gbp, ttl: o.ttl ?? 0 }),
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
      addMacSpoofCheck: () => {},
      delMacSpoofCheck: () => {},
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
    files: recording('files', {
      readText: (path) => {
        if (path === '/etc/shadow') throw hostErr('permission-denied', `files.read: may not read "${path}"`);
        return path === '' ? '' : 'nameserver 192.0.2.53\nsearch exämple.org\n';
      },
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
  ['netlink.getLink', 'host', 'vxlan16777215'],
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
  ['files.readText', '/etc/résolv.conf'],
  ['files.readText', ''],
  ['files.readText', '/etc/shadow'],
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
    expect([...modules].every((x) => /^cni:plugin\/(log|netlink|sysctl|firewall|store|files|ipam)@0\.1\.0$/.test(x))).toBe(true);
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
    expect(out).toBe('passed 69 checks; request {"cniVersion":"1.0.0","name":"ñet 🌐"}|c-1|eth0|2|K8S_POD_NAME=pöd|=|<none>|true');
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
      expect(handler.add(REQUEST)).toMatch(/^passed 69 checks/);
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

// ---------------------------------------------------------------------------
// Hostile guests: hand-written modules that pass whatever they like.

/** Thin exports around imports, so a test can pass any core values; a bump allocator with modes. */
const HOSTILE_WAT = `(module
  (import "cni:plugin/log@0.1.0" "write" (func $log (param i32 i32 i32)))
  (import "cni:plugin/netlink@0.1.0" "get-link" (func $get_link (param i32 i32 i32 i32)))
  (import "cni:plugin/netlink@0.1.0" "create-bridge" (func $create_bridge (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "cni:plugin/netlink@0.1.0" "set-link" (func $set_link (param i32 i32)))
  (import "cni:plugin/netlink@0.1.0" "create-vxlan" (func $create_vxlan (param i32 i32)))
  (import "cni:plugin/netlink@0.1.0" "list-addresses" (func $list_addresses (param i32 i32 i32 i32 i32 i32)))
  (import "cni:plugin/firewall@0.1.0" "add-masquerade" (func $add_masquerade (param i32 i32 i32)))
  (import "cni:plugin/sysctl@0.1.0" "get" (func $sysctl_get (param i32 i32 i32 i32)))
  (import "cni:plugin/store@0.1.0" "entries" (func $entries (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "ok")
  (data (i32.const 32) "\\ff\\fe")
  (data (i32.const 40) "\\c0\\af")
  (data (i32.const 48) "\\ed\\a0\\80")
  (data (i32.const 56) "\\f0\\9f\\a6")
  (global $mode (mut i32) (i32.const 0))
  (global $bump (mut i32) (i32.const 8192))
  (func (export "set_mode") (param i32) (global.set $mode (local.get 0)))
  ;; mode 0: aligned bump allocation; 1: returns an address past the end of memory;
  ;; 2: returns a misaligned address; 3: calls an import first
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (if (i32.eq (global.get $mode) (i32.const 1)) (then (return (i32.const -16))))
    (if (i32.eq (global.get $mode) (i32.const 3)) (then (call $log (i32.const 1) (i32.const 16) (i32.const 2))))
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (if (i32.eq (global.get $mode) (i32.const 2)) (then (return (i32.add (local.get $p) (i32.const 1)))))
    (local.get $p))
  (func (export "log") (param i32 i32 i32) (call $log (local.get 0) (local.get 1) (local.get 2)))
  (func (export "get_link") (param i32 i32 i32 i32) (call $get_link (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "create_bridge") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
    (call $create_bridge (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)
                         (local.get 5) (local.get 6) (local.get 7) (local.get 8) (local.get 9)))
  (func (export "set_link") (param i32 i32) (call $set_link (local.get 0) (local.get 1)))
  (func (export "create_vxlan") (param i32 i32) (call $create_vxlan (local.get 0) (local.get 1)))
  (func (export "list_addresses") (param i32 i32 i32 i32 i32 i32)
    (call $list_addresses (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5)))
  (func (export "add_masquerade") (param i32 i32 i32) (call $add_masquerade (local.get 0) (local.get 1) (local.get 2)))
  (func (export "sysctl_get") (param i32 i32 i32 i32) (call $sysctl_get (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "entries") (param i32) (call $entries (local.get 0)))
)`;

type Fn = (...args: number[]) => unknown;

async function watModule(text: string): Promise<WebAssembly.Module> {
  return new WebAssembly.Module(new Uint8Array(await parse(text)));
}

describe('hostile guest -> host calls trap with AbiTrap and never reach the host', () => {
  let module: WebAssembly.Module;
  beforeAll(async () => {
    module = await watModule(HOSTILE_WAT);
  });

  function hostile(maxLiftBytes = 1 << 20) {
    const calls: Call[] = [];
    const mem: GuestMemory = { maxLiftBytes };
    const instance = new WebAssembly.Instance(module, buildImports(fakeHost(calls), mem));
    // What bindHandler does, for a module without handler exports.
    mem.memory = instance.exports['memory'] as WebAssembly.Memory;
    mem.realloc = instance.exports['cabi_realloc'] as Fn;
    const fn = (name: string): Fn => instance.exports[name] as Fn;
    const bytes = () => new Uint8Array(mem.memory!.buffer);
    const view = () => new DataView(mem.memory!.buffer);
    return { calls, fn, bytes, view };
  }

  function expectTrap(f: () => unknown, message: RegExp, calls: Call[]): void {
    let caught: unknown;
    try {
      f();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AbiTrap);
    expect((caught as Error).message).toMatch(message);
    expect(calls).toEqual([]);
  }

  it('a well-formed call goes through (control)', () => {
    const g = hostile();
    g.fn('log')(1, 16, 2);
    expect(g.calls).toEqual([['log.write', 'info', 'ok']]);
  });

  it('string pointer or length outside memory', () => {
    const g = hostile();
    expectTrap(() => g.fn('log')(1, 65536 - 1, 2), /log\.write: string: \[65535, 65537\) is outside guest memory \(65536 bytes\)/, g.calls);
    expectTrap(() => g.fn('log')(1, -1, 1), /\[4294967295, 4294967296\) is outside guest memory/, g.calls);
    expectTrap(() => g.fn('log')(1, 16, 0x10000000), /string length 268435456 exceeds 268435455 bytes/, g.calls);
    expectTrap(() => g.fn('log')(1, 0x7fffffff, 0x7fffffff), /outside guest memory|exceeds/, g.calls);
  });

  it('invalid UTF-8: stray bytes, overlong form, encoded surrogate, truncated sequence', () => {
    const g = hostile();
    expectTrap(() => g.fn('log')(1, 32, 2), /log\.write: string at 32 \(2 bytes\) is not valid UTF-8/, g.calls);
    expectTrap(() => g.fn('log')(1, 40, 2), /not valid UTF-8/, g.calls);
    expectTrap(() => g.fn('log')(1, 48, 3), /not valid UTF-8/, g.calls);
    expectTrap(() => g.fn('log')(1, 56, 3), /not valid UTF-8/, g.calls);
  });

  it('enum discriminants out of range (flat)', () => {
    const g = hostile();
    expectTrap(() => g.fn('log')(7, 16, 2), /log\.write: invalid level discriminant 7/, g.calls);
    expectTrap(() => g.fn('get_link')(2, 16, 2, 1024), /netlink\.get-link: invalid netns discriminant 2/, g.calls);
    expectTrap(() => g.fn('log')(-1, 16, 2), /invalid level discriminant -1/, g.calls);
  });

  it('bool and option discriminants other than 0/1 (flat)', () => {
    const g = hostile();
    // create-bridge(name, { mtu: option<u32>, mac: option<string>, vlan-filtering: bool, promisc: bool }, retptr)
    expectTrap(() => g.fn('create_bridge')(16, 2, 0, 0, 0, 0, 0, 2, 0, 1024), /netlink\.create-bridge: bool argument is 2, not 0 or 1/, g.calls);
    expectTrap(() => g.fn('create_bridge')(16, 2, 5, 0, 0, 0, 0, 0, 0, 1024), /invalid option<u32> discriminant 5/, g.calls);
    expectTrap(() => g.fn('list_addresses')(0, 2, 16, 2, 0, 1024), /netlink\.list-addresses: invalid option<string> discriminant 2/, g.calls);
  });

  it('return area misaligned or outside memory: trapped before the host runs', () => {
    const g = hostile();
    expectTrap(() => g.fn('get_link')(0, 16, 2, 1026), /netlink\.get-link: return area: address 1026 is not 4-byte aligned/, g.calls);
    expectTrap(() => g.fn('get_link')(0, 16, 2, 65536 - 32), /return area: \[65504, 65620\) is outside guest memory/, g.calls);
  });

  it('parameters in memory (> 16 flat values): bad pointer, bad enum byte, bad bool byte, bad option byte', () => {
    const g = hostile();
    expectTrap(() => g.fn('set_link')(65536 - 8, 1024), /netlink\.set-link: parameter area: \[65528, 65608\) is outside guest memory/, g.calls);
    expectTrap(() => g.fn('set_link')(2050, 1024), /parameter area: address 2050 is not 4-byte aligned/, g.calls);
    // set-link params: ns u8 @0, name @4, link-change @12 (up: option<bool> @12)
    const sl = 2048;
    g.bytes().fill(0, sl, sl + 80);
    g.bytes()[sl] = 9;
    expectTrap(() => g.fn('set_link')(sl, 1024), /invalid netns discriminant 9/, g.calls);
    g.bytes()[sl] = 0;
    g.view().setUint32(sl + 4, 16, true);
    g.view().setUint32(sl + 8, 2, true);
    g.bytes()[sl + 12] = 1; // up = some(...)
    g.bytes()[sl + 13] = 2; // ... of a bool 2
    expectTrap(() => g.fn('set_link')(sl, 1024), /bool at 2061 is 2, not 0 or 1/, g.calls);
    g.bytes()[sl + 12] = 3;
    expectTrap(() => g.fn('set_link')(sl, 1024), /invalid option<bool> discriminant 3/, g.calls);
    g.bytes()[sl + 12] = 0;
    g.fn('set_link')(sl, 1024);
    expect(g.calls).toEqual([['netlink.setLink', 'host', 'ok', noChange]]);
  });

  it('huge list lengths, misaligned lists, list elements outside memory', () => {
    const g = hostile();
    expectTrap(() => g.fn('add_masquerade')(8, 0x7fffffff, 1024), /firewall\.add-masquerade: list<string>: 2147483647 elements of 8 bytes exceed 268435455 bytes/, g.calls);
    expectTrap(() => g.fn('add_masquerade')(8, -1, 1024), /4294967295 elements of 8 bytes exceed/, g.calls);
    expectTrap(() => g.fn('add_masquerade')(8, 0x1000000, 1024), /list<string>: \[8, 134217736\) is outside guest memory|exceeds the limit/, g.calls);
    expectTrap(() => g.fn('add_masquerade')(2, 1, 1024), /list<string>: address 2 is not 4-byte aligned/, g.calls);
    // one element whose string points outside memory
    g.view().setUint32(3000, 65530, true);
    g.view().setUint32(3004, 100, true);
    expectTrap(() => g.fn('add_masquerade')(3000, 1, 1024), /string: \[65530, 65630\) is outside guest memory/, g.calls);
  });

  it('the per-call lift budget (GuestMemory.maxLiftBytes) caps strings and lists together', () => {
    const g = hostile(1000);
    g.bytes().fill(0x61, 4096, 4096 + 1001);
    g.fn('log')(1, 4096, 1000);
    expect(g.calls).toHaveLength(1);
    g.calls.length = 0;
    expectTrap(() => g.fn('log')(1, 4096, 1001), /log\.write: string: lifting 1001 more bytes exceeds the limit of 1000 bytes per call/, g.calls);
    // 100 list elements (800 bytes) + strings of 3 bytes each: over budget part-way through
    for (let i = 0; i < 100; i++) {
      g.view().setUint32(3000 + i * 8, 4096, true);
      g.view().setUint32(3004 + i * 8, 3, true);
    }
    expectTrap(() => g.fn('add_masquerade')(3000, 100, 1024), /exceeds the limit of 1000 bytes per call/, g.calls);
  });

  it('cabi_realloc answering outside memory or misaligned, or calling an import, traps the lowering', () => {
    const g = hostile();
    g.fn('set_mode')(1);
    expect(() => g.fn('sysctl_get')(0, 16, 2, 1024)).toThrow(/sysctl\.get: cabi_realloc\(0, 0, 1, \d+\): \[4294967280, \d+\) is outside guest memory/);
    g.fn('set_mode')(2);
    expect(() => g.fn('entries')(1024)).toThrow(/store\.entries: cabi_realloc\(0, 0, 4, 24\): address \d+ is not 4-byte aligned/);
    g.fn('set_mode')(3);
    expect(() => g.fn('sysctl_get')(0, 16, 2, 1024)).toThrow(/log\.write: called from cabi_realloc or a post-return function/);
    g.fn('set_mode')(0);
    g.fn('sysctl_get')(0, 16, 2, 1024);
    const v = g.view();
    expect(g.bytes()[1024]).toBe(0); // ok
    const s = new TextDecoder().decode(g.bytes().subarray(v.getUint32(1028, true), v.getUint32(1028, true) + v.getUint32(1032, true)));
    expect(s).toBe('host:ok=1');
  });

  it('a host answer that does not fit the WIT type is a TypeError naming the function (a host bug, not AbiTrap)', () => {
    const host = fakeHost([]);
    const g = (answer: unknown) => {
      const mem: GuestMemory = { maxLiftBytes: 1 << 20 };
      const h: HostImports = {
        ...host,
        netlink: { ...host.netlink, getLink: () => answer as LinkInfo },
        sysctl: { ...host.sysctl, get: () => answer as string },
      };
      const instance = new WebAssembly.Instance(module, buildImports(h, mem));
      mem.memory = instance.exports['memory'] as WebAssembly.Memory;
      mem.realloc = instance.exports['cabi_realloc'] as Fn;
      return (name: string) => instance.exports[name] as Fn;
    };
    expect(() => g({ ...hostLink('x'), up: 'yes' })('get_link')(0, 16, 2, 1024)).toThrow(/^netlink\.get-link: host value "yes" is not a valid bool$/);
    expect(() => g(null)('get_link')(0, 16, 2, 1024)).toThrow(/netlink\.get-link: host value null is not a valid link-info/);
    expect(() => g({ ...hostLink('x'), mtu: -1 })('get_link')(0, 16, 2, 1024)).toThrow(/host value -1 is not a valid u32/);
    expect(() => g({ ...hostLink('x'), vxlan: vxlanInfo({ ttl: 256 }) })('get_link')(0, 16, 2, 1024)).toThrow(/netlink\.get-link: host value 256 is not a valid u8/);
    expect(() => g({ ...hostLink('x'), vxlan: 'vxlan' })('get_link')(0, 16, 2, 1024)).toThrow(/host value "vxlan" is not a valid vxlan-info/);
    expect(() => g(42)('sysctl_get')(0, 16, 2, 1024)).toThrow(TypeError);
  });

  it('an import called before bindHandler attached the memory traps', () => {
    const mem: GuestMemory = { maxLiftBytes: 1000 };
    const calls: Call[] = [];
    const instance = new WebAssembly.Instance(module, buildImports(fakeHost(calls), mem));
    expectTrap(() => (instance.exports['log'] as Fn)(1, 16, 2), /log\.write: guest memory is not attached yet/, calls);
  });
});

/** Handler exports returning whatever they like; post-return counts its calls. */
const HOSTILE_HANDLER_WAT = `(module
  (import "cni:plugin/log@0.1.0" "write" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "ok")
  ;; 256: result ok(string) at 16 len 2; 300: disc 5; 320: err(cni-error) with a bad UTF-8 msg;
  ;; 360: err(cni-error) with a huge details length
  (data (i32.const 256) "\\00\\00\\00\\00\\10\\00\\00\\00\\02\\00\\00\\00")
  (data (i32.const 300) "\\05")
  (data (i32.const 320) "\\01\\00\\00\\00\\00\\00\\00\\00\\20\\00\\00\\00\\02\\00\\00\\00\\10\\00\\00\\00\\00\\00\\00\\00")
  (data (i32.const 32) "\\ff\\fe")
  (data (i32.const 360) "\\01\\00\\00\\00\\07\\00\\00\\00\\10\\00\\00\\00\\02\\00\\00\\00\\10\\00\\00\\00\\ff\\ff\\ff\\0f")
  (global $posts (mut i32) (i32.const 0))
  (global $bump (mut i32) (i32.const 8192))
  (func (export "posts") (result i32) (global.get $posts))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "cni:plugin/handler@0.1.0#add") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (call $log (i32.const 1) (i32.const 16) (i32.const 2))
    (i32.const 256))
  (func (export "cabi_post_cni:plugin/handler@0.1.0#add") (param i32)
    (global.set $posts (i32.add (global.get $posts) (i32.const 1))))
  (func (export "cni:plugin/handler@0.1.0#del") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.const 300))
  (func (export "cni:plugin/handler@0.1.0#check") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.const 320))
  (func (export "cni:plugin/handler@0.1.0#status") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.const 65528))
  (func (export "cni:plugin/handler@0.1.0#gc") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    (i32.const 360))
)`;

describe('hostile handler exports -> host', () => {
  let module: WebAssembly.Module;
  beforeAll(async () => {
    module = await watModule(HOSTILE_HANDLER_WAT);
  });

  function bind(host: HostImports) {
    const mem: GuestMemory = { maxLiftBytes: 1 << 20 };
    const instance = new WebAssembly.Instance(module, buildImports(host, mem));
    return { instance, handler: bindHandler(instance.exports, mem) };
  }

  it('a well-formed result is lifted, then the post-return function runs', () => {
    const calls: Call[] = [];
    const { instance, handler } = bind(fakeHost(calls));
    expect(handler.add(REQUEST)).toBe('ok');
    expect((instance.exports['posts'] as Fn)()).toBe(1);
    expect(calls).toEqual([['log.write', 'info', 'ok']]);
  });

  it('bad discriminant, bad UTF-8, result pointer outside memory, huge string length: AbiTrap', () => {
    const { handler } = bind(fakeHost([]));
    expect(() => handler.del(REQUEST)).toThrow(/handler\.del: invalid result<_, cni-error> discriminant 5/);
    expect(() => handler.check(REQUEST)).toThrow(/handler\.check: string at 32 \(2 bytes\) is not valid UTF-8/);
    expect(() => handler.status(REQUEST)).toThrow(/handler\.status: result: \[65528, 65552\) is outside guest memory/);
    expect(() => handler.gc(REQUEST)).toThrow(/handler\.gc: string: \[16, 268435471\) is outside guest memory|exceeds/);
    expect(() => handler.gc(REQUEST)).toThrow(AbiTrap);
  });

  it('re-entering the guest from a host import traps', () => {
    let inner: unknown;
    const host = fakeHost([]);
    const bound: { h?: ReturnType<typeof bindHandler> } = {};
    host.log = { write: () => { try { bound.h?.del(REQUEST); } catch (e) { inner = e; } } };
    const { handler } = bind(host);
    bound.h = handler;
    expect(handler.add(REQUEST)).toBe('ok');
    expect(inner).toBeInstanceOf(AbiTrap);
    expect((inner as Error).message).toMatch(/handler\.del: the guest is already running an export/);
  });

  it('a module without memory or cabi_realloc is refused by bindHandler', async () => {
    const noRealloc = new WebAssembly.Instance(await watModule('(module (memory (export "memory") 1))'), {});
    expect(() => bindHandler(noRealloc.exports)).toThrow(/does not export function 'cabi_realloc'/);
    const noMemory = new WebAssembly.Instance(await watModule('(module)'), {});
    expect(() => bindHandler(noMemory.exports)).toThrow(/does not export its 'memory'/);
  });
});
