// The reference `dhcp` IPAM plugin under the bridge: the same commands through the reference Go
// bridge (/usr/lib/cni) and through cni-wasm (bridge.wasm behind the installed launcher, which
// execs the native /usr/lib/cni/dhcp from CNI_PATH), each in its own throwaway world:
//
//   node ns:   bridge cni0 (02:00:00:00:00:01) ── srv0 ══ veth ══ eth0 (server ns, 198.51.100.1/24, dnsmasq)
//              the dhcp daemon (`dhcp daemon -socketpath <tmp>/dhcp.sock`), and the bridge plugin exec'd here
//   ctr ns:    eth0, made by the plugin; the daemon enters it by its /var/run/netns path for the exchange
//
// The bridge is pre-created (with a fixed MAC, so the normalized MACs line up): IPAM runs inside
// the ADD that would create it, so the server must be on the segment before. Compared: every
// command's outcome (normalized: MACs, veth names, namespace paths, and the leased address, which
// dnsmasq picks by hashing the container's random MAC), the node's and container's state after
// ADD and after DEL, what the daemon did (acquire, release) and whether dnsmasq still holds the
// lease. Both bridges delete the container link before IPAM DEL, so the daemon stops maintaining
// the lease but its DHCPRELEASE fails ("no such device"): dnsmasq keeps the lease until it expires,
// and a new ADD of the same attachment (same client ID) gets the same address back.
//
// A DHCP exchange takes seconds (here: the dhcp plugin's first try fails with "network is down"
// and is retried 1-3 s later, and dnsmasq pings an address for 3 s before offering it), longer than
// cni-wasm's default call budget of 5 s; a plugin whose IPAM is a native binary gets the IPAM limit
// (ipamTimeoutMs, 30 s) on top, so this runs with the default policy (docs/policy.md).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Answer, type Impl, type NsState, type World, Normalizer, makeWorld, nsState, outcome } from '../harness/diff.ts';
import { type Netns, cleanup, makeNetns } from '../harness/netns.ts';

const DNSMASQ = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((p) => existsSync(p));
const DHCP = '/usr/lib/cni/dhcp';
const NET = '198.51.100';
const SERVER_IP = `${NET}.1`;
const RANGE = [100, 150];
const LEASE_RE = new RegExp(`^${NET.replace(/\./g, '\\.')}\\.(\\d+)/24$`);

