// Generates the AssemblyScript side of the plugin ABI, in plugins-as/sdk/generated/:
//   abi.ts       low-level helpers (memory access, scratch allocations, UTF-8, realloc)
//   bindings.ts  WIT types as AS classes/enums, typed wrappers per imported interface
//                (`netlink.getLink(...)`), Result/Some/Unit, the Handler base class
//   exports.ts   the core exports: handler trampolines, their post-return functions and
//                cabi_realloc; a plugin's entry file re-exports it (`export * from`)
//   export-names.json  `__cniw_*` name -> component-model export name, for rename-exports.mjs
//
// AS representations: record -> class with defaulted fields; enum -> AS enum;
// variant -> class { tag: <Name>Tag; val: T } (all payloads of one type);
// option<T> -> `T | null` for reference types, `Some<T> | null` for value types;
// list<T> -> Array<T>; tuple -> TupleN<...>; result<T, E> -> Result<T, E> (Unit for `_`).

import { unalias } from './parser.mjs';
import {
  alignment, despecialize, elemSize, fieldOffsets, flattenFunc, flattenType, payloadOffset,
  discriminantType, tupleOf,
} from './abi.mjs';
import { camel, jsdoc, pascal, typeKey, witName, worldModel } from './names.mjs';

const PRIM_AS = {
  bool: 'bool', u8: 'u8', u16: 'u16', u32: 'u32', s8: 'i8', s16: 'i16', s32: 'i32', char: 'u32', string: 'string',
};
const AS_RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do',
  'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in',
  'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this', 'throw', 'true', 'try',
  'typeof', 'var', 'void', 'while', 'with', 'yield', 'let', 'static', 'implements', 'interface',
  'package', 'private', 'protected', 'public', 'await', 'type', 'namespace', 'declare', 'abstract',
  'readonly', 'module', 'isize', 'usize', 'string', 'bool', 'i32', 'u32', 'i64', 'u64', 'f32', 'f64',
  'load', 'store', 'memory', 'heap', 'abort', 'unreachable', 'changetype',
]);
const RESERVED_TOP = new Set(['Result', 'Some', 'Unit', 'UNIT', 'Handler', 'registerHandler', 'cniwAbort']);

function asIdent(kebab) {
  const n = camel(kebab);
  return AS_RESERVED.has(n) ? `${n}_` : n;
}

function isRef(t) {
  const u = unalias(t);
  switch (u.kind) {
    case 'prim': return u.name === 'string';
    case 'named': return u.def.kind !== 'enum';
    case 'option': return false; // already nullable
    default: return true;
  }
}

function asType(t) {
  if (t === null) return 'Unit';
  switch (t.kind) {
    case 'prim': return PRIM_AS[t.name];
    case 'named': return pascal(t.def.name);
    case 'list': return `Array<${asType(t.elem)}>`;
    case 'option': return isRef(t.inner) ? `${asType(t.inner)} | null` : `Some<${asType(t.inner)}> | null`;
    case 'tuple': return `Tuple${t.elems.length}<${t.elems.map(asType).join(', ')}>`;
    case 'result': return `Result<${asType(t.ok)}, ${asType(t.err)}>`;
  }
  throw new Error(`asType ${t.kind}`);
}

function asDefault(t) {
  const u = unalias(t);
  switch (u.kind) {
    case 'prim': return u.name === 'string' ? '""' : u.name === 'bool' ? 'false' : '0';
    case 'list': return `new ${asType(u)}()`;
    case 'option': return 'null';
    case 'tuple': return `new ${asType(u)}(${u.elems.map(asDefault).join(', ')})`;
    case 'result': throw new Error('result<...> inside a record is not supported by the AS generator');
    case 'named': {
      const d = u.def;
      if (d.kind === 'enum') return `${pascal(d.name)}.${pascal(d.cases[0].name)}`;
      return `new ${pascal(d.name)}()`;
    }
  }
  throw new Error(`asDefault ${u.kind}`);
}

function variantPayload(def) {
  const typed = def.cases.filter((c) => c.type);
  if (typed.length === 0) return null;
  const k = typeKey(typed[0].type);
  if (typed.some((c) => typeKey(c.type) !== k)) {
    throw new Error(`variant '${def.name}': the AS generator needs every payload to have the same type`);
  }
  return typed[0].type;
}

const PRIM_LD = { bool: 'ldBool', u8: 'ld8', u16: 'ld16', u32: 'ld32', s8: 'ldS8', s16: 'ldS16', s32: 'ldS32', char: 'ld32' };
const PRIM_ST = { bool: 'stBool', u8: 'st8', u16: 'st16', u32: 'st32', s8: 'stS8', s16: 'stS16', s32: 'stS32', char: 'st32' };
const DISC_LD = { u8: 'ld8', u16: 'ld16', u32: 'ld32' };
const DISC_ST = { u8: 'st8', u16: 'st16', u32: 'st32' };

function at(p, off) {
  return off === 0 ? p : `${p} + ${off}`;
}

class Helpers {
  constructor() { this.names = new Map(); this.queue = []; this.out = []; }
  need(kind, t, gen) {
    const name = `${kind}${typeKey(t)}`;
    const seen = this.names.get(name);
    if (seen !== undefined && seen !== witName(t)) {
      throw new Error(`helper name ${name} would serve both ${seen} and ${witName(t)}; rename one of the WIT types`);
    }
    if (seen === undefined) {
      this.names.set(name, witName(t));
      this.queue.push(() => this.out.push(gen(name)));
    }
    return name;
  }
  drain() { while (this.queue.length) this.queue.shift()(); return this.out; }
}

