// host-local: cni-wasm's AssemblyScript plugin (dist/plugins/host-local.wasm, exec'd through
// the binary installed as `host-local`) against the reference plugin (/usr/lib/cni/host-local,
// Debian's containernetworking-plugins 1.1.1), both exec'd the way a runtime does, inside a
// throwaway node namespace:
//  - a table of differential cases: the same commands and configs through both, each with its
//    own data directory; results, errors and the data directories (names, contents, modes)
//    must be equal, except the deliberate differences listed in docs/compatibility.md
//    (error codes of invalid configurations and CNI_ARGS);
//  - switching a node between the two implementations mid-way;
//  - 50 concurrent ADDs from separate processes (cni-wasm alone, and 25 + 25 mixed);
//  - STATUS and GC (CNI 1.1), which the reference does not have, against the expected state.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Netns, makeNetns } from '../harness/netns.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BINARY = path.join(REPO, 'dist', 'cni-wasm.cjs');
const REF = '/usr/lib/cni/host-local';
const NET = 'hlnet';

type Impl = 'ref' | 'wasm';
type Cmd = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC';
type Json = Record<string, unknown>;

let node: Netns;
let ctr: Netns;
let tmp: string;
let wasmBin: string;
let seq = 0;

beforeAll(() => {
  if (!existsSync(path.join(REPO, 'dist', 'plugins', 'host-local.wasm'))) {
    throw new Error('dist/plugins/host-local.wasm is missing: run `npm run build` first');
  }
  tmp = mkdtempSync(path.join(tmpdir(), 'cniw-hl-'));
  execFileSync(process.execPath, [BINARY, 'install', '--dir', path.join(tmp, 'bin'), '--plugins', 'host-local']);
  wasmBin = path.join(tmp, 'bin', 'host-local');
  node = makeNetns('hl-node');
  ctr = makeNetns('hl-ctr');
});

afterAll(() => {
  node?.remove();
  ctr?.remove();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Running a plugin

interface Call {
  cmd: Cmd;
  id?: string;
  ifname?: string;
  args?: string;
  config: string;
}

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
  json: Json | undefined;
}

function envOf(c: Call): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: c.cmd,
    CNI_CONTAINERID: c.id ?? '',
    CNI_IFNAME: c.ifname ?? '',
    CNI_NETNS: c.cmd === 'ADD' || c.cmd === 'CHECK' || c.cmd === 'DEL' ? ctr.path : '',
    CNI_ARGS: c.args ?? '',
    CNI_PATH: path.dirname(REF),
  };
}

function parseOut(stdout: string): Json | undefined {
  try {
    return stdout.trim() ? (JSON.parse(stdout) as Json) : undefined;
  } catch {
    return undefined;
  }
}

function run(impl: Impl, c: Call): Outcome {
  const r = node.spawn(impl === 'ref' ? REF : wasmBin, [], { input: c.config, env: envOf(c), timeoutMs: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: parseOut(r.stdout) };
}

/** Same, asynchronously (for concurrent runs). */
function runAsync(impl: Impl, c: Call): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn('ip', ['netns', 'exec', node.name, impl === 'ref' ? REF : wasmBin], { env: envOf(c) });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, json: parseOut(stdout) }));
    child.stdin!.end(c.config);
  });
}

/** What is compared: a result without an empty "dns" (libcni 1.0 prints {}, newer leaves it out), or an error's code and msg. */
function normalized(o: Outcome): Json | string | undefined {
  const j = o.json;
  if (j === undefined) return o.stdout.trim() === '' ? undefined : `unparsable: ${o.stdout}`;
  if ('code' in j) return { code: j.code, msg: j.msg };
  const out = { ...j };
  if (out.dns && typeof out.dns === 'object' && Object.keys(out.dns).length === 0) delete out.dns;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Configurations and data directories

/** A network config; DATA in it is replaced by the implementation's data directory. */
function net(ipam: Json, extra: Json = {}, cniVersion = '1.0.0'): string {
  return JSON.stringify({ cniVersion, name: NET, type: 'host-local', ipam: { type: 'host-local', dataDir: 'DATA', ...ipam }, ...extra });
}

function withData(config: string, dataDir: string): string {
  return config.replaceAll('"DATA"', JSON.stringify(dataDir));
}

function newDataDir(label: string): string {
  const d = path.join(tmp, `${label}-${++seq}`);
  mkdirSync(d);
  return d;
}

interface FileState {
  mode: string;
  content: string;
}

/** Everything in <dataDir>/<network>: names, types and modes, contents. */
function snapshot(dataDir: string): Record<string, FileState> | null {
  const dir = path.join(dataDir, NET);
  if (!existsSync(dir)) return null;
  const out: Record<string, FileState> = { '.': { mode: (lstatSync(dir).mode & 0o7777).toString(8), content: '<dir>' } };
  for (const name of readdirSync(dir).sort()) {
    const st = lstatSync(path.join(dir, name));
    out[name] = {
      mode: `${st.isFile() ? 'f' : st.isDirectory() ? 'd' : 'o'}${(st.mode & 0o7777).toString(8)}`,
      content: st.isFile() ? readFileSync(path.join(dir, name), 'latin1') : '',
    };
  }
  return out;
}

/** Allocation files of a snapshot: name -> content. */
function allocations(s: Record<string, FileState> | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s ?? {})) if (k !== '.' && k !== 'lock' && !k.startsWith('last_reserved_ip.')) out[k] = v.content;
  return out;
}

/** Writes files into <dataDir>/<network> as another implementation (or an older version) would have. */
function seed(dataDir: string, files: Record<string, string>): void {
  const dir = path.join(dataDir, NET);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content, { mode: 0o644 });
  if (!existsSync(path.join(dir, 'lock'))) {
    writeFileSync(path.join(dir, 'lock'), '');
    chmodSync(path.join(dir, 'lock'), 0o750);
  }
}

function addresses(o: Outcome): string[] {
  const ips = (o.json?.ips ?? []) as { address: string }[];
  return ips.map((i) => i.address);
}

// ---------------------------------------------------------------------------------------------
// The differential table

interface Step extends Omit<Call, 'config'> {
  config: string;
  /**
   * A deliberate difference (docs/compatibility.md): the reference answers 999 for every
   * error; cni-wasm answers this code (7: invalid configuration, 4: invalid CNI_ARGS).
   */
  code?: number;
  /** Expected addresses of an ADD (checked on both). */
  want?: string[];
  /** Expected error message of both (substring). */
  error?: string;
}

