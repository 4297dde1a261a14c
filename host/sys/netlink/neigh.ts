// rtnetlink neighbours (ARP/NDP entries) and bridge FDB entries (AF_BRIDGE).
// Errors: EEXIST (entry exists and neither replace nor append was asked),
// ENOENT (delete of a missing entry), ENODEV (no such link).
//
// struct ndmsg + NDA_* attributes, encoded and decoded by hand (see links.ts).
import { SysError } from '../errors.ts';
import { attr, bytesAt, rdS32, rdU16, rdU32, scanAttrs, u16, u16be, u32 } from './attrs.ts';
import { AF_BRIDGE, AF_UNSPEC, afOf, type Family, familyOfAf, formatIp, formatMac, parseIp, parseMac } from './ip.ts';
import { type LinkRef, linkIndex } from './links.ts';
import { type NetlinkSocket, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, type NlMessage } from './socket.ts';

const RTM_NEWNEIGH = 28;
const RTM_DELNEIGH = 29;
const RTM_GETNEIGH = 30;

// struct ndmsg { u8 family; u8 pad1; u16 pad2; s32 ifindex; u16 state; u8 flags; u8 type; }
const NDMSG_LEN = 12;
const NDA_DST = 1;
const NDA_LLADDR = 2;
const NDA_VLAN = 5; // u16
const NDA_PORT = 6; // be16
const NDA_VNI = 7; // u32
const NDA_MASTER = 9; // u32

export const NUD = {
  incomplete: 0x01,
  reachable: 0x02,
  stale: 0x04,
  delay: 0x08,
  probe: 0x10,
  failed: 0x20,
  noarp: 0x40,
  permanent: 0x80,
} as const;
export type NeighState = keyof typeof NUD;

const NTF_SELF = 0x02;
const NTF_MASTER = 0x04;
const NTF_ROUTER = 0x80;

export interface Neighbor {
  index: number;
  family: Family;
  ip: string;
  mac?: string;
  /** Every NUD_* state bit set, by name. */
  state: NeighState[];
  permanent: boolean;
  router: boolean;
}

export interface NeighborSpec {
  link: LinkRef;
  ip: string;
  mac: string;
  /** Default 'permanent'. */
  state?: 'permanent' | 'noarp' | 'reachable' | 'stale';
  /** Overwrite an existing entry instead of failing with EEXIST. */
  replace?: boolean;
}

export interface FdbEntry {
  /** The port (or vxlan device) the entry is on. */
  index: number;
  mac: string;
  /** VXLAN remote (NDA_DST). */
  dst?: string;
  vlan?: number;
  vni?: number;
  port?: number;
  /** The bridge whose table holds the entry (NDA_MASTER); absent for a device's own entries. */
  master?: number;
  /** NTF_SELF: the entry is in the device's own table (vxlan, or a bridge device's own). */
  self: boolean;
  state: NeighState[];
  permanent: boolean;
}

export interface FdbSpec {
  link: LinkRef;
  mac: string;
  /** VXLAN remote IP. */
  dst?: string;
  vlan?: number;
  vni?: number;
  port?: number;
  /** NTF_SELF (default true unless `master` is set). */
  self?: boolean;
  /** NTF_MASTER: add to the bridge the port belongs to. */
  master?: boolean;
  /** Default 'permanent'. 'static' = NUD_NOARP, 'dynamic' = NUD_REACHABLE. */
  state?: 'permanent' | 'static' | 'dynamic';
  /** NLM_F_APPEND: one more remote for the same MAC (vxlan flood list with 00:00:00:00:00:00). */
  append?: boolean;
  replace?: boolean;
}

function ndmsg(family: number, index: number, state: number, flags: number): Buffer {
  const b = Buffer.alloc(NDMSG_LEN);
  b[0] = family;
  b.writeInt32LE(index, 4);
  b.writeUInt16LE(state, 8);
  b[10] = flags;
  return b;
}

function stateNames(bits: number): NeighState[] {
  return (Object.keys(NUD) as NeighState[]).filter((k) => (bits & NUD[k]) !== 0);
}

