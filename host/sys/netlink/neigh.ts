// rtnetlink neighbours (ARP/NDP entries) and bridge FDB entries (AF_BRIDGE).
// Errors: EEXIST (entry exists and neither replace nor append was asked),
// ENOENT (delete of a missing entry), ENODEV (no such link).
import { AttrStream } from 'netlink/dist/structs.js';
import { formatNeighborAttrs, parseNeighborMessage, type NeighborAttrs } from 'netlink/dist/rt/structs.js';
import { SysError } from '../errors.ts';
import { AF_BRIDGE, AF_UNSPEC, afOf, type Family, familyOfAf, formatIp, formatMac, parseIp, parseMac } from './ip.ts';
import { type LinkRef, linkIndex } from './links.ts';
import { type NetlinkSocket, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from './socket.ts';

const RTM_NEWNEIGH = 28;
const RTM_DELNEIGH = 29;
const RTM_GETNEIGH = 30;

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
  // struct ndmsg { u8 family; u8 pad1; u16 pad2; s32 ifindex; u16 state; u8 flags; u8 type; }
  const b = Buffer.alloc(12);
  b[0] = family;
  b.writeInt32LE(index, 4);
  b.writeUInt16LE(state, 8);
  b[10] = flags;
  return b;
}

function encode(hdr: Buffer, attrs: NeighborAttrs): Uint8Array[] {
  const s = new AttrStream();
  s.emit(hdr);
  s.emit(formatNeighborAttrs(attrs));
  return s.bufs;
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
  const msg = encode(ndmsg(afOf(ip.family), index, state, 0), { dst: ip.bytes, lladdr: parseMac(spec.mac) });
  s.request(RTM_NEWNEIGH, msg, createFlags(spec), { op: `neigh.add ${spec.ip} lladdr ${spec.mac} dev ${linkText(spec.link)}` });
}

export function delNeighbor(s: NetlinkSocket, spec: { link: LinkRef; ip: string }): void {
  const ip = parseIp(spec.ip);
  const index = linkIndex(s, spec.link);
  s.request(RTM_DELNEIGH, encode(ndmsg(afOf(ip.family), index, 0, 0), { dst: ip.bytes }), 0, {
    op: `neigh.del ${spec.ip} dev ${linkText(spec.link)}`,
  });
}

export function listNeighbors(s: NetlinkSocket, filter: { link?: LinkRef; family?: Family } = {}): Neighbor[] {
  const index = filter.link === undefined ? undefined : linkIndex(s, filter.link);
  const out: Neighbor[] = [];
  const req = ndmsg(filter.family ? afOf(filter.family) : AF_UNSPEC, 0, 0, 0);
  for (const m of s.dump(RTM_GETNEIGH, req, { op: 'neigh.list' })) {
    if (m.type !== RTM_NEWNEIGH || m.data.length < 12) continue;
    const family = familyOfAf(m.data[0]!);
    const ifindex = m.data.readInt32LE(4);
    if (!family || (filter.family && family !== filter.family) || (index !== undefined && ifindex !== index)) continue;
    const { attrs } = parseNeighborMessage(m.data);
    if (!attrs.dst) continue;
    const state = m.data.readUInt16LE(8);
    const n: Neighbor = {
      index: ifindex,
      family,
      ip: formatIp(attrs.dst),
      state: stateNames(state),
      permanent: (state & NUD.permanent) !== 0,
      router: (m.data[10]! & NTF_ROUTER) !== 0,
    };
    const mac = formatMac(attrs.lladdr);
    if (mac) n.mac = mac;
    out.push(n);
  }
  return out;
}

// ---------- FDB (AF_BRIDGE)

function fdbMessage(s: NetlinkSocket, spec: FdbSpec, forDelete: boolean): Uint8Array[] {
  const index = linkIndex(s, spec.link);
  const self = spec.self ?? !spec.master;
  const flags = (self ? NTF_SELF : 0) | (spec.master ? NTF_MASTER : 0);
  const stateName = spec.state ?? 'permanent';
  const state = forDelete ? 0 : stateName === 'permanent' ? NUD.permanent : stateName === 'static' ? NUD.noarp : NUD.reachable;
  const attrs: NeighborAttrs = { lladdr: parseMac(spec.mac) };
  if (spec.dst !== undefined) attrs.dst = parseIp(spec.dst).bytes;
  if (spec.vlan !== undefined) {
    if (!Number.isInteger(spec.vlan) || spec.vlan < 1 || spec.vlan > 4094) throw new SysError('EINVAL', 'fdb', `VLAN id ${spec.vlan} out of range`);
    attrs.vlan = spec.vlan;
  }
  if (spec.vni !== undefined) {
    const v = Buffer.alloc(4);
    v.writeUInt32LE(spec.vni, 0);
    attrs.vni = v;
  }
  if (spec.port !== undefined) {
    const p = Buffer.alloc(2);
    p.writeUInt16BE(spec.port, 0);
    attrs.port = p;
  }
  return encode(ndmsg(AF_BRIDGE, index, state, flags), attrs);
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
    if (m.type !== RTM_NEWNEIGH || m.data.length < 12 || m.data[0] !== AF_BRIDGE) continue;
    const ifindex = m.data.readInt32LE(4);
    if (index !== undefined && ifindex !== index) continue;
    const { attrs } = parseNeighborMessage(m.data);
    if (master !== undefined && attrs.master !== master) continue;
    const mac = formatMac(attrs.lladdr);
    if (!mac) continue;
    const state = m.data.readUInt16LE(8);
    const flags = m.data[10]!;
    const e: FdbEntry = {
      index: ifindex,
      mac,
      self: (flags & NTF_SELF) !== 0,
      state: stateNames(state),
      permanent: (state & NUD.permanent) !== 0,
    };
    if (attrs.dst) e.dst = formatIp(attrs.dst);
    if (attrs.vlan !== undefined) e.vlan = attrs.vlan;
    if (attrs.vni && attrs.vni.length >= 4) e.vni = attrs.vni.readUInt32LE(0);
    if (attrs.port && attrs.port.length >= 2) e.port = attrs.port.readUInt16BE(0);
    if (attrs.master !== undefined) e.master = attrs.master;
    out.push(e);
  }
  return out;
}
