// The same masquerade, through the `nft` program (`nft -f -`, run in the namespace with
// nsenter). Kept as the baseline the netlink path is measured against, and as a fallback
// where raw netlink is not wanted. Same table, same sets, same element comments, so the
// two backends can be mixed on one node. Differences: every ADD re-asserts the whole
// table (one exec, one transaction); DEL is "list, then delete" (two execs) without the
// generation check the netlink path does, so a concurrent ADD that takes an element
// over between the two can lose it.
import { spawnSync } from 'node:child_process';
import { SysError } from '../errors.ts';
import type { NetnsHandle } from '../netns.ts';
import { type Cidr, parseCidr } from './cidr.ts';
import { CHAIN, SETS, TABLE, TABLE_COMMENT } from './layout.ts';
import type { MasqueradeEntry, MasqueradeSpec } from './netlink.ts';
import { type MasqueradeOwner, networkToken, ownedBy, ownerComment, ownerPrefix, tokenOf } from './owner.ts';

export interface NftOptions {
  /** The nft binary (default: "nft" from PATH). */
  nft?: string;
}

function runNft(args: string[], input: string | undefined, ns: NetnsHandle | undefined, op: string, opts: NftOptions): string {
  const nft = opts.nft ?? 'nft';
  const [cmd, argv] = ns ? ['nsenter', [`--net=${ns.path}`, nft, ...args]] : [nft, args];
  const r = spawnSync(cmd as string, argv as string[], { input: input ?? '', encoding: 'utf8', timeout: 30_000 });
  // EPIPE only says the child exited before reading its script (e.g. nsenter could not exec
  // nft): its exit status and stderr say why.
  const code = (r.error as { code?: string } | undefined)?.code;
  if (r.error && !(code === 'EPIPE' && r.status !== null)) throw new SysError(code ?? 'EIO', op, `cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const msg = (r.stderr || r.stdout || '').trim();
    const errno = /No such file or directory/.test(msg) ? 'ENOENT' : /File exists/.test(msg) ? 'EEXIST' : /Operation not permitted/.test(msg) ? 'EPERM' : 'EINVAL';
    throw new SysError(errno, op, `nft failed (exit ${r.status}): ${msg}`);
  }
  return r.stdout;
}

const q = (s: string): string => `"${s}"`; // comments are made printable and quote-free in owner.ts

function setupScript(): string {
  const t = `inet ${TABLE}`;
  return [
    `add table ${t} { comment ${q(TABLE_COMMENT)}; }`,
    `add chain ${t} ${CHAIN} { type nat hook postrouting priority srcnat; policy accept; }`,
    `add set ${t} ${SETS[4].masq} { type ipv4_addr; }`,
    `add set ${t} ${SETS[4].subnet} { type ipv4_addr . ipv4_addr; flags interval; }`,
    `add set ${t} ${SETS[6].masq} { type ipv6_addr; }`,
    `add set ${t} ${SETS[6].subnet} { type ipv6_addr . ipv6_addr; flags interval; }`,
    `flush chain ${t} ${CHAIN}`,
    `add rule ${t} ${CHAIN} ip daddr 224.0.0.0/4 return`,
    `add rule ${t} ${CHAIN} ip6 daddr ff00::/8 return`,
    `add rule ${t} ${CHAIN} ip saddr . ip daddr @${SETS[4].subnet} return`,
    `add rule ${t} ${CHAIN} ip6 saddr . ip6 daddr @${SETS[6].subnet} return`,
    `add rule ${t} ${CHAIN} ip saddr @${SETS[4].masq} counter masquerade`,
    `add rule ${t} ${CHAIN} ip6 saddr @${SETS[6].masq} counter masquerade`,
  ].join('\n');
}

function elementScript(cidrs: readonly Cidr[], comment: string): string {
  const t = `inet ${TABLE}`;
  const lines: string[] = [];
  for (const c of cidrs) {
    const sets = SETS[c.family];
    const sub = `${c.text} . ${c.subnetText}`;
    for (const [set, key] of [
      [sets.masq, c.text],
      [sets.subnet, sub],
    ] as const) {
      lines.push(`add element ${t} ${set} { ${key} comment ${q(comment)} }`);
      lines.push(`delete element ${t} ${set} { ${key} }`);
      lines.push(`add element ${t} ${set} { ${key} comment ${q(comment)} }`);
    }
  }
  return lines.join('\n');
}

export function ensureMasqueradeNft(spec: MasqueradeSpec, ns?: NetnsHandle, opts: NftOptions = {}): void {
  const cidrs = spec.addresses.map(parseCidr);
  const comment = ownerComment(spec);
  if (cidrs.length === 0) return;
  runNft(['-f', '-'], `${setupScript()}\n${elementScript(cidrs, comment)}\n`, ns, `masquerade.add ${spec.containerId}`, opts);
}

export function ensureMasqueradeTableNft(ns?: NetnsHandle, opts: NftOptions = {}): void {
  runNft(['-f', '-'], `${setupScript()}\n`, ns, 'masquerade.setup', opts);
}

// ---- reading the table back through nft's JSON

interface JsonPrefix {
  prefix: { addr: string; len: number };
}
type JsonVal = string | JsonPrefix | { range: [string, string] } | { concat: (string | JsonPrefix | { range: [string, string] })[] };
interface JsonElem {
  elem?: { val: JsonVal; comment?: string };
}
interface JsonSet {
  set?: { name: string; table: string; family: string; elem?: (JsonElem | JsonVal)[] };
}

function valText(v: JsonVal): string {
  if (typeof v === 'string') return v;
  if ('prefix' in v) return `${v.prefix.addr}/${v.prefix.len}`;
  if ('range' in v) return `${v.range[0]}-${v.range[1]}`;
  return v.concat.map((p) => valText(p)).join(' . ');
}

interface NftElem {
  set: string;
  val: JsonVal;
  comment?: string;
}

function listElements(ns: NetnsHandle | undefined, opts: NftOptions, op: string): NftElem[] {
  let out: string;
  try {
    out = runNft(['-j', 'list', 'table', 'inet', TABLE], undefined, ns, op, opts);
  } catch (e) {
    if (e instanceof SysError && e.errno === 'ENOENT') return [];
    throw e;
  }
  const doc = JSON.parse(out) as { nftables: JsonSet[] };
  const elems: NftElem[] = [];
  for (const o of doc.nftables) {
    if (!o.set || o.set.table !== TABLE || o.set.family !== 'inet') continue;
    for (const e of o.set.elem ?? []) {
      if (typeof e === 'object' && e !== null && 'elem' in e && e.elem) {
        const x: NftElem = { set: o.set.name, val: e.elem.val };
        if (e.elem.comment !== undefined) x.comment = e.elem.comment;
        elems.push(x);
      } else elems.push({ set: o.set.name, val: e as JsonVal });
    }
  }
  return elems;
}

function removeWhereNft(ns: NetnsHandle | undefined, opts: NftOptions, op: string, select: (c: string | undefined) => boolean): number {
  const mine = listElements(ns, opts, op).filter((e) => select(e.comment));
  if (mine.length === 0) return 0;
  const script = mine.map((e) => `delete element inet ${TABLE} ${e.set} { ${valText(e.val)} }`).join('\n');
  runNft(['-f', '-'], `${script}\n`, ns, op, opts);
  return mine.length;
}

export function removeMasqueradeNft(owner: MasqueradeOwner, ns?: NetnsHandle, opts: NftOptions = {}): number {
  const prefix = ownerPrefix(owner);
  return removeWhereNft(ns, opts, `masquerade.del ${owner.containerId}`, (c) => ownedBy(c, prefix));
}

export function gcMasqueradeNft(network: string, keep: readonly MasqueradeOwner[], ns?: NetnsHandle, opts: NftOptions = {}): number {
  const net = networkToken(network);
  const keepPrefixes = keep.map((k) => ownerPrefix({ ...k, network }));
  return removeWhereNft(ns, opts, `masquerade.gc ${network}`, (c) => ownedBy(c, net) && !keepPrefixes.some((p) => ownedBy(c, p)));
}

export function listMasqueradeNft(ns?: NetnsHandle, opts: NftOptions = {}): MasqueradeEntry[] {
  const out = new Map<string, MasqueradeEntry>();
  for (const e of listElements(ns, opts, 'masquerade.list')) {
    const fam = e.set === SETS[4].masq || e.set === SETS[4].subnet ? 4 : 6;
    const isSubnet = e.set === SETS[fam].subnet;
    let address: string;
    let subnet: string | undefined;
    if (isSubnet && typeof e.val === 'object' && 'concat' in e.val) {
      address = valText(e.val.concat[0]!);
      const s = e.val.concat[1]!;
      subnet = typeof s === 'string' ? `${s}/${fam === 4 ? 32 : 128}` : valText(s);
    } else address = valText(e.val);
    const k = `${fam}|${address}`;
    const entry = out.get(k) ?? { family: fam, address, masquerade: false };
    out.set(k, entry);
    if (isSubnet && subnet !== undefined) entry.subnet = subnet;
    if (!isSubnet) entry.masquerade = true;
    if (e.comment !== undefined) {
      entry.comment = e.comment;
      const t = tokenOf(e.comment);
      if (t) entry.owner = t;
    }
  }
  return [...out.values()];
}
