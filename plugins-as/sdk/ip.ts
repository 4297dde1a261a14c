// IP addresses and CIDR prefixes for plugins.
//
// An IP is 128 bits held as two u64 (hi, lo) plus its family. An IPv4 address is stored in its
// IPv4-mapped form (::ffff:a.b.c.d), as Go's net.IP does, so v4 and v6 compare in one order and
// "1.2.3.4" equals "::ffff:1.2.3.4"; the family decides the width for arithmetic and masks
// (32 or 128 bits).
//
// Text follows Go, because runtimes and the reference plugins are Go programs:
//  - parse as net.ParseIP / net.ParseCIDR: dotted quads without leading zeros, RFC 4291 IPv6
//    with at most one "::" and an optional trailing dotted quad, no zone ("fe80::1%eth0" is
//    refused), a decimal prefix length within the family's width;
//  - toString() as net.IP.String: RFC 5952 for IPv6 (lowercase, no leading zeros, the first
//    longest run of two or more zero groups as "::"), and dotted quad for IPv4 and for
//    IPv4-mapped IPv6 (Go cannot tell them apart); toStringKeep6() prints a mapped address as
//    "::ffff:1.2.3.4" instead (RFC 5952 section 5, Go's netip), and so does Cidr.toString().

import { StrBuf } from "./strbuf";

const MAPPED_TAG: u64 = 0xffff00000000;

export class IP {
  constructor(
    /** Upper 64 bits (bytes 0-7, network order). */
    public hi: u64,
    /** Lower 64 bits (bytes 8-15). */
    public lo: u64,
    /** IPv4 family: 32-bit arithmetic, dotted text. Then hi == 0 and lo is ::ffff:a.b.c.d. */
    public v4: bool,
  ) {}

  /** IPv4 from its 32-bit value (a.b.c.d = a<<24 | b<<16 | c<<8 | d). */
  static fromU32(v: u32): IP {
    return new IP(0, MAPPED_TAG | <u64>v, true);
  }

  static v4of(a: u8, b: u8, c: u8, d: u8): IP {
    return IP.fromU32((<u32>a << 24) | (<u32>b << 16) | (<u32>c << 8) | <u32>d);
  }

  /** IPv6 from its two halves. */
  static fromU64s(hi: u64, lo: u64): IP {
    return new IP(hi, lo, false);
  }

  /** The address, or null when s is not an IP address in Go's sense. */
  static parse(s: string): IP | null {
    if (s.indexOf(":") >= 0) return parse6(s);
    const v = parse4(s, 0, s.length);
    return v < 0 ? null : IP.fromU32(<u32>v);
  }

  /** 32 or 128. */
  get bits(): i32 {
    return this.v4 ? 32 : 128;
  }

  /** Is this an IPv4 address (family v4, or an IPv4-mapped IPv6 one, as Go's To4() != nil)? */
  is4(): bool {
    return this.v4 || (this.hi == 0 && (this.lo >> 32) == 0xffff);
  }

  /** An IPv6 address of the form ::ffff:a.b.c.d. */
  isMapped(): bool {
    return !this.v4 && this.hi == 0 && (this.lo >> 32) == 0xffff;
  }

  /** The IPv4 family form of a v4 or mapped address; null otherwise. */
  to4(): IP | null {
    return this.is4() ? IP.fromU32(<u32>this.lo) : null;
  }

  /** The IPv6 family form (IPv4 becomes ::ffff:a.b.c.d). */
  to16(): IP {
    return new IP(this.hi, this.lo, false);
  }

  /** The 32-bit value of an IPv4 (or mapped) address; 0 otherwise. */
  toU32(): u32 {
    return this.is4() ? <u32>this.lo : 0;
  }

  /** Same 128 bits (so a v4 address equals its mapped form, as in Go's IP.Equal). */
  equals(o: IP): bool {
    return this.hi == o.hi && this.lo == o.lo;
  }

  /** Same bits and same family. */
  same(o: IP): bool {
    return this.hi == o.hi && this.lo == o.lo && this.v4 == o.v4;
  }

  /** -1, 0 or 1 by the 16-byte form (Go's bytes.Compare on To16()). */
  compare(o: IP): i32 {
    if (this.hi != o.hi) return this.hi < o.hi ? -1 : 1;
    if (this.lo != o.lo) return this.lo < o.lo ? -1 : 1;
    return 0;
  }

  /** 0.0.0.0 (also as ::ffff:0.0.0.0, as in Go) or ::. */
  isUnspecified(): bool {
    if (this.is4()) return <u32>this.lo == 0;
    return this.hi == 0 && this.lo == 0;
  }

