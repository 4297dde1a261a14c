// JSON for plugins: a strict RFC 8259 parser into a dynamic value, and a serializer that
// escapes like Go's encoding/json (what the reference plugins and libcni print).
//
// AssemblyScript has no exceptions worth using here (with the stub runtime `throw` aborts the
// instance), so parsing returns a JsonParseResult carrying either the value or an error message
// with the UTF-16 offset where the input went wrong.
//
// Numbers keep the literal they were parsed from: serializing a parsed value gives the number
// back byte for byte (1.50 stays 1.50, 12345678901234567890 keeps every digit), and integers
// that fit in i64 are available exactly through asInt().

import { StrBuf } from "./strbuf";

export enum JsonKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

/** Nesting limit for arrays and objects unless the caller gives another. */
export const JSON_DEFAULT_MAX_DEPTH: i32 = 128;

export class JsonValue {
  readonly kind: JsonKind;
  private b: bool = false;
  private num: f64 = 0;
  private ival: i64 = 0;
  /** The number is an integer literal that fits in i64 (or was built from an i64). */
  private exactInt: bool = false;
  /** String value, or the literal text of a parsed number ("" for a built one). */
  private text: string = "";
  /** Array elements, or object member values. */
  private items: Array<JsonValue> | null = null;
  /** Object member names, parallel to items; insertion order is kept. */
  private names: Array<string> | null = null;

  constructor(kind: JsonKind) {
    this.kind = kind;
    if (kind == JsonKind.Array) this.items = new Array<JsonValue>();
    else if (kind == JsonKind.Object) {
      this.items = new Array<JsonValue>();
      this.names = new Array<string>();
    }
  }

  // ---- construction ----

  static newNull(): JsonValue {
    return new JsonValue(JsonKind.Null);
  }
  static ofBool(b: bool): JsonValue {
    const v = new JsonValue(JsonKind.Bool);
    v.b = b;
    return v;
  }
  static ofNumber(n: f64): JsonValue {
    const v = new JsonValue(JsonKind.Number);
    v.num = n;
    // -0 stays a float so that it prints as "-0", as Go does.
    if (isFinite(n) && n == Math.trunc(n) && Math.abs(n) < 9007199254740992.0 && !(n == 0 && 1.0 / n < 0)) {
      v.exactInt = true;
      v.ival = <i64>n;
    }
    return v;
  }
  static ofInt(i: i64): JsonValue {
    const v = new JsonValue(JsonKind.Number);
    v.num = <f64>i;
    v.ival = i;
    v.exactInt = true;
    return v;
  }
  static ofString(s: string): JsonValue {
    const v = new JsonValue(JsonKind.String);
    v.text = s;
    return v;
  }
  static newArray(): JsonValue {
    return new JsonValue(JsonKind.Array);
  }
  static newObject(): JsonValue {
    return new JsonValue(JsonKind.Object);
  }
  /** A number from its JSON literal; the caller guarantees the grammar. */
  static fromLiteral(text: string, value: f64, exactInt: bool, ival: i64): JsonValue {
    const v = new JsonValue(JsonKind.Number);
    v.text = text;
    v.num = value;
    v.exactInt = exactInt;
    v.ival = ival;
    return v;
  }

  // ---- kind tests ----

  isNull(): bool {
    return this.kind == JsonKind.Null;
  }
  isBool(): bool {
    return this.kind == JsonKind.Bool;
  }
  isNumber(): bool {
    return this.kind == JsonKind.Number;
  }
  isString(): bool {
    return this.kind == JsonKind.String;
  }
  isArray(): bool {
    return this.kind == JsonKind.Array;
  }
  isObject(): bool {
    return this.kind == JsonKind.Object;
  }
  /** A number with an integral value that asInt() returns exactly. */
  isInteger(): bool {
    return this.kind == JsonKind.Number && this.exactInt;
  }

