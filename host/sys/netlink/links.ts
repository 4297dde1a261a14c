// rtnetlink links: get, list, create (bridge, veth, vxlan), change, delete; bridge
// port options (hairpin, isolation, learning) and bridge VLANs.
//
// Every function takes the NetlinkSocket of the namespace it acts in. A link is
// named by index or by name (LinkRef). Failures are SysError with the kernel's
// errno name: ENODEV (no such link), EEXIST (name taken), EBUSY (device busy),
// EOPNOTSUPP (e.g. bridge VLAN filtering on a kernel built without it).
import { AttrStream, type StreamData } from 'netlink/dist/structs.js';
import { formatLink, formatLinkMessage, parseLinkMessage } from 'netlink/dist/rt/structs.js';
import { formatInfo, formatVxlan, parseBridgePort, parseInfo, parseVxlan, type LinkAttrs } from 'netlink/dist/rt/ifla.js';
import { SysError } from '../errors.ts';
import type { NetnsHandle } from '../netns.ts';
import { attr, nest, parseAttrList, parseNested, u16, u32, u8 } from './attrs.ts';
import { AF_BRIDGE, AF_UNSPEC, formatIp, formatMac, parseIp, parseMac } from './ip.ts';
import { type NetlinkSocket, NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL, type NlMessage } from './socket.ts';

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_SETLINK = 19;

const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const IFF_PROMISC = 0x100;

const IFLA_LINKINFO = 18;
const IFLA_AF_SPEC = 26;
const IFLA_EXT_MASK = 29;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_INFO_SLAVE_KIND = 4;
const IFLA_INFO_SLAVE_DATA = 5;
const VETH_INFO_PEER = 1;
const IFLA_BR_VLAN_FILTERING = 7;
const IFLA_BRPORT_MODE = 4; // hairpin
const IFLA_BRPORT_LEARNING = 8;
const IFLA_BRPORT_ISOLATED = 33;
const IFLA_BRIDGE_FLAGS = 0;
const IFLA_BRIDGE_VLAN_INFO = 2;
const BRIDGE_FLAGS_SELF = 2;
const BRIDGE_VLAN_INFO_PVID = 2;
const BRIDGE_VLAN_INFO_UNTAGGED = 4;
const RTEXT_FILTER_BRVLAN = 1 << 1;

const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
export type OperState = (typeof OPERSTATES)[number];

/** A link by ifindex or by name. */
export type LinkRef = number | string;

export interface VxlanInfo {
  vni: number;
  /** UDP destination port (IANA 4789; Linux's default without this attribute is 8472). */
  port?: number;
  local?: string;
  group?: string;
  /** ifindex of the underlay device. */
  underlay?: number;
  learning: boolean;
  gbp: boolean;
  /** 0 = inherit from the inner packet. */
  ttl: number;
}

export interface BridgePortInfo {
  hairpin: boolean;
  isolated: boolean;
  learning: boolean;
}

export interface Link {
  index: number;
  name: string;
  /** IFLA_INFO_KIND ('veth', 'bridge', 'vxlan', ...); undefined for devices without rtnl ops (lo, physical). */
  kind?: string;
  mtu: number;
  mac?: string;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** Operationally up (IFF_RUNNING). */
  running: boolean;
  /** Promiscuous mode requested by the user (IFF_PROMISC as the kernel reports it). */
  promisc: boolean;
  operstate: OperState;
  /** Raw IFF_* flags. */
  flags: number;
  master?: number;
  alias?: string;
  /** IFLA_LINK: for a veth the peer's ifindex (in the peer's namespace when linkNetnsid is set). */
  peerIndex?: number;
  linkNetnsid?: number;
  vxlan?: VxlanInfo;
  bridge?: { vlanFiltering: boolean };
  /** Set when the link is a port of a bridge. */
  bridgePort?: BridgePortInfo;
}

interface CommonCreate {
  name: string;
  mtu?: number;
  mac?: string;
  /** Bring the link up as part of creating it (one round trip less). */
  up?: boolean;
  /** ifindex of a bridge to enslave the link to. */
  master?: number;
  /** Set by a second request: the kernel ignores IFLA_IFALIAS when creating. */
  alias?: string;
}

export interface BridgeCreate extends CommonCreate {
  vlanFiltering?: boolean;
}

