// Reader for a WebAssembly component binary (component model, layer 1): the preamble, the
// section walk, the core modules it embeds (also inside nested components), the top-level
// import and export names, the canonical-ABI options it uses, and custom sections. It does
// not validate types: it collects what verify.ts needs to accept or refuse a plugin.
import { ByteReader, WasmFormatError, hasMagic, plainBytes, sections } from './bytes.ts';
import type { CustomSection } from './core-module.ts';

/** The component binary version wit-component emits (pre-standard 0xd). */
export const COMPONENT_VERSION = 0x0d;

export type ComponentSort = 'core-module' | 'core' | 'func' | 'value' | 'type' | 'component' | 'instance';

export interface ComponentExtern {
  name: string;
  kind: ComponentSort;
}

export interface EmbeddedModule {
  /** Position among all core modules, in file order. */
  index: number;
  /** 0 for the component's own modules, more for modules inside nested components. */
  depth: number;
  /** Offset of the module's preamble in the file. */
  offset: number;
  bytes: Uint8Array;
}

export interface CanonUse {
  op: 'lift' | 'lower' | 'builtin';
  /** The canon opcode (0 lift, 1 lower, others are built-ins: resources, async, threads...). */
  opcode: number;
  stringEncoding: 'utf8' | 'utf16' | 'latin1+utf16';
  /** Options this reader does not know or the host does not support (async, callback...). */
  unsupported: string[];
}

export interface ComponentInfo {
  imports: ComponentExtern[];
  exports: ComponentExtern[];
  modules: EmbeddedModule[];
  canon: CanonUse[];
  custom: CustomSection[];
  nestedComponents: number;
}

export type BinaryKind = 'component' | 'core-module' | 'other';

/** What the first 8 bytes say. */
export function binaryKind(bytes: Uint8Array): { kind: BinaryKind; version: number } {
  if (!hasMagic(bytes)) return { kind: 'other', version: 0 };
  const version = (bytes[4] as number) | ((bytes[5] as number) << 8);
  const layer = (bytes[6] as number) | ((bytes[7] as number) << 8);
  if (layer === 0) return { kind: 'core-module', version };
  if (layer === 1) return { kind: 'component', version };
  return { kind: 'other', version };
}

function externName(r: ByteReader): string {
  const at = r.pos;
  const tag = r.u8();
  // 0x00 is the current encoding; 0x01 marked interface names in older binaries.
  if (tag !== 0x00 && tag !== 0x01) r.fail(`unknown extern name encoding 0x${tag.toString(16)}`, at);
  return r.name();
}

function externDesc(r: ByteReader): ComponentSort {
  const at = r.pos;
  const b = r.u8();
  switch (b) {
    case 0x00: {
      if (r.u8() !== 0x11) r.fail('unknown core extern kind', at);
      r.u32();
      return 'core-module';
    }
    case 0x01:
      r.u32();
      return 'func';
    case 0x02:
      r.s33();
      return 'value';
    case 0x03: {
      const bound = r.u8();
      if (bound === 0x00) r.u32();
      else if (bound !== 0x01) r.fail('unknown type bound', at);
      return 'type';
    }
    case 0x04:
      r.u32();
      return 'component';
    case 0x05:
      r.u32();
      return 'instance';
    default:
      return r.fail(`unknown extern kind 0x${b.toString(16)}`, at);
  }
}

function sortIdx(r: ByteReader): ComponentSort {
  const at = r.pos;
  const b = r.u8();
  let sort: ComponentSort;
  if (b === 0x00) {
    sort = r.u8() === 0x11 ? 'core-module' : 'core';
  } else {
    const s = (['func', 'value', 'type', 'component', 'instance'] as const)[b - 1];
    if (!s) r.fail(`unknown sort 0x${b.toString(16)}`, at);
    sort = s;
  }
  r.u32();
  return sort;
}

const ENCODINGS = ['utf8', 'utf16', 'latin1+utf16'] as const;

function canonOpts(r: ByteReader, use: CanonUse): void {
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const o = r.u8();
    if (o <= 0x02) use.stringEncoding = ENCODINGS[o] as CanonUse['stringEncoding'];
    else if (o === 0x03 || o === 0x04 || o === 0x05) r.u32();
    else if (o === 0x06) use.unsupported.push('async');
    else if (o === 0x07) {
      r.u32();
      use.unsupported.push('callback');
    } else {
      use.unsupported.push(`option 0x${o.toString(16)}`);
      // Its payload is unknown: the rest of the section cannot be read.
      throw new WasmFormatError(`canonical option 0x${o.toString(16)}`, at);
    }
  }
}

/** Decode a component's structure. Throws WasmFormatError when it is malformed or not a component. */
export function readComponent(bytes: Uint8Array): ComponentInfo {
  const info: ComponentInfo = { imports: [], exports: [], modules: [], canon: [], custom: [], nestedComponents: 0 };
  walk(plainBytes(bytes), 0, 0, info);
  return info;
}

function walk(bytes: Uint8Array, base: number, depth: number, info: ComponentInfo): void {
  const { kind, version } = binaryKind(bytes);
  if (kind !== 'component') throw new WasmFormatError('not a WebAssembly component', base);
  if (version !== COMPONENT_VERSION) {
    throw new WasmFormatError(`component binary version ${version} is not supported (expected ${COMPONENT_VERSION})`, base + 4);
  }
  for (const s of sections(bytes)) {
    const r: ByteReader = new ByteReader(bytes, s.payloadStart, s.end);
    switch (s.id) {
      case 0:
        if (depth === 0) info.custom.push({ name: r.name(), data: bytes.subarray(r.pos, s.end) });
        break;
      case 1:
        info.modules.push({ index: info.modules.length, depth, offset: base + s.payloadStart, bytes: bytes.subarray(s.payloadStart, s.end) });
        break;
      case 4:
        info.nestedComponents++;
        walk(bytes.subarray(s.payloadStart, s.end), base + s.payloadStart, depth + 1, info);
        break;
      case 8: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const opcode = r.u8();
          const use: CanonUse = { op: 'builtin', opcode, stringEncoding: 'utf8', unsupported: [] };
          info.canon.push(use);
          if (opcode === 0x00 || opcode === 0x01) {
            if (r.u8() !== 0x00) r.fail('canon lift/lower of a non-function');
            use.op = opcode === 0x00 ? 'lift' : 'lower';
            r.u32();
            canonOpts(r, use);
            if (opcode === 0x00) r.u32();
          } else {
            // Resource, async, thread built-ins: the host provides none; stop reading here.
            break;
          }
        }
        break;
      }
      case 10:
        if (depth === 0) {
          const n = r.u32();
          for (let i = 0; i < n; i++) {
            const name = externName(r);
            info.imports.push({ name, kind: externDesc(r) });
          }
        }
        break;
      case 11:
        if (depth === 0) {
          const n = r.u32();
          for (let i = 0; i < n; i++) {
            const name = externName(r);
            const kind = sortIdx(r);
            const hasType = r.u8();
            if (hasType === 0x01) externDesc(r);
            else if (hasType !== 0x00) r.fail('bad export type ascription');
            info.exports.push({ name, kind });
          }
        }
        break;
      default:
        break;
    }
  }
}
