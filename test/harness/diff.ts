// Differential testing of a CNI plugin: run the same configurations through the reference Go
// plugins (/usr/lib/cni) and through cni-wasm, each in its own fresh "node" namespace with
// fresh container namespaces, and compare what they answered and the namespaces they left
// behind, normalized (random veth names and MACs become tokens in order of appearance, the
// namespace paths become their roles). Generic over the plugin type: vxlan can use it too.
//
//   const w = makeWorld('cni-wasm', { containers: 2, outside: true });
//   const r = w.invoke('ADD', conf, { ctr: 0 });
//   const s = w.snapshot();            // links, addresses, routes, sysctls, IPAM files, masquerade effect
//   w.dispose();
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { install } from '../../host/cli/install.ts';
import { makeNetns, type Netns } from './netns.ts';

export type Impl = 'reference' | 'cni-wasm';
export const REFERENCE_DIR = '/usr/lib/cni';
export const BINARY = fileURLToPath(new URL('../../dist/cni-wasm.cjs', import.meta.url));
/** The address of the "outside" namespace, reachable from containers only through masquerade. */
export const OUTSIDE_IP = '203.0.113.2';
export const UPLINK_IP = '203.0.113.1';

/**
 * Install cni-wasm into `dir` under the given plugin names, as `cni-wasm install` does
 * (launcher scripts that exec this Node with dist/cni-wasm.cjs).
 */
