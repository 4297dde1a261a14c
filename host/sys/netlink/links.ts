// rtnetlink links: get, list, create (bridge, veth, vxlan), change, delete; bridge
// port options (hairpin, isolation, learning) and bridge VLANs.
//
// Every function takes the NetlinkSocket of the namespace it acts in. A link is
// named by index or by name (LinkRef). Failures are SysError with the kernel's
// errno name: ENODEV (no such link), EEXIST (name taken), EBUSY (device busy),
// EOPNOTSUPP (e.g. bridge VLAN filtering on a kernel built without it).
//
// Messages are encoded and decoded by hand (struct ifinfomsg + the IFLA_* attributes
// below); a decoder reads only the attributes a Link has and skips the rest by length.
// The `netlink` npm package's generic codecs, used before, cost ~10-14 ms of start-up
// (~190 KB of the runtime bundle) and ~3.8 ms for the first link decode in a process
// (this one: ~0.5 ms); they remain the oracle in test/unit/sys-netlink-codec.test.ts.
import { SysError } from '../errors.ts';
import type { NetnsHandle } from '../netns.ts';
import { attr, bytesAt, flag, nest, parseAttrList, rdS32, rdU32, scanAttrs, str, strAt, u16, u16be, u32, u8 } from './attrs.ts';
import { AF_BRIDGE, AF_UNSPEC, formatIp, formatMac, parseIp, parseMac } from './ip.ts';
import { type NetlinkSocket, NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL, type NlMessage } from './socket.ts';

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_SETLINK = 19;

const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const IFF_PROMISC = 0x100;

// struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change; }
const IFINFOMSG_LEN = 16;

// IFLA_* (linux/if_link.h)
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINK = 5;
const IFLA_MASTER = 10;
const IFLA_OPERSTATE = 16;
const IFLA_LINKINFO = 18;
const IFLA_IFALIAS = 20;
const IFLA_AF_SPEC = 26;
const IFLA_NET_NS_FD = 28;
const IFLA_EXT_MASK = 29;
const IFLA_LINK_NETNSID = 37;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_INFO_SLAVE_KIND = 4;
const IFLA_INFO_SLAVE_DATA = 5;
const VETH_INFO_PEER = 1;
const IFLA_BR_VLAN_FILTERING = 7;
const IFLA_VXLAN_ID = 1;
const IFLA_VXLAN_GROUP = 2;
const IFLA_VXLAN_LINK = 3;
const IFLA_VXLAN_LOCAL = 4;
const IFLA_VXLAN_TTL = 5;
const IFLA_VXLAN_LEARNING = 7;
const IFLA_VXLAN_PORT = 15; // be16
const IFLA_VXLAN_GROUP6 = 16;
const IFLA_VXLAN_LOCAL6 = 17;
const IFLA_VXLAN_GBP = 23; // flag
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

// ---------- encoding

/** The IFLA_* attributes this module sends. Encoded in this order (the kernel reads them all before acting). */
interface LinkAttrs {
  ifname?: string;
  mtu?: number;
  address?: Buffer;
  master?: number;
  ifalias?: string;
  netNsFd?: number;
  /** A complete IFLA_LINKINFO attribute (see linkinfo()). */
  linkinfo?: Buffer;
}

function ifinfo(family: number, index: number, flags: number, change: number): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b[0] = family;
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

/** struct ifinfomsg followed by the attributes: an RTM_*LINK payload, or the content of VETH_INFO_PEER. */
function linkMessage(family: number, index: number, a: LinkAttrs, flags = 0, change = 0): Buffer[] {
  const out = [ifinfo(family, index, flags, change)];
  if (a.ifname !== undefined) out.push(str(IFLA_IFNAME, a.ifname));
  if (a.mtu !== undefined) out.push(u32(IFLA_MTU, a.mtu));
  if (a.address !== undefined) out.push(attr(IFLA_ADDRESS, a.address));
  if (a.master !== undefined) out.push(u32(IFLA_MASTER, a.master));
  if (a.ifalias !== undefined) out.push(str(IFLA_IFALIAS, a.ifalias));
  if (a.netNsFd !== undefined) out.push(u32(IFLA_NET_NS_FD, a.netNsFd));
  if (a.linkinfo !== undefined) out.push(a.linkinfo);
  return out;
}