/**
 * The peer end of a veth. It is created down: bringing it up inside the creation
 * request fails (ENOTCONN on 6.18) when the peer goes to another namespace, so do it
 * through that namespace's socket, together with its addresses (and an alias, which
 * the kernel ignores in a create request).
 */
export interface VethPeer {
  name: string;
  mtu?: number;
  mac?: string;
  /** Create the peer directly inside this namespace (no move afterwards). */
  ns?: NetnsHandle;
}

export interface VethCreate extends CommonCreate {
  peer: VethPeer;
}

export interface VxlanCreate extends CommonCreate {
  vni: number;
  port?: number;
  local?: string;
  group?: string;
  /** ifindex of the underlay device. */
  underlay?: number;
  learning?: boolean;
  gbp?: boolean;
  ttl?: number;
}

export interface LinkChanges {
  up?: boolean;
  mtu?: number;
  mac?: string;
  /** Rename. Older kernels refuse to rename a link that is up (EBUSY); 6.x allows it. */
  name?: string;
  /** Empty string clears it. */
  alias?: string;
  /** ifindex of a bridge; null detaches. */
  master?: number | null;
  promisc?: boolean;
  /** Move the link into another namespace. */
  netns?: NetnsHandle;
}

export interface BridgePortChanges {
  hairpin?: boolean;
  isolated?: boolean;
  learning?: boolean;
}

export interface BridgeVlan {
  vid: number;
  pvid: boolean;
  untagged: boolean;
}

export interface BridgeVlanSpec {
  vid: number;
  pvid?: boolean;
  untagged?: boolean;
  /** The bridge device itself (BRIDGE_FLAGS_SELF) rather than a port. */
  self?: boolean;
}

// ---------- encoding helpers

function stream(...parts: StreamData[]): Buffer {
  const s = new AttrStream();
  for (const p of parts) s.emit(p);
  const b = Buffer.concat(s.bufs);
  const pad = ((b.length + 3) & ~3) - b.length;
  return pad ? Buffer.concat([b, Buffer.alloc(pad)]) : b;
}

function ifinfo(family: number, index: number, flags: number, change: number): Buffer {
  // struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change; }
  const b = formatLink({ family, index });
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

function linkMessage(family: number, index: number, attrs: LinkAttrs, flags = 0, change = 0, extra: Buffer[] = []): Buffer[] {
  const s = new AttrStream();
  formatLinkMessage({ kind: 'link', data: { family, index }, attrs }, s);
  const head = Buffer.concat(s.bufs);
  head.writeUInt32LE(flags >>> 0, 8);
  head.writeUInt32LE(change >>> 0, 12);
  const pad = ((head.length + 3) & ~3) - head.length;
  return pad ? [head, Buffer.alloc(pad), ...extra] : [head, ...extra];
}

function linkinfo(kind: string | undefined, data?: Buffer, slaveKind?: string, slaveData?: Buffer): Buffer {
  const info: { kind?: string; data?: Buffer; slaveKind?: string; slaveData?: Buffer } = {};
  if (kind !== undefined) info.kind = kind;
  if (data !== undefined) info.data = data;
  if (slaveKind !== undefined) info.slaveKind = slaveKind;
  if (slaveData !== undefined) info.slaveData = slaveData;
  return stream(formatInfo(info));
}

function refAttrs(ref: LinkRef): { index: number; attrs: LinkAttrs } {
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref <= 0) throw new SysError('EINVAL', 'link', `invalid ifindex ${ref}`);
    return { index: ref, attrs: {} };
  }
  checkName(ref);
  return { index: 0, attrs: { ifname: ref } };
}

function checkName(name: string): void {
  // IFNAMSIZ is 16 including the NUL; '/', ':' and whitespace are refused by the kernel too.
  if (!name || Buffer.byteLength(name) > 15 || /[/:\s]/.test(name) || name === '.' || name === '..') {
    throw new SysError('EINVAL', 'link', `invalid interface name "${name}"`);
  }
}

function commonAttrs(o: { name: string; mtu?: number; mac?: string; master?: number; alias?: string }): LinkAttrs {
  checkName(o.name);
  const a: LinkAttrs = { ifname: o.name };
  if (o.mtu !== undefined) a.mtu = o.mtu;
  if (o.mac !== undefined) a.address = parseMac(o.mac);
  if (o.master !== undefined) a.master = o.master;
  if (o.alias !== undefined) a.ifalias = o.alias;
  return a;
}