  // ---- scalar access (a neutral value when the kind differs) ----

  asBool(): bool {
    return this.kind == JsonKind.Bool && this.b;
  }
  asNumber(): f64 {
    return this.kind == JsonKind.Number ? this.num : 0;
  }
  /** The integer value; 0 unless isInteger(). */
  asInt(): i64 {
    return this.kind == JsonKind.Number && this.exactInt ? this.ival : 0;
  }
  asString(): string {
    return this.kind == JsonKind.String ? this.text : "";
  }

  // ---- arrays and objects ----

  /** Elements of an array, members of an object, 0 otherwise. */
  get length(): i32 {
    const items = this.items;
    return items ? items.length : 0;
  }

  /** Array element i, or null when out of range or not an array. */
  at(i: i32): JsonValue | null {
    if (this.kind != JsonKind.Array) return null;
    const items = this.items!;
    return i >= 0 && i < items.length ? unchecked(items[i]) : null;
  }

  push(v: JsonValue): JsonValue {
    if (this.kind == JsonKind.Array) this.items!.push(v);
    return this;
  }

  /** Object member names in order; empty for other kinds. */
  keys(): Array<string> {
    const names = this.names;
    return names ? names.slice(0) : new Array<string>();
  }

  /** Object member value i (in key order), for iterating with keys(). */
  valueAt(i: i32): JsonValue | null {
    if (this.kind != JsonKind.Object) return null;
    const items = this.items!;
    return i >= 0 && i < items.length ? unchecked(items[i]) : null;
  }

  private indexOf(key: string): i32 {
    const names = this.names;
    if (!names) return -1;
    for (let i = 0, n = names.length; i < n; i++) {
      if (unchecked(names[i]) == key) return i;
    }
    return -1;
  }

  has(key: string): bool {
    return this.indexOf(key) >= 0;
  }

  /** Object member, or null when absent or not an object. A JSON null member is a Null value. */
  get(key: string): JsonValue | null {
    const i = this.indexOf(key);
    return i < 0 ? null : unchecked(this.items![i]);
  }

  /** Sets an object member, keeping the position of an existing one. Returns this. */
  set(key: string, v: JsonValue): JsonValue {
    if (this.kind != JsonKind.Object) return this;
    const i = this.indexOf(key);
    if (i >= 0) this.items![i] = v;
    else {
      this.names!.push(key);
      this.items!.push(v);
    }
    return this;
  }

  /** Removes an object member; false when it was absent. */
  remove(key: string): bool {
    const i = this.indexOf(key);
    if (i < 0) return false;
    this.names!.splice(i, 1);
    this.items!.splice(i, 1);
    return true;
  }

  // Shorthands for the common member kinds: null when absent or of another kind.
  getString(key: string): string | null {
    const v = this.get(key);
    if (v === null || v.kind != JsonKind.String) return null;
    return v.text;
  }
  getObject(key: string): JsonValue | null {
    const v = this.get(key);
    if (v === null || v.kind != JsonKind.Object) return null;
    return v;
  }
  getArray(key: string): JsonValue | null {
    const v = this.get(key);
    if (v === null || v.kind != JsonKind.Array) return null;
    return v;
  }

  // ---- output ----

  /** Compact JSON text. */
  toString(): string {
    const out = new StrBuf(64);
    writeJson(out, this);
    return out.toString();
  }