/** IFLA_LINKINFO { IFLA_INFO_KIND, IFLA_INFO_DATA, IFLA_INFO_SLAVE_KIND, IFLA_INFO_SLAVE_DATA }, each when given. */
function linkinfo(kind: string | undefined, data?: Uint8Array | readonly Uint8Array[], slaveKind?: string, slaveData?: Uint8Array | readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  if (kind !== undefined) parts.push(str(IFLA_INFO_KIND, kind));
  if (data !== undefined) parts.push(attr(IFLA_INFO_DATA, data));
  if (slaveKind !== undefined) parts.push(str(IFLA_INFO_SLAVE_KIND, slaveKind));
  if (slaveData !== undefined) parts.push(attr(IFLA_INFO_SLAVE_DATA, slaveData));
  return nest(IFLA_LINKINFO, parts);
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

/** Decode an RTM_NEWLINK payload (struct ifinfomsg + attributes). */
export function parseLink(m: NlMessage): Link {
  const d = m.data;
  if (d.length < IFINFOMSG_LEN) throw new SysError('EPROTO', 'link', `RTM_NEWLINK payload of ${d.length} bytes`);
  const index = rdS32(d, 4);
  const flags = rdU32(d, 8);
  let name = '';
  let mtu = 0;
  let operstate = 0;
  let mac: string | undefined;
  let master = 0;
  let alias = '';
  let peer = 0;
  let netnsid = -1;
  let info = -1;
  let infoLen = 0;
  scanAttrs(d, IFINFOMSG_LEN, d.length, (type, off, len) => {
    switch (type) {
      case IFLA_IFNAME:
        name = strAt(d, off, len);
        break;
      case IFLA_MTU:
        if (len >= 4) mtu = rdU32(d, off);
        break;
      case IFLA_ADDRESS:
        mac = formatMac(bytesAt(d, off, len));
        break;
      case IFLA_MASTER:
        if (len >= 4) master = rdU32(d, off);
        break;
      case IFLA_IFALIAS:
        alias = strAt(d, off, len);
        break;
      case IFLA_LINK:
        if (len >= 4) peer = rdU32(d, off);
        break;
      case IFLA_LINK_NETNSID:
        if (len >= 4) netnsid = rdS32(d, off);
        break;
      case IFLA_OPERSTATE:
        if (len >= 1) operstate = d[off]!;
        break;
      case IFLA_LINKINFO:
        info = off;
        infoLen = len;
        break;
    }
  });
  const link: Link = {
    index,
    name,
    mtu,
    up: (flags & IFF_UP) !== 0,
    running: (flags & IFF_RUNNING) !== 0,
    promisc: (flags & IFF_PROMISC) !== 0,
    operstate: OPERSTATES[operstate] ?? 'unknown',
    flags,
  };
  if (mac) link.mac = mac;
  if (master) link.master = master;
  if (alias) link.alias = alias;
  if (peer !== 0 && peer !== index) link.peerIndex = peer;
  if (netnsid >= 0) link.linkNetnsid = netnsid;
  if (info >= 0) parseLinkinfo(d, info, infoLen, link);
  return link;
}

/** IFLA_LINKINFO: the kind, and what Link reports of the kind's and the bridge port's data. */
function parseLinkinfo(d: Buffer, start: number, len: number, link: Link): void {
  let kind = '';
  let data = -1;
  let dataLen = 0;
  let slaveKind = '';
  let slave = -1;
  let slaveLen = 0;
  scanAttrs(d, start, start + len, (type, off, l) => {
    if (type === IFLA_INFO_KIND) kind = strAt(d, off, l);
    else if (type === IFLA_INFO_DATA) (data = off), (dataLen = l);
    else if (type === IFLA_INFO_SLAVE_KIND) slaveKind = strAt(d, off, l);
    else if (type === IFLA_INFO_SLAVE_DATA) (slave = off), (slaveLen = l);
  });
  if (kind) link.kind = kind;
  if (kind === 'vxlan' && data >= 0) link.vxlan = parseVxlanData(d, data, dataLen);
  else if (kind === 'bridge') {
    let vlanFiltering = false;
    if (data >= 0) {
      scanAttrs(d, data, data + dataLen, (type, off, l) => {
        if (type === IFLA_BR_VLAN_FILTERING && l >= 1) vlanFiltering = d[off] !== 0;
      });
    }
    link.bridge = { vlanFiltering };
  }
  if (slaveKind === 'bridge' && slave >= 0) {
    const port: BridgePortInfo = { hairpin: false, isolated: false, learning: false };
    scanAttrs(d, slave, slave + slaveLen, (type, off, l) => {
      if (l < 1) return;
      if (type === IFLA_BRPORT_MODE) port.hairpin = d[off] !== 0;
      else if (type === IFLA_BRPORT_ISOLATED) port.isolated = d[off] !== 0;
      else if (type === IFLA_BRPORT_LEARNING) port.learning = d[off] !== 0;
    });
    link.bridgePort = port;
  }
}

function parseVxlanData(d: Buffer, start: number, len: number): VxlanInfo {
  const vx: VxlanInfo = { vni: 0, learning: false, gbp: false, ttl: 0 };
  let local: string | undefined;
  let local6: string | undefined;
  let group: string | undefined;
  let group6: string | undefined;
  scanAttrs(d, start, start + len, (type, off, l) => {
    switch (type) {
      case IFLA_VXLAN_ID:
        if (l >= 4) vx.vni = rdU32(d, off);
        break;
      case IFLA_VXLAN_LEARNING:
        if (l >= 1) vx.learning = d[off] !== 0;
        break;
      case IFLA_VXLAN_GBP:
        vx.gbp = true;
        break;
      case IFLA_VXLAN_TTL:
        if (l >= 1) vx.ttl = d[off]!;
        break;
      case IFLA_VXLAN_PORT:
        if (l >= 2) vx.port = (d[off]! << 8) | d[off + 1]!; // network byte order
        break;
      case IFLA_VXLAN_LOCAL:
        local = formatIp(bytesAt(d, off, l));
        break;
      case IFLA_VXLAN_LOCAL6:
        local6 = formatIp(bytesAt(d, off, l));
        break;
      case IFLA_VXLAN_GROUP:
        group = formatIp(bytesAt(d, off, l));
        break;
      case IFLA_VXLAN_GROUP6:
        group6 = formatIp(bytesAt(d, off, l));
        break;
      case IFLA_VXLAN_LINK:
        if (l >= 4) {
          const u = rdU32(d, off);
          if (u) vx.underlay = u;
        }
        break;
    }
  });
  if (local ?? local6) vx.local = (local ?? local6)!;
  if (group ?? group6) vx.group = (group ?? group6)!;
  return vx;
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
  const v: Buffer[] = [u32(IFLA_VXLAN_ID, o.vni)];
  if (o.port !== undefined) v.push(u16be(IFLA_VXLAN_PORT, o.port));
  if (o.local !== undefined) {
    const l = parseIp(o.local);
    v.push(attr(l.family === 4 ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, l.bytes));
  }
  if (o.group !== undefined) {
    const g = parseIp(o.group);
    v.push(attr(g.family === 4 ? IFLA_VXLAN_GROUP : IFLA_VXLAN_GROUP6, g.bytes));
  }
  if (o.underlay !== undefined) v.push(u32(IFLA_VXLAN_LINK, o.underlay));
  if (o.learning !== undefined) v.push(u8(IFLA_VXLAN_LEARNING, o.learning ? 1 : 0));
  if (o.gbp) v.push(flag(IFLA_VXLAN_GBP));
  if (o.ttl !== undefined) v.push(u8(IFLA_VXLAN_TTL, o.ttl));
  attrs.linkinfo = linkinfo('vxlan', v);
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
  attrs.linkinfo = linkinfo(undefined, undefined, 'bridge', data);
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