const linkText = (l: LinkRef): string => (typeof l === 'number' ? `#${l}` : l);

function createFlags(o: { replace?: boolean; append?: boolean }): number {
  if (o.replace) return NLM_F_CREATE | NLM_F_REPLACE;
  if (o.append) return NLM_F_CREATE | NLM_F_APPEND;
  return NLM_F_CREATE | NLM_F_EXCL;
}

// ---------- ARP / NDP

export function addNeighbor(s: NetlinkSocket, spec: NeighborSpec): void {
  const ip = parseIp(spec.ip);
  const index = linkIndex(s, spec.link);
  const state = NUD[spec.state ?? 'permanent'];
  const msg = [ndmsg(afOf(ip.family), index, state, 0), attr(NDA_DST, ip.bytes), attr(NDA_LLADDR, parseMac(spec.mac))];
  s.request(RTM_NEWNEIGH, msg, createFlags(spec), { op: `neigh.add ${spec.ip} lladdr ${spec.mac} dev ${linkText(spec.link)}` });
}

export function delNeighbor(s: NetlinkSocket, spec: { link: LinkRef; ip: string }): void {
  const ip = parseIp(spec.ip);
  const index = linkIndex(s, spec.link);
  s.request(RTM_DELNEIGH, [ndmsg(afOf(ip.family), index, 0, 0), attr(NDA_DST, ip.bytes)], 0, {
    op: `neigh.del ${spec.ip} dev ${linkText(spec.link)}`,
  });
}

export function listNeighbors(s: NetlinkSocket, filter: { link?: LinkRef; family?: Family } = {}): Neighbor[] {
  const index = filter.link === undefined ? undefined : linkIndex(s, filter.link);
  const out: Neighbor[] = [];
  const req = ndmsg(filter.family ? afOf(filter.family) : AF_UNSPEC, 0, 0, 0);
  for (const m of s.dump(RTM_GETNEIGH, req, { op: 'neigh.list' })) {
    if (m.type !== RTM_NEWNEIGH || m.data.length < NDMSG_LEN) continue;
    const family = familyOfAf(m.data[0]!);
    if (!family || (filter.family && family !== filter.family)) continue;
    if (index !== undefined && rdS32(m.data, 4) !== index) continue;
    const n = parseNeighbor(m);
    if (n) out.push(n);
  }
  return out;
}

/** The NDA_* attributes read here (absent ones undefined). */
interface NdAttrs {
  dst?: Buffer;
  lladdr?: Buffer;
  vlan?: number;
  port?: number;
  vni?: number;
  master?: number;
}

function ndAttrs(d: Buffer): NdAttrs {
  const a: NdAttrs = {};
  scanAttrs(d, NDMSG_LEN, d.length, (type, off, len) => {
    switch (type) {
      case NDA_DST:
        a.dst = bytesAt(d, off, len);
        break;
      case NDA_LLADDR:
        a.lladdr = bytesAt(d, off, len);
        break;
      case NDA_VLAN:
        if (len >= 2) a.vlan = rdU16(d, off);
        break;
      case NDA_PORT:
        if (len >= 2) a.port = (d[off]! << 8) | d[off + 1]!; // network byte order
        break;
      case NDA_VNI:
        if (len >= 4) a.vni = rdU32(d, off);
        break;
      case NDA_MASTER:
        if (len >= 4) a.master = rdU32(d, off);
        break;
    }
  });
  return a;
}

/** Decode an RTM_NEWNEIGH payload of an IPv4/IPv6 neighbour; undefined for other families or without NDA_DST. */
export function parseNeighbor(m: NlMessage): Neighbor | undefined {
  const d = m.data;
  if (d.length < NDMSG_LEN) return undefined;
  const family = familyOfAf(d[0]!);
  if (!family) return undefined;
  const a = ndAttrs(d);
  if (!a.dst) return undefined;
  const state = rdU16(d, 8);
  const n: Neighbor = {
    index: rdS32(d, 4),
    family,
    ip: formatIp(a.dst),
    state: stateNames(state),
    permanent: (state & NUD.permanent) !== 0,
    router: (d[10]! & NTF_ROUTER) !== 0,
  };
  const mac = formatMac(a.lladdr);
  if (mac) n.mac = mac;
  return n;
}

