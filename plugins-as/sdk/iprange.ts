// Inclusive ranges of IP addresses (first..last of one family), for IPAM: membership, size with
// 128-bit arithmetic, overlap, stepping with wrap-around, and Go's canonical family of an address.
//
// Families follow Go's net.IP after "canonicalizing" (To4() when it succeeds, else To16()): an
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address a.b.c.d. A range holds addresses
// of one family only; an address of the other family is never in it.

import { IP } from "./ip";

/** Go's canonical form: IPv4 and IPv4-mapped addresses in the IPv4 family, others IPv6. */
export function canonicalIP(ip: IP): IP {
  if (ip.v4) return ip;
  const four = ip.to4();
  return four !== null ? four : ip;
}

/**
 * Number of addresses in first..last (inclusive), saturating at u64.MAX_VALUE (an IPv6 /64 or
 * larger); 0 when last < first or the families differ.
 */
export function rangeSize(first: IP, last: IP): u64 {
  if (first.v4 != last.v4 || last.compare(first) < 0) return 0;
  // 128-bit last - first, then + 1.
  const lo = last.lo - first.lo;
  const borrow: u64 = last.lo < first.lo ? 1 : 0;
  const hi = last.hi - first.hi - borrow;
  if (hi != 0 || lo == u64.MAX_VALUE) return u64.MAX_VALUE;
  return lo + 1;
}

export class IPRange {
  constructor(
    /** First address, inclusive. */
    public first: IP,
    /** Last address, inclusive; same family as first. */
    public last: IP,
  ) {}

  get v4(): bool {
    return this.first.v4;
  }

  /** Whether ip (canonicalized) is of this range's family and within first..last. */
  contains(ip: IP): bool {
    const c = canonicalIP(ip);
    if (c.v4 != this.first.v4) return false;
    return c.compare(this.first) >= 0 && c.compare(this.last) <= 0;
  }

  /** Number of addresses, saturating at u64.MAX_VALUE. */
  size(): u64 {
    return rangeSize(this.first, this.last);
  }

  /** Whether the two ranges share an address (same family only). */
  overlaps(o: IPRange): bool {
    if (this.first.v4 != o.first.v4) return false;
    return this.first.compare(o.last) <= 0 && o.first.compare(this.last) <= 0;
  }

  /** The address after ip within the range; null after the last one. */
  next(ip: IP): IP | null {
    if (ip.compare(this.last) >= 0) return null;
    return ip.next();
  }

  /** The address after ip, wrapping from the last address to the first. */
  nextWrap(ip: IP): IP {
    const n = this.next(ip);
    return n !== null ? n : this.first;
  }

  /** "first-last", as the reference plugins print a range. */
  toString(): string {
    return this.first.toString() + "-" + this.last.toString();
  }
}
