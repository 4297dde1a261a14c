// Reads the function imports and exports of a core wasm module with their
// signatures (type, import, function and export sections only). Used to check
// generated signatures against modules made by other tools (jco's dummy module).

const VALTYPES = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };

export function coreSignatures(wasm) {
  const bytes = wasm instanceof Uint8Array ? wasm : new Uint8Array(wasm);
  const dec = new TextDecoder('utf-8', { fatal: true });
  let pos = 8;
  const u32 = () => {
    let r = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[pos++];
      r += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return r;
      shift += 7;
    }
  };
  const name = () => { const n = u32(); const s = dec.decode(bytes.subarray(pos, pos + n)); pos += n; return s; };
  const types = [];
  const funcTypes = []; // type index per function index (imports first)
  const imports = [];
  const exports = [];
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const size = u32();
    const end = pos + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        if (bytes[pos++] !== 0x60) throw new Error('unsupported type form');
        const params = Array.from({ length: u32() }, () => VALTYPES[bytes[pos++]]);
        const results = Array.from({ length: u32() }, () => VALTYPES[bytes[pos++]]);
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        const module = name();
        const field = name();
        const kind = bytes[pos++];
        if (kind === 0) { const t = u32(); funcTypes.push(t); imports.push({ module, name: field, ...types[t] }); }
        else if (kind === 1) { pos++; const f = u32(); u32(); if (f & 1) u32(); }
        else if (kind === 2) { const f = u32(); u32(); if (f & 1) u32(); }
        else if (kind === 3) { pos += 2; }
        else throw new Error(`unsupported import kind ${kind}`);
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) funcTypes.push(u32());
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const field = name();
        const kind = bytes[pos++];
        const index = u32();
        if (kind === 0) exports.push({ name: field, ...types[funcTypes[index]] });
      }
    }
    pos = end;
  }
  return { imports, exports };
}
