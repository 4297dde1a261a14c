// Hostile plugins, hand-written in WAT against the raw ABI, run through the real runtime
// (loader, verification, canonical-ABI glue, limits) with the real policy check and host
// API, on the real kernel: a "node" namespace plays the host. Each must be contained with
// the right error and leave the node unchanged; a plugin using exactly its grant works and
// its calls are in the audit trail.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLevel } from '../../host/caps/audit.ts';
import { parseManifestBytes } from '../../host/caps/manifest.ts';
import { type Authorization, authorize, parsePolicy } from '../../host/caps/policy.ts';
import { decodeConfig, validateConfig } from '../../host/cni/config.ts';
import { CniError } from '../../host/cni/errors.ts';
import { readPluginEnv } from '../../host/cni/env.ts';
import { createHostBinding } from '../../host/runtime/host-api/binding.ts';
import { type LoaderHooks, loadWasmPluginSync } from '../../host/runtime/loader.ts';
import { type NetnsHandle, openNetns } from '../../host/sys/netns.ts';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco';
import { type CapsFixture, buildCapsFixture, withCustomSection } from '../fixtures/hostile-caps/build.ts';
import { PLUGIN_WIT, completeModule } from '../fixtures/hostile/build.ts';
import { cleanup, makeNetns, type Netns } from '../harness/netns.ts';

let node: Netns;
let ctr: Netns;
let nodeNs: NetnsHandle;
let dir: string;
const lines: { level: AuditLevel; fields: Record<string, unknown>; msg: string }[] = [];

// The operator's grants for the fixtures: what a careful operator would give them.
const POLICY = parsePolicy(
  {
    plugins: {
      'delete-host-link': { grant: { links: { create: ['veth'], container: true } } },
      'set-host-link': { grant: { links: { create: ['bridge'], host: ['cni-evil*'] } } },
      'sysctl-set': { grant: { sysctl: { host: ['net.ipv4.ip_forward'], container: ['net.ipv4.conf.*.*'] } } },
      'create-vxlan': { grant: { links: { create: ['bridge', 'veth'] } } },
      'bad-netns': { grant: { links: { container: true } } },
      'store-escape': { grant: { store: ['/var/lib/cni/networks'] } },
      overreach: { grant: { links: { create: ['bridge'], host: ['${bridge}'] }, sysctl: { host: ['net.ipv4.ip_forward'] } } },
      'grant-user': { grant: { links: { create: ['bridge'] }, sysctl: { host: ['net.ipv4.ip_forward'] } } },
      'ipam-caller': { grant: { ipam: true } },
      'fake-ipam': {},
      'file-reader': { grant: { files: { read: ['${resolv}'] } } },
    },
  },
  '/test/policy.json',
);

const hooks: LoaderHooks<Authorization> = {
  env: {},
  authorize: (ctx) =>
    authorize({
      policy: POLICY,
      type: ctx.plugin.type,
      path: ctx.plugin.path,
      manifest: ctx.manifest === undefined ? undefined : parseManifestBytes(new TextEncoder().encode(ctx.manifest), ctx.plugin.path),
      config: ctx.request.config,
      fileBytes: ctx.fileBytes,
    }),
  createHost: (ctx) =>
    createHostBinding(ctx, {
      hostNs: nodeNs,
      pluginDirs: [dir],
      auditSink: (level, fields, msg) => lines.push({ level, fields, msg }),
      runWasm: (type, path, req) => loadWasmPluginSync(hooks, type, path).run(req),
    }),
};

const built = new Map<CapsFixture, string>();
async function plugin(name: CapsFixture): Promise<string> {
  let p = built.get(name);
  if (!p) {
    p = join(dir, `${name}.wasm`);
    writeFileSync(p, await buildCapsFixture(name));
    built.set(name, p);
  }
  return p;
}

/** Run a fixture's ADD; answers the CniError it failed with (or undefined on success). */
async function add(name: CapsFixture, cniArgs = '', conf: Record<string, unknown> = {}): Promise<CniError | undefined> {
  return (await addResult(name, cniArgs, conf)).error;
}

