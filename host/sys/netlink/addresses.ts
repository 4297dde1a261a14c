// rtnetlink addresses, IPv4 and IPv6: add, delete, list.
// Errors: EEXIST (address already on the link), EADDRNOTAVAIL (delete of an address
// that is not there), ENODEV (no such link).
//
// struct ifaddrmsg + IFA_* attributes, encoded and decoded by hand (see links.ts).
import { SysError } from '../errors.ts';
import { attr, bytesAt, rdU32, scanAttrs, str, strAt, u32 } from './attrs.ts';
import { AF_UNSPEC, afOf, broadcastOf, type Family, familyOfAf, formatIp, parsePrefix } from './ip.ts';
import { type LinkRef, linkIndex } from './links.ts';
import { type NetlinkSocket, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, type NlMessage } from './socket.ts';

const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_GETADDR = 22;

// struct ifaddrmsg { u8 family; u8 prefixlen; u8 flags; u8 scope; u32 index; }
const IFADDRMSG_LEN = 8;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_BROADCAST = 4;
const IFA_FLAGS = 8; // u32, supersedes ifaddrmsg.flags

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

function message(index: number, spec: AddressSpec, forDelete: boolean): Buffer[] {
  const p = parsePrefix(spec.address);
  let flags = 0;
  if (spec.nodad) flags |= IFA_F.nodad;
  if (spec.noprefixroute) flags |= IFA_F.noprefixroute;
  const hdr = Buffer.alloc(IFADDRMSG_LEN);
  hdr[0] = afOf(p.family);
  hdr[1] = p.prefixLen;
  hdr[2] = flags & 0xff;
  hdr[3] = scopeNumber(spec.scope);
  hdr.writeUInt32LE(index >>> 0, 4);
  const out = [hdr, attr(IFA_LOCAL, p.bytes), attr(IFA_ADDRESS, p.bytes)];
  if (!forDelete) {
    if (flags) out.push(u32(IFA_FLAGS, flags));
    if (p.family === 4) {
      const b = spec.broadcast ?? p.prefixLen < 31;
      if (typeof b === 'string') out.push(attr(IFA_BROADCAST, parsePrefix(b, 4).bytes));
      else if (b) out.push(attr(IFA_BROADCAST, broadcastOf(p.bytes, p.prefixLen)));
    }
    if (spec.label !== undefined) out.push(str(IFA_LABEL, spec.label));
  }
  return out;
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
  const req = Buffer.alloc(IFADDRMSG_LEN);
  req[0] = filter.family ? afOf(filter.family) : AF_UNSPEC;
  const out: Address[] = [];
  for (const m of s.dump(RTM_GETADDR, req, { op: 'address.list' })) {
    if (m.type !== RTM_NEWADDR || m.data.length < IFADDRMSG_LEN) continue;
    const family = familyOfAf(m.data[0]!);
    if (!family || (filter.family && family !== filter.family)) continue;
    if (index !== undefined && rdU32(m.data, 4) !== index) continue;
    const a = parseAddress(m);
    if (a) out.push(a);
  }
  return out;
}

/**
 * Decode an RTM_NEWADDR payload; undefined for a family other than IPv4/IPv6 or
 * without an address.
 */
export function parseAddress(m: NlMessage): Address | undefined {
  const d = m.data;
  if (d.length < IFADDRMSG_LEN) return undefined;
  const family = familyOfAf(d[0]!);
  if (!family) return undefined;
  let local: Buffer | undefined;
  let address: Buffer | undefined;
  let label = '';
  let broadcast: Buffer | undefined;
  let bits = d[2]!;
  scanAttrs(d, IFADDRMSG_LEN, d.length, (type, off, len) => {
    switch (type) {
      case IFA_LOCAL:
        local = bytesAt(d, off, len);
        break;
      case IFA_ADDRESS:
        address = bytesAt(d, off, len);
        break;
      case IFA_LABEL:
        label = strAt(d, off, len);
        break;
      case IFA_BROADCAST:
        broadcast = bytesAt(d, off, len);
        break;
      case IFA_FLAGS:
        if (len >= 4) bits = rdU32(d, off);
        break;
    }
  });
  const ip = local ?? address;
  if (!ip) return undefined;
  const prefixLen = d[1]!;
  const text = formatIp(ip);
  const a: Address = {
    index: rdU32(d, 4),
    family,
    address: text,
    prefixLen,
    cidr: `${text}/${prefixLen}`,
    scope: scopeName(d[3]!),
    flags: flagNames(bits),
  };
  if (label) a.label = label;
  if (broadcast) a.broadcast = formatIp(broadcast);
  if (local && address && !local.equals(address)) a.peer = formatIp(address);
  return a;
}

/** Throws unless `e` is the kernel saying the address is not there. */
export function isAddressMissing(e: unknown): boolean {
  return e instanceof SysError && (e.errno === 'EADDRNOTAVAIL' || e.errno === 'ENOENT');
}
