// rtnetlink addresses, IPv4 and IPv6: add, delete, list.
// Errors: EEXIST (address already on the link), EADDRNOTAVAIL (delete of an address
// that is not there), ENODEV (no such link).
import { AttrStream } from 'netlink/dist/structs.js';
import { formatAddressMessage, parseAddressMessage, type AddressAttrs } from 'netlink/dist/rt/structs.js';
import { SysError } from '../errors.ts';
import { AF_UNSPEC, afOf, broadcastOf, type Family, familyOfAf, formatIp, parsePrefix } from './ip.ts';
import { type LinkRef, linkIndex } from './links.ts';
import { type NetlinkSocket, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from './socket.ts';

const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_GETADDR = 22;

export const IFA_F = {
  secondary: 0x01,
  nodad: 0x02,
  optimistic: 0x04,
  dadfailed: 0x08,
  homeaddress: 0x10,
  deprecated: 0x20,
  tentative: 0x40,
  permanent: 0x80,
  managetempaddr: 0x100,
  noprefixroute: 0x200,
  mcautojoin: 0x400,
  stablePrivacy: 0x800,
} as const;
export type AddressFlag = keyof typeof IFA_F;

export const SCOPES = { universe: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;
export type ScopeName = keyof typeof SCOPES;

export interface Address {
  index: number;
  family: Family;
  address: string;
  prefixLen: number;
  /** `address/prefixLen`. */
  cidr: string;
  scope: ScopeName | number;
  /** Every IFA_F_* flag set, by name. */
  flags: AddressFlag[];
  label?: string;
  broadcast?: string;
  /** Point-to-point peer (IFA_ADDRESS when it differs from IFA_LOCAL). */
  peer?: string;
}

export interface AddressSpec {
  link: LinkRef;
  /** 'a.b.c.d/len' or 'x::y/len'. */
  address: string;
  /** IPv6: skip duplicate address detection (usable at once). */
  nodad?: boolean;
  /** Do not add the prefix route. */
  noprefixroute?: boolean;
  scope?: ScopeName | number;
  /**
   * IPv4 broadcast: true (default for prefixes shorter than /31, as the reference
   * plugins' netlink library does) computes it, false omits it, or an explicit address.
   */
  broadcast?: boolean | string;
  label?: string;
  /** Replace an existing address instead of failing with EEXIST. */
  replace?: boolean;
}

function scopeNumber(s: ScopeName | number | undefined): number {
  if (s === undefined) return 0;
  return typeof s === 'number' ? s : SCOPES[s];
}

export function scopeName(n: number): ScopeName | number {
  for (const [k, v] of Object.entries(SCOPES)) if (v === n) return k as ScopeName;
  return n;
}

function flagNames(bits: number): AddressFlag[] {
  return (Object.keys(IFA_F) as AddressFlag[]).filter((k) => (bits & IFA_F[k]) !== 0);
}

function message(index: number, spec: AddressSpec, forDelete: boolean): Uint8Array[] {
  const p = parsePrefix(spec.address);
  let flags = 0;
  if (spec.nodad) flags |= IFA_F.nodad;
  if (spec.noprefixroute) flags |= IFA_F.noprefixroute;
  const attrs: AddressAttrs = { local: p.bytes, address: p.bytes };
  if (!forDelete) {
    if (flags) attrs.flags = { __unknown: flags };
    if (p.family === 4) {
      const b = spec.broadcast ?? p.prefixLen < 31;
      if (typeof b === 'string') attrs.broadcast = parsePrefix(b, 4).bytes;
      else if (b) attrs.broadcast = broadcastOf(p.bytes, p.prefixLen);
    }
    if (spec.label !== undefined) attrs.label = spec.label;
  }
  const s = new AttrStream();
  formatAddressMessage(
    {
      kind: 'address',
      data: { family: afOf(p.family), prefixlen: p.prefixLen, flags: { __unknown: flags & 0xff }, scope: scopeNumber(spec.scope), index },
      attrs,
    },
    s,
  );
  return s.bufs;
}

function describe(spec: AddressSpec): string {
  return `${spec.address} dev ${typeof spec.link === 'number' ? `#${spec.link}` : spec.link}`;
}

export function addAddress(s: NetlinkSocket, spec: AddressSpec): void {
  const index = linkIndex(s, spec.link);
  const flags = NLM_F_CREATE | (spec.replace ? NLM_F_REPLACE : NLM_F_EXCL);
  s.request(RTM_NEWADDR, message(index, spec, false), flags, { op: `address.add ${describe(spec)}` });
}

export function delAddress(s: NetlinkSocket, spec: Pick<AddressSpec, 'link' | 'address'>): void {
  const index = linkIndex(s, spec.link);
  s.request(RTM_DELADDR, message(index, spec, true), 0, { op: `address.del ${describe(spec)}` });
}

export interface AddressFilter {
  link?: LinkRef;
  family?: Family;
}

export function listAddresses(s: NetlinkSocket, filter: AddressFilter = {}): Address[] {
  const index = filter.link === undefined ? undefined : linkIndex(s, filter.link);
  const req = Buffer.alloc(8); // struct ifaddrmsg
  req[0] = filter.family ? afOf(filter.family) : AF_UNSPEC;
  const out: Address[] = [];
  for (const m of s.dump(RTM_GETADDR, req, { op: 'address.list' })) {
    if (m.type !== RTM_NEWADDR || m.data.length < 8) continue;
    const family = familyOfAf(m.data[0]!);
    const ifindex = m.data.readUInt32LE(4);
    if (!family || (filter.family && family !== filter.family) || (index !== undefined && ifindex !== index)) continue;
    const { attrs } = parseAddressMessage(m.data);
    const local = attrs.local ?? attrs.address;
    if (!local) continue;
    const prefixLen = m.data[1]!;
    // IFA_FLAGS (u32) supersedes the u8 in the header when present; read the raw bits.
    let bits = m.data[2]!;
    const raw = rawU32Attr(m.data.subarray(8), 8);
    if (raw !== undefined) bits = raw;
    const a: Address = {
      index: ifindex,
      family,
      address: formatIp(local),
      prefixLen,
      cidr: `${formatIp(local)}/${prefixLen}`,
      scope: scopeName(m.data[3]!),
      flags: flagNames(bits),
    };
    if (attrs.label) a.label = attrs.label;
    if (attrs.broadcast) a.broadcast = formatIp(attrs.broadcast);
    if (attrs.local && attrs.address && !attrs.local.equals(attrs.address)) a.peer = formatIp(attrs.address);
    out.push(a);
  }
  return out;
}

function rawU32Attr(attrs: Buffer, type: number): number | undefined {
  let off = 0;
  while (off + 4 <= attrs.length) {
    const len = attrs.readUInt16LE(off);
    if (len < 4 || off + len > attrs.length) return undefined;
    if ((attrs.readUInt16LE(off + 2) & 0x3fff) === type && len >= 8) return attrs.readUInt32LE(off + 4);
    off += (len + 3) & ~3;
  }
  return undefined;
}

/** Throws unless `e` is the kernel saying the address is not there. */
export function isAddressMissing(e: unknown): boolean {
  return e instanceof SysError && (e.errno === 'EADDRNOTAVAIL' || e.errno === 'ENOENT');
}
