// A bounds-checked cursor over WebAssembly binary data (core modules and components share
// the encodings: LEB128 integers, length-prefixed UTF-8 names, length-prefixed sections).
// Everything read here may come from a hostile file: every read checks its bounds and every
// malformed encoding throws WasmFormatError with the byte offset.

export class WasmFormatError extends Error {
  readonly offset: number;
  constructor(msg: string, offset: number) {
    super(`${msg} (at byte ${offset})`);
    this.name = 'WasmFormatError';
    this.offset = offset;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class ByteReader {
  pos: number;
  readonly end: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    end = bytes.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  fail(msg: string, at = this.pos): never {
    throw new WasmFormatError(msg, at);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('unexpected end of data');
    return this.bytes[this.pos++] as number;
  }

  /** Unsigned LEB128, at most 32 bits (5 bytes), as the spec's u32. */
  u32(): number {
    const at = this.pos;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4 && b & 0x70) this.fail('u32 out of range', at);
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
    }
    return this.fail('u32 too long', at);
  }

  /** Unsigned LEB128 up to 64 bits, as a bigint (memory64 limits). */
  u64(): bigint {
    const at = this.pos;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
    return this.fail('u64 too long', at);
  }

  /** Signed LEB128 up to 33 bits (type indices vs. negative type codes). */
  s33(): number {
    const at = this.pos;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) {
        if (b & 0x40) result -= 2 ** shift;
        return result;
      }
    }
    return this.fail('s33 too long', at);
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) this.fail(`length ${n} runs past the end of its container`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(n: number): void {
    if (n < 0 || this.pos + n > this.end) this.fail(`length ${n} runs past the end of its container`);
    this.pos += n;
  }

  /** A length-prefixed UTF-8 name. */
  name(): string {
    const at = this.pos;
    const n = this.u32();
    if (n > this.end - this.pos) this.fail(`length ${n} runs past the end of its container`);
    const start = this.pos;
    this.pos += n;
    // Nearly every name is ASCII: building it from the bytes is several times cheaper than a
    // TextDecoder call or a subarray in cold code (this runs once per process, unoptimised).
    const b = this.bytes;
    let s = '';
    for (let i = start; i < start + n; i++) {
      const c = b[i] as number;
      if (c >= 0x80) {
        try {
          return utf8.decode(b.subarray(start, start + n));
        } catch {
          return this.fail('name is not valid UTF-8', at);
        }
      }
      s += String.fromCharCode(c);
    }
    return s;
  }
}

/** A plain Uint8Array view (Node's Buffer overrides subarray with slower JS). */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** One section: id, payload range, and the range of the whole section (id byte to end). */
export interface SectionSpan {
  id: number;
  /** Offset of the id byte. */
  start: number;
  /** Payload [payloadStart, end). */
  payloadStart: number;
  end: number;
}

/** The sections after an 8-byte preamble. */
export function sections(bytes: Uint8Array, from = 8): SectionSpan[] {
  const r: ByteReader = new ByteReader(bytes, from);
  const out: SectionSpan[] = [];
  while (!r.atEnd) {
    const start = r.pos;
    const id = r.u8();
    const size = r.u32();
    const payloadStart = r.pos;
    r.skip(size);
    out.push({ id, start, payloadStart, end: r.pos });
  }
  return out;
}

/** Encode an unsigned LEB128 (u32 or a safe-integer u64). */
export function encodeU32(n: number): number[] {
  const out: number[] = [];
  let v = n;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

export const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d] as const;

export function hasMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && WASM_MAGIC.every((b, i) => bytes[i] === b);
}
