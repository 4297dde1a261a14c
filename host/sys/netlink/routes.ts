// rtnetlink routes: add, replace, delete, list.
// Errors: EEXIST (add of an existing route), ESRCH (delete of a missing route),
// ENETUNREACH (gateway not reachable without onlink), ENODEV (no such link).
//
// struct rtmsg + RTA_* attributes, encoded and decoded by hand (see links.ts).
import { SysError } from '../errors.ts';
import { attr, bytesAt, nest, rdU32, scanAttrs, u32 } from './attrs.ts';
import { type ScopeName, SCOPES, scopeName } from './addresses.ts';
import { AF_UNSPEC, afOf, type Family, familyOfAf, formatIp, networkOf, parseIp, parsePrefix } from './ip.ts';
import { type LinkRef, linkIndex } from './links.ts';
import { type NetlinkSocket, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, type NlMessage } from './socket.ts';

const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_GETROUTE = 26;

// struct rtmsg { u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags; }
const RTMSG_LEN = 12;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_METRICS = 8; // nested RTAX_*
const RTA_TABLE = 15; // u32, for tables above 255
const RTAX_MTU = 2;

const RTNH_F_ONLINK = 0x4;
const RTM_F_CLONED = 0x200;
const RT_TABLE_UNSPEC = 0;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;
const RTPROT_BOOT = 3;

export const ROUTE_TYPES = {
  unspec: 0,
  unicast: 1,
  local: 2,
  broadcast: 3,
  anycast: 4,
  multicast: 5,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
  throw: 9,
  nat: 10,
} as const;
export type RouteType = keyof typeof ROUTE_TYPES;

export interface Route {
  family: Family;
  /** Destination prefix, e.g. '10.1.0.0/16', '0.0.0.0/0' (default), '::/0'. */
  dst: string;
  gateway?: string;
  /** Output ifindex. */
  oif?: number;
  /** Preferred source address (RTA_PREFSRC). */
  src?: string;
  table: number;
  metric?: number;
  scope: ScopeName | number;
  type: RouteType | number;
  protocol: number;
  onlink: boolean;
  mtu?: number;
}

export interface RouteSpec {
  /** Destination prefix; 'default' means 0.0.0.0/0 (or ::/0 with family 6 or an IPv6 gateway). */
  dst: string;
  family?: Family;
  gateway?: string;
  link?: LinkRef;
  src?: string;
  /** Routing table (default main, 254). */
  table?: number;
  metric?: number;
  /** Default as `ip route`: host for local, link when there is no gateway, else universe. */
  scope?: ScopeName | number;
  type?: RouteType;
  /** RTPROT_* (default boot, 3, as `ip route` and the Go netlink library). */
  protocol?: number;
  /** Use the gateway even if no address on the link covers it. */
  onlink?: boolean;
  mtu?: number;
}

function destination(spec: RouteSpec): { family: Family; bytes: Buffer; len: number } {
  if (spec.dst === 'default') {
    const family: Family = spec.family ?? (spec.gateway ? parseIp(spec.gateway).family : 4);
    return { family, bytes: Buffer.alloc(family === 4 ? 4 : 16), len: 0 };
  }
  const p = parsePrefix(spec.dst, spec.family);
  return { family: p.family, bytes: networkOf(p.bytes, p.prefixLen), len: p.prefixLen };
}

function message(s: NetlinkSocket, spec: RouteSpec, forDelete: boolean): Uint8Array[] {
  const d = destination(spec);
  const table = spec.table ?? RT_TABLE_MAIN;
  const type = spec.type ?? (forDelete ? 'unspec' : 'unicast');
  let scope: number;
  if (spec.scope !== undefined) scope = typeof spec.scope === 'number' ? spec.scope : SCOPES[spec.scope];
  else if (forDelete) scope = SCOPES.nowhere; // matches any scope
  else if (type === 'local' || type === 'nat') scope = SCOPES.host;
  else if (type === 'broadcast' || type === 'multicast' || type === 'anycast') scope = SCOPES.link;
  else if ((type === 'unicast' || type === 'unspec') && !spec.gateway) scope = SCOPES.link;
  else scope = SCOPES.universe;

  const hdr = Buffer.alloc(RTMSG_LEN);
  hdr[0] = afOf(d.family);
  hdr[1] = d.len;
  hdr[4] = table < 256 ? table : RT_TABLE_UNSPEC;
  hdr[5] = spec.protocol ?? (forDelete ? 0 : RTPROT_BOOT);
  hdr[6] = scope;
  hdr[7] = ROUTE_TYPES[type];
  hdr.writeUInt32LE(spec.onlink ? RTNH_F_ONLINK : 0, 8);

  const out = [hdr, u32(RTA_TABLE, table)];
  if (d.len > 0 || !forDelete) out.push(attr(RTA_DST, d.bytes));
  if (spec.gateway !== undefined) {
    const g = parseIp(spec.gateway);
    if (g.family !== d.family) throw new SysError('EINVAL', 'route', `gateway ${spec.gateway} is not an IPv${d.family} address`);
    out.push(attr(RTA_GATEWAY, g.bytes));
  }
  if (spec.link !== undefined) out.push(u32(RTA_OIF, linkIndex(s, spec.link)));
  if (spec.src !== undefined) out.push(attr(RTA_PREFSRC, parseIp(spec.src, d.family).bytes));
  if (spec.metric !== undefined) out.push(u32(RTA_PRIORITY, spec.metric));
  if (spec.mtu !== undefined) out.push(nest(RTA_METRICS, [u32(RTAX_MTU, spec.mtu)]));
  return out;
}

