// MAC addresses as Go's net.ParseMAC reads the 6-byte forms (the only ones an Ethernet link
// takes): 00:00:5e:00:53:01, 00-00-5e-00-53-01, 0000.5e00.5301; printed lowercase with colons.

function hexVal(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

const HEX = "0123456789abcdef";

/** The MAC in canonical form (lowercase, colons), or null when s is not a 6-byte MAC. */
export function parseMac(s: string): string | null {
  const bytes = new Array<i32>();
  const n = s.length;
  if (n == 17 && (s.charCodeAt(2) == 0x3a || s.charCodeAt(2) == 0x2d)) {
    const sep = s.charCodeAt(2);
    for (let i = 0; i < 6; i++) {
      const p = i * 3;
      if (i > 0 && s.charCodeAt(p - 1) != sep) return null;
      const h = hexVal(s.charCodeAt(p));
      const l = hexVal(s.charCodeAt(p + 1));
      if (h < 0 || l < 0) return null;
      bytes.push((h << 4) | l);
    }
  } else if (n == 14 && s.charCodeAt(4) == 0x2e && s.charCodeAt(9) == 0x2e) {
    for (let g = 0; g < 3; g++) {
      const p = g * 5;
      for (let k = 0; k < 2; k++) {
        const h = hexVal(s.charCodeAt(p + k * 2));
        const l = hexVal(s.charCodeAt(p + k * 2 + 1));
        if (h < 0 || l < 0) return null;
        bytes.push((h << 4) | l);
      }
    }
  } else {
    return null;
  }
  let out = "";
  for (let i = 0; i < 6; i++) {
    if (i > 0) out += ":";
    const b = unchecked(bytes[i]);
    out += HEX.charAt(b >> 4) + HEX.charAt(b & 0xf);
  }
  return out;
}