export function installCniWasm(dir: string, plugins: string[]): string {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first`);
  install({ dir, plugins, mode: 'launcher', force: false, entry: BINARY, node: process.execPath });
  return dir;
}

export interface InvokeOptions {
  /** Container index (its namespace is CNI_NETNS); -1 or `netns` to give something else. */
  ctr?: number;
  /** CNI_NETNS as given (overrides ctr): '' for none, a path that does not exist, ... */
  netns?: string;
  containerId?: string;
  ifname?: string;
  args?: string;
  /** Plugin type to exec (default: the config's `type`). */
  type?: string;
}

export interface Answer {
  status: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
  ms: number;
}

export interface Snapshot {
  node: NsState;
  containers: NsState[];
  ipam: Record<string, string>;
  /** Container 0 reaches the outside namespace (only through masquerade); undefined without one. */
  reachesOutside?: boolean;
}

export interface NsState {
  links: Record<string, unknown>[];
  addrs: Record<string, string[]>;
  routes: string[];
  sysctls: Record<string, string>;
}

export interface WorldOptions {
  containers?: number;
  /** An "outside" namespace behind an uplink of the node, for masquerade checks. */
  outside?: boolean;
  /** Plugin names to install cni-wasm as (default ['bridge']); the rest come from /usr/lib/cni. */
  plugins?: string[];
}

export interface World {
  impl: Impl;
  node: Netns;
  containers: Netns[];
  outside: Netns | undefined;
  /** Temp dir of this world: use it as ipam.dataDir (`${w.dir}/ipam`) and cache dir. */
  dir: string;
  binDir: string;
  cniPath: string;
  invoke(command: string, conf: unknown, o?: InvokeOptions): Answer;
  invokeAsync(command: string, conf: unknown, o?: InvokeOptions): Promise<Answer>;
  /** Run `cni-wasm net <verb> <network> <ctr netns>` (the libcni side) with NETCONFPATH=netDir. */
  net(verb: string, network: string, netDir: string, ctr?: number, extraEnv?: Record<string, string>): Answer;
  snapshot(opts?: SnapshotOptions): Snapshot;
  ping(from: Netns, to: string): boolean;
  dispose(): void;
}

export interface SnapshotOptions {
  /** Interface name inside the containers whose sysctls are read (default eth0). */
  ifname?: string;
  /** Bridge (or other host link) whose sysctls are read (default cni0). */
  bridge?: string;
  /** Check whether container 0 reaches the outside (default: when the world has one). */
  outside?: boolean;
}

function parseAnswer(r: { status: number | null; stdout: string; stderr: string }, ms: number): Answer {
  let json: Record<string, unknown> | undefined;
  try {
    json = r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json, ms };
}

export function makeWorld(impl: Impl, o: WorldOptions = {}): World {
  const dir = mkdtempSync(join(tmpdir(), `cniw-diff-${impl}-`));
  const node = makeNetns(impl === 'reference' ? 'ref-node' : 'wasm-node');
  const containers: Netns[] = [];
  for (let i = 0; i < (o.containers ?? 1); i++) containers.push(makeNetns(`${impl === 'reference' ? 'ref' : 'wasm'}-c${i}`));
  let outside: Netns | undefined;
  if (o.outside) {
    outside = makeNetns(`${impl === 'reference' ? 'ref' : 'wasm'}-out`);
    execFileSync('ip', ['-n', node.name, 'link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'wan', 'netns', outside.name]);
    execFileSync('ip', ['-n', node.name, 'addr', 'add', `${UPLINK_IP}/24`, 'dev', 'uplink']);
    execFileSync('ip', ['-n', node.name, 'link', 'set', 'uplink', 'up']);
    execFileSync('ip', ['-n', outside.name, 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', 'wan']);
    execFileSync('ip', ['-n', outside.name, 'link', 'set', 'wan', 'up']);
  }
  const binDir = impl === 'reference' ? REFERENCE_DIR : installCniWasm(join(dir, 'bin'), o.plugins ?? ['bridge']);
  const cniPath = impl === 'reference' ? REFERENCE_DIR : `${binDir}:${REFERENCE_DIR}`;

  const envFor = (command: string, conf: unknown, opt: InvokeOptions): { exe: string; env: NodeJS.ProcessEnv; input: string } => {
    const c = conf as { type?: string };
    const type = opt.type ?? c.type ?? 'bridge';
    const netns = opt.netns ?? (opt.ctr === -1 ? '' : containers[opt.ctr ?? 0]!.path);
    return {
      exe: join(binDir, type),
      input: typeof conf === 'string' ? conf : JSON.stringify(conf),
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: command,
        CNI_CONTAINERID: opt.containerId ?? `ctr${opt.ctr ?? 0}`,
        CNI_NETNS: netns,
        CNI_IFNAME: opt.ifname ?? 'eth0',
        CNI_PATH: cniPath,
        CNI_ARGS: opt.args ?? '',
      },
    };
  };

  const world: World = {
    impl,
    node,
    containers,
    outside,
    dir,
    binDir,
    cniPath,
    invoke(command, conf, opt = {}) {
      const { exe, env, input } = envFor(command, conf, opt);
      const t = performance.now();
      const r = spawnSync('ip', ['netns', 'exec', node.name, exe], { input, env, encoding: 'utf8', timeout: 60_000 });
      return parseAnswer(r, performance.now() - t);
    },
    invokeAsync(command, conf, opt = {}) {
      const { exe, env, input } = envFor(command, conf, opt);
      return new Promise((resolve) => {
        const t = performance.now();
        const p = spawn('ip', ['netns', 'exec', node.name, exe], { env, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        p.on('close', (status) => resolve(parseAnswer({ status, stdout, stderr }, performance.now() - t)));
        p.stdin.end(input);
      });
    },
    net(verb, network, netDir, ctr = 0, extraEnv = {}) {
      const env = {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        NETCONFPATH: netDir,
        CNI_PATH: cniPath,
        CNI_CACHE_DIR: join(dir, 'cache'),
        ...extraEnv,
      };
      const t = performance.now();
      const r = spawnSync('ip', ['netns', 'exec', node.name, process.execPath, BINARY, 'net', verb, network, containers[ctr]!.path], { env, encoding: 'utf8', timeout: 60_000 });
      return parseAnswer(r, performance.now() - t);
    },
    snapshot(so = {}) {
      const ifname = so.ifname ?? 'eth0';
      const bridge = so.bridge ?? 'cni0';
      const snap: Snapshot = {
        node: nsState(node, [
          'net/ipv4/ip_forward',
          'net/ipv6/conf/all/forwarding',
          `net/ipv6/conf/${bridge}/accept_ra`,
          'net/ipv6/conf/veth*/accept_ra',
        ]),
        containers: containers.map((c) =>
          nsState(c, [
            `net/ipv6/conf/${ifname}/accept_dad`,
            `net/ipv6/conf/${ifname}/enhanced_dad`,
            `net/ipv4/conf/${ifname}/arp_notify`,
            `net/ipv6/conf/${ifname}/disable_ipv6`,
            'net/ipv6/conf/lo/disable_ipv6',
          ]),
        ),
        ipam: ipamFiles(join(dir, 'ipam')),
      };
      if (so.outside ?? outside !== undefined) snap.reachesOutside = outside ? world.ping(containers[0]!, OUTSIDE_IP) : false;
      return snap;
    },
    ping(from, to) {
      return spawnSync('ip', ['netns', 'exec', from.name, 'busybox', 'ping', '-c', '1', '-W', '1', to], { encoding: 'utf8' }).status === 0;
    },
    dispose() {
      for (const ns of [node, ...containers, ...(outside ? [outside] : [])]) ns.remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

interface IpLink {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu?: number;
  master?: string;
  address?: string;
  promiscuity?: number;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string; info_slave_data?: Record<string, unknown> };
}
interface IpAddr {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string }[];
}
interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  flags?: string[];
}

/** The parts of a namespace's network state that a CNI plugin sets, without counters, timers and link-locals. */
export function nsState(ns: Netns, sysctlGlobs: string[]): NsState {
  const links = ns
    .ipJson<IpLink[]>('-d', 'link', 'show')
    .filter((l) => l.ifname !== 'lo')
    .sort((a, b) => a.ifindex - b.ifindex)
    .map((l) => {
      const li = l.linkinfo ?? {};
      const out: Record<string, unknown> = {
        name: l.ifname,
        kind: li.info_kind ?? 'device',
        mtu: l.mtu,
        master: l.master,
        flags: (l.flags ?? []).filter((f) => f !== 'LOWER_UP' && f !== 'NO-CARRIER').sort(),
        mac: l.address,
        promiscuity: l.promiscuity,
      };
      if (li.info_kind === 'bridge') out.vlanFiltering = li.info_data?.vlan_filtering;
      if (li.info_slave_kind === 'bridge') {
        out.port = { hairpin: li.info_slave_data?.hairpin, isolated: li.info_slave_data?.isolated, learning: li.info_slave_data?.learning };
      }
      return out;
    });
  const addrs: Record<string, string[]> = {};
  for (const a of ns.ipJson<IpAddr[]>('addr', 'show')) {
    if (a.ifname === 'lo') continue;
    const list = (a.addr_info ?? []).filter((i) => !(i.family === 'inet6' && i.scope === 'link')).map((i) => `${i.local}/${i.prefixlen}`);
    if (list.length) addrs[a.ifname] = list.sort();
  }
  const routes: string[] = [];
  for (const fam of ['-4', '-6']) {
    for (const r of ns.ipJson<IpRoute[]>(fam, 'route', 'show', 'table', 'main')) {
      if (r.dst.startsWith('fe80') || r.dst.startsWith('ff00') || r.dst.startsWith('multicast')) continue;
      const flags = (r.flags ?? []).filter((f) => f !== 'linkdown');
      routes.push([r.dst, r.gateway && `via ${r.gateway}`, r.dev && `dev ${r.dev}`, r.protocol && `proto ${r.protocol}`, r.scope && `scope ${r.scope}`, r.prefsrc && `src ${r.prefsrc}`, r.metric !== undefined && `metric ${r.metric}`, flags.length && flags.join(',')].filter(Boolean).join(' '));
    }
  }
  const sysctls: Record<string, string> = {};
  const script = `for f in ${sysctlGlobs.map((g) => `/proc/sys/${g}`).join(' ')}; do [ -e "$f" ] && echo "$f=$(cat "$f")"; done; true`;
  for (const line of ns.run('sh', ['-c', script]).split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) sysctls[line.slice('/proc/sys/'.length, eq)] = line.slice(eq + 1);
  }
  return { links, addrs, routes: routes.sort(), sysctls };
}

/** host-local's files under a dataDir: reservations (with their owner) and last_reserved_ip.*, without the lock. */
export function ipamFiles(dataDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dataDir)) return out;
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      const r = rel ? `${rel}/${e}` : e;
      if (statSync(p).isDirectory()) walk(p, r);
      else if (e !== 'lock') out[r] = readFileSync(p, 'utf8').replace(/\r\n/g, '\n');
    }
  };
  walk(dataDir, '');
  return out;
}

/**
 * Replaces what differs by chance between two runs: MACs and host-chosen veth names become
 * tokens in order of first appearance (so "the bridge has the veth's MAC" survives), and the
 * world's namespace paths and temp dir become their roles.
 */
export class Normalizer {
  readonly #macs = new Map<string, string>();
  readonly #veths = new Map<string, string>();
  /** Paths as the world had them when the normalizer was made (a test may remove namespaces later). */
  readonly #paths: string[];
  readonly #dir: string;
  constructor(world: World) {
    this.#paths = world.containers.map((c) => c.path);
    this.#dir = world.dir;
  }

  text(s: string): string {
    let out = s;
    this.#paths.forEach((p, i) => (out = out.split(p).join(`<netns:ctr${i}>`)));
    out = out.split(this.#dir).join('<dir>');
    out = out.replace(/\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/gi, (m) => {
      const k = m.toLowerCase();
      if (k === 'ff:ff:ff:ff:ff:ff' || k === '00:00:00:00:00:00') return k;
      if (!this.#macs.has(k)) this.#macs.set(k, `mac${this.#macs.size + 1}`);
      return this.#macs.get(k)!;
    });
    // cnitool-style container IDs are a hash of the namespace path.
    out = out.replace(/\bcnitool-[0-9a-f]{20}\b/g, 'cnitool-<id>');
    out = out.replace(/\bveth[0-9a-f]{8}\b/g, (m) => {
      if (!this.#veths.has(m)) this.#veths.set(m, `veth#${this.#veths.size + 1}`);
      return this.#veths.get(m)!;
    });
    return out;
  }

  value<T>(v: T): T {
    return JSON.parse(this.text(JSON.stringify(v))) as T;
  }
}

/** What a command answered, for comparison: the result (normalized) or the error code. */
export function outcome(a: Answer, n: Normalizer): { status: number | null; code?: unknown; result?: unknown } {
  if (a.status === 0) {
    if (a.json === undefined) return { status: 0 };
    // Go prints a 0.3.x-1.x result's empty DNS as "dns": {} (a struct under omitempty); cni-wasm
    // leaves it out. The same content: compare without it.
    const r = { ...a.json };
    if (typeof r.dns === 'object' && r.dns !== null && Object.keys(r.dns).length === 0) delete r.dns;
    return { status: 0, result: n.value(r) };
  }
  return { status: a.status, code: a.json?.code };
}