class AsGen {
  constructor(wit, worldName) {
    this.m = worldModel(wit, worldName);
    this.h = new Helpers();
    this.tupleArities = new Set();
  }

  // --- memory: load / store --------------------------------------------------

  load(t, p) {
    const u = unalias(t);
    if (u.kind === 'prim') {
      if (u.name === 'string') return `liftString(ld32(${p}), ld32(${at(p, 4)}))`;
      return `${PRIM_LD[u.name]}(${p})`;
    }
    if (u.kind === 'named' && u.def.kind === 'enum') {
      return `<${pascal(u.def.name)}>${DISC_LD[discriminantType(u.def.cases.length)]}(${p})`;
    }
    if (u.kind === 'list') return `${this.liftListFn(u)}(ld32(${p}), ld32(${at(p, 4)}))`;
    return `${this.loadFn(u)}(${p})`;
  }

  store(t, p, v) {
    const u = unalias(t);
    if (u.kind === 'prim') {
      if (u.name === 'string') return `storeString(${p}, ${v});`;
      return `${PRIM_ST[u.name]}(${p}, ${v});`;
    }
    if (u.kind === 'named' && u.def.kind === 'enum') {
      const dt = discriminantType(u.def.cases.length);
      return `${DISC_ST[dt]}(${p}, <${PRIM_AS[dt]}>${v});`;
    }
    return `${this.storeFn(u)}(${p}, ${v});`;
  }

  loadFn(t) {
    return this.h.need('load', t, (name) => {
      const T = asType(t);
      const lines = [`function ${name}(ptr: usize): ${T} {`];
      const d = despecialize(t);
      if (d.kind === 'record' && t.kind === 'tuple') {
        const offs = fieldOffsets(t);
        lines.push(`  return new ${T}(`);
        d.fields.forEach((f, i) => lines.push(`    ${this.load(f.type, at('ptr', offs[i]))},`));
        lines.push('  );');
      } else if (d.kind === 'record') {
        const offs = fieldOffsets(t);
        lines.push(`  const v = new ${T}();`);
        d.fields.forEach((f, i) => lines.push(`  v.${asIdent(f.name)} = ${this.load(f.type, at('ptr', offs[i]))};`));
        lines.push('  return v;');
      } else if (d.kind === 'variant') {
        const po = payloadOffset(t);
        const disc = `${DISC_LD[discriminantType(d.cases.length)]}(ptr)`;
        if (t.kind === 'option') {
          const inner = this.load(t.inner, at('ptr', po));
          lines.push(`  if (${disc} == 0) return null;`);
          lines.push(`  return ${isRef(t.inner) ? inner : `new Some<${asType(t.inner)}>(${inner})`};`);
        } else if (t.kind === 'result') {
          const R = `<${asType(t.ok)}, ${asType(t.err)}>`;
          lines.push(`  if (${disc} == 0) return Result.ok${R}(${t.ok ? this.load(t.ok, at('ptr', po)) : 'UNIT'});`);
          lines.push(`  return Result.err${R}(${t.err ? this.load(t.err, at('ptr', po)) : 'UNIT'});`);
        } else {
          const pt = variantPayload(t.def);
          lines.push(`  const tag = ${disc};`);
          lines.push(`  if (tag >= ${d.cases.length}) unreachable();`);
          if (pt) {
            const payloaded = d.cases.map((c, i) => (c.type ? i : -1)).filter((i) => i >= 0);
            const all = payloaded.length === d.cases.length;
            const val = this.load(pt, at('ptr', po));
            lines.push(`  return new ${T}(<${T}Tag>tag, ${all ? val : `${payloaded.map((i) => `tag == ${i}`).join(' || ')} ? ${val} : ${asDefault(pt)}`});`);
          } else {
            lines.push(`  return new ${T}(<${T}Tag>tag);`);
          }
        }
      } else if (d.kind === 'flags') {
        const size = elemSize(t);
        lines.push(`  const bits = <u32>${size === 1 ? 'ld8' : size === 2 ? 'ld16' : 'ld32'}(ptr);`);
        lines.push(`  const v = new ${T}();`);
        d.labels.forEach((l, i) => lines.push(`  v.${asIdent(l)} = (bits & ${2 ** i >>> 0}) != 0;`));
        lines.push('  return v;');
      }
      lines.push('}');
      return lines;
    });
  }