const refName = (ref: LinkRef): string => (typeof ref === 'number' ? `#${ref}` : ref);

// ---------- decoding

/** Decode an RTM_NEWLINK payload. */
export function parseLink(m: NlMessage): Link {
  const { data, attrs } = parseLinkMessage(m.data);
  const flags = m.data.readUInt32LE(8);
  const link: Link = {
    index: data.index ?? 0,
    name: attrs.ifname ?? '',
    mtu: attrs.mtu ?? 0,
    up: (flags & IFF_UP) !== 0,
    running: (flags & IFF_RUNNING) !== 0,
    promisc: (flags & IFF_PROMISC) !== 0,
    operstate: OPERSTATES[attrs.operstate ?? 0] ?? 'unknown',
    flags,
  };
  const mac = formatMac(attrs.address);
  if (mac) link.mac = mac;
  if (attrs.master) link.master = attrs.master;
  if (attrs.ifalias) link.alias = attrs.ifalias;
  if (attrs.link && attrs.link.length >= 4) {
    const peer = attrs.link.readUInt32LE(0);
    if (peer !== 0 && peer !== link.index) link.peerIndex = peer;
  }
  if (attrs.linkNetnsid !== undefined && attrs.linkNetnsid >= 0) link.linkNetnsid = attrs.linkNetnsid;
  if (attrs.linkinfo) {
    const info = parseInfo(attrs.linkinfo);
    if (info.kind) link.kind = info.kind;
    if (info.kind === 'vxlan' && info.data) {
      const v = parseVxlan(info.data);
      const vx: VxlanInfo = { vni: v.id ?? 0, learning: (v.learning ?? 0) !== 0, gbp: v.gbp === true, ttl: v.ttl ?? 0 };
      if (v.port && v.port.length >= 2) vx.port = v.port.readUInt16BE(0);
      if (v.local) vx.local = formatIp(v.local);
      else if (v.local6) vx.local = formatIp(v.local6);
      if (v.group) vx.group = formatIp(v.group);
      else if (v.group6) vx.group = formatIp(v.group6);
      if (v.link) vx.underlay = v.link;
      link.vxlan = vx;
    } else if (info.kind === 'bridge' && info.data) {
      const vf = parseNested(info.data).get(IFLA_BR_VLAN_FILTERING);
      link.bridge = { vlanFiltering: !!vf && vf.length > 0 && vf[0] !== 0 };
    } else if (info.kind === 'bridge') {
      link.bridge = { vlanFiltering: false };
    }
    if (info.slaveKind === 'bridge' && info.slaveData) {
      const p = parseBridgePort(info.slaveData);
      const iso = p.isolated;
      link.bridgePort = {
        hairpin: (p.mode ?? 0) !== 0,
        isolated: !!iso && iso.length > 0 && iso[0] !== 0,
        learning: (p.learning ?? 0) !== 0,
      };
    }
  }
  return link;
}

// ---------- reading

/** The link named or numbered by `ref`. Throws SysError ENODEV when there is none. */
export function getLink(s: NetlinkSocket, ref: LinkRef): Link {
  const { index, attrs } = refAttrs(ref);
  const replies = s.request(RTM_GETLINK, linkMessage(AF_UNSPEC, index, attrs), 0, { op: `link.get ${refName(ref)}` });
  const m = replies.find((r) => r.type === RTM_NEWLINK);
  if (!m) throw new SysError('ENODEV', `link.get ${refName(ref)}`, 'no such device');
  return parseLink(m);
}

/** Like getLink, but undefined when the link does not exist. */
export function findLink(s: NetlinkSocket, ref: LinkRef): Link | undefined {
  try {
    return getLink(s, ref);
  } catch (e) {
    if (e instanceof SysError && e.errno === 'ENODEV') return undefined;
    throw e;
  }
}

export function listLinks(s: NetlinkSocket): Link[] {
  return s
    .dump(RTM_GETLINK, ifinfo(AF_UNSPEC, 0, 0, 0), { op: 'link.list' })
    .filter((m) => m.type === RTM_NEWLINK)
    .map(parseLink);
}

