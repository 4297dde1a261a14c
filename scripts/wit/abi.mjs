// Canonical ABI computations (component-model design/mvp/CanonicalABI.md, wasm32,
// string-encoding=utf8), over the types resolved by parser.mjs.
//
// Mirrors the spec's definitions: despecialize, alignment, elem_size,
// discriminant_type, flatten_type (with `join` for variant payloads) and
// flatten_functype with MAX_FLAT_PARAMS / MAX_FLAT_RESULTS.

import { unalias } from './parser.mjs';

export const MAX_FLAT_PARAMS = 16;
export const MAX_FLAT_RESULTS = 1;
export const PTR_SIZE = 4;
/** Spec limits on the byte length of a string or a list. */
export const MAX_STRING_BYTE_LENGTH = (1 << 28) - 1;
export const MAX_LIST_BYTE_LENGTH = (1 << 28) - 1;

/**
 * The spec's `despecialize`: tuple -> record, enum -> variant without payloads,
 * option -> variant { none, some(T) }, result -> variant { ok(T?), error(E?) }.
 * Returns { kind: 'prim'|'list'|'record'|'variant'|'flags', ... } with fields/cases
 * as { name, type } (type null for payload-less cases).
 */
export function despecialize(t) {
  t = unalias(t);
  switch (t.kind) {
    case 'prim': case 'list': return t;
    case 'tuple': return { kind: 'record', fields: t.elems.map((e, i) => ({ name: String(i), type: e })) };
    case 'option': return { kind: 'variant', cases: [{ name: 'none', type: null }, { name: 'some', type: t.inner }] };
    case 'result': return { kind: 'variant', cases: [{ name: 'ok', type: t.ok }, { name: 'error', type: t.err }] };
    case 'named': {
      const d = t.def;
      switch (d.kind) {
        case 'record': return { kind: 'record', fields: d.fields };
        case 'variant': return { kind: 'variant', cases: d.cases };
        case 'enum': return { kind: 'variant', cases: d.cases.map((c) => ({ name: c.name, type: null })) };
        case 'flags': return { kind: 'flags', labels: d.cases.map((c) => c.name) };
      }
    }
  }
  throw new Error(`despecialize: unexpected type ${t.kind}`);
}

const PRIM_SIZE = {
  bool: 1, u8: 1, s8: 1, u16: 2, s16: 2, u32: 4, s32: 4, u64: 8, s64: 8, f32: 4, f64: 8, char: 4,
  string: 2 * PTR_SIZE,
};
const PRIM_ALIGN = { ...PRIM_SIZE, string: PTR_SIZE };
const PRIM_FLAT = {
  bool: ['i32'], u8: ['i32'], s8: ['i32'], u16: ['i32'], s16: ['i32'], u32: ['i32'], s32: ['i32'],
  u64: ['i64'], s64: ['i64'], f32: ['f32'], f64: ['f64'], char: ['i32'], string: ['i32', 'i32'],
};

export function alignTo(ptr, alignment) {
  return Math.ceil(ptr / alignment) * alignment;
}

/** The unsigned integer type that holds a variant's case index. */
export function discriminantType(n) {
  if (!(n > 0 && n < 2 ** 32)) throw new Error(`bad case count ${n}`);
  switch (Math.ceil(Math.log2(n) / 8)) {
    case 0: case 1: return 'u8';
    case 2: return 'u16';
    case 3: return 'u32';
  }
  throw new Error('unreachable');
}
const prim = (name) => ({ kind: 'prim', name });

function flagsSize(labels) {
  const n = labels.length;
  return n <= 8 ? 1 : n <= 16 ? 2 : 4;
}

export function alignment(t) {
  const d = despecialize(t);
  switch (d.kind) {
    case 'prim': return PRIM_ALIGN[d.name];
    case 'list': return PTR_SIZE;
    case 'record': return d.fields.reduce((a, f) => Math.max(a, alignment(f.type)), 1);
    case 'variant': return Math.max(alignment(prim(discriminantType(d.cases.length))), maxCaseAlignment(d.cases));
    case 'flags': return flagsSize(d.labels);
  }
  throw new Error('unreachable');
}

