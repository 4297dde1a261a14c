// host-local's ranges and range sets, with the reference plugin's rules and messages
// (containernetworking/plugins plugins/ipam/host-local/backend/allocator/range.go, range_set.go):
//  - a range is a subnet (its network address, at least 4 addresses: /30 or /126 and larger),
//    an inclusive rangeStart..rangeEnd inside it, and a gateway;
//  - defaults: rangeStart = network + 1, rangeEnd = broadcast - 1 (IPv4) or the last address
//    (IPv6), gateway = network + 1 (not required to lie in the subnet; skipped when allocating);
//  - a range set is a non-empty list of ranges of one family that do not overlap; an
//    allocation takes one address per range set.
// Addresses are canonical (sdk/iprange canonicalIP): an IPv4-mapped address is IPv4.

import { Cidr, IP } from "../../sdk/ip";
import { canonicalIP, rangeSize } from "../../sdk/iprange";

/** A range as written in the configuration (members absent = null). */
export class RangeSpec {
  subnet: Cidr | null = null;
  rangeStart: IP | null = null;
  rangeEnd: IP | null = null;
  gateway: IP | null = null;
}

/** Go's net.IPNet.String() for a subnet given as text: the address as given, canonical family. */
export function subnetText(c: Cidr): string {
  if (c.ip.v4) return c.ip.toString() + "/" + c.prefix.toString();
  const four = c.ip.to4();
  // An IPv4-mapped subnet: Go prints the IPv4 address and the last 32 bits of the mask.
  if (four !== null) return four.toString() + "/" + max(c.prefix - 96, 0).toString();
  return c.ip.toString() + "/" + c.prefix.toString();
}

export class Range {
  constructor(
    /** The subnet as configured (network address; canonical family). */
    public subnet: Cidr,
    public start: IP,
    public end: IP,
    public gateway: IP,
  ) {}

  get v4(): bool {
    return this.subnet.ip.v4;
  }

  /** Whether addr is of the subnet's family, in the subnet and within start..end. */
  contains(addr: IP): bool {
    return containsBounded(this.subnet, addr, this.start, this.end);
  }

  /** Any address in common (same family only). */
  overlaps(o: Range): bool {
    if (this.v4 != o.v4) return false;
    return this.contains(o.start) || this.contains(o.end) || o.contains(this.start) || o.contains(this.end);
  }

  /** Number of addresses start..end (saturating at u64.MAX_VALUE). */
  size(): u64 {
    return rangeSize(this.start, this.end);
  }

  /** "start-end" */
  toString(): string {
    return this.start.toString() + "-" + this.end.toString();
  }

  /** The address with this range's prefix length, as a result carries it ("10.1.2.3/24"). */
  cidrOf(addr: IP): string {
    return new Cidr(addr, this.subnet.prefix).toString();
  }
}

function containsBounded(subnet: Cidr, addr: IP, start: IP | null, end: IP | null): bool {
  const a = canonicalIP(addr);
  if (a.v4 != subnet.ip.v4) return false;
  if (!subnet.contains(a)) return false;
  if (start !== null && a.compare(start) < 0) return false;
  if (end !== null && a.compare(end) > 0) return false;
  return true;
}

/** A canonicalized range, or the reason the configuration is invalid. */
export class RangeCheck {
  constructor(public range: Range | null, public error: string) {}
}