// ---------- creating

function create(s: NetlinkSocket, op: string, name: string, attrs: LinkAttrs, up: boolean | undefined, echo = true): Link {
  // The kernel ignores IFLA_IFALIAS in a create request (6.18, and `ip link add ... alias`
  // alike): set it in a second request.
  const alias = attrs.ifalias;
  delete attrs.ifalias;
  const flags = up ? IFF_UP : 0;
  const change = up === undefined ? 0 : IFF_UP;
  // NLM_F_ECHO: the kernel (>= 6.1) sends the new link back in the same round trip.
  // Not when a veth peer goes to another namespace: the kernel then also unicasts the
  // peer's notification to our port number *in that namespace* (where it reaches some
  // other socket, or fails the whole request with ENOTCONN).
  const nlFlags = NLM_F_CREATE | NLM_F_EXCL | (echo ? NLM_F_ECHO : 0);
  const replies = s.request(RTM_NEWLINK, linkMessage(AF_UNSPEC, 0, attrs, flags, change), nlFlags, { op });
  let echoed: Link | undefined;
  for (const m of replies) {
    if (m.type !== RTM_NEWLINK) continue;
    const l = parseLink(m);
    if (l.name === name) echoed = l;
  }
  // The echo is the notification sent when the link was registered; some settings
  // (the alias, on 6.18) are applied after it. Read the link back when it is stale.
  const link = echoed && reflects(echoed, attrs, up) ? echoed : getLink(s, name);
  if (alias !== undefined && alias !== '') {
    setLink(s, link.index, { alias });
    link.alias = alias;
  }
  return link;
}

function reflects(l: Link, a: LinkAttrs, up: boolean | undefined): boolean {
  if (a.mtu !== undefined && l.mtu !== a.mtu) return false;
  if (a.address !== undefined && l.mac !== formatMac(a.address)) return false;
  if (a.master !== undefined && l.master !== a.master) return false;
  if (up !== undefined && l.up !== up) return false;
  return true;
}

export function createBridge(s: NetlinkSocket, o: BridgeCreate): Link {
  const attrs = commonAttrs(o);
  const data = o.vlanFiltering === undefined ? undefined : u8(IFLA_BR_VLAN_FILTERING, o.vlanFiltering ? 1 : 0);
  attrs.linkinfo = linkinfo('bridge', data);
  return create(s, `link.create bridge ${o.name}`, o.name, attrs, o.up);
}

/**
 * A veth pair: `name` here, `peer.name` in `peer.ns` (or here). The peer is created
 * directly in its namespace (IFLA_NET_NS_FD inside VETH_INFO_PEER): moving it there
 * afterwards costs the kernel ~15 ms more.
 */
export function createVeth(s: NetlinkSocket, o: VethCreate): Link {
  const attrs = commonAttrs(o);
  const peerAttrs = commonAttrs(o.peer);
  if (o.peer.ns) peerAttrs.netNsFd = o.peer.ns.fd;
  // VETH_INFO_PEER carries a struct ifinfomsg followed by the peer's attributes.
  const peerMsg = linkMessage(AF_UNSPEC, 0, peerAttrs);
  attrs.linkinfo = linkinfo('veth', nest(VETH_INFO_PEER, peerMsg));
  const crossNs = o.peer.ns !== undefined && !(s.ns?.sameAs(o.peer.ns) ?? false);
  return create(s, `link.create veth ${o.name}/${o.peer.name}`, o.name, attrs, o.up, !crossNs);
}

export function createVxlan(s: NetlinkSocket, o: VxlanCreate): Link {
  if (!Number.isInteger(o.vni) || o.vni < 0 || o.vni > 0xffffff) {
    throw new SysError('EINVAL', `link.create vxlan ${o.name}`, `VNI ${o.vni} out of range (0..16777215)`);
  }
  const attrs = commonAttrs(o);
  const v: Parameters<typeof formatVxlan>[0] = { id: o.vni };
  if (o.port !== undefined) {
    const p = Buffer.alloc(2);
    p.writeUInt16BE(o.port, 0);
    v.port = p;
  }
  if (o.local !== undefined) {
    const l = parseIp(o.local);
    if (l.family === 4) v.local = l.bytes;
    else v.local6 = l.bytes;
  }
  if (o.group !== undefined) {
    const g = parseIp(o.group);
    if (g.family === 4) v.group = g.bytes;
    else v.group6 = g.bytes;
  }
  if (o.underlay !== undefined) v.link = o.underlay;
  if (o.learning !== undefined) v.learning = o.learning ? 1 : 0;
  if (o.gbp) v.gbp = true;
  if (o.ttl !== undefined) v.ttl = o.ttl;
  attrs.linkinfo = linkinfo('vxlan', stream(formatVxlan(v)));
  return create(s, `link.create vxlan ${o.name}`, o.name, attrs, o.up);
}