  isLoopback(): bool {
    if (this.is4()) return (<u32>this.lo >> 24) == 127;
    return this.hi == 0 && this.lo == 1;
  }

  isMulticast(): bool {
    if (this.is4()) return (<u32>this.lo >> 28) == 0xe;
    return (this.hi >> 56) == 0xff;
  }

  isLinkLocalUnicast(): bool {
    if (this.is4()) return (<u32>this.lo >> 16) == 0xa9fe;
    return (this.hi >> 54) == (0xfe80 >> 6);
  }

  /** The address plus offset (negative goes down); null when leaving the family's range. */
  add(offset: i64): IP | null {
    if (this.v4) {
      const v = <i64>(<u32>this.lo) + offset; // cannot overflow: |offset| < 2^63 - 2^32
      if (offset > 0x1_0000_0000 || offset < -0x1_0000_0000 || v < 0 || v > 0xffff_ffff) return null;
      return IP.fromU32(<u32>v);
    }
    let hi = this.hi;
    let lo = this.lo;
    if (offset >= 0) {
      const nlo = lo + <u64>offset;
      if (nlo < lo) {
        if (hi == u64.MAX_VALUE) return null;
        hi++;
      }
      lo = nlo;
    } else {
      const d = <u64>(-(offset + 1)) + 1; // |offset| without overflowing at i64.MIN_VALUE
      if (lo < d) {
        if (hi == 0) return null;
        hi--;
      }
      lo -= d;
    }
    return new IP(hi, lo, false);
  }

  /** The next address; null after the last one of the family. */
  next(): IP | null {
    return this.add(1);
  }

  /** The previous address; null before the first one. */
  prev(): IP | null {
    return this.add(-1);
  }

  /** The address with all but the first `prefix` bits cleared (prefix clamped to the width). */
  masked(prefix: i32): IP {
    const m = maskFromPrefix(prefix, this.v4);
    if (this.v4) return IP.fromU32(<u32>this.lo & <u32>m.lo);
    return new IP(this.hi & m.hi, this.lo & m.lo, false);
  }

  /** The address with the last `bits - prefix` bits set (the broadcast / last address). */
  filled(prefix: i32): IP {
    const m = maskFromPrefix(prefix, this.v4);
    if (this.v4) return IP.fromU32(<u32>this.lo | ~<u32>m.lo);
    return new IP(this.hi | ~m.hi, this.lo | ~m.lo, false);
  }

  /**
   * The distance o - this when it fits in i64, for ranges; i64.MIN_VALUE when it does not.
   * Meaningful within one family.
   */
  distanceTo(o: IP): i64 {
    // 128-bit subtraction o - this, then check it is a sign-extended 64-bit value.
    const lo = o.lo - this.lo;
    const borrow: u64 = o.lo < this.lo ? 1 : 0;
    const hi = o.hi - this.hi - borrow;
    if (hi == 0 && (lo >> 63) == 0) return <i64>lo;
    if (hi == u64.MAX_VALUE && (lo >> 63) == 1 && lo != 0x8000_0000_0000_0000) return <i64>lo;
    return i64.MIN_VALUE;
  }

  /** Go's net.IP.String(). */
  toString(): string {
    const out = new StrBuf(40);
    if (this.is4()) write4(out, <u32>this.lo);
    else write6(out, this.hi, this.lo, false);
    return out.toString();
  }

  /** Like toString(), but an IPv6-family mapped address prints as ::ffff:a.b.c.d (Go's netip). */
  toStringKeep6(): string {
    const out = new StrBuf(40);
    if (this.v4) write4(out, <u32>this.lo);
    else write6(out, this.hi, this.lo, true);
    return out.toString();
  }
}

// ---------------------------------------------------------------------------------------------
// Masks

/** The netmask of a prefix length as an address of the family (255.255.255.0 for /24). */
export function maskFromPrefix(prefix: i32, v4: bool): IP {
  const width = v4 ? 32 : 128;
  if (prefix < 0) prefix = 0;
  if (prefix > width) prefix = width;
  if (v4) return IP.fromU32(prefix == 0 ? 0 : <u32>(0xffff_ffff << (32 - prefix)));
  const hi: u64 = prefix == 0 ? 0 : prefix >= 64 ? u64.MAX_VALUE : u64.MAX_VALUE << (64 - prefix);
  const lo: u64 = prefix <= 64 ? 0 : prefix == 128 ? u64.MAX_VALUE : u64.MAX_VALUE << (128 - prefix);
  return new IP(hi, lo, false);
}