  storeFn(t) {
    return this.h.need('store', t, (name) => {
      const lines = [`function ${name}(ptr: usize, v: ${asType(t)}): void {`];
      const d = despecialize(t);
      if (t.kind === 'list') {
        lines.push(`  st32(ptr, <u32>${this.lowerListFn(t)}(v));`);
        lines.push('  st32(ptr + 4, <u32>v.length);');
      } else if (d.kind === 'record') {
        const offs = fieldOffsets(t);
        d.fields.forEach((f, i) => {
          const fv = t.kind === 'tuple' ? `v.f${i}` : `v.${asIdent(f.name)}`;
          lines.push(`  ${this.store(f.type, at('ptr', offs[i]), fv)}`);
        });
      } else if (d.kind === 'variant') {
        const po = payloadOffset(t);
        const dst = DISC_ST[discriminantType(d.cases.length)];
        if (t.kind === 'option') {
          lines.push('  if (v === null) {');
          lines.push(`    ${dst}(ptr, 0);`);
          lines.push('  } else {');
          lines.push(`    ${dst}(ptr, 1);`);
          lines.push(`    ${this.store(t.inner, at('ptr', po), isRef(t.inner) ? 'v' : 'v.value')}`);
          lines.push('  }');
        } else if (t.kind === 'result') {
          lines.push('  if (v.isOk) {');
          lines.push(`    ${dst}(ptr, 0);`);
          if (t.ok) lines.push(`    ${this.store(t.ok, at('ptr', po), 'v.value')}`);
          lines.push('  } else {');
          lines.push(`    ${dst}(ptr, 1);`);
          if (t.err) lines.push(`    ${this.store(t.err, at('ptr', po), 'v.error')}`);
          lines.push('  }');
        } else {
          const pt = variantPayload(t.def);
          lines.push(`  ${dst}(ptr, <${PRIM_AS[discriminantType(d.cases.length)]}>v.tag);`);
          if (pt) {
            const payloaded = d.cases.map((c, i) => (c.type ? i : -1)).filter((i) => i >= 0);
            const st = this.store(pt, at('ptr', po), 'v.val');
            if (payloaded.length === d.cases.length) lines.push(`  ${st}`);
            else lines.push(`  if (${payloaded.map((i) => `<i32>v.tag == ${i}`).join(' || ')}) ${st}`);
          }
        }
      } else if (d.kind === 'flags') {
        const size = elemSize(t);
        const terms = d.labels.map((l, i) => `(v.${asIdent(l)} ? ${2 ** i >>> 0} : 0)`);
        lines.push(`  ${size === 1 ? 'st8' : size === 2 ? 'st16' : 'st32'}(ptr, <${size === 1 ? 'u8' : size === 2 ? 'u16' : 'u32'}>(${terms.join(' | ')}));`);
      }
      lines.push('}');
      return lines;
    });
  }

  liftListFn(t) {
    return this.h.need('lift', t, (name) => {
      const size = elemSize(t.elem);
      return [
        `/** Lifts a list the host allocated with cabi_realloc, then frees its element area. */`,
        `function ${name}(ptr: usize, len: usize): ${asType(t)} {`,
        `  const out = new ${asType(t)}(<i32>len);`,
        `  for (let i: usize = 0; i < len; i++) out[<i32>i] = ${this.load(t.elem, `ptr + i * ${size}`)};`,
        '  freeHostBlock(ptr);',
        '  return out;',
        '}',
      ];
    });
  }

  lowerListFn(t) {
    return this.h.need('lower', t, (name) => {
      const size = elemSize(t.elem);
      return [
        `/** Copies a list into a pending allocation; returns its address (0 when empty). */`,
        `function ${name}(v: ${asType(t)}): usize {`,
        '  if (v.length == 0) return 0;',
        `  const base = pendingAlloc(<usize>v.length * ${size});`,
        `  for (let i = 0; i < v.length; i++) ${this.store(t.elem, `base + <usize>i * ${size}`, 'unchecked(v[i])')}`,
        '  return base;',
        '}',
      ];
    });
  }

  // --- flat values -------------------------------------------------------------

  /** AS expression lifting type t from the i32 core values named in `names`. */
  liftFlat(t, names) {
    const u = unalias(t);
    if (u.kind === 'prim') {
      const [a, b] = names;
      switch (u.name) {
        case 'bool': return `${a} != 0`;
        case 'string': return `liftString(<usize>${a}, <usize>${b})`;
        default: return `<${PRIM_AS[u.name]}>${a}`;
      }
    }
    if (u.kind === 'named' && u.def.kind === 'enum') return `<${pascal(u.def.name)}>${names[0]}`;
    if (u.kind === 'list') return `${this.liftListFn(u)}(<usize>${names[0]}, <usize>${names[1]})`;
    return `${this.liftFlatFn(u)}(${names.join(', ')})`;
  }

  liftFlatFn(t) {
    return this.h.need('liftFlat', t, (name) => {
      const n = flattenType(t).length;
      const names = Array.from({ length: n }, (_, i) => `f${i}`);
      const T = asType(t);
      const lines = [`function ${name}(${names.map((x) => `${x}: i32`).join(', ')}): ${T} {`];
      const d = despecialize(t);
      if (d.kind === 'record') {
        let k = 0;
        const parts = d.fields.map((f) => {
          const c = flattenType(f.type).length;
          const e = this.liftFlat(f.type, names.slice(k, k + c));
          k += c;
          return [f, e];
        });
        if (t.kind === 'tuple') {
          lines.push(`  return new ${T}(${parts.map(([, e]) => e).join(', ')});`);
        } else {
          lines.push(`  const v = new ${T}();`);
          for (const [f, e] of parts) lines.push(`  v.${asIdent(f.name)} = ${e};`);
          lines.push('  return v;');
        }
      } else if (d.kind === 'variant') {
        const payload = (ct) => this.liftFlat(ct, names.slice(1, 1 + flattenType(ct).length));
        if (t.kind === 'option') {
          lines.push('  if (f0 == 0) return null;');
          lines.push(`  return ${isRef(t.inner) ? payload(t.inner) : `new Some<${asType(t.inner)}>(${payload(t.inner)})`};`);
        } else if (t.kind === 'result') {
          const R = `<${asType(t.ok)}, ${asType(t.err)}>`;
          lines.push(`  if (f0 == 0) return Result.ok${R}(${t.ok ? payload(t.ok) : 'UNIT'});`);
          lines.push(`  return Result.err${R}(${t.err ? payload(t.err) : 'UNIT'});`);
        } else {
          const pt = variantPayload(t.def);
          lines.push(`  if (<u32>f0 >= ${d.cases.length}) unreachable();`);
          if (pt) {
            const payloaded = d.cases.map((c, i) => (c.type ? i : -1)).filter((i) => i >= 0);
            const all = payloaded.length === d.cases.length;
            lines.push(`  return new ${T}(<${T}Tag>f0, ${all ? payload(pt) : `${payloaded.map((i) => `f0 == ${i}`).join(' || ')} ? ${payload(pt)} : ${asDefault(pt)}`});`);
          } else {
            lines.push(`  return new ${T}(<${T}Tag>f0);`);
          }
        }
      } else if (d.kind === 'flags') {
        lines.push(`  const v = new ${T}();`);
        d.labels.forEach((l, i) => lines.push(`  v.${asIdent(l)} = (f0 & ${2 ** i >>> 0}) != 0;`));
        lines.push('  return v;');
      }
      lines.push('}');
      return lines;
    });
  }

