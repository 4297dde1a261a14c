// Container addresses as CIDRs ("10.1.0.2/24", "fd00::2/64"): the address, and the first
// and last address of its subnet. Parsing and formatting are netlink/ip.ts's.
import { SysError } from '../errors.ts';
import { broadcastOf, formatIp, networkOf, parsePrefix } from '../netlink/ip.ts';

export interface Cidr {
  family: 4 | 6;
  /** The address itself (4 or 16 bytes, network order). */
  addr: Buffer;
  prefix: number;
  /** First and last address of the subnet. */
  first: Buffer;
  last: Buffer;
  /** Canonical text: address, and subnet as network/prefix. */
  text: string;
  subnetText: string;
}

export const formatAddr = (b: Buffer): string => formatIp(b);

/** Parse "addr/prefix" (a bare address means a host route: /32 or /128). */
export function parseCidr(text: string): Cidr {
  const where = `masquerade.address ${JSON.stringify(String(text))}`;
  if (typeof text !== 'string' || text.length > 64) throw new SysError('EINVAL', where, 'invalid address: not a string of sane length');
  let p;
  try {
    p = parsePrefix(text);
  } catch (e) {
    throw new SysError('EINVAL', where, `invalid address: ${e instanceof Error ? e.message : String(e)}`);
  }
  const first = networkOf(p.bytes, p.prefixLen);
  const last = broadcastOf(p.bytes, p.prefixLen);
  return { family: p.family, addr: p.bytes, prefix: p.prefixLen, first, last, text: formatIp(p.bytes), subnetText: `${formatIp(first)}/${p.prefixLen}` };
}