/** The prefix length of a netmask address, or -1 when its ones are not contiguous. */
export function prefixFromMask(mask: IP): i32 {
  if (mask.v4) {
    const m = <u32>mask.lo;
    const ones = <i32>popcnt(m);
    return ones == 0 ? (m == 0 ? 0 : -1) : (<i32>clz(~m) == ones ? ones : -1);
  }
  const ones = <i32>(popcnt(mask.hi) + popcnt(mask.lo));
  const expect = maskFromPrefix(ones, false);
  return expect.hi == mask.hi && expect.lo == mask.lo ? ones : -1;
}

// ---------------------------------------------------------------------------------------------
// CIDR

/** An address with a prefix length, as in a CNI result's "address" (host bits kept). */
export class Cidr {
  constructor(public ip: IP, public prefix: i32) {}

  /** "10.1.2.3/24", "fd00::1/64"; null when invalid (Go's net.ParseCIDR rules). */
  static parse(s: string): Cidr | null {
    const slash = s.indexOf("/");
    if (slash < 0) return null;
    const ip = IP.parse(s.substring(0, slash));
    if (ip === null) return null;
    const n = s.length;
    if (slash + 1 >= n) return null;
    let prefix = 0;
    for (let i = slash + 1; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return null;
      prefix = prefix * 10 + (c - 0x30);
      if (prefix > 0xffff) return null;
    }
    if (prefix > ip.bits) return null;
    return new Cidr(ip, prefix);
  }

  get bits(): i32 {
    return this.ip.bits;
  }

  /** The network address (host bits cleared). */
  network(): IP {
    return this.ip.masked(this.prefix);
  }

  /** The last address of the prefix: IPv4 broadcast, or the top of an IPv6 prefix. */
  broadcast(): IP {
    return this.ip.filled(this.prefix);
  }

  /** The netmask as an address. */
  mask(): IP {
    return maskFromPrefix(this.prefix, this.ip.v4);
  }

  /** The prefix with host bits cleared ("10.1.2.0/24"). */
  networkCidr(): Cidr {
    return new Cidr(this.network(), this.prefix);
  }

  /**
   * Whether ip lies in this prefix, as Go's IPNet.Contains: IPv4 addresses (including
   * IPv4-mapped ones) are only in IPv4 prefixes (including ::ffff:0:0/96 and longer, compared
   * on their last 32 bits), IPv6 addresses only in IPv6 prefixes.
   */
  contains(ip: IP): bool {
    const net4 = this.ip.is4();
    if (net4 != ip.is4()) return false;
    if (net4) {
      const p = this.ip.v4 ? this.prefix : max(this.prefix - 96, 0);
      const m = <u32>maskFromPrefix(p, true).lo;
      return (<u32>ip.lo & m) == (<u32>this.ip.lo & m);
    }
    const m = maskFromPrefix(this.prefix, false);
    return (ip.hi & m.hi) == (this.ip.hi & m.hi) && (ip.lo & m.lo) == (this.ip.lo & m.lo);
  }

  /** Whether the two prefixes share any address (same family only). */
  overlaps(o: Cidr): bool {
    if (this.ip.v4 != o.ip.v4) return false;
    return this.contains(o.network()) || o.contains(this.network());
  }

  /** Number of host bits (32 - prefix or 128 - prefix). */
  hostBits(): i32 {
    return this.bits - this.prefix;
  }