export function maxCaseAlignment(cases) {
  let a = 1;
  for (const c of cases) if (c.type) a = Math.max(a, alignment(c.type));
  return a;
}

export function elemSize(t) {
  const d = despecialize(t);
  switch (d.kind) {
    case 'prim': return PRIM_SIZE[d.name];
    case 'list': return 2 * PTR_SIZE;
    case 'record': {
      let s = 0;
      for (const f of d.fields) {
        s = alignTo(s, alignment(f.type));
        s += elemSize(f.type);
      }
      if (s === 0) throw new Error('empty record');
      return alignTo(s, alignment(t));
    }
    case 'variant': {
      let s = elemSize(prim(discriminantType(d.cases.length)));
      s = alignTo(s, maxCaseAlignment(d.cases));
      let cs = 0;
      for (const c of d.cases) if (c.type) cs = Math.max(cs, elemSize(c.type));
      s += cs;
      return alignTo(s, alignment(t));
    }
    case 'flags': return flagsSize(d.labels);
  }
  throw new Error('unreachable');
}

/** Byte offsets of a record's (or tuple's) fields. */
export function fieldOffsets(t) {
  const d = despecialize(t);
  if (d.kind !== 'record') throw new Error('fieldOffsets: not a record');
  const out = [];
  let s = 0;
  for (const f of d.fields) {
    s = alignTo(s, alignment(f.type));
    out.push(s);
    s += elemSize(f.type);
  }
  return out;
}

/** Offset of a variant's payload from its start. */
export function payloadOffset(t) {
  const d = despecialize(t);
  if (d.kind !== 'variant') throw new Error('payloadOffset: not a variant');
  return alignTo(elemSize(prim(discriminantType(d.cases.length))), maxCaseAlignment(d.cases));
}

export function join(a, b) {
  if (a === b) return a;
  if ((a === 'i32' && b === 'f32') || (a === 'f32' && b === 'i32')) return 'i32';
  return 'i64';
}

export function flattenType(t) {
  const d = despecialize(t);
  switch (d.kind) {
    case 'prim': return [...PRIM_FLAT[d.name]];
    case 'list': return ['i32', 'i32'];
    case 'record': return d.fields.flatMap((f) => flattenType(f.type));
    case 'variant': {
      const flat = [];
      for (const c of d.cases) {
        if (!c.type) continue;
        flattenType(c.type).forEach((ft, i) => {
          if (i < flat.length) flat[i] = join(flat[i], ft);
          else flat.push(ft);
        });
      }
      return [...flattenType(prim(discriminantType(d.cases.length))), ...flat];
    }
    case 'flags': return ['i32'];
  }
  throw new Error('unreachable');
}

export function flattenTypes(ts) {
  return ts.flatMap((t) => flattenType(t));
}

/**
 * The core signature of a function, as the spec's flatten_functype for a sync
 * function. context 'lower' = an import the guest calls (results over a retptr
 * param); 'lift' = an export the host calls (results returned as one pointer).
 * Returns { params, results, paramsInMemory, resultsInMemory }.
 */
export function flattenFunc(fn, context) {
  const paramTypes = fn.params.map((p) => p.type);
  const resultTypes = fn.result ? [fn.result] : [];
  let params = flattenTypes(paramTypes);
  let results = flattenTypes(resultTypes);
  const paramsInMemory = params.length > MAX_FLAT_PARAMS;
  const resultsInMemory = results.length > MAX_FLAT_RESULTS;
  if (paramsInMemory) params = ['i32'];
  if (resultsInMemory) {
    if (context === 'lift') results = ['i32'];
    else { params = [...params, 'i32']; results = []; }
  }
  return { params, results, paramsInMemory, resultsInMemory };
}

/** A tuple of the given types, as the spec uses for params/results in memory. */
export function tupleOf(ts) {
  return { kind: 'tuple', elems: ts };
}
