// Netlink attributes (struct nlattr: u16 len, u16 type, payload, padding to 4 bytes),
// encoded and decoded by hand for rtnetlink (links, addresses, routes, neighbours) and
// nf_tables. Encoders return one Buffer each, already padded; a message is a list of
// them after its fixed header. Decoders walk a payload once and read only the types
// they need, skipping the rest by length (see scanAttrs).
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

const align4 = (n: number): number => (n + 3) & ~3;

/** One attribute: 4-byte header, payload, zero padding. */
export function attr(type: number, payload: Uint8Array | readonly Uint8Array[]): Buffer {
  const parts = payload instanceof Uint8Array ? [payload] : payload;
  let len = 4;
  for (const p of parts) len += p.length;
  if (len > 0xffff) throw new RangeError(`netlink attribute ${type & NLA_TYPE_MASK} too long (${len} bytes)`);
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  let off = 4;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A nested attribute. `flagNested` sets NLA_F_NESTED (required by IFLA_PROTINFO for bridge ports). */
export function nest(type: number, children: readonly Uint8Array[], flagNested = false): Buffer {
  return attr(flagNested ? type | NLA_F_NESTED : type, children);
}

export const u8 = (type: number, v: number): Buffer => attr(type, Buffer.of(v & 0xff));

export function u16(type: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v, 0);
  return attr(type, b);
}

export function u16be(type: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return attr(type, b);
}

export function u32(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return attr(type, b);
}

/** NUL-terminated string. */
export const str = (type: number, s: string): Buffer => attr(type, Buffer.from(`${s}\0`, 'utf8'));

export const flag = (type: number): Buffer => attr(type, Buffer.alloc(0));

/** Attributes of a nested payload by type (flags stripped); the last one of a type wins. */
export function parseNested(data: Buffer): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  for (const a of parseAttrList(data)) m.set(a.type, a.data);
  return m;
}

/** Every attribute in order, flags stripped (for repeated types like IFLA_BRIDGE_VLAN_INFO). */
export function parseAttrList(data: Buffer): { type: number; data: Buffer }[] {
  const out: { type: number; data: Buffer }[] = [];
  let off = 0;
  while (off + 4 <= data.length) {
    const len = data.readUInt16LE(off);
    const type = data.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    if (len < 4 || off + len > data.length) break;
    out.push({ type, data: data.subarray(off + 4, off + len) });
    off += align4(len);
  }
  return out;
}

// Little-endian reads by byte arithmetic: in a fresh process each Buffer#readUInt*
// method costs a lazy compile and a bounds-checking call on first use, which is most
// of what a cold decode costs. Callers check lengths (the attribute walk does).
export const rdU16 = (b: Uint8Array, off: number): number => b[off]! | (b[off + 1]! << 8);
export const rdS32 = (b: Uint8Array, off: number): number => b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24);
export const rdU32 = (b: Uint8Array, off: number): number => rdS32(b, off) >>> 0;

/**
 * Walk the attributes in b[start, end): `visit(type, off, len)` gets each attribute's
 * type (flags stripped) and where its payload is in `b` (no copy, no subarray). A
 * truncated or malformed tail ends the walk, as in the kernel's nla_for_each_attr.
 */
export function scanAttrs(b: Buffer, start: number, end: number, visit: (type: number, off: number, len: number) => void): void {
  let off = start;
  while (off + 4 <= end) {
    const len = rdU16(b, off);
    if (len < 4 || off + len > end) return;
    visit(rdU16(b, off + 2) & NLA_TYPE_MASK, off + 4, len - 4);
    off += align4(len);
  }
}

/** A NUL-terminated (or unterminated) string payload at b[off, off + len). */
export function strAt(b: Buffer, off: number, len: number): string {
  const end = off + len;
  let i = off;
  while (i < end && b[i] !== 0) i++;
  return b.toString('utf8', off, i);
}

/** A payload as its own Buffer (a view, not a copy). */
export const bytesAt = (b: Buffer, off: number, len: number): Buffer => b.subarray(off, off + len);

/** Read a NUL-terminated string attribute. */
export function readStr(b: Buffer | undefined): string | undefined {
  if (!b) return undefined;
  const end = b.indexOf(0);
  return b.toString('utf8', 0, end < 0 ? b.length : end);
}
