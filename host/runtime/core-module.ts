// Reader for a core WebAssembly module: what the host checks before compiling a plugin's
// main module (imports with their function types, exports, defined memories and tables,
// custom sections), and a rewriter that lowers the maximum of every defined memory and
// table to a cap. Only the sections needed for that are decoded; the others are walked
// by length and left to V8's validation at compile time.
import { ByteReader, WasmFormatError, encodeU32, hasMagic, plainBytes, sections, type SectionSpan } from './bytes.ts';

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';
export type ExternKind = 'func' | 'table' | 'memory' | 'global' | 'tag';

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

export interface WasmLimits {
  min: number;
  max: number | undefined;
  shared: boolean;
  /** memory64 / table64: the host refuses these. */
  is64: boolean;
}

export interface CoreImport {
  module: string;
  name: string;
  kind: ExternKind;
  /** For functions. */
  type?: FuncType;
  /** For memories and tables. */
  limits?: WasmLimits;
}

export interface CoreExport {
  name: string;
  kind: ExternKind;
  index: number;
  /** For functions. */
  type?: FuncType;
}

export interface TableDecl {
  refType: ValType;
  limits: WasmLimits;
}

export interface CustomSection {
  name: string;
  data: Uint8Array;
}

export interface CoreModuleInfo {
  imports: CoreImport[];
  exports: CoreExport[];
  /** Memories the module defines (imported ones are in `imports`). */
  memories: WasmLimits[];
  tables: TableDecl[];
  custom: CustomSection[];
  hasStart: boolean;
  /** Where the memory and table sections are, for the rewriter. */
  memorySection: SectionSpan | undefined;
  tableSection: SectionSpan | undefined;
}

const KINDS: readonly ExternKind[] = ['func', 'table', 'memory', 'global', 'tag'];

const VALTYPES: Record<number, ValType> = {
  0x7f: 'i32',
  0x7e: 'i64',
  0x7d: 'f32',
  0x7c: 'f64',
  0x7b: 'v128',
  0x70: 'funcref',
  0x6f: 'externref',
};

/** True for a core module preamble (version 1, layer 0). */
export function isCoreModule(bytes: Uint8Array): boolean {
  return hasMagic(bytes) && bytes[4] === 1 && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0;
}

function valType(r: ByteReader): ValType {
  const at = r.pos;
  const b = r.u8();
  const t = VALTYPES[b];
  if (!t) r.fail(`unsupported value type 0x${b.toString(16)} (typed references and GC types are not supported)`, at);
  return t;
}

function vec<T>(r: ByteReader, item: () => T): T[] {
  const n = r.u32();
  // Each item takes at least one byte: a count beyond the remaining bytes is malformed,
  // and checking it first keeps a hostile count from making us allocate.
  if (n > r.end - r.pos) r.fail(`vector of ${n} items cannot fit in ${r.end - r.pos} bytes`);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(item());
  return out;
}

function limits(r: ByteReader, what: 'memory' | 'table'): WasmLimits {
  const at = r.pos;
  const flags = r.u8();
  const allowed = what === 'memory' ? 0x07 : 0x05;
  if (flags & ~allowed) r.fail(`unsupported ${what} limits flags 0x${flags.toString(16)}`, at);
  const is64 = (flags & 0x04) !== 0;
  const read = (): number => (is64 ? Number(r.u64()) : r.u32());
  const min = read();
  const max = flags & 0x01 ? read() : undefined;
  return { min, max, shared: (flags & 0x02) !== 0, is64 };
}

function readFuncType(r: ByteReader): FuncType {
  const at = r.pos;
  const form = r.u8();
  if (form !== 0x60) r.fail(`unsupported type form 0x${form.toString(16)} (only function types are supported)`, at);
  return { params: vec(r, () => valType(r)), results: vec(r, () => valType(r)) };
}

function tableType(r: ByteReader): TableDecl {
  const at = r.pos;
  if (r.bytes[r.pos] === 0x40) r.fail('tables with initialiser expressions are not supported', at);
  const refType = valType(r);
  if (refType !== 'funcref' && refType !== 'externref') r.fail(`table of ${refType}`, at);
  return { refType, limits: limits(r, 'table') };
}

