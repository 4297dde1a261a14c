// Container addresses as CIDRs ("10.1.0.2/24", "fd00::2/64"): parsed to bytes, with the
// first and last address of their subnet. Small on purpose: only what masquerade needs.
import { SysError } from '../errors.ts';

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

function bad(text: string, why: string): never {
  throw new SysError('EINVAL', `masquerade.address ${JSON.stringify(text)}`, `invalid address: ${why}`);
}

function parseV4(s: string): Buffer | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const b = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const part = m[i + 1]!;
    if (part.length > 1 && part.startsWith('0')) return undefined; // no octal-looking parts
    const v = Number(part);
    if (v > 255) return undefined;
    b[i] = v;
  }
  return b;
}

function parseV6(s: string): Buffer | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let head = s;
  let v4tail: Buffer | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    v4tail = parseV4(s.slice(lastColon + 1));
    if (!v4tail) return undefined;
    head = s.slice(0, lastColon + 1) + '0:0'; // placeholder groups, replaced below
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] | undefined => (h === '' ? [] : h.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (!left || !right) return undefined;
  const total = left.length + right.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const all = [...left, ...Array<string>(8 - total).fill('0'), ...right];
  const b = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) {
    const g = all[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    b.writeUInt16BE(parseInt(g, 16), i * 2);
  }
  if (v4tail) v4tail.copy(b, 12);
  return b;
}

export function formatAddr(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  // RFC 5952: lower case, longest run (>1) of zero groups as "::"
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Parse "addr/prefix" (a bare address means a host route: /32 or /128). */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string' || text.length > 64) bad(String(text), 'not a string of sane length');
  const [a, p, extra] = text.split('/');
  if (extra !== undefined || a === undefined) bad(text, 'more than one "/"');
  const v4 = parseV4(a);
  const addr = v4 ?? parseV6(a);
  if (!addr) bad(text, 'not an IPv4 or IPv6 address');
  const family = addr.length === 4 ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (p !== undefined) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) bad(text, `prefix must be 0-${max}`);
    prefix = Number(p);
  }
  const first = Buffer.from(addr);
  const last = Buffer.from(addr);
  for (let bit = prefix; bit < max; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    first[byte]! &= ~mask;
    last[byte]! |= mask;
  }
  return { family, addr, prefix, first, last, text: formatAddr(addr), subnetText: `${formatAddr(first)}/${prefix}` };
}
