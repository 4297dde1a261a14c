// vitest globalSetup: snapshot the machine's own network namespace before the run and
// fail the run if anything in it changed (links, addresses, routes, rules, nft ruleset,
// net.* sysctls). Also removes any test namespace a crashed test left behind.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listTestNetns, removeNetns, runOf } from './netns.ts';

// Counters and tables that the kernel changes by itself.
const VOLATILE = [
  /^net\.netfilter\.nf_conntrack_count$/,
  /^net\.ipv4\.tcp_mem$/,
  /^net\.ipv6\.route\.gc_/,
  /^net\.core\.netdev_rss_key$/,
  /^net\.ipv4\.route\.gc_/,
  /random/,
];

function cmd(args: string[]): string {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : `<${args.join(' ')} failed: ${r.stderr}>`;
}

function readSysctls(dir: string, prefix: string, out: Map<string, string>): void {
  for (const ent of readdirSync(dir)) {
    const p = join(dir, ent);
    const key = `${prefix}.${ent}`;
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) readSysctls(p, key, out);
    else if (st.mode & 0o444) {
      if (VOLATILE.some((re) => re.test(key))) continue;
      try {
        out.set(key, readFileSync(p, 'utf8'));
      } catch {
        /* write-only or per-open keys */
      }
    }
  }
}

/** Link state without counters; the fields that say what a link is and how it is set. */
function links(): string {
  const raw = cmd(['ip', '-j', '-d', 'link', 'show']);
  try {
    const arr = JSON.parse(raw) as Record<string, unknown>[];
    return JSON.stringify(
      arr.map((l) => ({
        ifname: l.ifname,
        flags: l.flags,
        mtu: l.mtu,
        master: l.master,
        address: l.address,
        operstate: l.operstate,
        kind: (l.linkinfo as { info_kind?: string } | undefined)?.info_kind,
      })),
    );
  } catch {
    return raw;
  }
}

export interface RootSnapshot {
  [part: string]: string;
}

export function snapshotRoot(): RootSnapshot {
  const sys = new Map<string, string>();
  readSysctls('/proc/sys/net', 'net', sys);
  return {
    links: links(),
    addresses: cmd(['ip', '-j', 'addr', 'show']).replace(/"(valid|preferred)_life_time":\d+/g, ''),
    routes4: cmd(['ip', '-j', '-4', 'route', 'show', 'table', 'all']),
    routes6: cmd(['ip', '-j', '-6', 'route', 'show', 'table', 'all']).replace(/"expires":\d+,?/g, ''),
    rules: cmd(['ip', '-j', 'rule', 'show']),
    nft: cmd(['nft', 'list', 'ruleset']),
    sysctls: JSON.stringify([...sys.entries()]),
  };
}

export function diffSnapshots(a: RootSnapshot, b: RootSnapshot): string[] {
  const changed: string[] = [];
  for (const k of Object.keys(a)) {
    if (k === 'sysctls') {
      const ma = new Map(JSON.parse(a[k]!) as [string, string][]);
      const mb = new Map(JSON.parse(b[k]!) as [string, string][]);
      for (const [key, v] of ma) if (mb.get(key) !== v) changed.push(`sysctl ${key}: ${v.trim()} -> ${mb.get(key)?.trim()}`);
      for (const key of mb.keys()) if (!ma.has(key)) changed.push(`sysctl ${key} appeared`);
    } else if (a[k] !== b[k]) {
      changed.push(`${k} changed`);
    }
  }
  return changed;
}

let before: RootSnapshot;

function alive(pid: string): boolean {
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
}

export function setup(): void {
  // This process is the run: workers inherit the id and name their namespaces with it.
  process.env.CNIWT_RUN = String(process.pid);
  // Namespaces of runs that died without cleaning up; a live concurrent run keeps its own.
  for (const n of listTestNetns('all')) {
    const run = runOf(n);
    if (run === undefined || !alive(run)) removeNetns(n);
  }
  before = snapshotRoot();
}

export function teardown(): void {
  const leftovers = listTestNetns(String(process.pid));
  for (const n of leftovers) removeNetns(n);
  const changed = diffSnapshots(before, snapshotRoot());
  const problems = [...changed.map((c) => `root namespace: ${c}`)];
  if (leftovers.length) problems.push(`namespaces left behind by tests: ${leftovers.join(', ')}`);
  if (problems.length) {
    throw new Error(`The test run changed the machine's own namespace or leaked state:\n  ${problems.join('\n  ')}`);
  }
}
