// End to end, as a container runtime would do it: the built binary dist/cni-wasm.cjs exec'd
// inside a throwaway "node" namespace (`ip netns exec`), with hostile plugins (AssemblyScript
// through the SDK, and hand-written WAT) in its plugin directory and an operator policy
// file. Each hostile plugin is contained with the right CNI error, the node is unchanged,
// and the audit log (CNI_LOG_LEVEL=debug, CNI_LOG_FILE) has the denial at warn; a plugin
// using exactly its grant works and the log shows its calls.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AsFixture, buildAsFixture } from '../fixtures/hostile-caps/as-build.ts';
import { type CapsFixture, buildCapsFixture } from '../fixtures/hostile-caps/build.ts';
import { BINARY } from '../binary/run-binary.ts';
import { cleanup, makeNetns, type Netns } from '../harness/netns.ts';

let node: Netns;
let ctr: Netns;
let dir: string;
let pluginDir: string;
let storeDir: string;
let policyFile: string;

interface Answer {
  status: number | null;
  json: { code?: number; msg?: string; details?: string; cniVersion?: string } | undefined;
  log: Record<string, unknown>[];
  stderr: string;
}

let run = 0;
/** Exec the binary in the node namespace for one plugin type. */
function cni(type: string, command: string, cniArgs = '', extraConf: Record<string, unknown> = {}): Answer {
  const logFile = join(dir, `log-${++run}.jsonl`);
  const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'net1', type, dataDir: storeDir, ...extraConf });
  const r = node.spawn(process.execPath, [BINARY], {
    input: conf,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: 'ctr1',
      CNI_NETNS: ctr.path,
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni',
      CNI_ARGS: cniArgs,
      CNI_WASM_PLUGIN_DIR: pluginDir,
      CNI_WASM_POLICY: policyFile,
      CNI_LOG_LEVEL: 'debug',
      CNI_LOG_FILE: logFile,
    },
  });
  const log = existsSync(logFile)
    ? readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
  let json: Answer['json'];
  try {
    json = r.stdout.trim() ? (JSON.parse(r.stdout) as Answer['json']) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, json, log, stderr: r.stderr };
}

function nodeState(): string {
  return JSON.stringify({
    links: node.ipJson('-d', 'link', 'show'),
    addrs: node.ipJson('addr', 'show'),
    routes: node.ipJson('route', 'show', 'table', 'all'),
    sys: ['net/ipv4/ip_forward', 'net/ipv4/conf/all/forwarding', 'net/ipv4/conf/uplink/forwarding'].map((k) => node.run('cat', [`/proc/sys/${k}`]).trim()),
  });
}

const PINO_WARN = 40;
const PINO_DEBUG = 20;
const denials = (a: Answer): Record<string, unknown>[] => a.log.filter((l) => l.level === PINO_WARN && l.audit === true);
const calls = (a: Answer): Record<string, unknown>[] => a.log.filter((l) => l.level === PINO_DEBUG && l.audit === true && l.call !== undefined);

beforeAll(async () => {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'caps-binary-'));
  pluginDir = join(dir, 'plugins');
  storeDir = join(dir, 'state');
  mkdirSync(pluginDir);
  for (const name of ['as-delete-link', 'as-sysctl', 'as-grant-user'] as AsFixture[]) await buildAsFixture(name, join(pluginDir, `${name}.wasm`));
  for (const name of ['create-vxlan', 'bad-netns', 'overreach'] as CapsFixture[]) writeFileSync(join(pluginDir, `${name}.wasm`), await buildCapsFixture(name));
  policyFile = join(dir, 'policy.json');
  writeFileSync(
    policyFile,
    JSON.stringify({
      version: 1,
      plugins: {
        'as-delete-link': { grant: { links: { create: ['veth'], container: true } } },
        'as-sysctl': { grant: { sysctl: { host: ['net.ipv4.ip_forward'] } } },
        'as-grant-user': { grant: { links: { create: ['bridge', 'veth'], container: true }, sysctl: { host: ['net.ipv4.ip_forward'] }, store: ['${dataDir}'] } },
        'create-vxlan': { grant: { links: { create: ['bridge', 'veth'] } } },
        'bad-netns': { grant: { links: { container: true } } },
        overreach: { grant: { links: { create: ['bridge'] }, sysctl: { host: ['net.ipv4.ip_forward'] } } },
      },
    }),
  );
  node = makeNetns('caps-bin-node');
  ctr = makeNetns('caps-bin-ctr');
  for (const k of ['all', 'default']) node.run('sysctl', ['-qw', `net.ipv6.conf.${k}.disable_ipv6=1`]);
  node.run('ip', ['link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'uplinkp']);
  node.run('ip', ['link', 'set', 'uplink', 'up']);
}, 240_000);