  /**
   * Emits statements into `out` computing the flat i32 core values of expression `v`
   * (type t) into fresh locals; returns their names.
   */
  lowerFlat(t, v, out, ind, fresh) {
    const u = unalias(t);
    if (u.kind === 'prim') {
      if (u.name === 'string') {
        const s = fresh('s');
        const n = fresh('n');
        const p = fresh('p');
        out.push(`${ind}const ${s} = ${v};`);
        out.push(`${ind}const ${n} = utf8Length(${s});`);
        out.push(`${ind}const ${p} = lowerUtf8(${s}, ${n});`);
        return [`<i32>${p}`, `<i32>${n}`];
      }
      if (u.name === 'bool') return [`<i32>(${v})`];
      return [`<i32>${v}`];
    }
    if (u.kind === 'named' && u.def.kind === 'enum') return [`<i32>${v}`];
    if (u.kind === 'list') {
      const l = fresh('l');
      out.push(`${ind}const ${l} = ${v};`);
      return [`<i32>${this.lowerListFn(u)}(${l})`, `${l}.length`];
    }
    const d = despecialize(u);
    if (d.kind === 'record') {
      const r = fresh('r');
      out.push(`${ind}const ${r} = ${v};`);
      return d.fields.flatMap((f, i) => this.lowerFlat(f.type, u.kind === 'tuple' ? `${r}.f${i}` : `${r}.${asIdent(f.name)}`, out, ind, fresh));
    }
    if (d.kind === 'flags') {
      return [`<i32>(${d.labels.map((l, i) => `(${v}.${asIdent(l)} ? ${2 ** i >>> 0} : 0)`).join(' | ')})`];
    }
    // Variants: declare one local per joined slot, fill them in the taken branch.
    const n = flattenType(u).length;
    const slots = Array.from({ length: n }, () => fresh('f'));
    const x = fresh('x');
    out.push(`${ind}const ${x} = ${v};`);
    for (const s of slots) out.push(`${ind}let ${s}: i32 = 0;`);
    const fill = (ct, expr, ind2) => {
      if (!ct) return;
      const vals = this.lowerFlat(ct, expr, out, ind2, fresh);
      vals.forEach((val, i) => out.push(`${ind2}${slots[i + 1]} = ${val};`));
    };
    if (u.kind === 'option') {
      out.push(`${ind}if (${x} !== null) {`);
      out.push(`${ind}  ${slots[0]} = 1;`);
      fill(u.inner, isRef(u.inner) ? x : `${x}.value`, `${ind}  `);
      out.push(`${ind}}`);
    } else if (u.kind === 'result') {
      out.push(`${ind}if (${x}.isOk) {`);
      fill(u.ok, `${x}.value`, `${ind}  `);
      out.push(`${ind}} else {`);
      out.push(`${ind}  ${slots[0]} = 1;`);
      fill(u.err, `${x}.error`, `${ind}  `);
      out.push(`${ind}}`);
    } else {
      const pt = variantPayload(u.def);
      out.push(`${ind}${slots[0]} = <i32>${x}.tag;`);
      if (pt) {
        const payloaded = d.cases.map((c, i) => (c.type ? i : -1)).filter((i) => i >= 0);
        if (payloaded.length === d.cases.length) fill(pt, `${x}.val`, ind);
        else {
          out.push(`${ind}if (${payloaded.map((i) => `${slots[0]} == ${i}`).join(' || ')}) {`);
          fill(pt, `${x}.val`, `${ind}  `);
          out.push(`${ind}}`);
        }
      }
    }
    return slots;
  }

  // --- declarations ------------------------------------------------------------