async function addResult(name: CapsFixture, cniArgs = '', conf: Record<string, unknown> = {}): Promise<{ error?: CniError; result?: unknown }> {
  const path = await plugin(name);
  const text = JSON.stringify({ cniVersion: '1.1.0', name: 'net1', type: name, bridge: 'cni-evil0', ...conf });
  const env = readPluginEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: ctr.path, CNI_IFNAME: 'eth0', CNI_PATH: '/nonexistent', CNI_ARGS: cniArgs });
  const config = validateConfig(decodeConfig(text), 'ADD');
  try {
    return { result: loadWasmPluginSync(hooks, name, path).run({ env, config, configText: text }) };
  } catch (e) {
    if (e instanceof CniError) return { error: e };
    throw e;
  }
}

function nodeState(): string {
  return JSON.stringify({
    links: node.ipJson('-d', 'link', 'show'),
    addrs: node.ipJson('addr', 'show'),
    routes: node.ipJson('route', 'show', 'table', 'all'),
    sys: ['net/ipv4/ip_forward', 'net/ipv4/conf/all/forwarding', 'net/ipv4/conf/lo/forwarding'].map((k) => node.run('cat', [`/proc/sys/${k}`]).trim()),
  });
}

/** The plugin reports the host's answer as code 180 + host-error case: permission-denied is case 3. */
const PERMISSION_DENIED = 183;

beforeAll(() => {
  node = makeNetns('caps-hostile-node');
  ctr = makeNetns('caps-hostile-ctr');
  nodeNs = openNetns(node.path);
  for (const k of ['all', 'default']) node.run('sysctl', ['-qw', `net.ipv6.conf.${k}.disable_ipv6=1`]);
  node.run('ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']);
  dir = mkdtempSync(join(tmpdir(), 'caps-hostile-'));
});

