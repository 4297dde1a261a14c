// Multi-node topologies for overlay tests, all in throwaway namespaces (harness/netns.ts):
// one "router" namespace, in which every underlay segment is a bridge with the segment's
// first address, and "node" namespaces, each joined to a segment by a veth whose node end is
// `ul0` with the node's underlay address and a default route through the router. Nodes on
// one segment share an L2 (directRouting's "same subnet"); nodes on different segments reach
// each other only through the router.
//
// cni-wasm is run on a node as a runtime would: `ip netns exec <node> <launcher>`, the
// launcher being what `cni-wasm install` writes, with the CNI environment and the config on
// stdin.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BINARY } from '../binary/run-binary.ts';
import { makeNetns, type Netns } from './netns.ts';

export interface Segment {
  /** "192.168.10.0/24" */
  cidr: string;
  /** The router's address on it (the nodes' default gateway). */
  gateway: string;
  prefix: number;
  /** The bridge in the router namespace. */
  bridge: string;
}

export interface Node {
  ns: Netns;
  /** Its underlay address (on `ul0`). */
  ip: string;
  segment: Segment;
}

function ipv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function parse4(s: string): number {
  return s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
}

/** Keep IPv6 autoconfiguration (DAD, router solicitations) out of the namespaces. */
function quiet(ns: Netns): void {
  for (const k of ['all', 'default']) ns.run('sysctl', ['-qw', `net.ipv6.conf.${k}.disable_ipv6=1`]);
}

export class Topology {
  readonly router: Netns;
  readonly segments: Segment[] = [];
  readonly nodes: Node[] = [];
  #ports = 0;

  constructor(role = 'topo') {
    this.router = makeNetns(`${role}-rtr`);
    quiet(this.router);
    this.router.run('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  }

  /** An underlay segment (a /24 or so); the router takes its first address. */
  addSegment(cidr: string): Segment {
    const [net, len] = cidr.split('/') as [string, string];
    const prefix = Number(len);
    const gateway = ipv4(parse4(net) + 1);
    const bridge = `seg${this.segments.length}`;
    const r = this.router.name;
    execFileSync('ip', ['-n', r, 'link', 'add', bridge, 'type', 'bridge']);
    execFileSync('ip', ['-n', r, 'addr', 'add', `${gateway}/${prefix}`, 'dev', bridge]);
    execFileSync('ip', ['-n', r, 'link', 'set', bridge, 'up']);
    const s = { cidr, gateway, prefix, bridge };
    this.segments.push(s);
    return s;
  }

  /** A node on `segment` with underlay address `ip`, `ul0` with MTU `mtu`. */
  addNode(role: string, segment: Segment, ip: string, mtu = 1500): Node {
    const ns = makeNetns(role);
    quiet(ns);
    const port = `p${this.#ports++}`;
    const r = this.router.name;
    execFileSync('ip', ['-n', r, 'link', 'add', port, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'ul0', 'mtu', String(mtu), 'netns', ns.name]);
    execFileSync('ip', ['-n', r, 'link', 'set', port, 'master', segment.bridge, 'up']);
    execFileSync('ip', ['-n', ns.name, 'addr', 'add', `${ip}/${segment.prefix}`, 'dev', 'ul0']);
    execFileSync('ip', ['-n', ns.name, 'link', 'set', 'ul0', 'up']);
    execFileSync('ip', ['-n', ns.name, 'route', 'add', 'default', 'via', segment.gateway, 'dev', 'ul0']);
    const node = { ns, ip, segment };
    this.nodes.push(node);
    return node;
  }

  /** Count UDP datagrams to `port` that the router forwards (a named nftables counter). */
  countUdp(port: number): void {
    const rules = [
      'table inet cniwt {',
      `  counter udp${port} { }`,
      `  chain forward_udp${port} { type filter hook forward priority 0; udp dport ${port} counter name "udp${port}"; }`,
      '}',
    ].join('\n');
    this.router.run('nft', ['-f', '-'], { input: rules });
  }

  /** Datagrams counted by countUdp(port) so far. */
  udpCount(port: number): number {
    const out = this.router.run('nft', ['-j', 'list', 'counter', 'inet', 'cniwt', `udp${port}`]);
    for (const o of (JSON.parse(out) as { nftables: { counter?: { packets: number } }[] }).nftables) if (o.counter) return o.counter.packets;
    throw new Error(`no counter udp${port}`);
  }

  remove(): void {
    for (const n of this.nodes) n.ns.remove();
    this.router.remove();
  }
}

/** A CNI bin directory with cni-wasm installed under `plugins` (launchers pinning this Node). */
export class Install {
  readonly dir: string;
  readonly bin: string;

  constructor(plugins: string[]) {
    this.dir = mkdtempSync(join(tmpdir(), 'cniwt-bin-'));
    this.bin = join(this.dir, 'bin');
    execFileSync(process.execPath, [BINARY, 'install', '--dir', this.bin, '--plugins', plugins.join(',')], { encoding: 'utf8' });
  }

  /** CNI_PATH: the installed launchers, then the reference plugins (native IPAM). */
  get cniPath(): string {
    return `${this.bin}:/usr/lib/cni`;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface CniCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';
  containerId?: string;
  netns?: string;
  ifname?: string;
  env?: Record<string, string>;
}

export interface CniAnswer {
  status: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
  ms: number;
}

/** Exec plugin `type` from `install` inside `node` as a runtime would. */
export function cniExec(node: Netns, install: Install, type: string, config: unknown, call: CniCall): CniAnswer {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId ?? '',
    CNI_NETNS: call.netns ?? '',
    CNI_IFNAME: call.ifname ?? 'eth0',
    CNI_PATH: install.cniPath,
    ...call.env,
  };
  const t = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', node.name, join(install.bin, type)], {
    input: typeof config === 'string' ? config : JSON.stringify(config),
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  let json: Record<string, unknown> | undefined;
  try {
    json = r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json, ms };
}

/** cniExec, without blocking: for concurrent invocations from separate processes. */
export function cniExecAsync(node: Netns, install: Install, type: string, config: unknown, call: CniCall): Promise<CniAnswer> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId ?? '',
    CNI_NETNS: call.netns ?? '',
    CNI_IFNAME: call.ifname ?? 'eth0',
    CNI_PATH: install.cniPath,
    ...call.env,
  };
  const t = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', node.name, join(install.bin, type)], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ status, stdout, stderr, json, ms: Number(process.hrtime.bigint() - t) / 1e6 });
    });
    child.stdin.end(typeof config === 'string' ? config : JSON.stringify(config));
  });
}

/** One ICMP echo from `from` to `to` (busybox ping), true when answered. */
export function ping(from: Netns, to: string, opts: { size?: number; dontFragment?: boolean } = {}): boolean {
  const args = ['ping', '-c', '1', '-W', '2'];
  if (opts.size !== undefined) args.push('-s', String(opts.size));
  return from.spawn('busybox', [...args, to], { timeoutMs: 10_000 }).status === 0;
}

/** A link's statistics (`ip -s`): packets sent and received. */
export function linkCounters(ns: Netns, dev: string): { tx: number; rx: number } {
  const l = ns.ipJson<{ stats64: { tx: { packets: number }; rx: { packets: number } } }[]>('-s', 'link', 'show', 'dev', dev)[0]!;
  return { tx: l.stats64.tx.packets, rx: l.stats64.rx.packets };
}