// ---------- FDB (AF_BRIDGE)

function fdbMessage(s: NetlinkSocket, spec: FdbSpec, forDelete: boolean): Uint8Array[] {
  const index = linkIndex(s, spec.link);
  const self = spec.self ?? !spec.master;
  const flags = (self ? NTF_SELF : 0) | (spec.master ? NTF_MASTER : 0);
  const stateName = spec.state ?? 'permanent';
  const state = forDelete ? 0 : stateName === 'permanent' ? NUD.permanent : stateName === 'static' ? NUD.noarp : NUD.reachable;
  const out = [ndmsg(AF_BRIDGE, index, state, flags), attr(NDA_LLADDR, parseMac(spec.mac))];
  if (spec.dst !== undefined) out.push(attr(NDA_DST, parseIp(spec.dst).bytes));
  if (spec.vlan !== undefined) {
    if (!Number.isInteger(spec.vlan) || spec.vlan < 1 || spec.vlan > 4094) throw new SysError('EINVAL', 'fdb', `VLAN id ${spec.vlan} out of range`);
    out.push(u16(NDA_VLAN, spec.vlan));
  }
  if (spec.vni !== undefined) out.push(u32(NDA_VNI, spec.vni));
  if (spec.port !== undefined) out.push(u16be(NDA_PORT, spec.port));
  return out;
}

function fdbText(spec: FdbSpec): string {
  return `${spec.mac}${spec.dst ? ` dst ${spec.dst}` : ''} dev ${linkText(spec.link)}`;
}

export function addFdb(s: NetlinkSocket, spec: FdbSpec): void {
  s.request(RTM_NEWNEIGH, fdbMessage(s, spec, false), createFlags(spec), { op: `fdb.add ${fdbText(spec)}` });
}

export function delFdb(s: NetlinkSocket, spec: FdbSpec): void {
  s.request(RTM_DELNEIGH, fdbMessage(s, spec, true), 0, { op: `fdb.del ${fdbText(spec)}` });
}

/** FDB entries, optionally only those of one device (`link`) or one bridge (`master`). */
export function listFdb(s: NetlinkSocket, filter: { link?: LinkRef; master?: LinkRef } = {}): FdbEntry[] {
  const index = filter.link === undefined ? undefined : linkIndex(s, filter.link);
  const master = filter.master === undefined ? undefined : linkIndex(s, filter.master);
  const out: FdbEntry[] = [];
  for (const m of s.dump(RTM_GETNEIGH, ndmsg(AF_BRIDGE, 0, 0, 0), { op: 'fdb.list' })) {
    if (m.type !== RTM_NEWNEIGH) continue;
    if (index !== undefined && m.data.length >= NDMSG_LEN && rdS32(m.data, 4) !== index) continue;
    const e = parseFdbEntry(m);
    if (!e || (master !== undefined && e.master !== master)) continue;
    out.push(e);
  }
  return out;
}

/** Decode an AF_BRIDGE RTM_NEWNEIGH payload; undefined for other families or without a MAC. */
export function parseFdbEntry(m: NlMessage): FdbEntry | undefined {
  const d = m.data;
  if (d.length < NDMSG_LEN || d[0] !== AF_BRIDGE) return undefined;
  const a = ndAttrs(d);
  const mac = formatMac(a.lladdr);
  if (!mac) return undefined;
  const state = rdU16(d, 8);
  const flags = d[10]!;
  const e: FdbEntry = {
    index: rdS32(d, 4),
    mac,
    self: (flags & NTF_SELF) !== 0,
    state: stateNames(state),
    permanent: (state & NUD.permanent) !== 0,
  };
  if (a.dst) e.dst = formatIp(a.dst);
  if (a.vlan !== undefined) e.vlan = a.vlan;
  if (a.vni !== undefined) e.vni = a.vni;
  if (a.port !== undefined) e.port = a.port;
  if (a.master !== undefined) e.master = a.master;
  return e;
}