function describe(spec: RouteSpec): string {
  let t = spec.dst;
  if (spec.gateway) t += ` via ${spec.gateway}`;
  if (spec.link !== undefined) t += ` dev ${typeof spec.link === 'number' ? `#${spec.link}` : spec.link}`;
  if (spec.table !== undefined) t += ` table ${spec.table}`;
  return t;
}

/** Add a route; EEXIST if the same route (destination, table, metric, tos) is there. */
export function addRoute(s: NetlinkSocket, spec: RouteSpec): void {
  s.request(RTM_NEWROUTE, message(s, spec, false), NLM_F_CREATE | NLM_F_EXCL, { op: `route.add ${describe(spec)}` });
}

/** Add the route or replace the one with the same destination, table and metric. */
export function replaceRoute(s: NetlinkSocket, spec: RouteSpec): void {
  s.request(RTM_NEWROUTE, message(s, spec, false), NLM_F_CREATE | NLM_F_REPLACE, { op: `route.replace ${describe(spec)}` });
}

/** Delete the route matching `spec` (fields left out match anything); ESRCH when none does. */
export function delRoute(s: NetlinkSocket, spec: RouteSpec): void {
  s.request(RTM_DELROUTE, message(s, spec, true), 0, { op: `route.del ${describe(spec)}` });
}

export interface RouteFilter {
  family?: Family;
  /** A table number, or 'all' (default: main). */
  table?: number | 'all';
  link?: LinkRef;
}

export function listRoutes(s: NetlinkSocket, filter: RouteFilter = {}): Route[] {
  const table = filter.table ?? RT_TABLE_MAIN;
  const oif = filter.link === undefined ? undefined : linkIndex(s, filter.link);
  const req = Buffer.alloc(RTMSG_LEN);
  req[0] = filter.family ? afOf(filter.family) : AF_UNSPEC;
  const out: Route[] = [];
  for (const m of s.dump(RTM_GETROUTE, req, { op: 'route.list' })) {
    if (m.type !== RTM_NEWROUTE || m.data.length < RTMSG_LEN) continue;
    const family = familyOfAf(m.data[0]!);
    if (!family || (filter.family && family !== filter.family)) continue;
    if (rdU32(m.data, 8) & RTM_F_CLONED) continue;
    const r = parseRoute(m);
    if (!r) continue;
    if (table !== 'all' && r.table !== table) continue;
    if (oif !== undefined && r.oif !== oif) continue;
    out.push(r);
  }
  return out;
}

/** Decode an RTM_NEWROUTE payload; undefined for a family other than IPv4/IPv6. */
export function parseRoute(m: NlMessage): Route | undefined {
  const d = m.data;
  if (d.length < RTMSG_LEN) return undefined;
  const family = familyOfAf(d[0]!);
  if (!family) return undefined;
  const flags = rdU32(d, 8);
  let table = d[4]!;
  let dst: Buffer | undefined;
  let gateway: Buffer | undefined;
  let oif: number | undefined;
  let prefsrc: Buffer | undefined;
  let priority: number | undefined;
  let mtu: number | undefined;
  scanAttrs(d, RTMSG_LEN, d.length, (type, off, len) => {
    switch (type) {
      case RTA_TABLE:
        if (len >= 4) table = rdU32(d, off);
        break;
      case RTA_DST:
        dst = bytesAt(d, off, len);
        break;
      case RTA_GATEWAY:
        gateway = bytesAt(d, off, len);
        break;
      case RTA_OIF:
        if (len >= 4) oif = rdU32(d, off);
        break;
      case RTA_PREFSRC:
        prefsrc = bytesAt(d, off, len);
        break;
      case RTA_PRIORITY:
        if (len >= 4) priority = rdU32(d, off);
        break;
      case RTA_METRICS:
        scanAttrs(d, off, off + len, (t, o, l) => {
          if (t === RTAX_MTU && l >= 4) mtu = rdU32(d, o);
        });
        break;
    }
  });
  const typeNum = d[7]!;
  const r: Route = {
    family,
    dst: `${dst ? formatIp(dst) : family === 4 ? '0.0.0.0' : '::'}/${d[1]!}`,
    table,
    scope: scopeName(d[6]!),
    type: (Object.keys(ROUTE_TYPES) as RouteType[]).find((k) => ROUTE_TYPES[k] === typeNum) ?? typeNum,
    protocol: d[5]!,
    onlink: (flags & RTNH_F_ONLINK) !== 0,
  };
  if (gateway) r.gateway = formatIp(gateway);
  if (oif !== undefined) r.oif = oif;
  if (prefsrc) r.src = formatIp(prefsrc);
  if (priority !== undefined) r.metric = priority;
  if (mtu !== undefined) r.mtu = mtu;
  return r;
}