afterAll(() => {
  nodeNs?.close();
  cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('hostile WAT plugins are contained', () => {
  it('deleting a host link it did not create: permission-denied naming links.host; nothing deleted', async () => {
    for (const target of ['lo', 'eth0']) {
      const before = nodeState();
      const e = await add('delete-host-link', `T=${target}`);
      expect(e?.code).toBe(PERMISSION_DENIED);
      expect(e?.message).toBe(`links.host: may not delete host link "${target}": neither created by this plugin for this network nor granted`);
      expect(nodeState()).toBe(before);
    }
    const warn = lines.find((l) => l.level === 'warn' && l.fields.plugin === 'delete-host-link');
    expect(warn?.fields).toMatchObject({ capability: 'links.host', call: 'netlink.delete-link', outcome: 'denied', args: ['host', 'lo'] });
  });

  it('changing a host link it did not create: permission-denied; the link unchanged', async () => {
    const before = nodeState();
    const e = await add('set-host-link', 'T=eth0');
    expect(e?.code).toBe(PERMISSION_DENIED);
    expect(e?.message).toContain('links.host: may not change host link "eth0"');
    expect(nodeState()).toBe(before);
  });

  it('writing a sysctl outside its grant: permission-denied naming sysctl.host / sysctl.container', async () => {
    const before = nodeState();
    let e = await add('sysctl-set', 'net.ipv4.conf.all.forwarding=1');
    expect(e?.code).toBe(PERMISSION_DENIED);
    expect(e?.message).toBe('sysctl.host: may not write "net.ipv4.conf.all.forwarding" in the host namespace');
    e = await add('sysctl-set', 'net.ipv4.conf.lo.forwarding=1');
    expect(e?.message).toContain('sysctl.host');
    e = await add('sysctl-set', 'net.ipv4.ip_forward=1;ns=container');
    expect(e?.message).toBe('sysctl.container: may not write "net.ipv4.ip_forward" in the container namespace');
    expect(nodeState()).toBe(before);
  });

  it('creating a link kind it was not granted: permission-denied naming links.create; no link', async () => {
    const before = nodeState();
    const e = await add('create-vxlan');
    expect(e?.code).toBe(PERMISSION_DENIED);
    expect(e?.message).toBe('links.create: may not create a "vxlan" link');
    expect(nodeState()).toBe(before);
  });

  it('naming a namespace other than host or container: the ABI layer traps (code 101); nothing deleted', async () => {
    const before = nodeState();
    const e = await add('bad-netns');
    expect(e?.code).toBe(101);
    expect(`${e?.message} ${e?.details}`).toMatch(/netns|discriminant|enum/i);
    expect(nodeState()).toBe(before);
  });

  it('opening state outside its store grant: permission-denied naming store', async () => {
    for (const root of ['/etc', '/var/lib/cni/networks/../../../etc', 'relative']) {
      const e = await add('store-escape', `R=${root}`);
      expect(e?.code).toBe(PERMISSION_DENIED);
      expect(e?.message.startsWith('store: may not open state under')).toBe(true);
    }
  });

  it('declaring more than it was granted: does not run (code 100), the error names every capability missing', async () => {
    const before = nodeState();
    const e = await add('overreach');
    expect(e?.code).toBe(100);
    expect(e?.message).toBe(
      'plugin "overreach": refused: asks for capabilities it is not granted: links.create: "vxlan", links.host: "*", sysctl.host: "net.**", firewall',
    );
    expect(e?.details).toContain('policy: /test/policy.json');
    expect(nodeState()).toBe(before);
  });
});

describe('a plugin using exactly its grant', () => {
  it('works, and the audit trail shows its calls', async () => {
    lines.length = 0;
    expect(await add('grant-user', 'B=cni-ok0')).toBeUndefined();
    const l = node.ipJson<Record<string, unknown>[]>('-d', 'link', 'show', 'cni-ok0')[0]!;
    expect(l.ifalias).toBe('cni-wasm plugin=grant-user net=net1');
    expect(node.run('cat', ['/proc/sys/net/ipv4/ip_forward']).trim()).toBe('1');
    const calls = lines.filter((x) => x.level === 'debug' && x.fields.call !== undefined).map((x) => [x.fields.call, x.fields.outcome]);
    expect(calls).toEqual([
      ['netlink.create-bridge', 'ok'],
      ['sysctl.set', 'ok'],
    ]);
    expect(lines.filter((x) => x.level === 'warn')).toEqual([]);
  });
});

describe('IPAM delegation to a wasm plugin, in process', () => {
  it('runs the IPAM plugin under its own grant and hands its result over in the 1.x form', async () => {
    await plugin('fake-ipam');
    lines.length = 0;
    const r = await addResult('ipam-caller', '', { ipam: { type: 'fake-ipam' } });
    expect(r.error).toBeUndefined();
    expect(r.result).toEqual({ cniVersion: '1.1.0', ips: [{ address: '10.55.0.7/24', gateway: '10.55.0.1' }] });
    expect(lines.find((l) => l.fields.call === 'ipam.add')?.fields).toMatchObject({ plugin: 'ipam-caller', outcome: 'ok' });
  });

  it('a delegated IPAM plugin holds only its own grant: its overreach is denied and reported to the caller', async () => {
    await plugin('delete-host-link');
    const before = nodeState();
    const e = await add('ipam-caller', 'T=lo', { ipam: { type: 'delete-host-link' } });
    expect(e?.code).toBe(PERMISSION_DENIED);
    expect(e?.message).toContain('links.host: may not delete host link "lo"');
    expect(nodeState()).toBe(before);
    expect(lines.find((l) => l.level === 'warn' && l.fields.plugin === 'delete-host-link')?.fields).toMatchObject({ capability: 'links.host' });
  });
});

// Reads the file named by its first CNI_ARGS value with files.read-text and answers its text as
// the ADD result (the granted file holds a CNI result), or the host's error as 180 + case.
const FILE_READER_WAT = `;; capabilities: {"files": {"read": ["\${resolv}"]}}
(module
  (import "cni:plugin/files@0.1.0" "read-text" (func $read (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "cni:plugin/handler@0.1.0#add") (param $config i32) (param $configLen i32) (param $cid i32) (param $cidLen i32) (param $ifname i32) (param $ifnameLen i32)
    (param $args i32) (param $argsLen i32) (param $hasPrev i32) (param $prev i32) (param $prevLen i32) (param $hasContainer i32) (result i32)
    (call $read (i32.load offset=8 (local.get $args)) (i32.load offset=12 (local.get $args)) (i32.const 512))
    (if (i32.eqz (i32.load8_u (i32.const 512)))
      (then
        (i32.store8 (i32.const 32) (i32.const 0))
        (i32.store (i32.const 36) (i32.load offset=4 (i32.const 512)))
        (i32.store (i32.const 40) (i32.load offset=8 (i32.const 512)))
        (return (i32.const 32))))
    (i32.store8 (i32.const 32) (i32.const 1))
    (i32.store (i32.const 36) (i32.add (i32.const 180) (i32.load8_u offset=4 (i32.const 512))))
    (i32.store (i32.const 40) (i32.load offset=8 (i32.const 512)))
    (i32.store (i32.const 44) (i32.load offset=12 (i32.const 512)))
    (i32.store (i32.const 48) (i32.const 0))
    (i32.store (i32.const 52) (i32.const 0))
    (i32.const 32)))`;

describe('a hostile plugin reading files', () => {
  let path = '';
  let granted = '';

  beforeAll(async () => {
    let core = await parse(completeModule(FILE_READER_WAT));
    core = withCustomSection(core, 'cni-wasm:capabilities', new TextEncoder().encode('{"files": {"read": ["${resolv}"]}}'));
    path = join(dir, 'file-reader.wasm');
    writeFileSync(path, await componentNew(await componentEmbed({ binary: core, witSource: PLUGIN_WIT, world: 'plugin' })));
    granted = join(dir, 'granted.json');
    writeFileSync(granted, '{"cniVersion":"1.1.0","dns":{"nameservers":["192.0.2.53"]}}');
    symlinkSync('/etc/passwd', join(dir, 'passwd-link'));
  });

  function read(target: string, resolv = granted): { error?: CniError; result?: unknown } {
    const text = JSON.stringify({ cniVersion: '1.1.0', name: 'net1', type: 'file-reader', resolv });
    const env = readPluginEnv({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: ctr.path, CNI_IFNAME: 'eth0', CNI_PATH: '/nonexistent', CNI_ARGS: `R=${target}` });
    try {
      return { result: loadWasmPluginSync(hooks, 'file-reader', path).run({ env, config: validateConfig(decodeConfig(text), 'ADD'), configText: text }) };
    } catch (e) {
      if (e instanceof CniError) return { error: e };
      throw e;
    }
  }

  it('reads the one file its grant names, and nothing else: permission-denied naming files.read, audited', () => {
    expect(read(granted)).toEqual({ result: { cniVersion: '1.1.0', dns: { nameservers: ['192.0.2.53'] } } });
    lines.length = 0;
    for (const target of ['/etc/shadow', '/etc/passwd', `${dir}/../${dir.split('/').pop()}/granted.json`, 'granted.json', '/proc/self/environ']) {
      const e = read(target).error;
      expect(e?.code, target).toBe(PERMISSION_DENIED);
      expect(e?.message.startsWith(`files.read: may not read ${JSON.stringify(target)}: `), e?.message).toBe(true);
    }
    expect(lines.filter((l) => l.level === 'warn').map((l) => [l.fields.plugin, l.fields.capability, l.fields.call])).toEqual(
      Array.from({ length: 5 }, () => ['file-reader', 'files.read', 'files.read-text']),
    );
  });

  it('a granted path that is a symlink to a file outside the grant is denied, naming where it leads', () => {
    const link = join(dir, 'passwd-link');
    const e = read(link, link).error;
    expect(e?.code).toBe(PERMISSION_DENIED);
    expect(e?.message).toBe(`files.read: may not read ${JSON.stringify(link)}: it resolves to "/etc/passwd", which is not granted (granted: ${JSON.stringify(link)})`);
  });
});