// ---------- changing

/** Apply several changes in one request. */
export function setLink(s: NetlinkSocket, ref: LinkRef, c: LinkChanges): void {
  const op = `link.set ${refName(ref)}`;
  let target = ref;
  if (c.name !== undefined && typeof ref === 'string') target = getLink(s, ref).index; // IFLA_IFNAME becomes the new name
  const { index, attrs } = refAttrs(target);
  if (c.name !== undefined) {
    checkName(c.name);
    attrs.ifname = c.name;
  }
  if (c.mtu !== undefined) attrs.mtu = c.mtu;
  if (c.mac !== undefined) attrs.address = parseMac(c.mac);
  if (c.alias !== undefined) attrs.ifalias = c.alias;
  if (c.master !== undefined) attrs.master = c.master ?? 0;
  if (c.netns !== undefined) attrs.netNsFd = c.netns.fd;
  let flags = 0;
  let change = 0;
  if (c.up !== undefined) {
    change |= IFF_UP;
    if (c.up) flags |= IFF_UP;
  }
  if (c.promisc !== undefined) {
    change |= IFF_PROMISC;
    if (c.promisc) flags |= IFF_PROMISC;
  }
  // RTM_NEWLINK without NLM_F_CREATE changes an existing link (and can also carry IFLA_LINKINFO).
  s.request(RTM_NEWLINK, linkMessage(AF_UNSPEC, index, attrs, flags, change), 0, { op });
}

export const setLinkUp = (s: NetlinkSocket, ref: LinkRef, up = true): void => setLink(s, ref, { up });
export const setLinkMtu = (s: NetlinkSocket, ref: LinkRef, mtu: number): void => setLink(s, ref, { mtu });
export const setLinkMac = (s: NetlinkSocket, ref: LinkRef, mac: string): void => setLink(s, ref, { mac });
export const setLinkName = (s: NetlinkSocket, ref: LinkRef, name: string): void => setLink(s, ref, { name });
export const setLinkAlias = (s: NetlinkSocket, ref: LinkRef, alias: string): void => setLink(s, ref, { alias });
export const setLinkMaster = (s: NetlinkSocket, ref: LinkRef, master: number | null): void => setLink(s, ref, { master });
export const setLinkPromisc = (s: NetlinkSocket, ref: LinkRef, promisc: boolean): void => setLink(s, ref, { promisc });
export const moveLinkToNetns = (s: NetlinkSocket, ref: LinkRef, netns: NetnsHandle): void => setLink(s, ref, { netns });

/** Options of a bridge port (the link must be enslaved to a bridge: EOPNOTSUPP otherwise). */
export function setBridgePort(s: NetlinkSocket, ref: LinkRef, c: BridgePortChanges): void {
  const { index, attrs } = refAttrs(ref);
  const data: Buffer[] = [];
  if (c.hairpin !== undefined) data.push(u8(IFLA_BRPORT_MODE, c.hairpin ? 1 : 0));
  if (c.learning !== undefined) data.push(u8(IFLA_BRPORT_LEARNING, c.learning ? 1 : 0));
  if (c.isolated !== undefined) data.push(u8(IFLA_BRPORT_ISOLATED, c.isolated ? 1 : 0));
  attrs.linkinfo = linkinfo(undefined, undefined, 'bridge', Buffer.concat(data));
  s.request(RTM_NEWLINK, linkMessage(AF_UNSPEC, index, attrs), 0, { op: `link.set-bridge-port ${refName(ref)}` });
}

export const setHairpin = (s: NetlinkSocket, ref: LinkRef, on: boolean): void => setBridgePort(s, ref, { hairpin: on });
export const setPortIsolated = (s: NetlinkSocket, ref: LinkRef, on: boolean): void => setBridgePort(s, ref, { isolated: on });

