// Differential tests of the bridge plugin: every case runs through the reference Go plugins
// (Debian's /usr/lib/cni, plugins v1.1.1, CNI <= 1.0.0) and through cni-wasm (the bridge.wasm
// plugin behind the installed launcher), each in a fresh node namespace with fresh container
// namespaces, exec'd with `ip netns exec <node>` as a runtime on that node would. Compared: every
// command's outcome (the result, normalized; or the error code) and the state left behind
// (links with kind, MTU, master, flags, port settings; addresses; routes; the sysctls the
// reference sets; host-local's files; whether masquerade lets container 0 reach an outside
// namespace). Deliberate differences are asserted as such and listed in docs/compatibility.md.
//
// IPAM is host-local: in process when dist/plugins/host-local.wasm exists, otherwise the
// native binary from CNI_PATH (cni-wasm's CNI_PATH ends with /usr/lib/cni).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Answer, type Impl, type Snapshot, type SnapshotOptions, type World, Normalizer, OUTSIDE_IP, makeWorld, outcome } from '../harness/diff.ts';
import { cleanup, makeNetns } from '../harness/netns.ts';

afterAll(() => cleanup());

/** Does this kernel do bridge VLAN filtering? (Here it does not: EOPNOTSUPP.) */
const VLAN_FILTERING = (() => {
  const ns = makeNetns('vlan-probe');
  try {
    return spawnSync('ip', ['-n', ns.name, 'link', 'add', 'b', 'type', 'bridge', 'vlan_filtering', '1'], { encoding: 'utf8' }).status === 0;
  } finally {
    ns.remove();
  }
})();
const NO_VLAN = 'kernel without bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING; `ip link add b type bridge vlan_filtering 1` answers EOPNOTSUPP)';

interface Run {
  steps: unknown[];
  state?: Snapshot;
  raw: Answer[];
}

interface Case {
  name: string;
  containers?: number;
  outside?: boolean;
  /** Runs the commands; returns what to compare (normalized outcomes). */
  run(w: World, n: Normalizer, impl: Impl): Answer[];
  snapshot?: SnapshotOptions | false;
  /** Instead of equality: a deliberate difference, asserted. */
  differs?: (ref: Run, wasm: Run) => void;
  /** Extra checks on cni-wasm's answers. */
  verify?: (wasm: Run, ref: Run) => void;
  skip?: string;
}

/** The usual config: host-local state in the world's temp dir. */
function conf(w: World, extra: Record<string, unknown> = {}, ipam: Record<string, unknown> | null = {}): Record<string, unknown> {
  const c: Record<string, unknown> = { cniVersion: '1.0.0', name: 'difftest', type: 'bridge', bridge: 'cni0', isGateway: true, ...extra };
  if (ipam !== null) c.ipam = { type: 'host-local', dataDir: join(w.dir, 'ipam'), subnet: '10.22.0.0/16', routes: [{ dst: '0.0.0.0/0' }], ...ipam };
  return c;
}

function runCase(c: Case, impl: Impl): Run {
  const w = makeWorld(impl, { containers: c.containers ?? 1, outside: c.outside ?? false });
  try {
    const n = new Normalizer(w);
    const raw = c.run(w, n, impl);
    const steps = raw.map((a) => outcome(a, n));
    const run: Run = { steps, raw };
    if (c.snapshot !== false) run.state = n.value(w.snapshot(c.snapshot ?? {}));
    return run;
  } finally {
    w.dispose();
  }
}

const ok = (a: Answer): Answer => {
  if (a.status !== 0) throw new Error(`expected success, got ${a.status}: ${a.stdout}${a.stderr}`);
  return a;
};
/** Remove container 0's namespace and wait for the kernel's (asynchronous) cleanup to take its veth peer. */
function removeContainer(w: World): void {
  w.containers[0]!.remove();
  w.containers.length = 0;
  const deadline = Date.now() + 5000;
  while (w.node.ipJson<unknown[]>('link', 'show', 'type', 'veth').some((l) => (l as { ifname: string }).ifname.startsWith('veth')) && Date.now() < deadline) {
    spawnSync('sleep', ['0.02']);
  }
}
const withPrev = (c: Record<string, unknown>, a: Answer): Record<string, unknown> => ({ ...c, prevResult: a.json });

