// Generates host/runtime/generated/abi.ts: TypeScript types for the WIT, the
// HostImports the host implements, and the canonical-ABI glue that lifts what a
// (possibly hostile) guest passes and lowers what the host answers.

import { unalias } from './parser.mjs';
import {
  alignment, despecialize, elemSize, fieldOffsets, flattenFunc, flattenType, payloadOffset,
  discriminantType, tupleOf, MAX_STRING_BYTE_LENGTH, MAX_LIST_BYTE_LENGTH,
} from './abi.mjs';
import { camel, jsdoc, pascal, typeKey, upperSnake, witName, worldModel } from './names.mjs';

const PRIM_TS = {
  bool: 'boolean', u8: 'number', u16: 'number', u32: 'number', s8: 'number', s16: 'number',
  s32: 'number', char: 'string', string: 'string',
};
// Names the generated code uses itself; a WIT name mapping onto one of these is an error.
const RESERVED_TOP = new Set([
  'AbiTrap', 'WitResultError', 'GuestMemory', 'HostImports', 'WitResult', 'Cx', 'CoreValType',
  'CoreImportSignature', 'CoreExportSignature', 'IMPORT_SIGNATURES', 'EXPORT_SIGNATURES',
  'DEFAULT_MAX_LIFT_BYTES', 'Realloc', 'GuestFunction',
]);
const JS_RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do',
  'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in',
  'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this', 'throw', 'true', 'try',
  'typeof', 'var', 'void', 'while', 'with', 'yield', 'let', 'static', 'implements', 'interface',
  'package', 'private', 'protected', 'public', 'await', 'arguments', 'eval', 'undefined',
]);
// Locals used by generated trampolines.
const LOCALS = new Set(['cx', 'out', 'ret', 'flat', 'host', 'mem', 'retptr', 'params', 'value']);

/** A parameter name usable as a local in generated code. */
function localName(witParam) {
  let n = camel(witParam);
  if (JS_RESERVED.has(n) || LOCALS.has(n) || /^p\d+$/.test(n)) n = `${n}_`;
  return n;
}

/** TypeScript type expression for a WIT type. */
function tsType(t) {
  if (t === null) return 'undefined';
  switch (t.kind) {
    case 'prim': return PRIM_TS[t.name];
    case 'named': return pascal(t.def.name);
    case 'list': {
      const e = tsType(t.elem);
      return /[|&]/.test(e) ? `(${e})[]` : `${e}[]`;
    }
    case 'option': return `${tsType(t.inner)} | undefined`;
    case 'tuple': return `[${t.elems.map(tsType).join(', ')}]`;
    case 'result': return `WitResult<${tsType(t.ok)}, ${tsType(t.err)}>`;
  }
  throw new Error(`tsType: ${t.kind}`);
}