  typeDecls() {
    const out = [];
    for (const d of this.m.defs) {
      const N = pascal(d.name);
      out.push(...jsdoc(d.docs));
      switch (d.kind) {
        case 'enum':
          out.push(`export enum ${N} {`);
          d.cases.forEach((c, i) => { out.push(...jsdoc(c.docs, '  ')); out.push(`  ${pascal(c.name)} = ${i},`); });
          out.push('}', '');
          out.push(`/** The WIT name of a \`${d.name}\` value. */`);
          out.push(`export function ${camel(d.name)}Name(v: ${N}): string {`);
          d.cases.forEach((c) => out.push(`  if (v == ${N}.${pascal(c.name)}) return "${c.name}";`));
          out.push('  return "?";', '}');
          break;
        case 'record':
          out.push(`export class ${N} {`);
          for (const f of d.fields) {
            out.push(...jsdoc(f.docs, '  '));
            out.push(`  ${asIdent(f.name)}: ${asType(f.type)} = ${asDefault(f.type)};`);
          }
          out.push('}');
          break;
        case 'flags':
          out.push(`export class ${N} {`);
          for (const c of d.cases) {
            out.push(...jsdoc(c.docs, '  '));
            out.push(`  ${asIdent(c.name)}: bool = false;`);
          }
          out.push('}');
          break;
        case 'variant': {
          const pt = variantPayload(d);
          out.push(`export enum ${N}Tag {`);
          d.cases.forEach((c, i) => { out.push(...jsdoc(c.docs, '  ')); out.push(`  ${pascal(c.name)} = ${i},`); });
          out.push('}', '');
          out.push(...jsdoc(d.docs));
          out.push(`export class ${N} {`);
          if (pt) out.push(`  constructor(public tag: ${N}Tag = ${N}Tag.${pascal(d.cases[0].name)}, public val: ${asType(pt)} = ${asDefault(pt)}) {}`);
          else out.push(`  constructor(public tag: ${N}Tag = ${N}Tag.${pascal(d.cases[0].name)}) {}`);
          for (const c of d.cases) {
            const C = pascal(c.name);
            if (c.type) out.push(`  static ${asIdent(c.name)}(val: ${asType(pt)}): ${N} { return new ${N}(${N}Tag.${C}, val); }`);
            else out.push(`  static ${asIdent(c.name)}(): ${N} { return new ${N}(${N}Tag.${C}); }`);
          }
          out.push('  /** The WIT case name. */');
          out.push('  get caseName(): string {');
          d.cases.forEach((c) => out.push(`    if (this.tag == ${N}Tag.${pascal(c.name)}) return "${c.name}";`));
          out.push('    return "?";', '  }');
          if (pt && unalias(pt).kind === 'prim' && unalias(pt).name === 'string') {
            out.push('  toString(): string { return this.caseName + ": " + this.val; }');
          }
          out.push('}');
          break;
        }
        case 'alias':
          out.push(`export type ${N} = ${asType(d.type)};`);
          break;
      }
      out.push('');
    }
    return out;
  }

  collectTuples() {
    const visit = (t) => {
      if (!t) return;
      const u = unalias(t);
      if (u.kind === 'tuple') { this.tupleArities.add(u.elems.length); u.elems.forEach(visit); }
      if (u.kind === 'list') visit(u.elem);
      if (u.kind === 'option') visit(u.inner);
      if (u.kind === 'result') { visit(u.ok); visit(u.err); }
    };
    for (const d of this.m.defs) {
      if (d.kind === 'record') d.fields.forEach((f) => visit(f.type));
      if (d.kind === 'variant') d.cases.forEach((c) => visit(c.type));
      if (d.kind === 'alias') visit(d.type);
    }
    for (const i of [...this.m.imports, ...this.m.exports]) {
      for (const f of i.funcs) { f.params.forEach((p) => visit(p.type)); visit(f.result); }
    }
  }

  checkNames() {
    const seen = new Map();
    const add = (n, what) => {
      if (RESERVED_TOP.has(n) || seen.has(n)) throw new Error(`AS name '${n}' (${what}) collides with ${seen.get(n) || 'a name the bindings use'}`);
      seen.set(n, what);
    };
    for (const d of this.m.defs) {
      add(pascal(d.name), `${d.iface}.${d.name}`);
      if (d.kind === 'variant') add(`${pascal(d.name)}Tag`, `${d.iface}.${d.name} tags`);
      if (d.kind === 'enum') add(`${camel(d.name)}Name`, `${d.iface}.${d.name} names`);
    }
    for (const i of this.m.imports) add(camel(i.name), `interface ${i.name}`);
  }

  importName(iface, fn) {
    return `__import_${iface.name.replace(/-/g, '_')}_${fn.name.replace(/-/g, '_')}`;
  }

  /** The @external declaration and the typed wrapper (inside the interface's namespace). */
  importBinding(iface, fn, areas) {
    const sig = flattenFunc(fn, 'lower');
    const ext = this.importName(iface, fn);
    const decl = [
      `@external("${this.m.qualified(iface.name)}", "${fn.name}")`,
      `declare function ${ext}(${sig.params.map((_, i) => `a${i}: i32`).join(', ')}): ${sig.results.length ? 'i32' : 'void'};`,
    ];
    const params = fn.params.map((p) => `${asIdent(p.name)}: ${asType(p.type)}`).join(', ');
    const retT = fn.result ? asType(fn.result) : 'void';
    const w = [...jsdoc(fn.docs, '  ')];
    w.push(`  export function ${asIdent(fn.name)}(${params}): ${retT} {`);
    let n = 0;
    const fresh = (p) => `__${p}${n++}`;
    const args = [];
    if (sig.paramsInMemory) {
      const tt = tupleOf(fn.params.map((p) => p.type));
      const offs = fieldOffsets(tt);
      areas.params = Math.max(areas.params, elemSize(tt));
      fn.params.forEach((p, i) => w.push(`    ${this.store(p.type, at('PARAMS_AREA', offs[i]), asIdent(p.name))}`));
      args.push('<i32>PARAMS_AREA');
    } else {
      for (const p of fn.params) args.push(...this.lowerFlat(p.type, asIdent(p.name), w, '    ', fresh));
    }
    if (sig.resultsInMemory) {
      areas.ret = Math.max(areas.ret, elemSize(fn.result));
      args.push('<i32>RET_AREA');
      w.push(`    ${ext}(${args.join(', ')});`);
      w.push('    freePending();');
      w.push(`    return ${this.load(fn.result, 'RET_AREA')};`);
    } else if (fn.result) {
      w.push(`    const __ret = ${ext}(${args.join(', ')});`);
      w.push('    freePending();');
      w.push(`    return ${this.liftFlat(fn.result, ['__ret'])};`);
    } else {
      w.push(`    ${ext}(${args.join(', ')});`);
      w.push('    freePending();');
    }
    w.push('  }');
    return { decl, wrapper: w };
  }

  exportName(iface, fn) {
    return `__cniw_${iface.name.replace(/-/g, '_')}_${fn.name.replace(/-/g, '_')}`;
  }