/** Decode what the host checks. Throws WasmFormatError on malformed input. */
export function readCoreModule(input: Uint8Array): CoreModuleInfo {
  const bytes = plainBytes(input);
  if (!isCoreModule(bytes)) throw new WasmFormatError('not a core WebAssembly module (bad magic or version)', 0);
  const types: FuncType[] = [];
  const funcTypeIdx: number[] = [];
  const info: CoreModuleInfo = {
    imports: [],
    exports: [],
    memories: [],
    tables: [],
    custom: [],
    hasStart: false,
    memorySection: undefined,
    tableSection: undefined,
  };
  const typeAt = (r: ByteReader, idx: number): FuncType => {
    const t = types[idx];
    if (!t) r.fail(`type index ${idx} out of range`);
    return t;
  };
  let lastId = 0;
  for (const s of sections(bytes)) {
    const r: ByteReader = new ByteReader(bytes, s.payloadStart, s.end);
    if (s.id !== 0) {
      // Non-custom sections appear at most once, in order (13, data count, sits before code).
      const order = s.id === 12 ? 9.5 : s.id === 13 ? 3.5 : s.id;
      if (order <= lastId) r.fail(`section ${s.id} out of order or repeated`, s.start);
      lastId = order;
    }
    switch (s.id) {
      case 0:
        info.custom.push({ name: r.name(), data: bytes.subarray(r.pos, s.end) });
        continue;
      case 1:
        types.push(...vec(r, () => readFuncType(r)));
        break;
      case 2:
        info.imports = vec(r, (): CoreImport => {
          const module = r.name();
          const name = r.name();
          const at = r.pos;
          const kind = KINDS[r.u8()];
          if (!kind) r.fail('unknown import kind', at);
          switch (kind) {
            case 'func': {
              const idx = r.u32();
              funcTypeIdx.push(idx);
              return { module, name, kind, type: typeAt(r, idx) };
            }
            case 'table':
              return { module, name, kind, limits: tableType(r).limits };
            case 'memory':
              return { module, name, kind, limits: limits(r, 'memory') };
            case 'global':
              valType(r);
              r.u8();
              return { module, name, kind };
            case 'tag':
              r.u8();
              typeAt(r, r.u32());
              return { module, name, kind };
          }
        });
        break;
      case 3:
        funcTypeIdx.push(...vec(r, () => r.u32()));
        break;
      case 4:
        info.tableSection = s;
        info.tables = vec(r, () => tableType(r));
        break;
      case 5:
        info.memorySection = s;
        info.memories = vec(r, () => limits(r, 'memory'));
        break;
      case 7:
        info.exports = vec(r, (): CoreExport => {
          const name = r.name();
          const at = r.pos;
          const kind = KINDS[r.u8()];
          if (!kind) r.fail('unknown export kind', at);
          const index = r.u32();
          if (kind !== 'func') return { name, kind, index };
          const ti = funcTypeIdx[index];
          if (ti === undefined) r.fail(`export "${name}" names function ${index}, which does not exist`, at);
          return { name, kind, index, type: typeAt(r, ti) };
        });
        break;
      case 8:
        info.hasStart = true;
        continue;
      default:
        // Globals, elements, code, data, tags: V8 validates them when compiling.
        continue;
    }
    if (!r.atEnd) r.fail(`section ${s.id} has ${r.end - r.pos} trailing bytes`);
  }
  return info;
}

function encodeLimits(l: WasmLimits): number[] {
  // Only 32-bit, unshared limits are ever re-encoded (the others are refused before).
  return l.max === undefined ? [0x00, ...encodeU32(l.min)] : [0x01, ...encodeU32(l.min), ...encodeU32(l.max)];
}

function replaceSection(bytes: Uint8Array, span: SectionSpan, payload: number[]): Uint8Array {
  const head = [span.id, ...encodeU32(payload.length)];
  const out = new Uint8Array(span.start + head.length + payload.length + (bytes.length - span.end));
  out.set(bytes.subarray(0, span.start), 0);
  out.set(head, span.start);
  out.set(payload, span.start + head.length);
  out.set(bytes.subarray(span.end), span.start + head.length + payload.length);
  return out;
}

export interface Caps {
  /** Maximum memory size in 64 KiB pages. */
  memoryPages: number;
  /** Maximum number of table elements. */
  tableElements: number;
}

/**
 * The module with every defined memory's and table's maximum lowered to the cap (and set
 * where it was missing), so that `memory.grow` / `table.grow` past it fail inside the guest.
 * Refuses (throws RangeError) what cannot be capped: an initial size above the cap, shared
 * or 64-bit memories and tables. Returns the input unchanged when nothing needs lowering.
 */
export function capModule(bytes: Uint8Array, info: CoreModuleInfo, caps: Caps): Uint8Array {
  const lower = (l: WasmLimits, cap: number, what: string): { changed: boolean; limits: WasmLimits } => {
    if (l.is64) throw new RangeError(`${what} is 64-bit`);
    if (l.shared) throw new RangeError(`${what} is shared`);
    if (l.min > cap) throw new RangeError(`${what} starts at ${l.min}, above the cap of ${cap}`);
    if (l.max !== undefined && l.max <= cap) return { changed: false, limits: l };
    return { changed: true, limits: { ...l, max: cap } };
  };
  let out = bytes;
  // The memory section (5) comes after the table section (4): rewrite it first so the
  // table section's offsets stay valid.
  if (info.memorySection && info.memories.length) {
    const lowered = info.memories.map((m, i) => lower(m, caps.memoryPages, `memory ${i} (pages)`));
    if (lowered.some((x) => x.changed)) {
      const payload = [...encodeU32(lowered.length), ...lowered.flatMap((x) => encodeLimits(x.limits))];
      out = replaceSection(out, info.memorySection, payload);
    }
  }
  if (info.tableSection && info.tables.length) {
    const lowered = info.tables.map((t, i) => ({ t, ...lower(t.limits, caps.tableElements, `table ${i} (elements)`) }));
    if (lowered.some((x) => x.changed)) {
      const payload = [
        ...encodeU32(lowered.length),
        ...lowered.flatMap((x) => [x.t.refType === 'funcref' ? 0x70 : 0x6f, ...encodeLimits(x.limits)]),
      ];
      out = replaceSection(out, info.tableSection, payload);
    }
  }
  return out;
}