  /** The number's text: its literal when parsed, else Go's float64 formatting. */
  numberText(): string {
    if (this.text.length > 0) return this.text;
    if (this.exactInt) return this.ival.toString();
    return formatNumber(this.num);
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

export class JsonParseResult {
  constructor(
    public value: JsonValue | null,
    /** Empty on success. */
    public error: string,
    /** UTF-16 offset of the error, -1 on success. */
    public offset: i32,
  ) {}

  get ok(): bool {
    return this.value !== null;
  }
}

/** Parses a complete JSON text (surrounding whitespace allowed, nothing else). */
export function parseJson(text: string, maxDepth: i32 = JSON_DEFAULT_MAX_DEPTH): JsonParseResult {
  const p = new Parser(text, maxDepth);
  p.skipWs();
  const v = p.value();
  if (v) {
    p.skipWs();
    if (p.pos < p.len) {
      p.fail("unexpected " + describeAt(text, p.pos) + " after top-level value");
    } else {
      return new JsonParseResult(v, "", -1);
    }
  }
  return new JsonParseResult(null, p.err + " at offset " + p.errPos.toString(), p.errPos);
}

function describeAt(s: string, pos: i32): string {
  if (pos >= s.length) return "end of input";
  const c = s.charCodeAt(pos);
  if (c < 0x20 || c == 0x7f) return "control character U+" + hex4(c).toUpperCase();
  if (c == 0x27) return "character \"'\"";
  return "character '" + String.fromCharCode(c) + "'";
}

function hex4(c: i32): string {
  const out = new StrBuf(4);
  for (let shift = 12; shift >= 0; shift -= 4) out.addCode(HEX.charCodeAt((c >> shift) & 0xf));
  return out.toString();
}

const HEX = "0123456789abcdef";

function hexVal(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

class Parser {
  pos: i32 = 0;
  len: i32;
  depth: i32 = 0;
  err: string = "";
  errPos: i32 = -1;
  sb: StrBuf = new StrBuf(32);

  constructor(public s: string, public maxDepth: i32) {
    this.len = s.length;
  }

  fail(msg: string): JsonValue | null {
    if (this.errPos < 0) {
      this.err = msg;
      this.errPos = this.pos;
    }
    return null;
  }

  skipWs(): void {
    const s = this.s;
    let p = this.pos;
    while (p < this.len) {
      const c = s.charCodeAt(p);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      p++;
    }
    this.pos = p;
  }

  value(): JsonValue | null {
    if (this.pos >= this.len) return this.fail("unexpected end of input, expecting a value");
    const c = this.s.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: // {
        return this.object();
      case 0x5b: // [
        return this.array();
      case 0x22: {
        // "
        const str = this.string();
        return str === null ? null : JsonValue.ofString(str);
      }
      case 0x74: // t
        return this.literal("true", JsonValue.ofBool(true));
      case 0x66: // f
        return this.literal("false", JsonValue.ofBool(false));
      case 0x6e: // n
        return this.literal("null", JsonValue.newNull());
      default:
        if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail("unexpected " + describeAt(this.s, this.pos) + ", expecting a value");
    }
  }

  literal(word: string, v: JsonValue): JsonValue | null {
    const n = word.length;
    for (let i = 0; i < n; i++) {
      if (this.pos >= this.len) return this.fail("unexpected end of input in literal '" + word + "'");
      if (this.s.charCodeAt(this.pos) != word.charCodeAt(i)) {
        return this.fail("unexpected " + describeAt(this.s, this.pos) + " in literal '" + word + "'");
      }
      this.pos++;
    }
    return v;
  }

  enter(): bool {
    if (++this.depth > this.maxDepth) {
      this.fail("nesting deeper than " + this.maxDepth.toString() + " levels");
      return false;
    }
    return true;
  }

  array(): JsonValue | null {
    if (!this.enter()) return null;
    this.pos++; // [
    const arr = JsonValue.newArray();
    this.skipWs();
    if (this.pos < this.len && this.s.charCodeAt(this.pos) == 0x5d) {
      this.pos++;
      this.depth--;
      return arr;
    }
    while (true) {
      this.skipWs();
      const v = this.value();
      if (!v) return null;
      arr.push(v);
      this.skipWs();
      if (this.pos >= this.len) return this.fail("unexpected end of input in array, expecting ',' or ']'");
      const c = this.s.charCodeAt(this.pos);
      if (c == 0x2c) {
        this.pos++;
        continue;
      }
      if (c == 0x5d) {
        this.pos++;
        break;
      }
      return this.fail("unexpected " + describeAt(this.s, this.pos) + " in array, expecting ',' or ']'");
    }
    this.depth--;
    return arr;
  }

  object(): JsonValue | null {
    if (!this.enter()) return null;
    this.pos++; // {
    const obj = JsonValue.newObject();
    this.skipWs();
    if (this.pos < this.len && this.s.charCodeAt(this.pos) == 0x7d) {
      this.pos++;
      this.depth--;
      return obj;
    }
    while (true) {
      this.skipWs();
      if (this.pos >= this.len) return this.fail("unexpected end of input in object, expecting a member name");
      if (this.s.charCodeAt(this.pos) != 0x22) {
        return this.fail("unexpected " + describeAt(this.s, this.pos) + " in object, expecting a member name");
      }
      const key = this.string();
      if (key === null) return null;
      this.skipWs();
      if (this.pos >= this.len) return this.fail("unexpected end of input in object, expecting ':'");
      if (this.s.charCodeAt(this.pos) != 0x3a) {
        return this.fail("unexpected " + describeAt(this.s, this.pos) + " in object, expecting ':'");
      }
      this.pos++;
      this.skipWs();
      const v = this.value();
      if (!v) return null;
      // A repeated name: the last value wins (Go, JavaScript), at the first one's position.
      obj.set(key, v);
      this.skipWs();
      if (this.pos >= this.len) return this.fail("unexpected end of input in object, expecting ',' or '}'");
      const c = this.s.charCodeAt(this.pos);
      if (c == 0x2c) {
        this.pos++;
        continue;
      }
      if (c == 0x7d) {
        this.pos++;
        break;
      }
      return this.fail("unexpected " + describeAt(this.s, this.pos) + " in object, expecting ',' or '}'");
    }
    this.depth--;
    return obj;
  }

  /** A string starting at the opening quote; null on error. */
  string(): string | null {
    const s = this.s;
    const start = ++this.pos;
    // Fast path: no escapes.
    let p = start;
    while (p < this.len) {
      const c = s.charCodeAt(p);
      if (c == 0x22) {
        this.pos = p + 1;
        return s.substring(start, p);
      }
      if (c == 0x5c || c < 0x20) break;
      p++;
    }
    const sb = this.sb;
    sb.clear();
    sb.addSlice(s, start, p);
    while (true) {
      if (p >= this.len) {
        this.pos = p;
        this.fail("unexpected end of input in string");
        return null;
      }
      const c = s.charCodeAt(p);
      if (c == 0x22) {
        this.pos = p + 1;
        return sb.toString();
      }
      if (c < 0x20) {
        this.pos = p;
        this.fail("unexpected " + describeAt(s, p) + " in string (control characters must be escaped)");
        return null;
      }
      if (c != 0x5c) {
        sb.addCode(c);
        p++;
        continue;
      }
      // Escape.
      if (p + 1 >= this.len) {
        this.pos = p + 1;
        this.fail("unexpected end of input in string escape");
        return null;
      }
      const e = s.charCodeAt(p + 1);
      let out: i32 = -1;
      switch (e) {
        case 0x22: out = 0x22; break; // \"
        case 0x5c: out = 0x5c; break; // \\
        case 0x2f: out = 0x2f; break; // \/
        case 0x62: out = 0x08; break; // \b
        case 0x66: out = 0x0c; break; // \f
        case 0x6e: out = 0x0a; break; // \n
        case 0x72: out = 0x0d; break; // \r
        case 0x74: out = 0x09; break; // \t
        case 0x75: break; // \u
        default: {
          this.pos = p + 1;
          this.fail("invalid escape '\\" + String.fromCharCode(e) + "' in string");
          return null;
        }
      }
      if (out >= 0) {
        sb.addCode(out);
        p += 2;
        continue;
      }
      const u = this.hexEscape(p);
      if (u < 0) return null;
      p += 6;
      if (u >= 0xd800 && u < 0xdc00) {
        // A high surrogate must be followed by an escaped low one; otherwise it stands for
        // U+FFFD, as in Go (a lone surrogate cannot be encoded in UTF-8).
        if (p + 1 < this.len && s.charCodeAt(p) == 0x5c && s.charCodeAt(p + 1) == 0x75) {
          const lo = this.hexEscape(p);
          if (lo < 0) return null;
          if (lo >= 0xdc00 && lo < 0xe000) {
            sb.addCode(u);
            sb.addCode(lo);
            p += 6;
            continue;
          }
        }
        sb.addCode(0xfffd);
        continue;
      }
      if (u >= 0xdc00 && u < 0xe000) {
        sb.addCode(0xfffd);
        continue;
      }
      sb.addCode(u);
    }
  }

  /** The code unit of the \uXXXX escape at p; -1 (error recorded) when malformed. */
  hexEscape(p: i32): i32 {
    let u = 0;
    for (let i = 2; i < 6; i++) {
      if (p + i >= this.len) {
        this.pos = this.len;
        this.fail("unexpected end of input in \\u escape");
        return -1;
      }
      const h = hexVal(this.s.charCodeAt(p + i));
      if (h < 0) {
        this.pos = p + i;
        this.fail("invalid " + describeAt(this.s, p + i) + " in \\u escape");
        return -1;
      }
      u = (u << 4) | h;
    }
    return u;
  }

  number(): JsonValue | null {
    const s = this.s;
    const start = this.pos;
    let p = start;
    let neg = false;
    if (s.charCodeAt(p) == 0x2d) {
      neg = true;
      p++;
    }
    if (p >= this.len) {
      this.pos = p;
      return this.fail("unexpected end of input in number");
    }
    let c = s.charCodeAt(p);
    // Integer part: 0 or [1-9][0-9]*. Accumulate as a negative u64-free value to reach i64.MIN.
    let acc: i64 = 0;
    let fits = true;
    if (c == 0x30) {
      p++;
    } else if (c >= 0x31 && c <= 0x39) {
      while (p < this.len) {
        c = s.charCodeAt(p);
        if (c < 0x30 || c > 0x39) break;
        const d = <i64>(c - 0x30);
        // acc is kept <= 0 so that i64.MIN_VALUE is reachable.
        if (acc < (i64.MIN_VALUE + d) / 10) fits = false;
        else acc = acc * 10 - d;
        p++;
      }
    } else {
      this.pos = p;
      return this.fail("unexpected " + describeAt(s, p) + " in number, expecting a digit");
    }
    let integral = true;
    if (p < this.len && s.charCodeAt(p) == 0x2e) {
      integral = false;
      p++;
      const digits = p;
      while (p < this.len && s.charCodeAt(p) >= 0x30 && s.charCodeAt(p) <= 0x39) p++;
      if (p == digits) {
        this.pos = p;
        return this.fail("unexpected " + describeAt(s, p) + " after decimal point, expecting a digit");
      }
    }
    if (p < this.len && (s.charCodeAt(p) | 0x20) == 0x65) {
      integral = false;
      p++;
      if (p < this.len && (s.charCodeAt(p) == 0x2b || s.charCodeAt(p) == 0x2d)) p++;
      const digits = p;
      while (p < this.len && s.charCodeAt(p) >= 0x30 && s.charCodeAt(p) <= 0x39) p++;
      if (p == digits) {
        this.pos = p;
        return this.fail("unexpected " + describeAt(s, p) + " in exponent, expecting a digit");
      }
    }
    this.pos = p;
    const text = s.substring(start, p);
    if (integral && fits && !(!neg && acc == i64.MIN_VALUE)) {
      const iv = neg ? acc : -acc;
      // Beyond 2^53 the double comes from the text so that it is correctly rounded.
      const fv = acc > -9007199254740992 ? <f64>iv : parseFloat(text);
      return JsonValue.fromLiteral(text, neg && iv == 0 ? -0.0 : fv, true, iv);
    }
    return JsonValue.fromLiteral(text, parseFloat(text), false, 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Serializing

/** JSON text of a value (compact). Same as v.toString(). */
export function stringifyJson(v: JsonValue): string {
  return v.toString();
}

/** A JSON string literal for s, with quotes, escaped as Go's encoding/json does. */
export function quoteJson(s: string): string {
  const out = new StrBuf(s.length + 2);
  writeString(out, s);
  return out.toString();
}

export function writeJson(out: StrBuf, v: JsonValue): void {
  switch (v.kind) {
    case JsonKind.Null:
      out.add("null");
      break;
    case JsonKind.Bool:
      out.add(v.asBool() ? "true" : "false");
      break;
    case JsonKind.Number:
      out.add(v.numberText());
      break;
    case JsonKind.String:
      writeString(out, v.asString());
      break;
    case JsonKind.Array: {
      out.addCode(0x5b);
      for (let i = 0, n = v.length; i < n; i++) {
        if (i) out.addCode(0x2c);
        writeJson(out, v.at(i)!);
      }
      out.addCode(0x5d);
      break;
    }
    case JsonKind.Object: {
      out.addCode(0x7b);
      const keys = v.keys();
      for (let i = 0, n = keys.length; i < n; i++) {
        if (i) out.addCode(0x2c);
        writeString(out, unchecked(keys[i]));
        out.addCode(0x3a);
        writeJson(out, v.valueAt(i)!);
      }
      out.addCode(0x7d);
      break;
    }
  }
}

/**
 * Appends s as a JSON string literal. Escapes as Go's json.Marshal: \" \\ \n \r \t \b \f,
 * other control characters and < > & U+2028 U+2029 as \u00xx / \u2028; a lone surrogate
 * (not representable in UTF-8) becomes \ufffd.
 */
export function writeString(out: StrBuf, s: string): void {
  out.addCode(0x22);
  const n = s.length;
  let run = 0; // start of the pending unescaped run
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let esc = "";
    if (c < 0x20 || c == 0x22 || c == 0x5c || c == 0x3c || c == 0x3e || c == 0x26 || c == 0x2028 || c == 0x2029) {
      switch (c) {
        case 0x22: esc = "\\\""; break;
        case 0x5c: esc = "\\\\"; break;
        case 0x0a: esc = "\\n"; break;
        case 0x0d: esc = "\\r"; break;
        case 0x09: esc = "\\t"; break;
        case 0x08: esc = "\\b"; break;
        case 0x0c: esc = "\\f"; break;
        default: esc = "\\u" + hex4(c);
      }
    } else if (c >= 0xd800 && c < 0xe000) {
      if (c < 0xdc00 && i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          i++; // a valid pair stays in the run
          continue;
        }
      }
      esc = "\\ufffd";
    } else {
      continue;
    }
    out.addSlice(s, run, i);
    out.add(esc);
    run = i + 1;
  }
  out.addSlice(s, run, n);
  out.addCode(0x22);
}

/**
 * A float64 as Go's encoding/json (and JavaScript) print it: shortest round-trip digits,
 * exponent form below 1e-6 and from 1e21 ("1e-7", "1e+21"), no ".0" on integral values.
 * NaN and infinities have no JSON form; they print as null.
 */
export function formatNumber(n: f64): string {
  if (!isFinite(n)) return "null";
  if (n == 0) return (1.0 / n) < 0 ? "-0" : "0";
  if (n == Math.trunc(n) && Math.abs(n) < 9.223372036854775e18) return (<i64>n).toString();
  const s = n.toString();
  if (s.endsWith(".0")) return s.substring(0, s.length - 2);
  return s;
}