  exportTrampoline(iface, fn, areas) {
    const sig = flattenFunc(fn, 'lift');
    const name = this.exportName(iface, fn);
    const lines = [];
    const args = sig.params.map((_, i) => `p${i}: i32`);
    lines.push(`/** \`${this.m.qualified(iface.name)}#${fn.name}\` */`);
    lines.push(`export function ${name}(${args.join(', ')}): ${sig.results.length ? 'i32' : 'void'} {`);
    const locals = [];
    if (sig.paramsInMemory) {
      const tt = tupleOf(fn.params.map((p) => p.type));
      const offs = fieldOffsets(tt);
      fn.params.forEach((p, i) => {
        locals.push(`__a${i}`);
        lines.push(`  const __a${i} = ${this.load(p.type, at('<usize>p0', offs[i]))};`);
      });
      lines.push('  freeHostBlock(<usize>p0);');
    } else {
      let k = 0;
      fn.params.forEach((p, i) => {
        const c = flattenType(p.type).length;
        locals.push(`__a${i}`);
        lines.push(`  const __a${i} = ${this.liftFlat(p.type, Array.from({ length: c }, (_, j) => `p${k + j}`))};`);
        k += c;
      });
    }
    const call = `registered${pascal(iface.name)}().${asIdent(fn.name)}(${locals.join(', ')})`;
    if (!fn.result) {
      lines.push(`  ${call};`);
    } else if (sig.resultsInMemory) {
      const area = `${name.toUpperCase()}_RET`;
      areas.exportRet.push(`const ${area}: usize = memory.data(${elemSize(fn.result)}, ${alignment(fn.result)});`);
      lines.push(`  const __r = ${call};`);
      lines.push(`  ${this.store(fn.result, area, '__r')}`);
      lines.push(`  return <i32>${area};`);
    } else {
      let n = 0;
      const fresh = (p) => `__${p}${n++}`;
      lines.push(`  const __r = ${call};`);
      const vals = this.lowerFlat(fn.result, '__r', lines, '  ', fresh);
      lines.push(`  return ${vals[0]};`);
    }
    lines.push('}', '');
    lines.push(`/** Post-return of \`${fn.name}\`: frees what the result pointed to. */`);
    lines.push(`export function ${name.replace('__cniw_', '__cniw_post_')}(${sig.results.length ? 'ret: i32' : ''}): void {`);
    lines.push('  freePending();', '}', '');
    return lines;
  }

  handlerClass(iface) {
    const P = pascal(iface.name);
    const out = [...jsdoc(iface.docs)];
    out.push(
      `/**`,
      ` * Base class of a plugin's implementation of \`${this.m.qualified(iface.name)}\`.`,
      ` * Override the methods the plugin supports and call \`register${P}(new MyPlugin())\``,
      ' * from the entry file (which must also `export * from ".../generated/exports"`).',
      ' * A method that is not overridden aborts with a message naming it.',
      ' */',
      `export class ${P} {`,
    );
    for (const fn of iface.funcs) {
      const params = fn.params.map((p) => `${asIdent(p.name)}: ${asType(p.type)}`).join(', ');
      const retT = fn.result ? asType(fn.result) : 'void';
      out.push(...jsdoc(fn.docs, '  '));
      out.push(`  ${asIdent(fn.name)}(${params}): ${retT} {`);
      out.push(`    abort("${iface.name}.${fn.name} is not implemented by this plugin");`);
      if (fn.result) out.push(`    return changetype<${retT}>(0);`);
      out.push('  }');
    }
    out.push('}', '');
    out.push(`let registered${P}Instance: ${P} | null = null;`, '');
    out.push(`/** Makes \`impl\` the plugin's \`${iface.name}\`; call it once, at the top level of the entry file. */`);
    out.push(`export function register${P}(impl: ${P}): void {`, `  registered${P}Instance = impl;`, '}', '');
    out.push(`/** The registered \`${iface.name}\` (used by the export trampolines). */`);
    out.push(`export function registered${P}(): ${P} {`);
    out.push(`  const h = registered${P}Instance;`);
    out.push(`  if (h === null) abort("no ${iface.name} registered: call register${P}(...) in the plugin's entry file");`);
    out.push('  return h!;', '}', '');
    return out;
  }