afterAll(() => {
  cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('hostile plugins through the binary', () => {
  it('AssemblyScript: deleting (then claiming) a host link it did not create is denied; node unchanged; denial logged at warn', () => {
    for (const target of ['lo', 'uplink']) {
      const before = nodeState();
      const a = cni('as-delete-link', 'ADD', `T=${target}`);
      expect(a.status).toBe(1);
      expect(a.json?.code).toBe(183);
      expect(a.json?.msg).toBe(`links.host: may not delete host link "${target}": neither created by this plugin for this network nor granted`);
      expect(nodeState()).toBe(before);
      const d = denials(a);
      expect(d).toHaveLength(1);
      expect(d[0]).toMatchObject({ capability: 'links.host', call: 'netlink.delete-link', outcome: 'denied', plugin: 'as-delete-link', network: 'net1', containerId: 'ctr1' });
      // The forged mark was refused too (invalid, not a capability: logged at debug).
      expect(calls(a).map((l) => [l.call, l.outcome])).toEqual([
        ['netlink.delete-link', 'permission-denied'],
        ['netlink.set-link', 'invalid'],
      ]);
    }
  });

  it('AssemblyScript: writing a sysctl outside its grant is denied; node unchanged', () => {
    const before = nodeState();
    const a = cni('as-sysctl', 'ADD', 'net.ipv4.conf.all.forwarding=1');
    expect(a.json).toMatchObject({ code: 183, msg: 'sysctl.host: may not write "net.ipv4.conf.all.forwarding" in the host namespace' });
    expect(nodeState()).toBe(before);
    expect(denials(a)[0]).toMatchObject({ capability: 'sysctl.host', call: 'sysctl.set' });
  });

  it('WAT: creating a link kind not granted is denied', () => {
    const before = nodeState();
    const a = cni('create-vxlan', 'ADD');
    expect(a.json).toMatchObject({ code: 183, msg: 'links.create: may not create a "vxlan" link' });
    expect(nodeState()).toBe(before);
  });

  it('WAT: naming a namespace beyond host/container traps (code 101)', () => {
    const before = nodeState();
    const a = cni('bad-netns', 'ADD');
    expect(a.status).toBe(1);
    expect(a.json?.code).toBe(101);
    expect(nodeState()).toBe(before);
  });

  it('WAT: declaring more capabilities than granted does not run (code 100), naming every one missing, logged', () => {
    const before = nodeState();
    const a = cni('overreach', 'ADD');
    expect(a.json?.code).toBe(100);
    expect(a.json?.msg).toBe('plugin "overreach": refused: asks for capabilities it is not granted: links.create: "vxlan", links.host: "*", sysctl.host: "net.**", firewall');
    expect(a.json?.details).toContain(policyFile);
    expect(nodeState()).toBe(before);
    expect(calls(a)).toEqual([]);
  });
});

describe('a plugin using exactly its grant, through the binary', () => {
  it('works: ADD then DEL; the audit log shows every call with its outcome and duration', () => {
    const add = cni('as-grant-user', 'ADD', `BRIDGE=cni-ok0;STORE=${storeDir}`);
    expect(add.stderr).toBe('');
    expect(add.status).toBe(0);
    expect(add.json?.cniVersion).toBe('1.1.0');
    const br = node.ipJson<Record<string, unknown>[]>('-d', 'link', 'show', 'cni-ok0')[0]!;
    expect(br.ifalias).toBe('cni-wasm plugin=as-grant-user net=net1');
    const veth = node.ipJson<Record<string, unknown>[]>('-d', 'link', 'show', 'master', 'cni-ok0')[0]!;
    expect(veth.ifalias).toBe('cni-wasm plugin=as-grant-user net=net1 ctr=ctr1 if=eth0');
    expect(ctr.ipJson<{ addr_info: { local: string }[] }[]>('addr', 'show', 'eth0')[0]!.addr_info.map((x) => x.local)).toContain('10.66.0.2');
    expect(node.run('cat', ['/proc/sys/net/ipv4/ip_forward']).trim()).toBe('1');
    expect(readFileSync(join(storeDir, 'net1', '10.66.0.2'), 'utf8')).toBe('ctr1');
    expect(denials(add)).toEqual([]);
    const c = calls(add);
    expect(c.map((l) => [l.call, l.outcome])).toEqual([
      ['netlink.create-bridge', 'ok'],
      ['netlink.set-link', 'ok'],
      ['netlink.add-address', 'ok'],
      ['sysctl.set', 'ok'],
      ['netlink.create-veth', 'ok'],
      ['netlink.set-link', 'ok'],
      ['netlink.add-address', 'ok'],
      ['netlink.set-link', 'ok'],
      ['store.open', 'ok'],
      ['store.create-exclusive', 'ok'],
    ]);
    for (const l of c) {
      expect(l).toMatchObject({ plugin: 'as-grant-user', network: 'net1', command: 'ADD', containerId: 'ctr1', ifname: 'eth0' });
      expect(typeof l.durationMs).toBe('number');
    }
    expect(c[0]!.args).toEqual(['cni-ok0', { vlanFiltering: false, promisc: false }]);

    const del = cni('as-grant-user', 'DEL', `STORE=${storeDir}`);
    expect(del.status).toBe(0);
    expect(existsSync(join(storeDir, 'net1', '10.66.0.2'))).toBe(false);
    expect(ctr.ipJson<{ ifname: string }[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(calls(del).map((l) => l.call)).toEqual(['store.open', 'store.remove', 'netlink.delete-link']);
    expect(del.log.find((l) => l.outcome === 'summary')).toMatchObject({ plugin: 'as-grant-user', calls: 3, denials: 0 });
  });
});