/** Turn VLAN filtering on a bridge on or off (EOPNOTSUPP on kernels without CONFIG_BRIDGE_VLAN_FILTERING). */
export function setBridgeVlanFiltering(s: NetlinkSocket, ref: LinkRef, on: boolean): void {
  const { index, attrs } = refAttrs(ref);
  attrs.linkinfo = linkinfo('bridge', u8(IFLA_BR_VLAN_FILTERING, on ? 1 : 0));
  s.request(RTM_NEWLINK, linkMessage(AF_UNSPEC, index, attrs), 0, { op: `link.set-bridge ${refName(ref)}` });
}

function vlanMessage(index: number, v: BridgeVlanSpec): Buffer[] {
  if (!Number.isInteger(v.vid) || v.vid < 1 || v.vid > 4094) throw new SysError('EINVAL', 'bridge.vlan', `VLAN id ${v.vid} out of range (1..4094)`);
  const info = Buffer.alloc(4); // struct bridge_vlan_info { u16 flags; u16 vid; }
  info.writeUInt16LE((v.pvid ? BRIDGE_VLAN_INFO_PVID : 0) | (v.untagged ? BRIDGE_VLAN_INFO_UNTAGGED : 0), 0);
  info.writeUInt16LE(v.vid, 2);
  const spec: Buffer[] = [];
  if (v.self) spec.push(u16(IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF));
  spec.push(attr(IFLA_BRIDGE_VLAN_INFO, info));
  return [ifinfo(AF_BRIDGE, index, 0, 0), nest(IFLA_AF_SPEC, spec)];
}

/** The ifindex of `ref` (a lookup only when it is a name). */
export function linkIndex(s: NetlinkSocket, ref: LinkRef): number {
  return typeof ref === 'number' ? refAttrs(ref).index : getLink(s, ref).index;
}

/** Add a VLAN to a bridge port (or to the bridge itself with `self`). */
export function addBridgeVlan(s: NetlinkSocket, ref: LinkRef, v: BridgeVlanSpec): void {
  s.request(RTM_SETLINK, vlanMessage(linkIndex(s, ref), v), 0, { op: `bridge.vlan-add ${refName(ref)} vid ${v.vid}` });
}

export function delBridgeVlan(s: NetlinkSocket, ref: LinkRef, v: BridgeVlanSpec): void {
  s.request(RTM_DELLINK, vlanMessage(linkIndex(s, ref), v), 0, { op: `bridge.vlan-del ${refName(ref)} vid ${v.vid}` });
}

/** VLANs of every bridge port (and bridge) in the namespace, by ifindex. */
export function listBridgeVlans(s: NetlinkSocket): Map<number, BridgeVlan[]> {
  const req = [ifinfo(AF_BRIDGE, 0, 0, 0), u32(IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN)];
  const out = new Map<number, BridgeVlan[]>();
  for (const m of s.dump(RTM_GETLINK, req, { op: 'bridge.vlan-list' })) {
    if (m.type !== RTM_NEWLINK || m.data.length < 16) continue;
    const index = m.data.readInt32LE(4);
    for (const a of parseAttrList(m.data.subarray(16))) {
      if (a.type !== IFLA_AF_SPEC) continue;
      const vlans: BridgeVlan[] = [];
      for (const v of parseAttrList(a.data)) {
        if (v.type !== IFLA_BRIDGE_VLAN_INFO || v.data.length < 4) continue;
        const f = v.data.readUInt16LE(0);
        vlans.push({ vid: v.data.readUInt16LE(2), pvid: (f & BRIDGE_VLAN_INFO_PVID) !== 0, untagged: (f & BRIDGE_VLAN_INFO_UNTAGGED) !== 0 });
      }
      if (vlans.length) out.set(index, vlans);
    }
  }
  return out;
}

// ---------- deleting

/** Delete a link (for a veth, the peer goes too). Throws ENODEV if it does not exist. */
export function deleteLink(s: NetlinkSocket, ref: LinkRef): void {
  const { index, attrs } = refAttrs(ref);
  s.request(RTM_DELLINK, linkMessage(AF_UNSPEC, index, attrs), 0, { op: `link.delete ${refName(ref)}` });
}