interface Case {
  name: string;
  seed?: Record<string, string>;
  steps: Step[];
}

const v4 = { subnet: '10.10.0.0/24' };
const v6 = { subnet: 'fd10::/64' };
const add = (id: string, config: string, more: Partial<Step> = {}): Step => ({ cmd: 'ADD', id, ifname: 'eth0', config, ...more });
const del = (id: string, config: string, more: Partial<Step> = {}): Step => ({ cmd: 'DEL', id, ifname: 'eth0', config, ...more });
const check = (id: string, config: string, more: Partial<Step> = {}): Step => ({ cmd: 'CHECK', id, ifname: 'eth0', config, ...more });
const invalid = (config: string, error: string, code = 7): Step => ({ cmd: 'ADD', id: 'bad', ifname: 'eth0', config, code, error });

const CASES: Case[] = [
  {
    name: 'IPv4: consecutive ADDs, CHECK',
    steps: [
      add('c1', net(v4), { want: ['10.10.0.2/24'] }),
      add('c2', net(v4), { want: ['10.10.0.3/24'] }),
      check('c1', net(v4)),
      check('c3', net(v4), { error: 'Failed to find address added by container c3' }),
    ],
  },
  {
    name: 'IPv6',
    steps: [add('c1', net(v6), { want: ['fd10::2/64'] }), add('c2', net(v6), { want: ['fd10::3/64'] }), del('c1', net(v6))],
  },
  {
    name: 'dual-stack with routes',
    steps: [
      add('c1', net({ ranges: [[v4], [v6]], routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd10::1' }, { dst: '192.168.7.9/16', gw: '10.10.0.254' }] }), {
        want: ['10.10.0.2/24', 'fd10::2/64'],
      }),
      add('c1', net({ ranges: [[v4], [v6]] }), { ifname: 'net1', want: ['10.10.0.3/24', 'fd10::3/64'] }),
      del('c1', net({ ranges: [[v4], [v6]] })),
    ],
  },
  {
    name: 'several ranges in one set, then exhaustion (code and message)',
    steps: [
      add('c1', net({ ranges: [[{ subnet: '10.20.0.0/30' }, { subnet: '10.20.1.0/29', rangeEnd: '10.20.1.3' }]] }), { want: ['10.20.0.2/30'] }),
      add('c2', net({ ranges: [[{ subnet: '10.20.0.0/30' }, { subnet: '10.20.1.0/29', rangeEnd: '10.20.1.3' }]] }), { want: ['10.20.1.2/29'] }),
      add('c3', net({ ranges: [[{ subnet: '10.20.0.0/30' }, { subnet: '10.20.1.0/29', rangeEnd: '10.20.1.3' }]] }), { want: ['10.20.1.3/29'] }),
      add('c4', net({ ranges: [[{ subnet: '10.20.0.0/30' }, { subnet: '10.20.1.0/29', rangeEnd: '10.20.1.3' }]] }), {
        error: 'failed to allocate for range 0: no IP addresses available in range set: 10.20.0.1-10.20.0.2,10.20.1.1-10.20.1.3',
      }),
    ],
  },
  {
    name: 'several range sets (three, two of them IPv4)',
    steps: [
      add('c1', net({ ranges: [[{ subnet: '10.30.0.0/24' }], [{ subnet: '10.31.0.0/16', rangeStart: '10.31.5.0' }], [v6]] }), {
        want: ['10.30.0.2/24', '10.31.5.0/16', 'fd10::2/64'],
      }),
      add('c2', net({ ranges: [[{ subnet: '10.30.0.0/24' }], [{ subnet: '10.31.0.0/16', rangeStart: '10.31.5.0' }], [v6]] })),
      del('c1', net({ ranges: [[{ subnet: '10.30.0.0/24' }], [{ subnet: '10.31.0.0/16', rangeStart: '10.31.5.0' }], [v6]] })),
    ],
  },
  {
    name: 'rangeStart/rangeEnd',
    steps: [
      add('c1', net({ subnet: '10.40.0.0/24', rangeStart: '10.40.0.100', rangeEnd: '10.40.0.102' }), { want: ['10.40.0.100/24'] }),
      add('c2', net({ subnet: '10.40.0.0/24', rangeStart: '10.40.0.100', rangeEnd: '10.40.0.102' }), { want: ['10.40.0.101/24'] }),
      add('c3', net({ subnet: '10.40.0.0/24', rangeStart: '10.40.0.100', rangeEnd: '10.40.0.102' }), { want: ['10.40.0.102/24'] }),
      add('c4', net({ subnet: '10.40.0.0/24', rangeStart: '10.40.0.100', rangeEnd: '10.40.0.102' }), { error: 'no IP addresses available' }),
    ],
  },
  {
    name: 'gateway inside the range is skipped',
    steps: [
      add('c1', net({ subnet: '10.41.0.0/24', rangeStart: '10.41.0.10', rangeEnd: '10.41.0.13', gateway: '10.41.0.11' }), { want: ['10.41.0.10/24'] }),
      add('c2', net({ subnet: '10.41.0.0/24', rangeStart: '10.41.0.10', rangeEnd: '10.41.0.13', gateway: '10.41.0.11' }), { want: ['10.41.0.12/24'] }),
      add('c3', net({ subnet: '10.41.0.0/24', rangeStart: '10.41.0.10', rangeEnd: '10.41.0.13', gateway: '10.41.0.11' }), { want: ['10.41.0.13/24'] }),
      add('c4', net({ subnet: '10.41.0.0/24', rangeStart: '10.41.0.10', rangeEnd: '10.41.0.13', gateway: '10.41.0.11' }), { error: 'no IP addresses available' }),
    ],
  },
  {
    name: '/30: the default gateway leaves one address, a gateway elsewhere two; never the broadcast',
    steps: [
      add('c1', net({ subnet: '10.42.0.0/30' }), { want: ['10.42.0.2/30'] }),
      add('c2', net({ subnet: '10.42.0.0/30' }), { error: 'no IP addresses available in range set: 10.42.0.1-10.42.0.2' }),
      add('d1', net({ subnet: '10.43.0.0/30', gateway: '10.43.0.3' }), { want: ['10.43.0.1/30'] }),
      add('d2', net({ subnet: '10.43.0.0/30', gateway: '10.43.0.3' }), { want: ['10.43.0.2/30'] }),
      add('d3', net({ subnet: '10.43.0.0/30', gateway: '10.43.0.3' }), { error: 'no IP addresses available' }),
    ],
  },
  {
    name: 'explicit bounds may include the network and broadcast addresses',
    steps: [
      add('c1', net({ subnet: '10.44.0.0/30', rangeStart: '10.44.0.2', rangeEnd: '10.44.0.3' }), { want: ['10.44.0.2/30'] }),
      add('c2', net({ subnet: '10.44.0.0/30', rangeStart: '10.44.0.2', rangeEnd: '10.44.0.3' }), { want: ['10.44.0.3/30'] }),
      add('d1', net({ subnet: '10.45.0.0/30', rangeStart: '10.45.0.0', gateway: '10.45.0.2' }), { want: ['10.45.0.0/30'] }),
      add('d2', net({ subnet: '10.45.0.0/30', rangeStart: '10.45.0.0', gateway: '10.45.0.2' }), { want: ['10.45.0.1/30'] }),
    ],
  },
  {
    name: 'IPv6 /126 and a gateway outside the subnet',
    steps: [
      add('c1', net({ subnet: 'fd42::/126', gateway: 'fd99::1' }), { want: ['fd42::1/126'] }),
      add('c2', net({ subnet: 'fd42::/126', gateway: 'fd99::1' }), { want: ['fd42::2/126'] }),
      add('c3', net({ subnet: 'fd42::/126', gateway: 'fd99::1' }), { want: ['fd42::3/126'] }),
      add('c4', net({ subnet: 'fd42::/126', gateway: 'fd99::1' }), { error: 'no IP addresses available' }),
    ],
  },
  {
    name: 'requested address via CNI_ARGS IP= (with and without a prefix, IgnoreUnknown)',
    steps: [
      add('c1', net(v4), { args: 'IP=10.10.0.77', want: ['10.10.0.77/24'] }),
      add('c2', net(v4), { args: 'IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.10.0.78/8', want: ['10.10.0.78/24'] }),
      add('c3', net(v4), { want: ['10.10.0.79/24'] }),
      add('c4', net(v4), { args: 'IP=::ffff:10.10.0.90', want: ['10.10.0.90/24'] }),
    ],
  },
  {
    name: 'requested addresses via args.cni.ips (dual-stack)',
    steps: [add('c1', net({ ranges: [[v4], [v6]] }, { args: { cni: { ips: ['10.10.0.50', 'fd10::50'] } } }), { want: ['10.10.0.50/24', 'fd10::50/64'] })],
  },
  {
    name: 'requested address via runtimeConfig.ips, in the second range set',
    steps: [add('c1', net({ ranges: [[v4], [v6]] }, { runtimeConfig: { ips: ['fd10::abc/64'] } }), { want: ['10.10.0.2/24', 'fd10::abc/64'] })],
  },
  {
    name: 'requested address already taken: everything this ADD took is released',
    steps: [
      add('c1', net({ ranges: [[v4], [v6]] }), { want: ['10.10.0.2/24', 'fd10::2/64'] }),
      add('c2', net({ ranges: [[v4], [v6]] }), { args: 'IP=fd10::2', error: 'failed to allocate for range 1: requested IP address fd10::2 is not available in range set fd10::1-fd10::ffff:ffff:ffff:ffff' }),
      add('c3', net({ ranges: [[v4], [v6]] }), { want: ['10.10.0.4/24', 'fd10::3/64'] }),
    ],
  },
  {
    name: 'requested address in no range set, or the gateway',
    steps: [
      add('c1', net({ ranges: [[v4], [v6]] }), { args: 'IP=10.99.0.5', error: 'failed to allocate all requested IPs: 10.99.0.5' }),
      add('c1', net(v4), { args: 'IP=10.10.0.1', error: "failed to allocate for range 0: requested ip 10.10.0.1 is subnet's gateway" }),
      add('c1', net(v4), { want: ['10.10.0.3/24'] }),
    ],
  },
  {
    name: 'duplicate ADD of the same container and interface',
    steps: [
      add('c1', net(v4), { want: ['10.10.0.2/24'] }),
      add('c1', net(v4), { error: 'failed to allocate for range 0: 10.10.0.2 has been allocated to c1, duplicate allocation is not allowed' }),
      add('c1', net(v4), { ifname: 'eth1', want: ['10.10.0.3/24'] }),
      add('c1', net(v4), { args: 'IP=10.10.0.9', want: ['10.10.0.9/24'] }),
    ],
  },
  {
    name: 'DEL twice, DEL of an unknown container, DEL with a fresh data dir',
    steps: [add('c1', net(v4)), del('c1', net(v4)), del('c1', net(v4)), del('nobody', net(v4))],
  },
  {
    name: 'DEL of legacy files (container ID only), and the second pass of a two-set DEL',
    seed: { '10.10.0.5': 'c1', '10.10.0.6': 'c2\n', 'fd10::9': 'c1\r\neth0', 'last_reserved_ip.0': '10.10.0.6' },
    steps: [
      check('c2', net(v4)),
      del('c2', net(v4)),
      // c1 has a new-format file (fd10::9) and a legacy one (10.10.0.5): the first pass removes
      // the former, the second (finding none) the latter.
      del('c1', net({ ranges: [[v4], [v6]] })),
      add('c3', net(v4), { want: ['10.10.0.7/24'] }),
    ],
  },
  {
    name: 'round robin across ADD/DEL cycles, and wrap-around',
    steps: [
      add('a', net({ subnet: '10.50.0.0/24', rangeStart: '10.50.0.10', rangeEnd: '10.50.0.12' }), { want: ['10.50.0.10/24'] }),
      del('a', net({ subnet: '10.50.0.0/24', rangeStart: '10.50.0.10', rangeEnd: '10.50.0.12' })),
      add('b', net({ subnet: '10.50.0.0/24', rangeStart: '10.50.0.10', rangeEnd: '10.50.0.12' }), { want: ['10.50.0.11/24'] }),
      add('c', net({ subnet: '10.50.0.0/24', rangeStart: '10.50.0.10', rangeEnd: '10.50.0.12' }), { want: ['10.50.0.12/24'] }),
      add('d', net({ subnet: '10.50.0.0/24', rangeStart: '10.50.0.10', rangeEnd: '10.50.0.12' }), { want: ['10.50.0.10/24'] }),
      del('c', net({ subnet: '10.50.0.0/24', rangeStart: '10.50.0.10', rangeEnd: '10.50.0.12' })),
      del('b', net({ subnet: '10.50.0.0/24', rangeStart: '10.50.0.10', rangeEnd: '10.50.0.12' })),
      add('e', net({ subnet: '10.50.0.0/24', rangeStart: '10.50.0.10', rangeEnd: '10.50.0.12' }), { want: ['10.50.0.11/24'] }),
    ],
  },
  {
    name: 'last_reserved_ip outside the set, unparsable, or in the second range',
    seed: { 'last_reserved_ip.0': '10.99.9.9', 'last_reserved_ip.1': '10.61.0.4\n', 'last_reserved_ip.2': '10.62.1.3' },
    steps: [
      add(
        'c1',
        net({ ranges: [[{ subnet: '10.60.0.0/24' }], [{ subnet: '10.61.0.0/24' }], [{ subnet: '10.62.0.0/29' }, { subnet: '10.62.1.0/29' }]] }),
        { want: ['10.60.0.2/24', '10.61.0.2/24', '10.62.1.4/29'] },
      ),
    ],
  },
  {
    name: 'legacy range and ranges together; runtimeConfig.ipRanges first',
    steps: [
      add('c1', net({ subnet: '10.70.0.0/24', ranges: [[v6]] }, { runtimeConfig: { ipRanges: [[{ subnet: '10.71.0.0/24' }]] } }), {
        want: ['10.71.0.2/24', '10.70.0.2/24', 'fd10::2/64'],
      }),
    ],
  },
  {
    name: 'older CNI versions: 0.4.0, 0.3.1 and 0.2.0 results',
    steps: [
      add('c1', net({ ranges: [[v4], [v6]] }, {}, '0.4.0')),
      add('c2', net({ ranges: [[v4], [v6]] }, {}, '0.3.1')),
      add('c3', net({ ranges: [[v4], [v6]] }, {}, '0.2.0')),
      add('c4', net({ ranges: [[v4], [{ subnet: '10.11.0.0/24' }]] }, {}, '0.2.0'), { code: 7, error: 'CNI version 0.2.0 does not support more than 1 address per family' }),
      check('c1', net({ ranges: [[v4], [v6]] }, {}, '0.4.0')),
      del('c2', net({ ranges: [[v4], [v6]] }, {}, '0.3.1')),
    ],
  },
  {
    name: 'invalid configurations: subnet sizes and network addresses',
    steps: [
      invalid(net({ subnet: '10.10.0.0/31' }), 'invalid range set 0: Network 10.10.0.0/31 too small to allocate from'),
      invalid(net({ subnet: '10.10.0.1/32' }), 'invalid range set 0: Network 10.10.0.1/32 too small to allocate from'),
      invalid(net({ subnet: 'fd10::/127' }), 'invalid range set 0: Network fd10::/127 too small to allocate from'),
      invalid(net({ subnet: '10.10.0.1/24' }), 'invalid range set 0: Network has host bits set. For a subnet mask of length 24 the network address is 10.10.0.0'),
      invalid(net({ subnet: 'fd10::1/64' }), 'the network address is fd10::'),
      invalid(net({ subnet: '::ffff:10.10.0.0/120' }), 'invalid range set 0: IPNet IP and Mask version mismatch'),
      invalid(net({ subnet: '10.10.0.0/33' }), 'invalid CIDR address: 10.10.0.0/33'),
    ],
  },
  {
    name: 'invalid configurations: families and overlaps',
    steps: [
      invalid(net({ ranges: [[v4, v6]] }), 'invalid range set 0: mixed address families'),
      invalid(net({ ranges: [[v4, { subnet: '10.10.0.0/25' }]] }), 'invalid range set 0: subnets 10.10.0.1-10.10.0.254 and 10.10.0.1-10.10.0.126 overlap'),
      invalid(net({ ranges: [[v4], [{ subnet: '10.10.0.128/25' }]] }), 'range set 0 overlaps with 1'),
      invalid(net({ subnet: '10.10.0.0/24', ranges: [[v6], [{ subnet: '10.10.0.0/16' }]] }), 'range set 0 overlaps with 2'),
      invalid(net({ ranges: [[v4], []] }), 'invalid range set 1: empty range set'),
      invalid(net({ ranges: [[{ rangeStart: '10.1.1.1' }]] }), 'invalid range set 0: IP <nil> not v4 nor v6'),
    ],
  },
  {
    name: 'invalid configurations: range bounds, gateway, no ranges, no ipam',
    steps: [
      invalid(net({ subnet: '10.10.0.0/24', rangeStart: '10.10.1.5' }), 'invalid range set 0: RangeStart 10.10.1.5 not in network 10.10.0.0/24'),
      invalid(net({ subnet: '10.10.0.0/24', rangeEnd: '10.10.1.0' }), 'invalid range set 0: RangeEnd 10.10.1.0 not in network 10.10.0.0/24'),
      invalid(net({ subnet: '10.10.0.0/24', rangeEnd: '10.10.0.0' }), 'invalid range set 0: RangeEnd 10.10.0.0 not in network 10.10.0.0/24'),
      invalid(net({ subnet: '10.10.0.0/24', rangeStart: '10.10.0.50', rangeEnd: '10.10.0.40' }), 'RangeStart 10.10.0.50 not in network 10.10.0.0/24'),
      invalid(net({ subnet: '10.10.0.0/24', rangeStart: 'fd10::5' }), 'RangeStart fd10::5 not in network 10.10.0.0/24'),
      invalid(net({ subnet: '10.10.0.0/24', gateway: 'nope' }), 'invalid IP address: nope'),
      invalid(net({}), 'no IP ranges specified'),
      invalid(JSON.stringify({ cniVersion: '1.0.0', name: NET, type: 'host-local' }), "IPAM config missing 'ipam' key"),
    ],
  },
  {
    name: 'invalid requested addresses and CNI_ARGS',
    steps: [
      invalid(net(v4, { args: { cni: { ips: ['10.10.0.300'] } } }), 'invalid IP address 10.10.0.300'),
      invalid(net(v4, { runtimeConfig: { ips: [''] } }), 'cannot understand ip: IP <nil> not v4 nor v6'),
      { ...invalid(net(v4), 'ARGS: unknown args ["K8S_POD_NAME=web" "FOO=bar"]', 4), args: 'K8S_POD_NAME=web;FOO=bar' },
      { ...invalid(net(v4), 'ARGS: error parsing value of pair "IP=10.10.0.x": invalid IP address 10.10.0.x', 4), args: 'IP=10.10.0.x' },
      add('ok', net(v4), { args: 'IP=', want: ['10.10.0.2/24'] }),
    ],
  },
];

describe('differential: cni-wasm host-local against the reference', () => {
  it(`has at least 15 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(15);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const dirs: Record<Impl, string> = { ref: newDataDir('ref'), wasm: newDataDir('wasm') };
    if (c.seed) for (const impl of ['ref', 'wasm'] as const) seed(dirs[impl], c.seed);
    c.steps.forEach((step, i) => {
      const where = `step ${i + 1} (${step.cmd} ${step.id ?? ''} ${step.ifname ?? ''} ${step.args ?? ''})`;
      const o = {} as Record<Impl, Outcome>;
      for (const impl of ['ref', 'wasm'] as const) o[impl] = run(impl, { ...step, config: withData(step.config, dirs[impl]) });
      const [r, w] = [normalized(o.ref), normalized(o.wasm)];
      expect(o.wasm.status, `${where}: exit status; wasm stderr: ${o.wasm.stderr}`).toBe(o.ref.status);
      if (step.code !== undefined) {
        // Deliberate difference: same message, the code the CNI spec gives it.
        expect(r, where).toMatchObject({ code: 999 });
        expect(w, where).toEqual({ ...(r as Json), code: step.code });
      } else {
        expect(w, where).toEqual(r);
      }
      if (step.error !== undefined) expect(String((w as Json | undefined)?.msg), where).toContain(step.error);
      else expect(o.ref.status, `${where}: ${o.ref.stdout}`).toBe(0);
      if (step.want) expect(addresses(o.wasm), where).toEqual(step.want);
      // The data directories after every step: same files, contents and modes.
      expect(snapshot(dirs.wasm), `${where}: data directory`).toEqual(snapshot(dirs.ref));
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Switching a node between the implementations

describe('switching between the reference and cni-wasm on one data directory', () => {
  const conf = (d: string) => withData(net({ ranges: [[{ subnet: '10.80.0.0/24' }], [{ subnet: 'fd80::/64' }]] }), d);
  const op = (impl: Impl, cmd: Cmd, id: string, d: string) => run(impl, { cmd, id, ifname: 'eth0', config: conf(d) });

  it('reference first, then cni-wasm, then back: no address twice, DEL by the other releases', () => {
    const d = newDataDir('switch');
    const seen = new Set<string>();
    const take = (o: Outcome) => {
      expect(o.status, o.stdout).toBe(0);
      for (const a of addresses(o)) {
        expect(seen.has(a), `${a} handed out twice`).toBe(false);
        seen.add(a);
      }
      return addresses(o);
    };
    expect(take(op('ref', 'ADD', 'r1', d))).toEqual(['10.80.0.2/24', 'fd80::2/64']);
    expect(take(op('ref', 'ADD', 'r2', d))).toEqual(['10.80.0.3/24', 'fd80::3/64']);
    // cni-wasm continues the round robin from the reference's last_reserved_ip files.
    expect(take(op('wasm', 'ADD', 'w1', d))).toEqual(['10.80.0.4/24', 'fd80::4/64']);
    // ... and refuses a duplicate the reference made.
    expect(op('wasm', 'ADD', 'r1', d).json).toMatchObject({ code: 999, msg: expect.stringContaining('duplicate allocation') });
    expect(op('wasm', 'CHECK', 'r2', d).status).toBe(0);
    // DEL by the other implementation releases.
    expect(op('wasm', 'DEL', 'r1', d).status).toBe(0);
    expect(op('ref', 'DEL', 'w1', d).status).toBe(0);
    expect(op('ref', 'CHECK', 'w1', d).status).toBe(1);
    expect(Object.keys(allocations(snapshot(d))).sort()).toEqual(['10.80.0.3', 'fd80::3']);
    // Back to the reference: it continues after cni-wasm's last address.
    expect(take(op('ref', 'ADD', 'r3', d))).toEqual(['10.80.0.5/24', 'fd80::5/64']);
    expect(take(op('wasm', 'ADD', 'w2', d))).toEqual(['10.80.0.6/24', 'fd80::6/64']);
    for (const [impl, id] of [['wasm', 'r2'], ['ref', 'r3'], ['ref', 'w2']] as const) expect(op(impl, 'DEL', id, d).status).toBe(0);
    const s = snapshot(d)!;
    expect(allocations(s)).toEqual({});
    expect(s['last_reserved_ip.0']!.content).toBe('10.80.0.6');
    expect(s['last_reserved_ip.1']!.content).toBe('fd80::6');
    expect(s.lock!.mode).toBe('f750');
  });

  it('an address the reference allocated is never handed out by cni-wasm, even when its range is nearly full', () => {
    const d = newDataDir('switch-full');
    const small = (impl: Impl, cmd: Cmd, id: string) =>
      run(impl, { cmd, id, ifname: 'eth0', config: withData(net({ subnet: '10.81.0.0/29' }), d) });
    // .2 .. .6 are usable (gateway .1, broadcast .7): the reference takes three, cni-wasm the rest.
    const got = new Set<string>();
    for (const id of ['r1', 'r2', 'r3']) for (const a of addresses(small('ref', 'ADD', id))) got.add(a);
    for (const id of ['w1', 'w2']) for (const a of addresses(small('wasm', 'ADD', id))) got.add(a);
    expect([...got].sort()).toEqual(['10.81.0.2/29', '10.81.0.3/29', '10.81.0.4/29', '10.81.0.5/29', '10.81.0.6/29']);
    expect(small('wasm', 'ADD', 'w3').json).toMatchObject({ code: 999, msg: expect.stringContaining('no IP addresses available') });
    expect(small('wasm', 'DEL', 'r2').status).toBe(0);
    expect(addresses(small('wasm', 'ADD', 'w3'))).toEqual(['10.81.0.3/29']);
    expect(small('ref', 'ADD', 'r4').json).toMatchObject({ code: 999 });
  });
});

// ---------------------------------------------------------------------------------------------
// Concurrency

describe('concurrent ADDs from separate processes', () => {
  async function storm(impls: Impl[]): Promise<void> {
    const d = newDataDir('storm');
    const config = withData(net({ subnet: '10.90.0.0/24' }), d);
    const ids = impls.map((_, i) => `ctr${i}`);
    const adds = await Promise.all(impls.map((impl, i) => runAsync(impl, { cmd: 'ADD', id: ids[i], ifname: 'eth0', config })));
    const addrs = adds.map((o, i) => {
      expect(o.status, `${impls[i]} ${ids[i]}: ${o.stdout} ${o.stderr}`).toBe(0);
      const a = addresses(o);
      expect(a).toHaveLength(1);
      return a[0]!;
    });
    expect(new Set(addrs).size, 'every address unique').toBe(impls.length);
    const s = snapshot(d)!;
    const files = allocations(s);
    expect(Object.keys(files)).toHaveLength(impls.length);
    // Every file well-formed, and it is the address its container was given.
    ids.forEach((id, i) => {
      const ip = addrs[i]!.split('/')[0]!;
      expect(files[ip], `${ip} of ${id}`).toBe(`${id}\r\neth0`);
      expect(s[ip]!.mode).toBe('f644');
    });
    expect(Object.keys(s).filter((k) => k !== '.' && !(k in files)).sort()).toEqual(['last_reserved_ip.0', 'lock']);
    const dels = await Promise.all(impls.map((impl, i) => runAsync(impl, { cmd: 'DEL', id: ids[i], ifname: 'eth0', config })));
    dels.forEach((o, i) => expect(o.status, `DEL ${ids[i]}: ${o.stdout}`).toBe(0));
    expect(allocations(snapshot(d))).toEqual({});
  }

  it('50 cni-wasm processes at once: all addresses unique, files well-formed, all released after DEL', async () => {
    await storm(Array.from({ length: 50 }, () => 'wasm' as const));
  }, 120_000);

  it('25 reference + 25 cni-wasm processes at once', async () => {
    await storm(Array.from({ length: 50 }, (_, i) => (i % 2 ? 'wasm' : 'ref') as Impl));
  }, 120_000);
});

describe('the lock held by another process', () => {
  async function holding<T>(lockFile: string, seconds: number, fn: () => T): Promise<T> {
    // Another process holds the lock (as a reference host-local in a long operation would).
    const holder = spawn('flock', ['-x', lockFile, 'sleep', String(seconds)], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      return fn();
    } finally {
      holder.kill();
    }
  }

  it('ADD waits for it, as the reference does', async () => {
    const d = newDataDir('lock-wait');
    const config = withData(net(v4), d);
    expect(run('wasm', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config }).status).toBe(0);
    const t0 = performance.now();
    const o = await holding(path.join(d, NET, 'lock'), 1.5, () => run('wasm', { cmd: 'ADD', id: 'c2', ifname: 'eth0', config }));
    expect(o.status, o.stdout).toBe(0);
    expect(performance.now() - t0).toBeGreaterThan(1000);
    expect(addresses(o)).toEqual(['10.10.0.3/24']);
  });

  it('held beyond the call budget: ADD answers "try again later" (11) and changes nothing', async () => {
    const d = newDataDir('lock-long');
    const config = withData(net(v4), d);
    expect(run('wasm', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config }).status).toBe(0);
    const before = snapshot(d);
    const r = await holding(path.join(d, NET, 'lock'), 20, () =>
      node.spawn(wasmBin, [], { input: config, env: { ...envOf({ cmd: 'ADD', id: 'c2', ifname: 'eth0', config }), CNI_WASM_LIMITS: '{"callTimeoutMs":1500}' } }),
    );
    expect(r.status, r.stderr).toBe(1);
    // The host's lock wait ends while the plugin still has budget left, so host-local can
    // answer 11 instead of being stopped by the budget (102).
    expect((parseOut(r.stdout) as Json).code).toBe(11);
    expect(snapshot(d)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// STATUS and GC (CNI 1.1; the reference has neither)

describe('STATUS', () => {
  const status = (ipam: Json) => run('wasm', { cmd: 'STATUS', config: net(ipam, {}, '1.1.0') });

  it('is ready with a writable data directory, and leaves nothing behind', () => {
    const d = newDataDir('status');
    const o = status({ ...v4, dataDir: d });
    expect(o.status, o.stdout).toBe(0);
    expect(o.stdout).toBe('');
    const s = snapshot(d)!;
    expect(Object.keys(s).sort()).toEqual(['.', 'lock']);
  });

  it('answers 50 when the data directory cannot be made (a file in its path)', () => {
    const d = newDataDir('status-file');
    writeFileSync(path.join(d, 'plain'), 'x');
    const o = status({ ...v4, dataDir: path.join(d, 'plain') });
    expect(o.status).toBe(1);
    expect(o.json).toMatchObject({ code: 50, msg: expect.stringMatching(/data directory cannot be used: .*ENOTDIR/) });
  });

  it('answers 50 when the data directory is on a read-only mount', () => {
    const d = newDataDir('status-ro');
    // Allocate first, so the directory and lock exist; then STATUS under a read-only bind
    // mount, in a private mount namespace of its own.
    expect(run('wasm', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config: net({ ...v4, dataDir: d }) }).status).toBe(0);
    const env = envOf({ cmd: 'STATUS', config: '' });
    const r = node.spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$1"`, d, wasmBin], {
      input: net({ ...v4, dataDir: d }, {}, '1.1.0'),
      env,
    });
    const j = parseOut(r.stdout);
    expect(r.status, r.stderr).toBe(1);
    expect(j).toMatchObject({ code: 50, msg: expect.stringMatching(/not writable: .*EROFS/) });
    expect(Object.keys(allocations(snapshot(d)))).toEqual(['10.10.0.2']);
  });

  it('answers 50 when a range set is exhausted, and again ready after a DEL', () => {
    const d = newDataDir('status-full');
    const ipam = { subnet: '10.91.0.0/30', dataDir: d };
    expect(run('wasm', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config: net(ipam) }).status).toBe(0);
    expect(status(ipam).json).toMatchObject({ code: 50, msg: 'no IP addresses available in range set: 10.91.0.1-10.91.0.2' });
    expect(run('wasm', { cmd: 'DEL', id: 'c1', ifname: 'eth0', config: net(ipam) }).status).toBe(0);
    expect(status(ipam).status).toBe(0);
  });

  it('answers 7 for an invalid configuration', () => {
    expect(status({ subnet: '10.92.0.0/31', dataDir: newDataDir('status-bad') }).json).toMatchObject({ code: 7 });
  });
});