// Daemons this process started: killed on exit too (and they die with it: --pdeathsig).
const procs = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of procs) p.kill('SIGKILL');
});
afterAll(() => cleanup());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Start a long-running program inside a namespace; it is killed if this process dies. */
function startIn(ns: Netns, log: string, cmd: string, args: string[]): ChildProcess {
  const fd = openSync(log, 'a');
  try {
    // `ip netns exec` execs the command (no fork), so the child's pid is the program's.
    const p = spawn('ip', ['netns', 'exec', ns.name, 'setpriv', '--pdeathsig', 'KILL', cmd, ...args], {
      stdio: ['ignore', fd, fd],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    procs.add(p);
    return p;
  } finally {
    closeSync(fd);
  }
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode === null && p.signalCode === null) {
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }
  procs.delete(p);
}

interface DhcpWorld {
  w: World;
  server: Netns;
  sock: string;
  invoke(command: string): Answer;
  daemonLog(): string;
  dnsmasqLog(): string;
  leases(): string;
  dispose(): Promise<void>;
}

async function makeDhcpWorld(impl: Impl): Promise<DhcpWorld> {
  const w = makeWorld(impl, { containers: 1 });
  const started: ChildProcess[] = [];
  let server: Netns | undefined;
  const dispose = async (): Promise<void> => {
    for (const p of started) await stop(p);
    server?.remove();
    w.dispose();
  };
  try {
    server = makeNetns(impl === 'reference' ? 'ref-dhcpsrv' : 'wasm-dhcpsrv');
    const node = w.node;
    node.run('ip', ['link', 'add', 'cni0', 'address', '02:00:00:00:00:01', 'type', 'bridge']);
    node.run('ip', ['link', 'set', 'cni0', 'up']);
    node.run('ip', ['link', 'add', 'srv0', 'address', '02:00:00:00:00:02', 'type', 'veth', 'peer', 'name', 'eth0', 'address', '02:00:00:00:00:03', 'netns', server.name]);
    node.run('ip', ['link', 'set', 'srv0', 'master', 'cni0', 'up']);
    server.run('ip', ['addr', 'add', `${SERVER_IP}/24`, 'dev', 'eth0']);
    server.run('ip', ['link', 'set', 'eth0', 'up']);

    const dnsmasqLog = join(w.dir, 'dnsmasq.log');
    const leases = join(w.dir, 'dnsmasq.leases');
    started.push(
      startIn(server, join(w.dir, 'dnsmasq.out'), DNSMASQ!, [
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        `--pid-file=${join(w.dir, 'dnsmasq.pid')}`,
        `--dhcp-leasefile=${leases}`,
        '--port=0', // no DNS
        '--interface=eth0',
        '--bind-interfaces',
        '--except-interface=lo',
        `--dhcp-range=${NET}.${RANGE[0]},${NET}.${RANGE[1]},255.255.255.0,1h`,
        '--user=root', // no uid change: it would clear the parent-death signal
        '--log-dhcp',
        `--log-facility=${dnsmasqLog}`,
      ]),
    );
    const sock = join(w.dir, 'dhcp.sock');
    const daemonLog = join(w.dir, 'dhcp-daemon.log');
    started.push(startIn(node, daemonLog, DHCP, ['daemon', '-socketpath', sock, '-pidfile', join(w.dir, 'dhcp.pid')]));
    const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
    await waitFor('the dhcp daemon socket', () => existsSync(sock) || started.some((p) => p.exitCode !== null));
    await waitFor('dnsmasq', () => /sockets bound exclusively to interface eth0/.test(read(dnsmasqLog)) || started.some((p) => p.exitCode !== null));
    for (const p of started) if (p.exitCode !== null) throw new Error(`a daemon exited at start:\n${read(daemonLog)}${read(join(w.dir, 'dnsmasq.out'))}${read(dnsmasqLog)}`);

    const conf = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'dhcptest',
      type: 'bridge',
      bridge: 'cni0',
      // The address and the router come from the DHCP server; the bridge is only the segment.
      isGateway: false,
      ipam: { type: 'dhcp', daemonSocketPath: sock },
    });
    const invoke = (command: string): Answer => {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: command,
        CNI_CONTAINERID: 'ctr0',
        CNI_NETNS: w.containers[0]!.path,
        CNI_IFNAME: 'eth0',
        CNI_PATH: w.cniPath,
        CNI_ARGS: '',
      };
      const t = performance.now();
      const r = spawnSync('ip', ['netns', 'exec', w.node.name, join(w.binDir, 'bridge')], { input: conf, env, encoding: 'utf8', timeout: 60_000 });
      let json: Record<string, unknown> | undefined;
      try {
        json = r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      return { status: r.status, stdout: r.stdout, stderr: r.stderr, json, ms: performance.now() - t };
    };
    return { w, server, sock, invoke, daemonLog: () => read(daemonLog), dnsmasqLog: () => read(dnsmasqLog), leases: () => read(leases), dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}

interface Run {
  steps: unknown[];
  afterAdd: { node: NsState; ctr: NsState };
  afterDel: { node: NsState; ctr: NsState };
  /** Container -> DHCP server (the router it was given). */
  pinged: boolean;
  /** What the daemon did, in order, without timestamps and retry delays. */
  daemon: string[];
  /** dnsmasq still lists the lease after DEL (no DHCPRELEASE reached it). */
  serverKeepsLease: boolean;
  serverSawRelease: boolean;
  /** The address of the first ADD, and of the ADD after DEL (same attachment). */
  leased: string;
  leasedAgain: string;
  raw: Answer[];
  ms: number[];
}

const ctrState = (ns: Netns): NsState =>
  nsState(ns, ['net/ipv6/conf/eth0/accept_dad', 'net/ipv4/conf/eth0/arp_notify', 'net/ipv6/conf/eth0/disable_ipv6']);
const nodeState = (ns: Netns): NsState => nsState(ns, ['net/ipv4/ip_forward', 'net/ipv6/conf/cni0/accept_ra', 'net/ipv6/conf/veth*/accept_ra']);

function leasedAddress(a: Answer, what: string): string {
  if (a.status !== 0) throw new Error(`${what}: expected success, got ${a.status}: ${a.stdout}${a.stderr}`);
  const addr = (a.json?.ips as { address?: string }[] | undefined)?.[0]?.address ?? '';
  const m = LEASE_RE.exec(addr);
  if (!m || Number(m[1]) < RANGE[0]! || Number(m[1]) > RANGE[1]!) throw new Error(`${what}: address ${addr} is not from dnsmasq's range`);
  return addr.split('/')[0]!;
}

function daemonEvents(log: string): string[] {
  return log
    .split('\n')
    .map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, ''))
    .filter((l) => /acquiring lease|lease acquired|releasing lease|failed to release/.test(l))
    .map((l) => l.replace(/, expiration is .*/, ''));
}

