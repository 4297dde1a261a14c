// IP address and CIDR parsing for CNI results: validate, tell the family, and print the canonical
// text Go's net package prints (lowercase, RFC 5952 "::" compression), so a result that passes
// through us reads the same as one that passed through a Go plugin.

export type IpFamily = 4 | 6;

export interface ParsedIP {
  family: IpFamily;
  /** Canonical text. */
  text: string;
}

export interface ParsedCIDR extends ParsedIP {
  prefix: number;
}

/** Four octets, or undefined. Leading zeros are refused (Go refuses them: octal or decimal is ambiguous). */
function parseIPv4Octets(s: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const out: number[] = [];
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** Eight 16-bit groups, or undefined. Zones ("%eth0") are refused, as Go's ParseIP/ParseCIDR do. */
function parseIPv6Groups(input: string): number[] | undefined {
  let s = input;
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return undefined;
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    // Embedded IPv4 in the last 32 bits: rewrite it as two hex groups.
    const o = parseIPv4Octets(tail);
    if (!o) return undefined;
    s = `${s.slice(0, lastColon + 1)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string): number[] | undefined => {
    if (h === '') return [];
    const groups: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      groups.push(parseInt(g, 16));
    }
    return groups;
  };
  const left = parse(halves[0]!);
  if (!left) return undefined;
  if (halves.length === 1) return left.length === 8 ? left : undefined;
  const right = parse(halves[1]!);
  if (!right) return undefined;
  // "::" stands for at least one zero group.
  const missing = 8 - left.length - right.length;
  if (missing < 1) return undefined;
  return [...left, ...new Array<number>(missing).fill(0), ...right];
}

function formatIPv6(g: number[]): string {
  // IPv4-mapped addresses keep the dotted tail (RFC 5952 §5). Go would print them as bare IPv4
  // and call them family 4, which breaks their CIDR text; we keep them IPv6.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `::ffff:${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  }
  // Longest run of two or more zero groups becomes "::"; the first wins a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** A bare IP address ("10.0.0.1", "fd00::1"), or undefined when it is not one. */
export function parseIP(s: string): ParsedIP | undefined {
  if (s.includes(':')) {
    const g = parseIPv6Groups(s);
    return g ? { family: 6, text: formatIPv6(g) } : undefined;
  }
  const o = parseIPv4Octets(s);
  return o ? { family: 4, text: o.join('.') } : undefined;
}

/**
 * An address with prefix length ("10.0.0.2/24"); the host bits are kept, as CNI results carry
 * the interface address, not the network.
 */
export function parseCIDR(s: string): ParsedCIDR | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const len = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(len)) return undefined;
  const prefix = Number(len);
  if (prefix > (ip.family === 4 ? 32 : 128)) return undefined;
  return { family: ip.family, text: `${ip.text}/${prefix}`, prefix };
}
