// A growable UTF-16 buffer for building strings in one pass. Concatenating with `+` copies
// the whole prefix every time; the serializers (JSON, results, IP text) append here instead.

export class StrBuf {
  private buf: ArrayBuffer;
  /** Length in UTF-16 code units. */
  private len: i32 = 0;

  constructor(capacity: i32 = 64) {
    this.buf = new ArrayBuffer(max(capacity, 8) << 1);
  }

  get length(): i32 {
    return this.len;
  }

  private reserve(extra: i32): void {
    const need = (this.len + extra) << 1;
    let cap = this.buf.byteLength;
    if (need <= cap) return;
    while (cap < need) cap <<= 1;
    const next = new ArrayBuffer(cap);
    memory.copy(changetype<usize>(next), changetype<usize>(this.buf), <usize>this.len << 1);
    this.buf = next;
  }

  /** Appends one UTF-16 code unit. */
  addCode(unit: i32): StrBuf {
    this.reserve(1);
    store<u16>(changetype<usize>(this.buf) + (<usize>this.len << 1), <u16>unit);
    this.len++;
    return this;
  }

  add(s: string): StrBuf {
    const n = s.length;
    if (n == 0) return this;
    this.reserve(n);
    memory.copy(changetype<usize>(this.buf) + (<usize>this.len << 1), changetype<usize>(s), <usize>n << 1);
    this.len += n;
    return this;
  }

  /** Appends s[start, end). */
  addSlice(s: string, start: i32, end: i32): StrBuf {
    const n = end - start;
    if (n <= 0) return this;
    this.reserve(n);
    memory.copy(
      changetype<usize>(this.buf) + (<usize>this.len << 1),
      changetype<usize>(s) + (<usize>start << 1),
      <usize>n << 1,
    );
    this.len += n;
    return this;
  }

  addInt(v: i64): StrBuf {
    return this.add(v.toString());
  }

  addUint(v: u64): StrBuf {
    return this.add(v.toString());
  }

  clear(): void {
    this.len = 0;
  }

  toString(): string {
    return String.UTF16.decodeUnsafe(changetype<usize>(this.buf), <usize>this.len << 1);
  }
}