  generate(witPath) {
    this.checkNames();
    this.collectTuples();
    const m = this.m;
    const header = (what) => [
      `// GENERATED by scripts/wit/generate.mjs from ${witPath} (world \`${m.world.name}\`). Do not edit.`,
      '// Regenerate with `npm run gen:wit`; test/unit/wit-drift.test.ts fails when this file is stale.',
      `// ${what}`,
      '',
    ];
    const areas = { ret: 0, params: 0, exportRet: [] };

    // bindings.ts
    const b = [...header('AssemblyScript bindings for the plugin world: types, imports, the handler base class.')];
    b.push(
      'import {',
      '  ld8, ld16, ld32, ldS8, ldS16, ldS32, ldBool, st8, st16, st32, stS8, stS16, stS32, stBool,',
      '  liftString, storeString, utf8Length, lowerUtf8, pendingAlloc, freePending, freeHostBlock,',
      '} from "./abi";',
      '',
      '// ---------------------------------------------------------------------------',
      '// Generic helpers',
      '',
      '/** The value of a `result<_, E>` success (and of an absent error type). */',
      'export class Unit {}',
      'export const UNIT = new Unit();',
      '',
      '/** A present value of a primitive type in an `option<T>` (reference types use `T | null`). */',
      'export class Some<T> {',
      '  constructor(public value: T) {}',
      '}',
      '',
      '/** A WIT `result<T, E>`. */',
      'export class Result<T, E> {',
      '  constructor(public readonly isOk: bool, private readonly okValue: T, private readonly errValue: E) {}',
      '  static ok<T, E>(value: T): Result<T, E> {',
      '    return new Result<T, E>(true, value, zeroOf<E>());',
      '  }',
      '  static err<T, E>(error: E): Result<T, E> {',
      '    return new Result<T, E>(false, zeroOf<T>(), error);',
      '  }',
      '  get isErr(): bool {',
      '    return !this.isOk;',
      '  }',
      '  /** The success value; aborts on an error result. */',
      '  get value(): T {',
      '    if (!this.isOk) abort("Result.value on an error result");',
      '    return this.okValue;',
      '  }',
      '  /** The error value; aborts on a success result. */',
      '  get error(): E {',
      '    if (this.isOk) abort("Result.error on a success result");',
      '    return this.errValue;',
      '  }',
      '}',
      '',
      '// @ts-ignore: decorator',
      '@inline function zeroOf<T>(): T {',
      '  if (isReference<T>()) return changetype<T>(0);',
      '  // @ts-ignore: cast',
      '  return <T>0;',
      '}',
      '',
    );
    for (const n of [...this.tupleArities].sort()) {
      const ps = Array.from({ length: n }, (_, i) => `T${i}`);
      b.push(`export class Tuple${n}<${ps.join(', ')}> {`);
      b.push(`  constructor(${ps.map((p, i) => `public f${i}: ${p}`).join(', ')}) {}`);
      b.push('}', '');
    }
    b.push('// ---------------------------------------------------------------------------', '// WIT types', '');
    b.push(...this.typeDecls());

    const decls = [];
    const wrappers = [];
    for (const i of m.imports) {
      wrappers.push(...jsdoc([...(i.docs || []), ...(i.docs?.length ? [''] : []), `Imported from \`${m.qualified(i.name)}\`.`]));
      wrappers.push(`export namespace ${camel(i.name)} {`);
      i.funcs.forEach((fn, k) => {
        const { decl, wrapper } = this.importBinding(i, fn, areas);
        decls.push(...decl, '');
        if (k) wrappers.push('');
        wrappers.push(...wrapper);
      });
      wrappers.push('}', '');
    }
    const exportsFile = [...header('Core exports of a plugin; its entry file does `export * from "<sdk>/generated/exports"`.')];
    const trampolines = [];
    for (const i of m.exports) for (const fn of i.funcs) trampolines.push(...this.exportTrampoline(i, fn, areas));

    b.push('// ---------------------------------------------------------------------------', '// Imports', '');
    b.push(`const RET_AREA: usize = memory.data(${Math.max(areas.ret, 8)}, 8);`);
    b.push(`const PARAMS_AREA: usize = memory.data(${Math.max(areas.params, 8)}, 8);`, '');
    b.push(...decls);
    b.push(...wrappers);
    b.push('// ---------------------------------------------------------------------------', '// Exports', '');
    for (const i of m.exports) b.push(...this.handlerClass(i));

    if (m.imports.some((i) => i.name === 'log' && i.funcs.some((f) => f.name === 'write'))) {
      b.push(
        '// @ts-ignore: decorator',
        '@lazy let aborting = false;',
        '',
        '/**',
        ' * The abort handler (asc `--use abort=<path to this file>/cniwAbort`): writes the',
        ' * message to the host log at level error, then traps.',
        ' */',
        'export function cniwAbort(message: string | null = null, fileName: string | null = null, line: u32 = 0, column: u32 = 0): void {',
        '  if (!aborting) {',
        '    aborting = true;',
        '    const where = fileName !== null ? " at " + fileName + ":" + line.toString() + ":" + column.toString() : "";',
        '    log.write(Level.Error, "abort: " + (message !== null ? message : "") + where);',
        '  }',
        '  unreachable();',
        '}',
        '',
      );
    } else {
      b.push('/** The abort handler (asc `--use abort=.../cniwAbort`). */');
      b.push('export function cniwAbort(message: string | null = null, fileName: string | null = null, line: u32 = 0, column: u32 = 0): void {');
      b.push('  unreachable();', '}', '');
    }
    b.push('// ---------------------------------------------------------------------------', '// Lifting and lowering, per type', '');
    // Helpers are used by bindings.ts and exports.ts, so they are exported.
    for (const h of this.h.drain()) b.push(...h.map((l) => (l.startsWith('function ') ? `export ${l}` : l)), '');

    // exports.ts
    const ABI_NAMES = ['ld8', 'ld16', 'ld32', 'ldS8', 'ldS16', 'ldS32', 'ldBool', 'st8', 'st16', 'st32', 'stS8', 'stS16', 'stS32',
      'stBool', 'liftString', 'storeString', 'utf8Length', 'lowerUtf8', 'pendingAlloc', 'freePending', 'freeHostBlock'];
    const tramp = trampolines.join('\n');
    const fromAbi = ABI_NAMES.filter((x) => new RegExp(`\\b${x}\\b`).test(tramp));
    const fromBindings = [...new Set([...tramp.matchAll(/\b(liftFlat\w+|lift\w+|load\w+|store\w+|lower\w+|registered\w+|UNIT|Result|Some|Tuple\d+)\b/g)]
      .map((mm) => mm[1]).filter((x) => !ABI_NAMES.includes(x)))].sort();
    exportsFile.push(`import { ${['realloc', ...fromAbi].join(', ')} } from "./abi";`);
    if (fromBindings.length) exportsFile.push(`import { ${fromBindings.join(', ')} } from "./bindings";`);
    exportsFile.push('');
    exportsFile.push(...areas.exportRet, '');
    exportsFile.push(
      '/** The canonical ABI allocator the host lowers arguments and results with. */',
      'export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {',
      '  return realloc(oldPtr, oldSize, align, newSize);',
      '}',
      '',
    );
    exportsFile.push(...trampolines);

    const names = {};
    for (const i of m.exports) {
      for (const fn of i.funcs) {
        const full = `${m.qualified(i.name)}#${fn.name}`;
        names[this.exportName(i, fn)] = full;
        names[this.exportName(i, fn).replace('__cniw_', '__cniw_post_')] = `cabi_post_${full}`;
      }
    }
    const trim = (lines) => { while (lines[lines.length - 1] === '') lines.pop(); return `${lines.join('\n')}\n`; };
    return {
      'bindings.ts': trim(b),
      'exports.ts': trim(exportsFile),
      'abi.ts': AS_ABI.replace('%HEADER%', header('Low-level canonical ABI helpers used by bindings.ts and exports.ts; not for plugin code.').join('\n')),
      'export-names.json': `${JSON.stringify(names, null, 2)}\n`,
    };
  }
}