function q(s) {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

// ---------------------------------------------------------------------------
// On-demand helpers: load/store (memory), liftFlat/lowerFlat (core values),
// liftList/lowerList, per type key. Generated once each, in first-use order.

class Helpers {
  constructor() {
    this.names = new Map();
    this.queue = [];
    this.out = [];
  }
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
  drain() {
    while (this.queue.length) this.queue.shift()();
    return this.out;
  }
}

function primLoad(name, p) {
  switch (name) {
    case 'bool': return `cx.bool(${p})`;
    case 'u8': return `cx.u8(${p})`;
    case 'u16': return `cx.u16(${p})`;
    case 'u32': return `cx.u32(${p})`;
    case 's8': return `cx.s8(${p})`;
    case 's16': return `cx.s16(${p})`;
    case 's32': return `cx.s32(${p})`;
    case 'char': return `cx.char(cx.u32(${p}))`;
    case 'string': return `cx.loadString(${p})`;
  }
  throw new Error(`primLoad ${name}`);
}

function primStore(name, p, v) {
  switch (name) {
    case 'bool': return `cx.setBool(${p}, ${v});`;
    case 'u8': return `cx.setU8(${p}, ${v});`;
    case 'u16': return `cx.setU16(${p}, ${v});`;
    case 'u32': return `cx.setU32(${p}, ${v});`;
    case 's8': return `cx.setS8(${p}, ${v});`;
    case 's16': return `cx.setS16(${p}, ${v});`;
    case 's32': return `cx.setS32(${p}, ${v});`;
    case 'char': return `cx.setU32(${p}, cx.charCode(${v}));`;
    case 'string': return `cx.storeString(${p}, ${v});`;
  }
  throw new Error(`primStore ${name}`);
}

function primLiftFlat(name, [a, b]) {
  switch (name) {
    case 'bool': return `cx.flatBool(${a})`;
    case 'u8': return `(${a} & 0xff)`;
    case 'u16': return `(${a} & 0xffff)`;
    case 'u32': return `(${a} >>> 0)`;
    case 's8': return `((${a} << 24) >> 24)`;
    case 's16': return `((${a} << 16) >> 16)`;
    case 's32': return `(${a} | 0)`;
    case 'char': return `cx.char(${a} >>> 0)`;
    case 'string': return `cx.string(${a}, ${b})`;
  }
  throw new Error(`primLiftFlat ${name}`);
}

const INT_RANGE = {
  u8: [0, 0xff], u16: [0, 0xffff], u32: [0, 0xffffffff],
  s8: [-0x80, 0x7f], s16: [-0x8000, 0x7fff], s32: [-0x80000000, 0x7fffffff],
};

function primLowerFlat(name, v) {
  switch (name) {
    case 'bool': return [`cx.boolValue(${v})`];
    case 'char': return [`cx.charCode(${v})`];
    case 'string': return [`...cx.lowerString(${v})`];
  }
  const [lo, hi] = INT_RANGE[name];
  return [`cx.int(${v}, ${lo}, ${hi}, '${name}')`];
}

class HostGen {
  constructor(wit, worldName) {
    this.m = worldModel(wit, worldName);
    this.h = new Helpers();
  }

  // Expression that loads a value of type t at pointer expression p.
  load(t, p) {
    const u = unalias(t);
    if (u.kind === 'prim') return primLoad(u.name, p);
    return `${this.loadFn(u)}(cx, ${p})`;
  }

  // Statement that stores value expression v of type t at pointer p.
  store(t, p, v) {
    const u = unalias(t);
    if (u.kind === 'prim') return primStore(u.name, p, v);
    return `${this.storeFn(u)}(cx, ${p}, ${v});`;
  }

  // Expression lifting type t from the flat core values named in `names`.
  liftFlat(t, names) {
    const u = unalias(t);
    if (u.kind === 'prim') return primLiftFlat(u.name, names);
    if (u.kind === 'list') return `${this.liftListFn(u)}(cx, ${names[0]}, ${names[1]})`;
    if (u.kind === 'named' && u.def.kind === 'enum') return `${this.enumFn(u)}(cx, ${names[0]})`;
    return `${this.liftFlatFn(u)}(cx, ${names.join(', ')})`;
  }

  // Expressions (possibly spread) pushing the flat core values of v of type t.
  lowerFlat(t, v) {
    const u = unalias(t);
    if (u.kind === 'prim') return primLowerFlat(u.name, v);
    if (u.kind === 'list') return [`${this.lowerListFn(u)}(cx, ${v})`, `${v}.length`];
    return [`...${this.lowerFlatFn(u)}(cx, ${v})`];
  }

  enumFn(t) {
    const d = t.def;
    return this.h.need('lift', t, (name) => [
      `function ${name}(cx: Cx, disc: number): ${pascal(d.name)} {`,
      `  const c = ${upperSnake(d.name)}_CASES[disc];`,
      `  if (c === undefined) throw cx.trap(\`invalid ${d.name} discriminant \${disc}\`);`,
      '  return c;',
      '}',
    ]);
  }

  enumIndexFn(t) {
    const d = t.def;
    return this.h.need('indexOf', t, (name) => [
      `function ${name}(cx: Cx, v: ${pascal(d.name)}): number {`,
      `  const i = ${upperSnake(d.name)}_CASES.indexOf(v);`,
      `  if (i < 0) throw cx.badValue(v, '${d.name}');`,
      '  return i;',
      '}',
    ]);
  }

  loadFn(t) {
    return this.h.need('load', t, (name) => {
      const lines = [`function ${name}(cx: Cx, ptr: number): ${tsType(t)} {`];
      const d = despecialize(t);
      if (t.kind === 'list') {
        lines.push(`  return ${this.liftListFn(t)}(cx, cx.u32(ptr), cx.u32(ptr + 4));`);
      } else if (t.kind === 'named' && t.def.kind === 'enum') {
        lines.push(`  return ${this.enumFn(t)}(cx, ${this.loadDisc(d.cases.length, 'ptr')});`);
      } else if (d.kind === 'record') {
        const offs = fieldOffsets(t);
        if (t.kind === 'tuple') {
          lines.push('  return [');
          d.fields.forEach((f, i) => lines.push(`    ${this.load(f.type, at('ptr', offs[i]))},`));
          lines.push('  ];');
        } else {
          lines.push('  return {');
          d.fields.forEach((f, i) => lines.push(`    ${camel(f.name)}: ${this.load(f.type, at('ptr', offs[i]))},`));
          lines.push('  };');
        }
      } else if (d.kind === 'variant') {
        const po = payloadOffset(t);
        lines.push(`  const disc = ${this.loadDisc(d.cases.length, 'ptr')};`);
        lines.push('  switch (disc) {');
        d.cases.forEach((c, i) => {
          const val = c.type ? this.load(c.type, at('ptr', po)) : 'undefined';
          lines.push(`    case ${i}: return ${this.variantValue(t, c, i, val)};`);
        });
        lines.push(`    default: throw cx.trap(\`invalid ${witName(t)} discriminant \${disc}\`);`);
        lines.push('  }');
      } else if (d.kind === 'flags') {
        const size = elemSize(t);
        const get = size === 1 ? 'u8' : size === 2 ? 'u16' : 'u32';
        lines.push(`  const bits = cx.${get}(ptr);`);
        lines.push('  return {');
        d.labels.forEach((l, i) => lines.push(`    ${camel(l)}: (bits & ${2 ** i >>> 0}) !== 0,`));
        lines.push('  };');
      }
      lines.push('}');
      return lines;
    });
  }

  loadDisc(n, p) {
    const dt = discriminantType(n);
    return dt === 'u8' ? `cx.u8(${p})` : dt === 'u16' ? `cx.u16(${p})` : `cx.u32(${p})`;
  }

  storeDisc(n, p, v) {
    const dt = discriminantType(n);
    return `cx.set${dt === 'u8' ? 'U8' : dt === 'u16' ? 'U16' : 'U32'}(${p}, ${v});`;
  }

  // The TS value of variant-like type t in case c (index i) with payload expression val.
  variantValue(t, c, i, val) {
    if (t.kind === 'option') return i === 0 ? 'undefined' : val;
    if (t.kind === 'result') return `{ tag: '${i === 0 ? 'ok' : 'err'}', val: ${val} }`;
    if (c.type) return `{ tag: '${c.name}', val: ${val} }`;
    return `{ tag: '${c.name}' }`;
  }

  storeFn(t) {
    return this.h.need('store', t, (name) => {
      const lines = [`function ${name}(cx: Cx, ptr: number, v: ${tsType(t)}): void {`];
      const d = despecialize(t);
      if (t.kind === 'list') {
        lines.push(`  const base = ${this.lowerListFn(t)}(cx, v);`);
        lines.push('  cx.setU32(ptr, base);');
        lines.push('  cx.setU32(ptr + 4, v.length);');
      } else if (t.kind === 'named' && t.def.kind === 'enum') {
        lines.push(`  ${this.storeDisc(d.cases.length, 'ptr', `${this.enumIndexFn(t)}(cx, v)`)}`);
      } else if (d.kind === 'record') {
        const offs = fieldOffsets(t);
        if (t.kind === 'tuple') lines.push(`  if (!Array.isArray(v) || v.length !== ${d.fields.length}) throw cx.badValue(v, '${witName(t)}');`);
        else lines.push(`  if (typeof v !== 'object' || v === null) throw cx.badValue(v, '${witName(t)}');`);
        d.fields.forEach((f, i) => {
          const fv = t.kind === 'tuple' ? `v[${i}]` : `v.${camel(f.name)}`;
          lines.push(`  ${this.store(f.type, at('ptr', offs[i]), fv)}`);
        });
      } else if (d.kind === 'variant') {
        const po = payloadOffset(t);
        const n = d.cases.length;
        if (t.kind === 'option') {
          lines.push('  if (v === undefined) {');
          lines.push(`    ${this.storeDisc(n, 'ptr', '0')}`);
          lines.push('  } else {');
          lines.push(`    ${this.storeDisc(n, 'ptr', '1')}`);
          lines.push(`    ${this.store(d.cases[1].type, at('ptr', po), 'v')}`);
          lines.push('  }');
        } else {
          lines.push(`  if (typeof v !== 'object' || v === null) throw cx.badValue(v, '${witName(t)}');`);
          lines.push('  switch (v.tag) {');
          d.cases.forEach((c, i) => {
            const tag = t.kind === 'result' ? (i === 0 ? 'ok' : 'err') : c.name;
            lines.push(`    case '${tag}':`);
            lines.push(`      ${this.storeDisc(n, 'ptr', String(i))}`);
            if (c.type) lines.push(`      ${this.store(c.type, at('ptr', po), 'v.val')}`);
            lines.push('      return;');
          });
          lines.push(`    default: throw cx.badValue(v, '${witName(t)}');`);
          lines.push('  }');
        }
      } else if (d.kind === 'flags') {
        const size = elemSize(t);
        const set = size === 1 ? 'U8' : size === 2 ? 'U16' : 'U32';
        const terms = d.labels.map((l, i) => `(v.${camel(l)} ? ${2 ** i >>> 0} : 0)`);
        lines.push(`  cx.set${set}(ptr, (${terms.join(' | ')}) >>> 0);`);
      }
      lines.push('}');
      return lines;
    });
  }

  liftListFn(t) {
    return this.h.need('lift', t, (name) => {
      const size = elemSize(t.elem);
      const align = alignment(t.elem);
      return [
        `function ${name}(cx: Cx, ptr: number, len: number): ${tsType(t)} {`,
        `  const base = cx.list(ptr, len, ${size}, ${align}, '${witName(t)}');`,
        `  const out: ${tsType(t)} = [];`,
        `  for (let i = 0; i < len >>> 0; i++) out.push(${this.load(t.elem, `base + i * ${size}`)});`,
        '  return out;',
        '}',
      ];
    });
  }

  lowerListFn(t) {
    return this.h.need('lower', t, (name) => {
      const size = elemSize(t.elem);
      const align = alignment(t.elem);
      return [
        `/** Copies a list into guest memory (allocated with cabi_realloc); returns its address. */`,
        `function ${name}(cx: Cx, v: ${tsType(t)}): number {`,
        `  if (!Array.isArray(v)) throw cx.badValue(v, '${witName(t)}');`,
        `  const base = cx.allocList(v.length, ${size}, ${align});`,
        `  for (let i = 0; i < v.length; i++) ${this.store(t.elem, `base + i * ${size}`, 'v[i]!').replace(/;$/, ';')}`,
        '  return base;',
        '}',
      ];
    });
  }

  liftFlatFn(t) {
    return this.h.need('liftFlat', t, (name) => {
      const n = flattenType(t).length;
      const names = Array.from({ length: n }, (_, i) => `f${i}`);
      const lines = [`function ${name}(cx: Cx, ${names.map((x) => `${x}: number`).join(', ')}): ${tsType(t)} {`];
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
          lines.push('  return [');
          for (const [, e] of parts) lines.push(`    ${e},`);
          lines.push('  ];');
        } else {
          lines.push('  return {');
          for (const [f, e] of parts) lines.push(`    ${camel(f.name)}: ${e},`);
          lines.push('  };');
        }
      } else if (d.kind === 'variant') {
        lines.push('  switch (f0) {');
        d.cases.forEach((c, i) => {
          const val = c.type ? this.liftFlat(c.type, names.slice(1, 1 + flattenType(c.type).length)) : 'undefined';
          lines.push(`    case ${i}: return ${this.variantValue(t, c, i, val)};`);
        });
        lines.push(`    default: throw cx.trap(\`invalid ${witName(t)} discriminant \${f0}\`);`);
        lines.push('  }');
      } else if (d.kind === 'flags') {
        lines.push('  return {');
        d.labels.forEach((l, i) => lines.push(`    ${camel(l)}: (f0 & ${2 ** i >>> 0}) !== 0,`));
        lines.push('  };');
      }
      lines.push('}');
      return lines;
    });
  }

  lowerFlatFn(t) {
    return this.h.need('lowerFlat', t, (name) => {
      const n = flattenType(t).length;
      const lines = [`function ${name}(cx: Cx, v: ${tsType(t)}): number[] {`];
      const d = despecialize(t);
      if (t.kind === 'named' && t.def.kind === 'enum') {
        lines.push(`  return [${this.enumIndexFn(t)}(cx, v)];`);
      } else if (d.kind === 'record') {
        if (t.kind === 'tuple') lines.push(`  if (!Array.isArray(v) || v.length !== ${d.fields.length}) throw cx.badValue(v, '${witName(t)}');`);
        if (t.kind === 'named') lines.push(`  if (typeof v !== 'object' || v === null) throw cx.badValue(v, '${witName(t)}');`);
        lines.push('  return [');
        d.fields.forEach((f, i) => {
          const fv = t.kind === 'tuple' ? `v[${i}]` : `v.${camel(f.name)}`;
          for (const e of this.lowerFlat(f.type, fv)) lines.push(`    ${e},`);
        });
        lines.push('  ];');
      } else if (d.kind === 'variant') {
        const pad = (c) => n - 1 - (c.type ? flattenType(c.type).length : 0);
        const body = (c, i, v) => {
          const parts = [String(i), ...(c.type ? this.lowerFlat(c.type, v) : []), ...Array(pad(c)).fill('0')];
          return `return [${parts.join(', ')}];`;
        };
        if (t.kind === 'option') {
          lines.push(`  if (v === undefined) ${body(d.cases[0], 0, 'v')}`);
          lines.push(`  ${body(d.cases[1], 1, 'v')}`);
        } else {
          lines.push('  switch (v.tag) {');
          d.cases.forEach((c, i) => {
            const tag = t.kind === 'result' ? (i === 0 ? 'ok' : 'err') : c.name;
            lines.push(`    case '${tag}': ${body(c, i, 'v.val')}`);
          });
          lines.push(`    default: throw cx.badValue(v, '${witName(t)}');`);
          lines.push('  }');
        }
      } else if (d.kind === 'flags') {
        const terms = d.labels.map((l, i) => `(v.${camel(l)} ? ${2 ** i >>> 0} : 0)`);
        lines.push(`  return [(${terms.join(' | ')}) | 0];`);
      }
      lines.push('}');
      return lines;
    });
  }

  // ------------------------------------------------------------------------

  typeDecls() {
    const out = [];
    for (const d of this.m.defs) {
      out.push(...jsdoc(d.docs));
      const N = pascal(d.name);
      switch (d.kind) {
        case 'record':
          out.push(`export interface ${N} {`);
          for (const f of d.fields) {
            out.push(...jsdoc(f.docs, '  '));
            out.push(`  ${camel(f.name)}: ${tsType(f.type)};`);
          }
          out.push('}');
          break;
        case 'variant':
          out.push(`export type ${N} =`);
          for (const c of d.cases) {
            const doc = c.docs.length ? ` // ${c.docs.join(' ')}` : '';
            out.push(c.type ? `  | { tag: '${c.name}'; val: ${tsType(c.type)} }${doc}` : `  | { tag: '${c.name}' }${doc}`);
          }
          out[out.length - 1] += ';';
          break;
        case 'enum':
          out.push(`export type ${N} = ${d.cases.map((c) => q(c.name)).join(' | ')};`);
          out.push(`export const ${upperSnake(d.name)}_CASES: readonly ${N}[] = [${d.cases.map((c) => q(c.name)).join(', ')}];`);
          break;
        case 'flags':
          out.push(`export interface ${N} {`);
          for (const c of d.cases) {
            out.push(...jsdoc(c.docs, '  '));
            out.push(`  ${camel(c.name)}: boolean;`);
          }
          out.push('}');
          break;
        case 'alias':
          out.push(`export type ${N} = ${tsType(d.type)};`);
          break;
      }
      out.push('');
    }
    return out;
  }

  methodSig(fn) {
    const params = fn.params.map((p) => `${localName(p.name)}: ${tsType(p.type)}`).join(', ');
    const r = fn.result ? unalias(fn.result) : null;
    let ret = 'void';
    if (r && r.kind === 'result') ret = r.ok ? tsType(r.ok) : 'void';
    else if (r) ret = tsType(r);
    return `${camel(fn.name)}(${params}): ${ret};`;
  }

  ifaceDecl(iface, role) {
    const out = [...jsdoc(iface.docs)];
    if (!iface.docs?.length) out.push(`/** \`${this.m.qualified(iface.name)}\`, ${role}. */`);
    out.push(`export interface ${pascal(iface.name)} {`);
    for (const fn of iface.funcs) {
      const docs = [...(fn.docs || [])];
      const r = fn.result ? unalias(fn.result) : null;
      if (r && r.kind === 'result') {
        if (docs.length) docs.push('');
        docs.push(`WIT: \`${witName(fn.result)}\`; report the error by throwing \`new WitResultError<${r.err ? tsType(r.err) : 'undefined'}>(…)\`.`);
      }
      out.push(...jsdoc(docs, '  '));
      out.push(`  ${this.methodSig(fn)}`);
    }
    out.push('}', '');
    return out;
  }

  checkNames() {
    const seen = new Map();
    const add = (n, what) => {
      if (RESERVED_TOP.has(n) || seen.has(n)) {
        throw new Error(`generated name '${n}' (${what}) collides with ${seen.get(n) || 'a name the glue uses'}`);
      }
      seen.set(n, what);
    };
    for (const d of this.m.defs) add(pascal(d.name), `${d.iface}.${d.name}`);
    for (const i of [...this.m.imports, ...this.m.exports]) add(pascal(i.name), `interface ${i.name}`);
  }

  importTrampoline(iface, fn) {
    const sig = flattenFunc(fn, 'lower');
    const where = `${iface.name}.${fn.name}`;
    const r = fn.result ? unalias(fn.result) : null;
    const nParams = sig.paramsInMemory ? 1 : sig.params.length - (sig.resultsInMemory ? 1 : 0);
    const args = Array.from({ length: nParams }, (_, i) => `p${i}: number`);
    if (sig.resultsInMemory) args.push('retptr: number');
    const retType = sig.results.length ? 'number' : 'void';
    const lines = [`    ${q(fn.name)}: (${args.join(', ')}): ${retType} => {`];
    lines.push(`      const cx = enter(mem, ${q(where)});`);
    if (sig.resultsInMemory) {
      lines.push(`      const out = cx.range(retptr, ${elemSize(fn.result)}, ${alignment(fn.result)}, 'return area');`);
    }
    const locals = fn.params.map((p) => localName(p.name));
    if (sig.paramsInMemory) {
      const tt = tupleOf(fn.params.map((p) => p.type));
      const offs = fieldOffsets(tt);
      lines.push(`      const params = cx.range(p0, ${elemSize(tt)}, ${alignment(tt)}, 'parameter area');`);
      fn.params.forEach((p, i) => lines.push(`      const ${locals[i]} = ${this.load(p.type, at('params', offs[i]))};`));
    } else {
      let k = 0;
      fn.params.forEach((p, i) => {
        const c = flattenType(p.type).length;
        lines.push(`      const ${locals[i]} = ${this.liftFlat(p.type, Array.from({ length: c }, (_, j) => `p${k + j}`))};`);
        k += c;
      });
    }
    const call = `host.${camel(iface.name)}.${camel(fn.name)}(${locals.join(', ')})`;
    if (!r) {
      lines.push(`      ${call};`);
    } else {
      let value = call;
      let vt = fn.result;
      if (r.kind === 'result') {
        value = `callHost<${tsType(r.ok)}, ${tsType(r.err)}>(() => ${r.ok ? call : `void ${call}`})`;
      }
      if (sig.resultsInMemory) {
        lines.push(`      ${this.store(vt, 'out', value)}`);
      } else {
        lines.push(`      const ret = ${value};`);
        // One flat value (MAX_FLAT_RESULTS = 1).
        const [flat] = this.lowerFlat(vt, 'ret');
        lines.push(`      return ${flat.startsWith('...') ? `${flat.slice(3)}[0]!` : flat};`);
      }
    }
    lines.push('    },');
    return lines;
  }

  exportMethod(iface, fn) {
    const sig = flattenFunc(fn, 'lift');
    const where = `${iface.name}.${fn.name}`;
    const fname = `${camel(fn.name)}Fn`;
    const r = fn.result ? unalias(fn.result) : null;
    const params = fn.params.map((p) => `${localName(p.name)}: ${tsType(p.type)}`).join(', ');
    const retTs = r && r.kind === 'result' ? (r.ok ? tsType(r.ok) : 'void') : r ? tsType(r) : 'void';
    const lines = [`    ${camel(fn.name)}(${params}): ${retTs} {`];
    lines.push(`      return callGuest(mem, ${q(where)}, (cx) => {`);
    if (sig.paramsInMemory) {
      const tt = tupleOf(fn.params.map((p) => p.type));
      const offs = fieldOffsets(tt);
      lines.push(`        const params = cx.alloc(${alignment(tt)}, ${elemSize(tt)});`);
      fn.params.forEach((p, i) => lines.push(`        ${this.store(p.type, at('params', offs[i]), localName(p.name))}`));
      lines.push('        const flat = [params];');
    } else {
      lines.push('        const flat: number[] = [');
      for (const p of fn.params) for (const e of this.lowerFlat(p.type, localName(p.name))) lines.push(`          ${e},`);
      lines.push('        ];');
    }
    lines.push(`        const ret = ${fname}(...flat);`);
    if (!r) {
      lines.push('        return { flat: ret, value: undefined };');
    } else if (sig.resultsInMemory) {
      lines.push(`        const value = ${this.load(fn.result, `cx.range(cx.i32(ret), ${elemSize(fn.result)}, ${alignment(fn.result)}, 'result')`)};`);
      lines.push('        return { flat: ret, value };');
    } else {
      lines.push(`        const value = ${this.liftFlat(fn.result, ['cx.i32(ret)'])};`);
      lines.push('        return { flat: ret, value };');
    }
    if (r && r.kind === 'result') lines.push(`      }, ${fname}Post, unwrap);`);
    else lines.push(`      }, ${fname}Post, (v) => v);`);
    lines.push('    },');
    return lines;
  }

  generate(witPath) {
    this.checkNames();
    const m = this.m;
    const o = [];
    o.push(
      `// GENERATED by scripts/wit/generate.mjs from ${witPath} (world \`${m.world.name}\`). Do not edit.`,
      '// Regenerate with `npm run gen:wit`; test/unit/wit-drift.test.ts fails when this file is stale.',
      '//',
      '// Canonical ABI glue for instantiating a plugin\'s core module directly (see docs/abi.md):',
      '// types, the HostImports the host implements, buildImports (guest -> host calls) and',
      '// bind* (host -> guest calls). Everything lifted from guest memory is validated and a',
      '// violation throws AbiTrap; nothing reaches a host function unless it lifted cleanly.',
      '// Deliberately stricter than the spec in one place: a bool must be 0 or 1 (the spec',
      '// reads any non-zero value as true).',
      '',
    );
    o.push('// ---------------------------------------------------------------------------', '// WIT types', '');
    o.push(...this.typeDecls());
    o.push(
      '/** The value of a `result` nested inside another type. */',
      "export type WitResult<T, E> = { tag: 'ok'; val: T } | { tag: 'err'; val: E };",
      '',
    );
    o.push('// ---------------------------------------------------------------------------', '// Interfaces', '');
    for (const i of m.imports) o.push(...this.ifaceDecl(i, 'imported by plugins, implemented by the host'));
    o.push('/** Everything the host implements for a plugin, one member per imported interface. */');
    o.push('export interface HostImports {');
    for (const i of m.imports) o.push(`  ${camel(i.name)}: ${pascal(i.name)};`);
    o.push('}', '');
    for (const i of m.exports) o.push(...this.ifaceDecl(i, 'exported by plugins, called by the host'));

    o.push(STATIC_RUNTIME
      .replace('%MAX_STRING%', String(MAX_STRING_BYTE_LENGTH))
      .replace('%MAX_LIST%', String(MAX_LIST_BYTE_LENGTH)));

    // Signatures.
    o.push('// ---------------------------------------------------------------------------', '// Core-module signatures', '');
    o.push('/** Every import a plugin\'s core module may declare, with its flattened signature. */');
    o.push('export const IMPORT_SIGNATURES: readonly CoreImportSignature[] = [');
    for (const i of m.imports) {
      for (const fn of i.funcs) {
        const s = flattenFunc(fn, 'lower');
        o.push(`  { module: ${q(m.qualified(i.name))}, name: ${q(fn.name)}, params: [${s.params.map(q).join(', ')}], results: [${s.results.map(q).join(', ')}] },`);
      }
    }
    o.push('];', '');
    o.push('/** The function exports of a plugin\'s core module (besides its `memory`). */');
    o.push('export const EXPORT_SIGNATURES: readonly CoreExportSignature[] = [');
    for (const i of m.exports) {
      for (const fn of i.funcs) {
        const s = flattenFunc(fn, 'lift');
        const name = `${m.qualified(i.name)}#${fn.name}`;
        o.push(`  { name: ${q(name)}, params: [${s.params.map(q).join(', ')}], results: [${s.results.map(q).join(', ')}], required: true },`);
        o.push(`  { name: ${q(`cabi_post_${name}`)}, params: [${s.results.map(q).join(', ')}], results: [], required: false },`);
      }
    }
    o.push("  { name: 'cabi_realloc', params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'], required: true },");
    o.push('];', '');

    // buildImports.
    const body = [];
    body.push('// ---------------------------------------------------------------------------', '// Guest -> host', '');
    body.push(
      '/**',
      ' * The import object for `new WebAssembly.Instance(module, ...)`. Each function lifts',
      ' * and validates its arguments from the guest, calls `host`, and lowers the answer',
      ' * into the guest (through its `cabi_realloc`). `mem` is attached by `bindHandler`.',
      ' */',
      'export function buildImports(host: HostImports, mem: GuestMemory): WebAssembly.Imports {',
      '  return {',
    );
    for (const i of m.imports) {
      body.push(`    ${q(m.qualified(i.name))}: {`);
      for (const fn of i.funcs) body.push(...this.importTrampoline(i, fn).map((l) => `  ${l}`));
      body.push('    },');
    }
    body.push('  };', '}', '');

    body.push('// ---------------------------------------------------------------------------', '// Host -> guest', '');
    for (const i of m.exports) {
      const P = pascal(i.name);
      body.push(
        '/**',
        ` * Binds the exports of an instance that implements \`${m.qualified(i.name)}\`. Attaches`,
        ' * `mem` (the one given to buildImports) to the instance\'s memory and cabi_realloc.',
        ' * A WIT error result is thrown as WitResultError; a guest ABI violation as AbiTrap.',
        ' */',
        `export function bind${P}(exports: WebAssembly.Exports, mem: GuestMemory = { maxLiftBytes: DEFAULT_MAX_LIFT_BYTES }): ${P} {`,
        '  attachGuest(mem, exports);',
      );
      for (const fn of i.funcs) {
        const name = `${m.qualified(i.name)}#${fn.name}`;
        body.push(`  const ${camel(fn.name)}Fn = guestFunction(exports, ${q(name)});`);
        body.push(`  const ${camel(fn.name)}FnPost = optionalGuestFunction(exports, ${q(`cabi_post_${name}`)});`);
      }
      body.push('  return {');
      for (const fn of i.funcs) body.push(...this.exportMethod(i, fn));
      body.push('  };', '}', '');
    }

    const helpers = this.h.drain();
    o.push(...body);
    o.push('// ---------------------------------------------------------------------------', '// Lifting and lowering, per type', '');
    for (const h of helpers) o.push(...h, '');
    while (o[o.length - 1] === '') o.pop();
    return `${o.join('\n')}\n`;
  }
}