  /**
   * "ip/prefix" with the address as given (host bits kept, as CNI results carry them). An
   * IPv6-family IPv4-mapped address keeps its "::ffff:" form here, so that the text parses back
   * to the same prefix ("1.2.3.4/120" would not); host/cni/ipaddr.ts prints it the same way.
   */
  toString(): string {
    return this.ip.toStringKeep6() + "/" + this.prefix.toString();
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** A dotted quad in s[start, end) as a u32 in an i64, or -1. */
function parse4(s: string, start: i32, end: i32): i64 {
  let value: i64 = 0;
  let fields = 0;
  let i = start;
  while (fields < 4) {
    if (i >= end) return -1;
    let v = 0;
    let digits = 0;
    const first = i;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      digits++;
      i++;
      if (digits > 3) return -1;
    }
    if (digits == 0 || v > 255) return -1;
    if (digits > 1 && s.charCodeAt(first) == 0x30) return -1; // leading zero: ambiguous (octal)
    value = (value << 8) | v;
    fields++;
    if (fields == 4) return i == end ? value : -1;
    if (i >= end || s.charCodeAt(i) != 0x2e) return -1;
    i++;
  }
  return -1;
}

function parse6(s: string): IP | null {
  const n = s.length;
  // 8 groups of 16 bits.
  const groups = new StaticArray<u32>(8);
  let count = 0; // groups filled
  let ellipsis = -1; // group index where "::" stands
  let i = 0;
  if (n >= 2 && s.charCodeAt(0) == 0x3a && s.charCodeAt(1) == 0x3a) {
    ellipsis = 0;
    i = 2;
    if (i == n) return IP.fromU64s(0, 0);
  }
  while (i < n) {
    // A group: up to 4 hex digits, or a trailing dotted quad.
    let v: u32 = 0;
    let digits = 0;
    const start = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      let h: i32 = -1;
      if (c >= 0x30 && c <= 0x39) h = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) h = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) h = c - 0x41 + 10;
      if (h < 0) break;
      v = (v << 4) | <u32>h;
      digits++;
      i++;
    }
    if (i < n && s.charCodeAt(i) == 0x2e) {
      // Embedded IPv4: must be last and need two groups of room.
      if (ellipsis < 0 && count != 6) return null;
      if (count + 2 > 8) return null;
      const q = parse4(s, start, n);
      if (q < 0) return null;
      groups[count++] = <u32>(q >> 16);
      groups[count++] = <u32>q & 0xffff;
      i = n;
      break;
    }
    if (digits == 0 || digits > 4) return null;
    if (count == 8) return null;
    groups[count++] = v;
    if (i == n) break;
    // Separator: ':' or '::'.
    if (s.charCodeAt(i) != 0x3a) return null; // includes '%' (zones are refused)
    i++;
    if (i < n && s.charCodeAt(i) == 0x3a) {
      if (ellipsis >= 0) return null; // a second "::"
      ellipsis = count;
      i++;
      if (i == n) break;
    } else if (i == n) {
      return null; // trailing single ':'
    }
  }
  if (ellipsis >= 0) {
    if (count == 8) return null; // "::" must stand for at least one group
    // Move the groups after the ellipsis to the end.
    const tail = count - ellipsis;
    for (let k = tail - 1; k >= 0; k--) groups[8 - tail + k] = groups[ellipsis + k];
    for (let k = ellipsis; k < 8 - tail; k++) groups[k] = 0;
  } else if (count != 8) {
    return null;
  }
  let hi: u64 = 0;
  let lo: u64 = 0;
  for (let k = 0; k < 4; k++) hi = (hi << 16) | <u64>groups[k];
  for (let k = 4; k < 8; k++) lo = (lo << 16) | <u64>groups[k];
  return IP.fromU64s(hi, lo);
}

// ---------------------------------------------------------------------------------------------
// Formatting

function write4(out: StrBuf, v: u32): void {
  out.addUint(<u64>(v >> 24)).addCode(0x2e);
  out.addUint(<u64>((v >> 16) & 0xff)).addCode(0x2e);
  out.addUint(<u64>((v >> 8) & 0xff)).addCode(0x2e);
  out.addUint(<u64>(v & 0xff));
}

const HEXDIGITS = "0123456789abcdef";

function group(hi: u64, lo: u64, k: i32): u32 {
  return k < 4 ? <u32>((hi >> (<u64>(3 - k) << 4)) & 0xffff) : <u32>((lo >> (<u64>(7 - k) << 4)) & 0xffff);
}

function write6(out: StrBuf, hi: u64, lo: u64, mappedAsDotted: bool): void {
  if (mappedAsDotted && hi == 0 && (lo >> 32) == 0xffff) {
    out.add("::ffff:");
    write4(out, <u32>lo);
    return;
  }
  // The first longest run of at least two zero groups is written "::".
  let bestStart = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (group(hi, lo, k) != 0) {
      k++;
      continue;
    }
    let j = k;
    while (j < 8 && group(hi, lo, j) == 0) j++;
    if (j - k > bestLen) {
      bestStart = k;
      bestLen = j - k;
    }
    k = j;
  }
  for (let k = 0; k < 8; k++) {
    if (k == bestStart) {
      out.add("::");
      k += bestLen - 1;
      continue;
    }
    if (k > 0 && k != bestStart + bestLen) out.addCode(0x3a);
    const g = group(hi, lo, k);
    let started = false;
    for (let shift = 12; shift >= 0; shift -= 4) {
      const d = (g >> <u32>shift) & 0xf;
      if (d != 0 || started || shift == 0) {
        out.addCode(HEXDIGITS.charCodeAt(<i32>d));
        started = true;
      }
    }
  }
}