const CASES: Case[] = [
  {
    name: "the seed's config (0.4.0, isGateway, ipMasq): result, state, and masquerade reaches outside",
    outside: true,
    run: (w) => [ok(w.invoke('ADD', conf(w, { cniVersion: '0.4.0', name: 'example-network', ipMasq: true })))],
    verify: (wasm) => expect(wasm.state?.reachesOutside).toBe(true),
  },
  {
    name: 'IPv4 without masquerade: the outside stays unreachable',
    outside: true,
    run: (w) => [w.invoke('ADD', conf(w))],
    verify: (wasm) => expect(wasm.state?.reachesOutside).toBe(false),
  },
  {
    name: 'IPv6 only, isGateway: bridge gets fd00:22::1/64, forwarding on, disable_ipv6 off in the container',
    run: (w) => [w.invoke('ADD', conf(w, {}, { subnet: 'fd00:22::/64', routes: [{ dst: '::/0' }] }))],
  },
  {
    name: 'dual-stack (two range sets, v4 and v6), isDefaultGateway',
    run: (w) => [
      w.invoke('ADD', conf(w, { isDefaultGateway: true }, { subnet: undefined, routes: undefined, ranges: [[{ subnet: '10.22.0.0/16' }], [{ subnet: 'fd00:22::/64' }]] })),
    ],
  },
  {
    name: 'dual-stack with ipMasq: v4 masquerade reaches outside',
    outside: true,
    run: (w) => [w.invoke('ADD', conf(w, { ipMasq: true }, { subnet: undefined, ranges: [[{ subnet: '10.22.0.0/16' }], [{ subnet: 'fd00:22::/64' }]] }))],
  },
  {
    name: 'several IPv4 range sets with isGateway: the second gateway conflicts (error, address released)',
    run: (w) => [w.invoke('ADD', conf(w, {}, { subnet: undefined, routes: undefined, ranges: [[{ subnet: '10.10.0.0/24' }], [{ subnet: '10.20.0.0/24' }]] }))],
    verify: (wasm) => expect(wasm.state?.ipam).toEqual({ 'difftest/last_reserved_ip.0': '10.10.0.2', 'difftest/last_reserved_ip.1': '10.20.0.2' }),
  },
  {
    name: 'several range sets without isGateway: two addresses on the container',
    run: (w) => [w.invoke('ADD', conf(w, { isGateway: false }, { subnet: undefined, routes: undefined, ranges: [[{ subnet: '10.10.0.0/24', rangeStart: '10.10.0.100' }, { subnet: '10.11.0.0/24' }], [{ subnet: '10.20.0.0/24' }]] }))],
  },
  {
    name: 'requested address (CNI_ARGS IP=, with IgnoreUnknown)',
    run: (w) => [w.invoke('ADD', conf(w), { args: 'IgnoreUnknown=1;IP=10.22.0.50' })],
    verify: (wasm) => expect(JSON.stringify(wasm.raw[0]?.json)).toContain('10.22.0.50/16'),
  },
  {
    name: 'unknown CNI_ARGS without IgnoreUnknown: error before anything is made',
    run: (w) => [w.invoke('ADD', conf(w), { args: 'IP=10.22.0.50' })],
  },
  {
    name: 'L2 mode (no ipam): container link up, no addresses, bridge takes the port MAC',
    run: (w) => [w.invoke('ADD', conf(w, { isGateway: false }, null))],
  },
  {
    name: 'vlan: needs bridge VLAN filtering; without it both fail creating the bridge',
    run: (w) => [w.invoke('ADD', conf(w, { isGateway: false, vlan: 100 }))],
    verify: (wasm) => {
      if (!VLAN_FILTERING) expect(wasm.raw[0]?.json?.msg).toMatch(/failed to create bridge "cni0".*(not supported|EOPNOTSUPP)/);
    },
  },
  {
    name: 'vlan 100 on the port (success path)',
    skip: VLAN_FILTERING ? undefined : NO_VLAN,
    run: (w) => [w.invoke('ADD', conf(w, { isGateway: false, vlan: 100 }))],
  },
  {
    name: 'invalid vlan ID 5000',
    run: (w) => [w.invoke('ADD', conf(w, { vlan: 5000 }))],
  },
  {
    name: 'forceAddress false: a bridge with another IPv4 address is a conflict (error, address released)',
    run: (w) => {
      w.node.run('ip', ['link', 'add', 'cni0', 'type', 'bridge']);
      w.node.run('ip', ['addr', 'add', '10.99.0.1/24', 'dev', 'cni0']);
      return [w.invoke('ADD', conf(w))];
    },
  },
  {
    name: 'forceAddress true: the other address is replaced',
    run: (w) => {
      w.node.run('ip', ['link', 'add', 'cni0', 'type', 'bridge']);
      w.node.run('ip', ['addr', 'add', '10.99.0.1/24', 'dev', 'cni0']);
      return [w.invoke('ADD', conf(w, { forceAddress: true }))];
    },
  },
  {
    name: 'a link named like the bridge that is not a bridge: error',
    run: (w) => {
      w.node.run('ip', ['link', 'add', 'cni0', 'type', 'veth', 'peer', 'name', 'cni0p']);
      return [w.invoke('ADD', conf(w))];
    },
  },
  { name: 'a bridge name longer than IFNAMSIZ: error', run: (w) => [w.invoke('ADD', conf(w, { bridge: 'a-very-long-bridge-name' }))] },
  { name: 'mtu 1400 on bridge and both veth ends', run: (w) => [w.invoke('ADD', conf(w, { mtu: 1400 }))] },
  { name: 'hairpinMode', run: (w) => [w.invoke('ADD', conf(w, { hairpinMode: true }))] },
  { name: 'promiscMode', run: (w) => [w.invoke('ADD', conf(w, { promiscMode: true }))] },
  { name: 'hairpinMode and promiscMode together: error', run: (w) => [w.invoke('ADD', conf(w, { hairpinMode: true, promiscMode: true }))] },
  {
    name: 'isDefaultGateway without IPAM routes: a default route through the bridge is added',
    run: (w) => [w.invoke('ADD', conf(w, { isDefaultGateway: true }, { routes: undefined }))],
  },
  ...['0.1.0', '0.2.0', '0.3.0', '0.3.1', '1.0.0', '1.1.0'].map(
    (v): Case => ({
      name: `cniVersion ${v}${v === '1.1.0' ? ' (the reference stops at 1.0.0: compared with its 1.0.0 answer)' : ''}`,
      run: (w, _n, impl) => {
        const asked = impl === 'reference' && v === '1.1.0' ? '1.0.0' : v;
        const a = w.invoke('ADD', conf(w, { cniVersion: asked }));
        if (a.json?.cniVersion === asked) a.json.cniVersion = v;
        return [a];
      },
    }),
  ),
  {
    name: 'repeated ADD of the same container: the second fails (interface exists), nothing else changes',
    run: (w) => [w.invoke('ADD', conf(w)), w.invoke('ADD', conf(w))],
  },
  {
    name: 'DEL twice: both succeed; links, address and masquerade gone',
    outside: true,
    run: (w) => [ok(w.invoke('ADD', conf(w, { ipMasq: true }))), w.invoke('DEL', conf(w, { ipMasq: true })), w.invoke('DEL', conf(w, { ipMasq: true }))],
  },
  {
    name: 'DEL removes the masquerade: the same address re-added without ipMasq no longer reaches outside',
    outside: true,
    run: (w) => [
      ok(w.invoke('ADD', conf(w, { ipMasq: true }))),
      w.invoke('DEL', conf(w, { ipMasq: true })),
      w.invoke('ADD', conf(w, { ipMasq: false })),
    ],
    verify: (wasm) => expect(wasm.state?.reachesOutside).toBe(false),
  },
  {
    name: 'DEL without a namespace (CNI_NETNS empty, namespace already removed): succeeds and releases the address',
    snapshot: { outside: false },
    run: (w) => {
      const a = ok(w.invoke('ADD', conf(w)));
      removeContainer(w);
      return [a, w.invoke('DEL', conf(w), { netns: '' })];
    },
    verify: (wasm) => expect(wasm.state?.ipam).toEqual({ 'difftest/last_reserved_ip.0': '10.22.0.2' }),
  },
  {
    name: 'DEL with a namespace path that no longer exists: succeeds and releases the address',
    run: (w) => {
      const path = w.containers[0]!.path;
      const a = ok(w.invoke('ADD', conf(w)));
      removeContainer(w);
      return [a, w.invoke('DEL', conf(w), { netns: path })];
    },
  },
  {
    name: 'DEL without a namespace also removes the masquerade (the reference keeps its iptables rules: the address, reused, still reaches outside)',
    outside: true,
    containers: 2,
    run: (w) => {
      const c = conf(w, { ipMasq: true });
      const a = ok(w.invoke('ADD', c, { ctr: 1, containerId: 'gone' }));
      // container 1 goes away before its DEL; container 0 then gets its address, without ipMasq.
      const gone = w.containers[1]!;
      gone.remove();
      w.containers.length = 1;
      const deadline = Date.now() + 5000;
      while (w.node.ipJson<{ ifname: string }[]>('link', 'show', 'type', 'veth').some((l) => l.ifname.startsWith('veth')) && Date.now() < deadline) spawnSync('sleep', ['0.02']);
      const d = w.invoke('DEL', c, { netns: '', containerId: 'gone' });
      return [a, d, w.invoke('ADD', conf(w, { ipMasq: false }), { ctr: 0, args: 'IgnoreUnknown=1;IP=10.22.0.2' })];
    },
    differs: (ref, wasm) => {
      expect(wasm.steps).toEqual(ref.steps);
      expect(JSON.stringify(wasm.raw[2]?.json)).toContain('10.22.0.2/16');
      expect(ref.state?.reachesOutside).toBe(true);
      expect(wasm.state?.reachesOutside).toBe(false);
    },
  },
  {
    name: 'DEL when the container interface is already gone',
    run: (w) => {
      const a = ok(w.invoke('ADD', conf(w)));
      w.containers[0]!.run('ip', ['link', 'del', 'eth0']);
      return [a, w.invoke('DEL', conf(w))];
    },
  },
  {
    name: 'CHECK after ADD succeeds; CHECK after the address was tampered with fails',
    run: (w) => {
      const c = conf(w);
      const a = ok(w.invoke('ADD', c));
      const first = w.invoke('CHECK', withPrev(c, a));
      w.containers[0]!.run('ip', ['addr', 'flush', 'dev', 'eth0']);
      w.containers[0]!.run('ip', ['addr', 'add', '10.22.0.99/16', 'dev', 'eth0']);
      return [a, first, w.invoke('CHECK', withPrev(c, a))];
    },
    verify: (wasm) => {
      expect(wasm.raw[1]?.status).toBe(0);
      expect(wasm.raw[2]?.json?.msg).toContain('Failed to match addr');
    },
  },
  {
    name: 'CHECK with a tampered route and with a missing prevResult',
    run: (w) => {
      const c = conf(w);
      const a = ok(w.invoke('ADD', c));
      w.containers[0]!.run('ip', ['route', 'del', 'default']);
      return [a, w.invoke('CHECK', withPrev(c, a)), w.invoke('CHECK', c)];
    },
  },
  {
    name: 'MAC: runtimeConfig wins over args.cni.mac over CNI_ARGS MAC',
    run: (w) => [
      w.invoke('ADD', conf(w, { args: { cni: { mac: '0e:00:00:00:00:02' } }, runtimeConfig: { mac: '0e:00:00:00:00:03' } }), { args: 'IgnoreUnknown=1;MAC=0e:00:00:00:00:01' }),
    ],
    verify: (wasm) => expect((wasm.raw[0]?.json?.interfaces as { mac: string }[])[2]?.mac).toBe('0e:00:00:00:00:03'),
  },
  { name: 'MAC from CNI_ARGS', run: (w) => [w.invoke('ADD', conf(w), { args: 'IgnoreUnknown=1;MAC=0e:00:00:00:00:01' })] },
  { name: 'an invalid MAC: error', run: (w) => [w.invoke('ADD', conf(w), { args: 'IgnoreUnknown=1;MAC=0e:00:00:00:01' })] },
  {
    name: 'static IPAM (a native IPAM binary exec\'d from CNI_PATH)',
    run: (w) => [
      w.invoke('ADD', { ...conf(w, {}, null), ipam: { type: 'static', addresses: [{ address: '10.30.0.5/24', gateway: '10.30.0.1' }], routes: [{ dst: '10.40.0.0/16' }] } }),
    ],
  },
  {
    name: 'an IPAM error reaches the runtime with the IPAM plugin\'s code (native static; the address is not released twice)',
    run: (w) => [w.invoke('ADD', { ...conf(w, {}, null), ipam: { type: 'static', addresses: [{ address: '10.30.0.5/33' }] } })],
  },
  {
    name: 'ADD with a namespace path that does not exist: error',
    run: (w) => [w.invoke('ADD', conf(w), { netns: '/var/run/netns/cniwt-does-not-exist' })],
  },
  {
    name: 'STATUS and GC with a 1.0.0 config: the reference (CNI 1.0) does not know the commands (code 4); cni-wasm says the version does not allow them (code 1)',
    snapshot: false,
    run: (w) => [w.invoke('STATUS', conf(w)), w.invoke('GC', conf(w))],
    differs: (ref, wasm) => {
      expect(ref.steps).toEqual([{ status: 1, code: 4 }, { status: 1, code: 4 }]);
      expect(wasm.steps).toEqual([{ status: 1, code: 1 }, { status: 1, code: 1 }]);
    },
  },
  {
    name: 'a conflist bridge -> tuning -> portmap through `cni-wasm net` (prevResult flows on; CHECK and DEL from the cache; masquerade works in between)',
    outside: true,
    run: (w) => {
      const netDir = join(w.dir, 'net.d');
      mkdirSync(netDir, { recursive: true });
      const list = {
        cniVersion: '1.0.0',
        name: 'difftest',
        plugins: [
          { type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: true, ipam: { type: 'host-local', dataDir: join(w.dir, 'ipam'), subnet: '10.22.0.0/16', routes: [{ dst: '0.0.0.0/0' }] } },
          { type: 'tuning', mac: '0e:00:00:00:00:0a', sysctl: { 'net.ipv4.conf.eth0.arp_ignore': '1' } },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      };
      writeFileSync(join(netDir, '10-difftest.conflist'), JSON.stringify(list));
      const a = w.net('add', 'difftest', netDir);
      const check = w.net('check', 'difftest', netDir);
      const reached = w.ping(w.containers[0]!, OUTSIDE_IP);
      const del = w.net('del', 'difftest', netDir);
      return [a, check, { ...del, json: { reachedOutsideBeforeDel: reached } }];
    },
    verify: (wasm) => {
      expect(wasm.raw.map((r) => r.status)).toEqual([0, 0, 0]);
      expect(wasm.raw[2]?.json).toEqual({ reachedOutsideBeforeDel: true });
      expect(wasm.state?.ipam).toEqual({ 'difftest/last_reserved_ip.0': '10.22.0.2' });
    },
  },
  {
    name: 'macspoofchk: frames from a container with another source MAC are dropped at its veth, DEL lifts the filter (each in its own nftables table: compared by effect)',
    containers: 2,
    run: (w) => {
      const c = conf(w, { macspoofchk: true });
      const a0 = ok(w.invoke('ADD', c, { ctr: 0 }));
      const a1 = ok(w.invoke('ADD', c, { ctr: 1 }));
      const effect = macSpoofEffect(w, a0, a1);
      const d0 = w.invoke('DEL', c, { ctr: 0 });
      const again = w.invoke('DEL', c, { ctr: 0 });
      const vethOf = (a: Answer) => (a.json?.interfaces as { name: string }[])[1]!.name;
      // which containers' host veths the node's bridge-family rules still name
      const rules = bridgeRules(w);
      const filtered = [a0, a1].map((a, i) => (rules.includes(`"${vethOf(a)}"`) ? `ctr${i}` : '')).filter(Boolean);
      return [a0, a1, synthetic(effect), d0, again, synthetic({ filtered })];
    },
    verify: (wasm) => {
      expect(wasm.raw[2]?.json).toEqual({ before: true, spoofed: false, restored: true });
      expect(wasm.raw[5]?.json).toEqual({ filtered: ['ctr1'] });
    },
  },
];

/** An answer made of a test's observations (compared like a command's). */
function synthetic(json: Record<string, unknown>): Answer {
  return { status: 0, stdout: '', stderr: '', json, ms: 0 };
}

/** The node's bridge-family rules as JSON text (where both MAC filters live). */
function bridgeRules(w: World): string {
  const all = (JSON.parse(w.node.run('nft', ['-j', 'list', 'ruleset'])) as { nftables: Record<string, { family?: string }>[] }).nftables;
  return JSON.stringify(all.filter((o) => o.rule?.family === 'bridge'));
}

/**
 * Container 0 pings container 1 with its own MAC, with another MAC (set inside the
 * container, neighbour caches flushed), and with its own again.
 */
function macSpoofEffect(w: World, a0: Answer, a1: Answer): { before: boolean; spoofed: boolean; restored: boolean } {
  const [c0, c1] = [w.containers[0]!, w.containers[1]!];
  const ip1 = (a1.json?.ips as { address: string }[])[0]!.address.split('/')[0]!;
  const mac0 = (a0.json?.interfaces as { mac: string }[])[2]!.mac;
  const setMac = (mac: string) => {
    c0.run('ip', ['link', 'set', 'eth0', 'address', mac]);
    for (const c of [c0, c1]) c.run('ip', ['neigh', 'flush', 'all']);
  };
  const before = w.ping(c0, ip1);
  setMac('0e:00:00:00:77:99');
  const spoofed = w.ping(c0, ip1);
  setMac(mac0);
  const restored = w.ping(c0, ip1);
  return { before, spoofed, restored };
}

describe('bridge: reference vs cni-wasm', () => {
  it('has at least 25 cases', () => expect(CASES.length).toBeGreaterThanOrEqual(25));
  for (const c of CASES) {
    const t = c.skip ? it.skip : it;
    t(c.skip ? `${c.name} [skipped: ${c.skip}]` : c.name, () => {
      const ref = runCase(c, 'reference');
      const wasm = runCase(c, 'cni-wasm');
      if (c.differs) c.differs(ref, wasm);
      else {
        expect(wasm.steps).toEqual(ref.steps);
        expect(wasm.state).toEqual(ref.state);
      }
      c.verify?.(wasm, ref);
    });
  }
});

describe('bridge: CNI 1.1 STATUS and GC (cni-wasm only: the reference stops at 1.0.0)', () => {
  it('STATUS and GC delegate to IPAM: the same answer as the IPAM plugin gives itself; without IPAM both succeed', () => {
    const w = makeWorld('cni-wasm', { plugins: ['bridge', 'host-local'] });
    try {
      const c = conf(w, { cniVersion: '1.1.0' });
      const ipamConf = { ...c, type: (c.ipam as { type: string }).type };
      ok(w.invoke('ADD', c));
      const direct = w.invoke('STATUS', ipamConf);
      const status = w.invoke('STATUS', c);
      expect(status.status).toBe(direct.status);
      expect(status.json?.code).toBe(direct.json?.code);
      // GC with no valid attachment: IPAM releases container 0's address (when it implements GC).
      const gcConf = { ...c, 'cni.dev/valid-attachments': [] };
      const gc = w.invoke('GC', gcConf);
      if (gc.status === 0) {
        expect(Object.keys(w.snapshot({ outside: false }).ipam).filter((f) => /\d+\.\d+\.\d+\.\d+$/.test(f))).toEqual([]);
      } else {
        expect(gc.json?.code).toBe(w.invoke('GC', { ...gcConf, type: 'host-local' }).json?.code);
      }
      const l2 = conf(w, { cniVersion: '1.1.0', isGateway: false }, null);
      expect(w.invoke('STATUS', l2).status).toBe(0);
      expect(w.invoke('GC', l2).status).toBe(0);
    } finally {
      w.dispose();
    }
  });
});

describe('bridge: VLAN trunks (cni-wasm; the reference 1.1.1 does not know vlanTrunk)', () => {
  it('without kernel VLAN filtering, a vlanTrunk config fails with a clear error and leaves no veth', () => {
    if (VLAN_FILTERING) return;
    const w = makeWorld('cni-wasm');
    try {
      const a = w.invoke('ADD', conf(w, { isGateway: false, vlanTrunk: [{ minID: 200, maxID: 202 }, { id: 300 }] }));
      expect(a.status).toBe(1);
      expect(a.json?.code).toBe(999);
      expect(a.json?.msg).toMatch(/failed to create bridge "cni0".*(not supported|EOPNOTSUPP)/);
      expect(w.node.ipJson<unknown[]>('link', 'show', 'type', 'veth')).toEqual([]);
    } finally {
      w.dispose();
    }
  });

  it.skipIf(!VLAN_FILTERING)(`access VLAN and trunk on the host port${VLAN_FILTERING ? '' : ` [skipped: ${NO_VLAN}]`}`, () => {
    const w = makeWorld('cni-wasm');
    try {
      ok(w.invoke('ADD', conf(w, { isGateway: false, vlan: 100, vlanTrunk: [{ minID: 200, maxID: 202 }, { id: 300 }] })));
      const port = w.node.ipJson<{ ifname: string }[]>('link', 'show', 'type', 'veth')[0]!.ifname;
      const vlans = JSON.parse(w.node.run('bridge', ['-j', 'vlan', 'show', 'dev', port])) as { vlans: { vlan: number; flags?: string[] }[] }[];
      const got = vlans[0]!.vlans.map((v) => `${v.vlan}${(v.flags ?? []).map((f) => ` ${f}`).join('')}`);
      expect(got).toEqual(['100 PVID Egress Untagged', '200', '201', '202', '300']);
    } finally {
      w.dispose();
    }
  });
});

describe('bridge: macspoofchk DEL without a namespace (cni-wasm; the reference returns before removing its filter)', () => {
  it('removes the filter, and a repeated DEL succeeds', () => {
    const w = makeWorld('cni-wasm');
    try {
      const c = conf(w, { macspoofchk: true });
      const a = ok(w.invoke('ADD', c));
      const veth = (a.json?.interfaces as { name: string }[])[1]!.name;
      expect(bridgeRules(w)).toContain(`"${veth}"`);
      removeContainer(w);
      ok(w.invoke('DEL', c, { netns: '' }));
      ok(w.invoke('DEL', c, { netns: '' }));
      expect(bridgeRules(w)).toBe('[]');
    } finally {
      w.dispose();
    }
  });
});
