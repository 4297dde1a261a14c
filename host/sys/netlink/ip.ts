// IP and MAC address text <-> bytes, for netlink attributes. Strict: anything that
// is not a plain IPv4 dotted quad, an IPv6 address (RFC 4291 text forms, with an
// optional embedded IPv4 tail) or a 6-byte MAC is refused with EINVAL.
import { SysError } from '../errors.ts';

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_BRIDGE = 7;
export const AF_INET6 = 10;

export type Family = 4 | 6;

export interface IpPrefix {
  family: Family;
  /** Address text as given, normalised (IPv6 in RFC 5952 form). */
  address: string;
  bytes: Buffer;
  prefixLen: number;
}

export function afOf(family: Family): number {
  return family === 4 ? AF_INET : AF_INET6;
}

export function familyOfAf(af: number): Family | undefined {
  return af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
}

function bad(what: string, value: string): SysError {
  return new SysError('EINVAL', 'ip.parse', `"${value}" is not a valid ${what}`);
}

function parseV4(s: string): Buffer | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseV6(s: string): Buffer | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || s.length < 2) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseV4(p);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  let all: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return undefined;
    all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  } else {
    all = head;
  }
  if (all.length !== 8) return undefined;
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}

/** An address without prefix: '10.0.0.1', 'fd00::1'. */
export function parseIp(text: string, family?: Family): { family: Family; bytes: Buffer } {
  const v4 = family !== 6 ? parseV4(text) : undefined;
  if (v4) return { family: 4, bytes: v4 };
  const v6 = family !== 4 && text.includes(':') ? parseV6(text) : undefined;
  if (v6) return { family: 6, bytes: v6 };
  throw bad(family ? `IPv${family} address` : 'IP address', text);
}

/** 'addr/len' (or a bare address: /32 or /128). */
export function parsePrefix(text: string, family?: Family): IpPrefix {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const { family: f, bytes } = parseIp(addr, family);
  const max = f === 4 ? 32 : 128;
  let prefixLen = max;
  if (slash >= 0) {
    const l = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(l) || Number(l) > max) throw bad('prefix length', text);
    prefixLen = Number(l);
  }
  return { family: f, address: formatIp(bytes), bytes, prefixLen };
}

/** Bytes (4 or 16) → text; IPv6 in RFC 5952 form (longest zero run compressed, lower case). */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) return Buffer.from(b).toString('hex');
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The network part of a prefix (host bits cleared), as the kernel requires for route destinations. */
export function networkOf(bytes: Buffer, prefixLen: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const bits = Math.max(0, Math.min(8, prefixLen - i * 8));
    out[i] = out[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/** IPv4 broadcast address of a prefix. */
export function broadcastOf(bytes: Buffer, prefixLen: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const bits = Math.max(0, Math.min(8, prefixLen - i * 8));
    out[i] = out[i]! | (~(0xff << (8 - bits)) & 0xff);
  }
  return out;
}

export function parseMac(text: string): Buffer {
  if (!/^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$/.test(text)) throw bad('MAC address', text);
  return Buffer.from(text.replace(/[:-]/g, ''), 'hex');
}

export function formatMac(b: Uint8Array | undefined): string | undefined {
  if (!b || b.length === 0) return undefined;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