async function runThrough(impl: Impl): Promise<Run> {
  const d = await makeDhcpWorld(impl);
  try {
    const { w } = d;
    const ctr = w.containers[0]!;
    const n = new Normalizer(w);
    const add = d.invoke('ADD');
    const leased = leasedAddress(add, `${impl} ADD`);
    const pinged = w.ping(ctr, SERVER_IP);
    const afterAdd = { node: nodeState(w.node), ctr: ctrState(ctr) };
    const del = d.invoke('DEL');
    // The daemon answers Release after it tried to send the DHCPRELEASE: nothing to wait for.
    const serverKeepsLease = d.leases().includes(` ${leased} `);
    const serverSawRelease = /DHCPRELEASE/.test(d.dnsmasqLog());
    const del2 = d.invoke('DEL');
    const afterDel = { node: nodeState(w.node), ctr: ctrState(ctr) };
    const again = d.invoke('ADD');
    const leasedAgain = leasedAddress(again, `${impl} second ADD`);
    const del3 = d.invoke('DEL');
    const raw = [add, del, del2, again, del3];
    const lease = new RegExp(`\\b${leased.replace(/\./g, '\\.')}\\b`, 'g');
    const norm = <T>(v: T): T => JSON.parse(JSON.stringify(n.value(v)).replace(lease, '<lease>')) as T;
    return {
      steps: raw.map((a) => norm(outcome(a, n))),
      afterAdd: norm(afterAdd),
      afterDel: norm(afterDel),
      pinged,
      daemon: daemonEvents(d.daemonLog()),
      serverKeepsLease,
      serverSawRelease,
      leased,
      leasedAgain,
      raw,
      ms: raw.map((a) => Math.round(a.ms)),
    };
  } finally {
    await d.dispose();
  }
}

describe.skipIf(!DNSMASQ)(`bridge with the reference dhcp IPAM: reference vs cni-wasm${DNSMASQ ? '' : ' [skipped: dnsmasq is not installed (apt-get install dnsmasq-base; .ci/run installs it)]'}`, () => {
  it('ADD leases an address from dnsmasq, the container reaches the server; DEL stops the lease (dnsmasq keeps it); DEL again succeeds', async () => {
    const ref = await runThrough('reference');
    const wasm = await runThrough('cni-wasm');
    const ctx = `durations (ADD, DEL, DEL, ADD, DEL) ref ${ref.ms.join('/')} ms, cni-wasm ${wasm.ms.join('/')} ms\ncni-wasm answers: ${wasm.raw.map((a) => a.stdout + a.stderr).join('\n')}`;

    for (const r of [ref, wasm]) {
      expect(r.raw.map((a) => a.status), ctx).toEqual([0, 0, 0, 0, 0]);
      // The result: the leased address with the server as gateway and its default route.
      const res = r.steps[0] as { result: Record<string, unknown> };
      expect(res.result.ips).toEqual([{ interface: 2, address: '<lease>/24', gateway: SERVER_IP }]);
      expect(res.result.routes).toEqual([{ dst: '0.0.0.0/0', gw: SERVER_IP }]);
      // The container's interface carries it, with the route to the router.
      expect(r.afterAdd.ctr.addrs).toEqual({ eth0: ['<lease>/24'] });
      expect(r.afterAdd.ctr.routes).toContain(`default via ${SERVER_IP} dev eth0`);
      expect(r.pinged).toBe(true);
      // DEL: the link and the host veth are gone; the server's port stays on the bridge.
      expect(r.afterDel.ctr.links).toEqual([]);
      expect(r.afterDel.node.links.map((l) => l.name)).toEqual(['cni0', 'srv0']);
      // The daemon stopped maintaining the lease on the first DEL (the second found none), but the
      // DHCPRELEASE could not go out: the container link was already deleted.
      expect(r.daemon).toEqual([
        'ctr0/dhcptest/eth0: acquiring lease',
        'ctr0/dhcptest/eth0: lease acquired',
        'ctr0/dhcptest/eth0: releasing lease',
        'ctr0/dhcptest/eth0: failed to release DHCP lease: no such device',
        'ctr0/dhcptest/eth0: acquiring lease',
        'ctr0/dhcptest/eth0: lease acquired',
        'ctr0/dhcptest/eth0: releasing lease',
        'ctr0/dhcptest/eth0: failed to release DHCP lease: no such device',
      ]);
      expect(r.serverKeepsLease).toBe(true);
      expect(r.serverSawRelease).toBe(false);
      // So the same attachment (client ID ctr0/dhcptest/eth0) gets its address back.
      expect(r.leasedAgain).toBe(r.leased);
    }

    expect(wasm.steps, ctx).toEqual(ref.steps);
    expect(wasm.afterAdd).toEqual(ref.afterAdd);
    expect(wasm.afterDel).toEqual(ref.afterDel);
    expect(wasm.daemon).toEqual(ref.daemon);
    // Each world's first ADD takes ~6 s (see the top), its second ~2.5 s: ~18 s in all, unloaded.
  }, 90_000);
});