function at(p, off) {
  return off === 0 ? p : `${p} + ${off}`;
}

// The fixed part of the glue: errors, GuestMemory, the per-call context.
const STATIC_RUNTIME = `// ---------------------------------------------------------------------------
// Errors and guest memory

/** A \`result\` error from a host function (thrown by the host) or a guest export (thrown by bind*). */
export class WitResultError<E> extends Error {
  readonly payload: E;
  constructor(payload: E, message?: string) {
    super(message ?? \`WIT error result: \${describe(payload)}\`);
    this.name = 'WitResultError';
    this.payload = payload;
  }
}

/** The guest broke the canonical ABI (bad pointer, length, UTF-8, discriminant, ...). */
export class AbiTrap extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbiTrap';
  }
}

export type Realloc = (oldPtr: number, oldSize: number, align: number, newSize: number) => unknown;

/**
 * What the glue needs from an instance. Create it before instantiation with only
 * \`maxLiftBytes\`; bind* fills in \`memory\` and \`realloc\` from the instance's exports.
 */
export interface GuestMemory {
  memory?: WebAssembly.Memory | undefined;
  realloc?: Realloc | undefined;
  /** Cap on the bytes of strings and lists lifted from the guest in one call. */
  maxLiftBytes: number;
}

export const DEFAULT_MAX_LIFT_BYTES = 4 * 1024 * 1024;

export type CoreValType = 'i32' | 'i64' | 'f32' | 'f64';

export interface CoreImportSignature {
  readonly module: string;
  readonly name: string;
  readonly params: readonly CoreValType[];
  readonly results: readonly CoreValType[];
}

export interface CoreExportSignature {
  readonly name: string;
  readonly params: readonly CoreValType[];
  readonly results: readonly CoreValType[];
  /** cabi_post_* functions are optional in the component model. */
  readonly required: boolean;
}

// ---------------------------------------------------------------------------
// Per-call context

const MAX_STRING_BYTE_LENGTH = %MAX_STRING%;
const MAX_LIST_BYTE_LENGTH = %MAX_LIST%;
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const UTF8_ENCODER = new TextEncoder();

type GuestFunction = (...args: number[]) => unknown;

/** Per-instance state: the spec's may_leave (no imports from realloc/post-return) and no re-entry. */
interface GuestState {
  inGuestHelper: boolean;
  inExport: boolean;
}
const STATE = new WeakMap<GuestMemory, GuestState>();

function stateOf(mem: GuestMemory): GuestState {
  let s = STATE.get(mem);
  if (s === undefined) {
    s = { inGuestHelper: false, inExport: false };
    STATE.set(mem, s);
  }
  return s;
}

function describe(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function isMemory(v: unknown): v is WebAssembly.Memory {
  // Realm-independent (the instance may come from a vm context).
  return Object.prototype.toString.call(v) === '[object WebAssembly.Memory]';
}

/**
 * One call's view of guest memory. Loads are bounds-checked by the caller's range()
 * of the enclosing area; every string and list is checked and charged against
 * maxLiftBytes; stores allocate through the guest's cabi_realloc and re-read the
 * buffer afterwards (memory may have grown).
 */
class Cx {
  private view: DataView;
  private bytes: Uint8Array;
  private remaining: number;
  private readonly memory: WebAssembly.Memory;

  constructor(
    private readonly guest: GuestMemory,
    readonly where: string,
  ) {
    const memory = guest.memory;
    if (!isMemory(memory)) throw new AbiTrap(\`\${where}: guest memory is not attached yet (call bind* after instantiation)\`);
    this.memory = memory;
    this.view = new DataView(memory.buffer);
    this.bytes = new Uint8Array(memory.buffer);
    this.remaining = guest.maxLiftBytes;
  }

  trap(msg: string): AbiTrap {
    return new AbiTrap(\`\${this.where}: \${msg}\`);
  }

  /** A host value that does not fit its WIT type: a host bug, not a guest fault. */
  badValue(v: unknown, type: string): TypeError {
    return new TypeError(\`\${this.where}: host value \${describe(v)} is not a valid \${type}\`);
  }

  private refresh(): void {
    if (this.bytes.buffer !== this.memory.buffer) {
      this.view = new DataView(this.memory.buffer);
      this.bytes = new Uint8Array(this.memory.buffer);
    }
  }

  /**
   * Checks that [ptr, ptr + size) is inside memory and ptr is aligned; returns ptr as unsigned.
   * Every lift starts with a range() of its area, so loads after it see the current buffer.
   */
  range(ptr: number, size: number, align: number, what: string): number {
    this.refresh(); // the guest may have grown (and so detached) its memory since the last look
    const p = ptr >>> 0;
    if (p % align !== 0) throw this.trap(\`\${what}: address \${p} is not \${align}-byte aligned\`);
    if (p + size > this.bytes.byteLength) {
      throw this.trap(\`\${what}: [\${p}, \${p + size}) is outside guest memory (\${this.bytes.byteLength} bytes)\`);
    }
    return p;
  }

  private charge(n: number, what: string): void {
    if (n > this.remaining) {
      throw this.trap(\`\${what}: lifting \${n} more bytes exceeds the limit of \${this.guest.maxLiftBytes} bytes per call\`);
    }
    this.remaining -= n;
  }

  /** A core i32 result from the guest. */
  i32(v: unknown): number {
    if (typeof v !== 'number') throw this.trap(\`expected an i32 result, got \${typeof v}\`);
    return v;
  }

  u8(p: number): number { return this.view.getUint8(p); }
  u16(p: number): number { return this.view.getUint16(p, true); }
  u32(p: number): number { return this.view.getUint32(p, true); }
  s8(p: number): number { return this.view.getInt8(p); }
  s16(p: number): number { return this.view.getInt16(p, true); }
  s32(p: number): number { return this.view.getInt32(p, true); }

  bool(p: number): boolean {
    const b = this.view.getUint8(p);
    if (b > 1) throw this.trap(\`bool at \${p} is \${b}, not 0 or 1\`);
    return b === 1;
  }

  flatBool(v: number): boolean {
    if (v !== 0 && v !== 1) throw this.trap(\`bool argument is \${v}, not 0 or 1\`);
    return v === 1;
  }

  char(code: number): string {
    if (code >= 0x110000 || (code >= 0xd800 && code <= 0xdfff)) throw this.trap(\`\${code} is not a Unicode scalar value\`);
    return String.fromCodePoint(code);
  }

  /** Lifts a UTF-8 string from (ptr, len) core values. */
  string(ptr: number, len: number): string {
    const p = ptr >>> 0;
    const n = len >>> 0;
    if (n > MAX_STRING_BYTE_LENGTH) throw this.trap(\`string length \${n} exceeds \${MAX_STRING_BYTE_LENGTH} bytes\`);
    this.charge(n, 'string');
    this.range(p, n, 1, 'string');
    try {
      return UTF8_DECODER.decode(this.bytes.subarray(p, p + n));
    } catch {
      throw this.trap(\`string at \${p} (\${n} bytes) is not valid UTF-8\`);
    }
  }

  loadString(p: number): string {
    return this.string(this.u32(p), this.u32(p + 4));
  }

  /** Validates a list's (ptr, len) and returns its base address. */
  list(ptr: number, len: number, elemSize: number, align: number, what: string): number {
    const n = len >>> 0;
    const bytes = n * elemSize; // exact: both factors are far below 2^53
    if (bytes > MAX_LIST_BYTE_LENGTH) throw this.trap(\`\${what}: \${n} elements of \${elemSize} bytes exceed \${MAX_LIST_BYTE_LENGTH} bytes\`);
    this.charge(bytes, what);
    return this.range(ptr, bytes, align, what);
  }

  int(v: unknown, min: number, max: number, type: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw this.badValue(v, type);
    return v;
  }

  boolValue(v: unknown): number {
    if (typeof v !== 'boolean') throw this.badValue(v, 'bool');
    return v ? 1 : 0;
  }

  charCode(v: unknown): number {
    const c = typeof v === 'string' ? v.codePointAt(0) : undefined;
    if (typeof v !== 'string' || c === undefined || String.fromCodePoint(c) !== v || (c >= 0xd800 && c <= 0xdfff)) {
      throw this.badValue(v, 'char');
    }
    return c;
  }

  setU8(p: number, v: unknown): void { this.view.setUint8(p, this.int(v, 0, 0xff, 'u8')); }
  setU16(p: number, v: unknown): void { this.view.setUint16(p, this.int(v, 0, 0xffff, 'u16'), true); }
  setU32(p: number, v: unknown): void { this.view.setUint32(p, this.int(v, 0, 0xffffffff, 'u32'), true); }
  setS8(p: number, v: unknown): void { this.view.setInt8(p, this.int(v, -0x80, 0x7f, 's8')); }
  setS16(p: number, v: unknown): void { this.view.setInt16(p, this.int(v, -0x8000, 0x7fff, 's16'), true); }
  setS32(p: number, v: unknown): void { this.view.setInt32(p, this.int(v, -0x80000000, 0x7fffffff, 's32'), true); }
  setBool(p: number, v: unknown): void { this.view.setUint8(p, this.boolValue(v)); }

  /** Allocates in the guest with cabi_realloc(0, 0, align, size) and checks what it returns. */
  alloc(align: number, size: number): number {
    const realloc = this.guest.realloc;
    if (typeof realloc !== 'function') throw this.trap('the guest has no cabi_realloc');
    const state = stateOf(this.guest);
    state.inGuestHelper = true;
    let ret: unknown;
    try {
      ret = realloc(0, 0, align, size);
    } finally {
      state.inGuestHelper = false;
    }
    if (typeof ret !== 'number') throw this.trap('cabi_realloc did not return an i32');
    this.refresh();
    return this.range(ret, size, align, \`cabi_realloc(0, 0, \${align}, \${size})\`);
  }

  allocList(len: number, elemSize: number, align: number): number {
    const bytes = len * elemSize;
    if (bytes > MAX_LIST_BYTE_LENGTH) throw new RangeError(\`\${this.where}: a list of \${bytes} bytes is too long for the guest\`);
    return this.alloc(align, bytes);
  }

  /** Copies a string into guest memory; returns its (ptr, len) core values. */
  lowerString(v: unknown): [number, number] {
    if (typeof v !== 'string') throw this.badValue(v, 'string');
    const utf8 = UTF8_ENCODER.encode(v);
    if (utf8.length > MAX_STRING_BYTE_LENGTH) throw new RangeError(\`\${this.where}: a string of \${utf8.length} bytes is too long for the guest\`);
    const p = this.alloc(1, utf8.length);
    this.bytes.set(utf8, p);
    return [p, utf8.length];
  }

  storeString(p: number, v: unknown): void {
    const [ptr, len] = this.lowerString(v);
    this.setU32(p, ptr);
    this.setU32(p + 4, len);
  }
}

/** Starts a guest -> host call. */
function enter(mem: GuestMemory, where: string): Cx {
  if (stateOf(mem).inGuestHelper) throw new AbiTrap(\`\${where}: called from cabi_realloc or a post-return function\`);
  return new Cx(mem, where);
}

/** Runs a host function, turning a thrown WitResultError into the error case. */
function callHost<T, E>(f: () => T): WitResult<T, E> {
  try {
    return { tag: 'ok', val: f() };
  } catch (e) {
    if (e instanceof WitResultError) return { tag: 'err', val: e.payload as E };
    throw e;
  }
}

function unwrap<T, E>(r: WitResult<T, E>): T {
  if (r.tag === 'err') throw new WitResultError<E>(r.val);
  return r.val;
}

function guestFunction(exports: WebAssembly.Exports, name: string): GuestFunction {
  const f = exports[name];
  if (typeof f !== 'function') throw new AbiTrap(\`the guest does not export function '\${name}'\`);
  return f as GuestFunction;
}

function optionalGuestFunction(exports: WebAssembly.Exports, name: string): GuestFunction | undefined {
  const f = exports[name];
  if (f === undefined) return undefined;
  if (typeof f !== 'function') throw new AbiTrap(\`the guest export '\${name}' is not a function\`);
  return f as GuestFunction;
}

function attachGuest(mem: GuestMemory, exports: WebAssembly.Exports): void {
  const memory = exports['memory'];
  if (!isMemory(memory)) throw new AbiTrap("the guest does not export its 'memory'");
  mem.memory = memory;
  mem.realloc = guestFunction(exports, 'cabi_realloc');
}

/**
 * A host -> guest call: lower the arguments, call, lift the result, then call the
 * post-return function (if any) with the core result. Re-entering the guest while
 * a call is in progress traps.
 */
function callGuest<V, R>(
  mem: GuestMemory,
  where: string,
  call: (cx: Cx) => { flat: unknown; value: V },
  post: GuestFunction | undefined,
  finish: (v: V) => R,
): R {
  const state = stateOf(mem);
  if (state.inExport) throw new AbiTrap(\`\${where}: the guest is already running an export\`);
  state.inExport = true;
  let value: V;
  try {
    const cx = new Cx(mem, where);
    const r = call(cx);
    value = r.value;
    if (post !== undefined) {
      state.inGuestHelper = true;
      try {
        post(...(r.flat === undefined ? [] : [cx.i32(r.flat)]));
      } finally {
        state.inGuestHelper = false;
      }
    }
  } finally {
    state.inExport = false;
  }
  return finish(value);
}
`;

export function generateHost(wit, { witPath, world }) {
  return new HostGen(wit, world).generate(witPath);
}