const AS_ABI = `%HEADER%
// Everything the host lowers into this module (arguments of exports, results of
// imports) is allocated through cabi_realloc and freed here once lifted. What the
// bindings lower for the host (import arguments, export results) lives in
// "pending" blocks, freed after the import returns or in the export's post-return.

// @ts-ignore: decorator
@inline export function ld8(p: usize): u8 { return load<u8>(p); }
// @ts-ignore: decorator
@inline export function ld16(p: usize): u16 { return load<u16>(p); }
// @ts-ignore: decorator
@inline export function ld32(p: usize): u32 { return load<u32>(p); }
// @ts-ignore: decorator
@inline export function ldS8(p: usize): i8 { return load<i8>(p); }
// @ts-ignore: decorator
@inline export function ldS16(p: usize): i16 { return load<i16>(p); }
// @ts-ignore: decorator
@inline export function ldS32(p: usize): i32 { return load<i32>(p); }
// @ts-ignore: decorator
@inline export function ldBool(p: usize): bool { return load<u8>(p) != 0; }
// @ts-ignore: decorator
@inline export function st8(p: usize, v: u8): void { store<u8>(p, v); }
// @ts-ignore: decorator
@inline export function st16(p: usize, v: u16): void { store<u16>(p, v); }
// @ts-ignore: decorator
@inline export function st32(p: usize, v: u32): void { store<u32>(p, v); }
// @ts-ignore: decorator
@inline export function stS8(p: usize, v: i8): void { store<i8>(p, v); }
// @ts-ignore: decorator
@inline export function stS16(p: usize, v: i16): void { store<i16>(p, v); }
// @ts-ignore: decorator
@inline export function stS32(p: usize, v: i32): void { store<i32>(p, v); }
// @ts-ignore: decorator
@inline export function stBool(p: usize, v: bool): void { store<u8>(p, v ? 1 : 0); }

// A growable array of block addresses in raw heap memory: no GC object, so it is
// usable from anywhere, including code that runs before the start function.
// @ts-ignore: decorator
@lazy let pendingBuf: usize = 0;
// @ts-ignore: decorator
@lazy let pendingCap: usize = 0;
// @ts-ignore: decorator
@lazy let pendingLen: usize = 0;

/** A block for a value lowered for the host; freed by freePending(). */
export function pendingAlloc(size: usize): usize {
  const p = heap.alloc(size);
  if (pendingLen == pendingCap) {
    pendingCap = pendingCap == 0 ? 16 : pendingCap * 2;
    const bytes = pendingCap * sizeof<usize>();
    pendingBuf = pendingBuf == 0 ? heap.alloc(bytes) : heap.realloc(pendingBuf, bytes);
  }
  store<usize>(pendingBuf + pendingLen * sizeof<usize>(), p);
  pendingLen++;
  return p;
}

/** Frees every pending block, newest first (the stub runtime only reclaims the last block). */
export function freePending(): void {
  while (pendingLen > 0) {
    pendingLen--;
    heap.free(load<usize>(pendingBuf + pendingLen * sizeof<usize>()));
  }
}

/** Frees a block the host allocated with cabi_realloc, once its contents are lifted. */
export function freeHostBlock(p: usize): void {
  if (p != 0) heap.free(p);
}

export function utf8Length(s: string): usize {
  return <usize>String.UTF8.byteLength(s);
}

/** Encodes s (n UTF-8 bytes) into a pending block; lone surrogates become U+FFFD. */
export function lowerUtf8(s: string, n: usize): usize {
  if (n == 0) return 0;
  const p = pendingAlloc(n);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p, false, String.UTF8.ErrorMode.REPLACE);
  return p;
}

export function storeString(ptr: usize, s: string): void {
  const n = utf8Length(s);
  store<u32>(ptr, <u32>lowerUtf8(s, n));
  store<u32>(ptr, <u32>n, 4);
}

/** Lifts a string the host allocated with cabi_realloc, and frees its block. */
export function liftString(p: usize, n: usize): string {
  const s = n == 0 ? "" : String.UTF8.decodeUnsafe(p, n);
  freeHostBlock(p);
  return s;
}

/** cabi_realloc: heap blocks are 16-byte aligned, enough for every WIT type. */
export function realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (align == 0 || align > 16 || (align & (align - 1)) != 0) unreachable();
  if (oldPtr == 0) return heap.alloc(newSize);
  return heap.realloc(oldPtr, newSize);
}
`;

export function generateAs(wit, { witPath, world }) {
  return new AsGen(wit, world).generate(witPath);
}