/** Range.Canonicalize: validates a configured range and fills in its defaults. */
export function canonicalizeRange(spec: RangeSpec): RangeCheck {
  const sn = spec.subnet;
  if (sn === null) return new RangeCheck(null, "IP <nil> not v4 nor v6");
  // The mask's width is that of the text: dotted IPv4 32 bits, any IPv6 form 128 bits.
  const maskBits = sn.ip.v4 ? 32 : 128;
  if (sn.prefix > maskBits - 2) {
    return new RangeCheck(null, "Network " + subnetText(sn) + " too small to allocate from");
  }
  if (!sn.ip.v4 && sn.ip.isMapped()) {
    // Go canonicalizes the address to 4 bytes but keeps the 16-byte mask.
    return new RangeCheck(null, "IPNet IP and Mask version mismatch");
  }
  const network = sn.ip.masked(sn.prefix);
  if (!network.equals(sn.ip)) {
    return new RangeCheck(
      null,
      "Network has host bits set. For a subnet mask of length " + sn.prefix.toString() + " the network address is " + network.toString(),
    );
  }
  const subnet = new Cidr(network, sn.prefix);

  let gateway: IP;
  const gw = spec.gateway;
  if (gw === null) gateway = network.next()!;
  else gateway = canonicalIP(gw);

  const rawEnd = spec.rangeEnd;
  const endBound: IP | null = rawEnd === null ? null : canonicalIP(rawEnd);

  let start: IP;
  const rs = spec.rangeStart;
  if (rs !== null) {
    start = canonicalIP(rs);
    if (!containsBounded(subnet, start, start, endBound)) {
      return new RangeCheck(null, "RangeStart " + start.toString() + " not in network " + subnetText(sn));
    }
  } else {
    start = network.next()!;
  }

  let end: IP;
  if (endBound !== null) {
    end = endBound;
    if (!containsBounded(subnet, end, start, end)) {
      return new RangeCheck(null, "RangeEnd " + end.toString() + " not in network " + subnetText(sn));
    }
  } else {
    end = lastIP(subnet);
  }
  return new RangeCheck(new Range(subnet, start, end, gateway), "");
}

/** The last usable address of a subnet: the broadcast minus one for IPv4, the last for IPv6. */
export function lastIP(subnet: Cidr): IP {
  const b = subnet.broadcast();
  return subnet.ip.v4 ? b.prev()! : b;
}

export class RangeSet {
  ranges: Array<Range> = new Array<Range>();

  get v4(): bool {
    return unchecked(this.ranges[0]).v4;
  }

  /** The range holding addr, or null. */
  rangeFor(addr: IP): Range | null {
    for (let i = 0; i < this.ranges.length; i++) {
      const r = unchecked(this.ranges[i]);
      if (r.contains(addr)) return r;
    }
    return null;
  }

  /** Index of the range holding addr, or -1. */
  indexOf(addr: IP): i32 {
    for (let i = 0; i < this.ranges.length; i++) {
      if (unchecked(this.ranges[i]).contains(addr)) return i;
    }
    return -1;
  }

  contains(addr: IP): bool {
    return this.rangeFor(addr) !== null;
  }

  overlaps(o: RangeSet): bool {
    for (let i = 0; i < this.ranges.length; i++) {
      for (let j = 0; j < o.ranges.length; j++) {
        if (unchecked(this.ranges[i]).overlaps(unchecked(o.ranges[j]))) return true;
      }
    }
    return false;
  }

  /** "start-end,start-end" */
  toString(): string {
    const parts = new Array<string>(this.ranges.length);
    for (let i = 0; i < this.ranges.length; i++) parts[i] = unchecked(this.ranges[i]).toString();
    return parts.join(",");
  }
}

export class RangeSetCheck {
  constructor(public set: RangeSet | null, public error: string) {}
}

/** RangeSet.Canonicalize: every range valid, one family, no overlaps. */
export function canonicalizeRangeSet(specs: Array<RangeSpec>): RangeSetCheck {
  if (specs.length == 0) return new RangeSetCheck(null, "empty range set");
  const set = new RangeSet();
  for (let i = 0; i < specs.length; i++) {
    const c = canonicalizeRange(unchecked(specs[i]));
    const r = c.range;
    if (r === null) return new RangeSetCheck(null, c.error);
    if (i > 0 && r.v4 != unchecked(set.ranges[0]).v4) return new RangeSetCheck(null, "mixed address families");
    set.ranges.push(r);
  }
  const n = set.ranges.length;
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = unchecked(set.ranges[i]);
      const b = unchecked(set.ranges[j]);
      if (a.overlaps(b)) return new RangeSetCheck(null, "subnets " + a.toString() + " and " + b.toString() + " overlap");
    }
  }
  return new RangeSetCheck(set, "");
}
