// Text helpers with the semantics of Go's strings package and encoding/json, for plugins that
// must read and write exactly what a Go reference plugin reads and writes (state files, CNI_ARGS,
// resolv.conf, configuration keys).
//
//   isSpace(c)          unicode.IsSpace
//   trimSpace(s)        strings.TrimSpace
//   fields(s)           strings.Fields
//   equalFoldKey(a, b)  how encoding/json matches an object key to a field name: ASCII letters
//                       case-insensitively, plus the two non-ASCII folds Go applies to ASCII
//                       names ('k' ~ U+212A KELVIN SIGN, 's' ~ U+017F LATIN SMALL LETTER LONG S)
//   memberFold(obj, k)  the value encoding/json would decode into a field named k: the last
//                       member whose key folds equal to k; null when absent or JSON null
//   quoteGo(s)          strconv.Quote (what fmt's %q prints), for messages

import { JsonValue } from "./json";
import { StrBuf } from "./strbuf";

/** unicode.IsSpace, for UTF-16 code units (every Go space is in the BMP). */
export function isSpace(c: i32): bool {
  if (c <= 0xff) return c == 0x20 || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0;
  return c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/** strings.TrimSpace: s without leading and trailing white space. */
export function trimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s.charCodeAt(a))) a++;
  while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
  return a == 0 && b == s.length ? s : s.substring(a, b);
}

/** strings.Fields: the runs of non-space characters of s. */
export function fields(s: string): Array<string> {
  const out = new Array<string>();
  const n = s.length;
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(s.charCodeAt(i))) i++;
    const start = i;
    while (i < n && !isSpace(s.charCodeAt(i))) i++;
    if (i > start) out.push(s.substring(start, i));
  }
  return out;
}

function foldUnit(c: i32): i32 {
  if (c >= 0x41 && c <= 0x5a) return c + 0x20;
  if (c == 0x212a) return 0x6b; // KELVIN SIGN ~ k
  if (c == 0x17f) return 0x73; // LONG S ~ s
  return c;
}

/** Does JSON key `key` select the field named `name` (an ASCII name) in Go's encoding/json? */
export function equalFoldKey(key: string, name: string): bool {
  if (key.length != name.length) return false;
  for (let i = 0, n = key.length; i < n; i++) {
    const a = key.charCodeAt(i);
    const b = name.charCodeAt(i);
    if (a == b) continue;
    if (foldUnit(a) != foldUnit(b)) return false;
  }
  return true;
}

/**
 * The member of `obj` that Go's encoding/json would decode into a field named `name`: the last
 * member whose key equals `name` up to case folding (later members overwrite earlier ones).
 * Null when there is none, when it is JSON null (Go leaves the field unset), or when obj is not
 * an object.
 */
export function memberFold(obj: JsonValue | null, name: string): JsonValue | null {
  if (obj === null || !obj.isObject()) return null;
  const keys = obj.keys();
  for (let i = keys.length - 1; i >= 0; i--) {
    if (equalFoldKey(unchecked(keys[i]), name)) {
      const v = obj.valueAt(i);
      if (v === null || v.isNull()) return null;
      return v;
    }
  }
  return null;
}

const HEX = "0123456789abcdef";

/** strconv.Quote for text: "..." with \" \\ \a \b \f \n \r \t \v and \xNN / \uNNNN escapes. */
export function quoteGo(s: string): string {
  const out = new StrBuf(s.length + 2);
  out.addCode(0x22);
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c) {
      out.addCode(0x5c).addCode(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out.addCode(c);
    } else if (c == 0x07) out.add("\\a");
    else if (c == 0x08) out.add("\\b");
    else if (c == 0x0c) out.add("\\f");
    else if (c == 0x0a) out.add("\\n");
    else if (c == 0x0d) out.add("\\r");
    else if (c == 0x09) out.add("\\t");
    else if (c == 0x0b) out.add("\\v");
    else if (c < 0x20 || c == 0x7f) {
      out.add("\\x").addCode(HEX.charCodeAt(c >> 4)).addCode(HEX.charCodeAt(c & 0xf));
    } else if ((c >= 0x80 && c < 0xa0) || c == 0xad) {
      // C1 controls and the soft hyphen are not printable in Go.
      out.add("\\u00").addCode(HEX.charCodeAt(c >> 4)).addCode(HEX.charCodeAt(c & 0xf));
    } else {
      out.addCode(c);
    }
  }
  out.addCode(0x22);
  return out.toString();
}
