// Just enough of the WebAssembly binary format to walk sections of a core module or a
// component, read the memory limits, and append or replace a custom section. No dependencies,
// so the build, tests and (later) the host's `plugin build` command can all use it.

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
export const CORE_PREAMBLE = Uint8Array.of(...MAGIC, 0x01, 0x00, 0x00, 0x00);
/** version 0x0d, layer 1: a component (component-model binary format). */
export const COMPONENT_PREAMBLE = Uint8Array.of(...MAGIC, 0x0d, 0x00, 0x01, 0x00);

export class WasmFormatError extends Error {
  constructor(message) {
    super(message);
    this.name = 'WasmFormatError';
  }
}

/** 'module' | 'component', from the 8-byte preamble (the layer field tells them apart). */
export function binaryKind(bytes) {
  if (bytes.length < 8 || !MAGIC.every((b, i) => bytes[i] === b)) throw new WasmFormatError('not a WebAssembly binary (bad magic)');
  const layer = bytes[6] | (bytes[7] << 8);
  if (layer === 0 && bytes[4] === 1 && bytes[5] === 0) return 'module';
  if (layer === 1) return 'component';
  throw new WasmFormatError(`unknown WebAssembly version/layer ${[...bytes.subarray(4, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
}

/** Unsigned LEB128 at pos: [value, next pos]. */
export function readU32(bytes, pos) {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (pos >= bytes.length) throw new WasmFormatError('truncated LEB128');
    const b = bytes[pos++];
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result >>> 0, pos];
    shift += 7;
  }
  throw new WasmFormatError('LEB128 longer than 5 bytes');
}

export function encodeU32(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return Uint8Array.from(out);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Top-level sections: { id, start (of the id byte), end, payloadStart, name? (custom sections) }.
 * Works for modules and components (same framing).
 */
export function sections(bytes) {
  binaryKind(bytes);
  const out = [];
  let pos = 8;
  while (pos < bytes.length) {
    const start = pos;
    const id = bytes[pos++];
    const [size, p] = readU32(bytes, pos);
    const end = p + size;
    if (end > bytes.length) throw new WasmFormatError(`section ${id} at ${start} runs past the end`);
    const s = { id, start, end, payloadStart: p };
    if (id === 0) {
      const [len, q] = readU32(bytes, p);
      if (q + len > end) throw new WasmFormatError(`custom section name at ${start} runs past the section`);
      s.name = utf8.decode(bytes.subarray(q, q + len));
      s.payloadStart = q + len;
    }
    out.push(s);
    pos = end;
  }
  return out;
}

/** Payloads of the custom sections named `name`, in order. */
export function customSections(bytes, name) {
  return sections(bytes)
    .filter((s) => s.id === 0 && s.name === name)
    .map((s) => bytes.subarray(s.payloadStart, s.end));
}

/** A copy of the binary without custom sections named `name`, with one holding `payload` appended. */
export function setCustomSection(bytes, name, payload) {
  const keep = sections(bytes).filter((s) => !(s.id === 0 && s.name === name));
  const nameBytes = new TextEncoder().encode(name);
  const nameLen = encodeU32(nameBytes.length);
  const body = nameLen.length + nameBytes.length + payload.length;
  const size = encodeU32(body);
  const parts = [bytes.subarray(0, 8), ...keep.map((s) => bytes.subarray(s.start, s.end)), Uint8Array.of(0), size, nameLen, nameBytes, payload];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Limits of a core module's defined memories: [{ min, max | undefined, shared, memory64 }]. */
export function memoryLimits(module) {
  const sec = sections(module).find((s) => s.id === 5);
  if (!sec) return [];
  let [count, pos] = readU32(module, sec.payloadStart);
  const out = [];
  while (count-- > 0) {
    const flags = module[pos++];
    let min;
    let max;
    [min, pos] = readU32(module, pos);
    if (flags & 1) [max, pos] = readU32(module, pos);
    out.push({ min, max, shared: (flags & 2) !== 0, memory64: (flags & 4) !== 0 });
  }
  return out;
}

/**
 * The core modules a component embeds at its top level (section id 1), in order. `jco new`
 * puts the plugin's own module first, followed by wit-component's small shim modules.
 */
export function componentCoreModules(component) {
  if (binaryKind(component) !== 'component') throw new WasmFormatError('not a component');
  return sections(component)
    .filter((s) => s.id === 1)
    .map((s) => component.subarray(s.payloadStart, s.end));
}