describe('GC', () => {
  const ranges = { ranges: [[{ subnet: '10.95.0.0/24' }], [{ subnet: 'fd95::/64' }]] };

  it('releases every allocation not in cni.dev/valid-attachments; legacy files by container ID; never lock or last_reserved_ip', () => {
    const d = newDataDir('gc');
    const ipam = { ...ranges, dataDir: d };
    for (const [id, ifname] of [['c1', 'eth0'], ['c1', 'net1'], ['c2', 'eth0'], ['c3', 'eth0']]) {
      expect(run('ref', { cmd: 'ADD', id, ifname, config: net(ipam) }).status).toBe(0);
    }
    // Legacy files (container ID only), one of a valid container, one of a gone one; an
    // allocation outside today's ranges; a file that is not an address.
    seed(d, { '10.95.0.200': 'c4', '10.95.0.201': 'c5', '10.96.0.9': 'c9\r\neth0', 'notes.txt': 'c9\r\neth0' });
    const before = snapshot(d)!;
    const o = run('wasm', {
      cmd: 'GC',
      config: net(ipam, { 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }, { containerID: 'c4', ifname: 'eth9' }] }, '1.1.0'),
    });
    expect(o.status, o.stdout).toBe(0);
    const after = snapshot(d)!;
    expect(allocations(after)).toEqual({
      '10.95.0.2': 'c1\r\neth0',
      'fd95::2': 'c1\r\neth0',
      '10.95.0.200': 'c4',
      'notes.txt': 'c9\r\neth0',
    });
    for (const k of ['lock', 'last_reserved_ip.0', 'last_reserved_ip.1']) expect(after[k], k).toEqual(before[k]);
    // The reference still reads the state: c1/eth0 is there, c2 is gone.
    expect(run('ref', { cmd: 'CHECK', id: 'c1', ifname: 'eth0', config: net(ipam) }).status).toBe(0);
    expect(run('ref', { cmd: 'CHECK', id: 'c2', ifname: 'eth0', config: net(ipam) }).status).toBe(1);
    // An empty list releases every allocation.
    expect(run('wasm', { cmd: 'GC', config: net(ipam, { 'cni.dev/valid-attachments': [] }, '1.1.0') }).status).toBe(0);
    expect(allocations(snapshot(d))).toEqual({ 'notes.txt': 'c9\r\neth0' });
  });

  it('releases nothing without cni.dev/valid-attachments (code 7)', () => {
    const d = newDataDir('gc-none');
    const ipam = { ...ranges, dataDir: d };
    expect(run('wasm', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config: net(ipam) }).status).toBe(0);
    expect(run('wasm', { cmd: 'GC', config: net(ipam, {}, '1.1.0') }).json).toMatchObject({ code: 7 });
    expect(Object.keys(allocations(snapshot(d)))).toHaveLength(2);
  });
});

// ---------------------------------------------------------------------------------------------
// resolvConf: read through the host API (files.read; the built-in grant names ${ipam.resolvConf})

describe('resolvConf', () => {
  let rdir: string;
  const file = (name: string): string => path.join(rdir, name);
  // The reference's rules (dns.go): trimmed lines, '#'/';' comments, at least two fields;
  // the last domain wins; search and options append every field after the first.
  const RESOLV = [
    '# generated by a test',
    '; a comment in the other style',
    '#nameserver 192.0.2.99',
    'nameserver 192.0.2.53',
    '  nameserver   2001:db8::53   ignored-field',
    'domain first.example',
    'domain example.org',
    'search a.example b.example',
    '\tsearch c.example',
    'options ndots:5 timeout:2',
    'options attempts:3\r',
    'nameserver',
    'sortlist 10.0.0.0/8',
    'nameserver 198.51.100.1',
    '',
    '   ',
  ].join('\n');
  const DNS = {
    nameservers: ['192.0.2.53', '2001:db8::53', '198.51.100.1'],
    domain: 'example.org',
    search: ['a.example', 'b.example', 'c.example'],
    options: ['ndots:5', 'timeout:2', 'attempts:3'],
  };

  beforeAll(() => {
    rdir = path.join(tmp, 'resolv');
    mkdirSync(rdir);
    writeFileSync(file('resolv.conf'), RESOLV);
    writeFileSync(file('empty.conf'), '# nothing\n');
    writeFileSync(file('outside.conf'), 'nameserver 203.0.113.1\n');
    symlinkSync(file('outside.conf'), file('link.conf'));
  });

  /** cni-wasm's host-local with more environment (a policy file, the audit log). */
  function runWasm(c: Call, extra: Record<string, string>): Outcome {
    const r = node.spawn(wasmBin, [], { input: c.config, env: { ...envOf(c), ...extra }, timeoutMs: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: parseOut(r.stdout) };
  }

  function policy(grant: Json): string {
    const p = file(`policy-${++seq}.json`);
    writeFileSync(p, JSON.stringify({ version: 1, plugins: { 'host-local': { grant } } }));
    return p;
  }

  it('ADD returns the file\'s nameservers, domain, search and options as dns, as the reference does', () => {
    for (const [version, resolv] of [['1.0.0', file('resolv.conf')], ['0.4.0', file('resolv.conf')], ['0.3.1', file('empty.conf')]] as const) {
      const config = net({ ...v4, resolvConf: resolv }, {}, version);
      const dRef = newDataDir('resolv-ref');
      const dWasm = newDataDir('resolv-wasm');
      const r = run('ref', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config: withData(config, dRef) });
      const w = run('wasm', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config: withData(config, dWasm) });
      expect(r.status, r.stdout).toBe(0);
      expect(w.status, w.stdout + w.stderr).toBe(0);
      expect(normalized(w), version).toEqual(normalized(r));
      if (resolv === file('resolv.conf')) expect(w.json!.dns).toEqual(DNS);
      else expect(normalized(w)).not.toHaveProperty('dns');
      expect(snapshot(dWasm)).toEqual(snapshot(dRef));
      // CHECK came with 0.4.0
      if (version !== '0.3.1') expect(run('wasm', { cmd: 'CHECK', id: 'c1', ifname: 'eth0', config: withData(config, dWasm) }).status).toBe(0);
      expect(run('wasm', { cmd: 'DEL', id: 'c1', ifname: 'eth0', config: withData(config, dWasm) }).status).toBe(0);
    }
  });

  it('a missing file fails ADD as the reference does (999, same message) before touching anything; DEL and CHECK ignore it', () => {
    const config = net({ ...v4, resolvConf: file('absent.conf') });
    const dRef = newDataDir('resolv-absent-ref');
    const dWasm = newDataDir('resolv-absent-wasm');
    const r = run('ref', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config: withData(config, dRef) });
    const w = run('wasm', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config: withData(config, dWasm) });
    expect(normalized(r)).toEqual({ code: 999, msg: `open ${file('absent.conf')}: no such file or directory` });
    expect(normalized(w)).toEqual(normalized(r));
    expect(snapshot(dWasm)).toBeNull();
    expect(run('wasm', { cmd: 'DEL', id: 'c1', ifname: 'eth0', config: withData(config, dWasm) }).status).toBe(0);
    // STATUS (the reference has none) says ADD would fail
    const st = run('wasm', { cmd: 'STATUS', config: withData(net({ ...v4, resolvConf: file('absent.conf') }, {}, '1.1.0'), dWasm) });
    expect(st.json).toMatchObject({ code: 50, msg: `the resolvConf file cannot be read: open ${file('absent.conf')}: no such file or directory` });
    expect(run('wasm', { cmd: 'STATUS', config: withData(net({ ...v4, resolvConf: file('resolv.conf') }, {}, '1.1.0'), dWasm) }).status).toBe(0);
  });

  it('a symlink leading outside the grant is denied (permission-denied naming files.read and the target, audited), touching nothing; naming the target works', () => {
    const config = net({ ...v4, resolvConf: file('link.conf') });
    const d = newDataDir('resolv-link');
    const logFile = file(`log-${++seq}.jsonl`);
    const w = runWasm({ cmd: 'ADD', id: 'c1', ifname: 'eth0', config: withData(config, d) }, { CNI_LOG_LEVEL: 'debug', CNI_LOG_FILE: logFile });
    expect(normalized(w)).toEqual({
      code: 999,
      msg:
        `open ${file('link.conf')}: permission-denied: files.read: may not read ${JSON.stringify(file('link.conf'))}: ` +
        `it resolves to ${JSON.stringify(file('outside.conf'))}, which is not granted (granted: ${JSON.stringify(file('link.conf'))})`,
    });
    expect(snapshot(d)).toBeNull();
    const audit = readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Json);
    expect(audit).toContainEqual(expect.objectContaining({ audit: true, call: 'files.read-text', outcome: 'denied', capability: 'files.read', args: [file('link.conf')] }));
    // The reference follows the link (a deliberate difference, docs/compatibility.md).
    expect(run('ref', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config: withData(config, newDataDir('resolv-link-ref')) }).json!.dns).toEqual({ nameservers: ['203.0.113.1'] });
    // The plugin holds what it declares (${ipam.resolvConf}), not the whole grant: a grant naming
    // the target as well does not help; the config must name the file itself.
    const both = policy({ store: ['/var/lib/cni/networks', '${ipam.dataDir}'], files: { read: ['${ipam.resolvConf}', file('outside.conf')] } });
    expect(runWasm({ cmd: 'ADD', id: 'c1', ifname: 'eth0', config: withData(config, d) }, { CNI_WASM_POLICY: both }).json).toMatchObject({ code: 999 });
    const ok = run('wasm', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config: withData(net({ ...v4, resolvConf: file('outside.conf') }), d) });
    expect(ok.status, ok.stdout).toBe(0);
    expect(ok.json!.dns).toEqual({ nameservers: ['203.0.113.1'] });
  });

  it('a relative path or one with ".." is denied; a directory is not a regular file', () => {
    const d = newDataDir('resolv-bad');
    const rel = run('wasm', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config: withData(net({ ...v4, resolvConf: 'resolv.conf' }), d) });
    expect(rel.json).toMatchObject({ code: 999, msg: 'open resolv.conf: permission-denied: files.read: may not read "resolv.conf": not an absolute path without ".." (none granted)' });
    const dots = `${rdir}/../resolv/resolv.conf`;
    const up = run('wasm', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config: withData(net({ ...v4, resolvConf: dots }), d) });
    expect(up.json).toMatchObject({ code: 999, msg: `open ${dots}: permission-denied: files.read: may not read ${JSON.stringify(dots)}: not an absolute path without ".." (none granted)` });
    const dir = run('wasm', { cmd: 'ADD', id: 'c1', ifname: 'eth0', config: withData(net({ ...v4, resolvConf: rdir }), d) });
    expect(dir.json).toMatchObject({ code: 999, msg: `open ${rdir}: invalid: ${JSON.stringify(rdir)} is not a regular file` });
    expect(snapshot(d)).toBeNull();
  });

  it('an operator grant without files.read refuses host-local at load when the config names a resolvConf (code 100), not otherwise', () => {
    const storeOnly = policy({ store: ['/var/lib/cni/networks', '${ipam.dataDir}'] });
    const d = newDataDir('resolv-policy');
    const refused = runWasm({ cmd: 'ADD', id: 'c1', ifname: 'eth0', config: withData(net({ ...v4, resolvConf: file('resolv.conf') }), d) }, { CNI_WASM_POLICY: storeOnly });
    expect(refused.json).toMatchObject({ code: 100 });
    expect(refused.json!.msg).toContain(`asks for capabilities it is not granted: files.read: ${JSON.stringify(file('resolv.conf'))} (from "\${ipam.resolvConf}")`);
    expect(snapshot(d)).toBeNull();
    expect(runWasm({ cmd: 'ADD', id: 'c1', ifname: 'eth0', config: withData(net(v4), d) }, { CNI_WASM_POLICY: storeOnly }).status).toBe(0);
  });
});
