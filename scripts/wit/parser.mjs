// A small, strict parser for the subset of WIT that cni-wasm uses.
//
// Supported: `package ns:name@x.y.z;`, `interface`, `use iface.{a, b as c};`,
// `record`, `variant`, `enum`, `flags`, `type x = T;`, functions
// (`name: func(p: T, ...) -> T;`), `world` with `import iface;` / `export iface;`,
// types bool, u8..u64, s8..s64, f32, f64, char, string, list<T>, option<T>,
// result, result<T>, result<T, E>, result<_, E>, tuple<...>, and `///` doc comments.
// Anything else is an error naming the line and column.

export class WitError extends Error {
  constructor(message, line, col) {
    super(line === undefined ? message : `wit:${line}:${col}: ${message}`);
    this.name = 'WitError';
  }
}

const PRIMITIVES = new Set([
  'bool', 'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'f32', 'f64', 'char', 'string',
]);

// Words that cannot name an item without a `%` escape (WIT keywords).
const KEYWORDS = new Set([
  ...PRIMITIVES, 'use', 'type', 'func', 'record', 'enum', 'flags', 'variant', 'resource', 'own',
  'borrow', 'list', 'option', 'result', 'tuple', 'future', 'stream', 'interface', 'world',
  'import', 'export', 'package', 'include', 'with', 'as', 'from', 'static', 'constructor',
  'async', 'error-context', '_',
]);

const PUNCT = ['->', '{', '}', '(', ')', '<', '>', ',', ':', ';', '.', '/', '@', '=', '*'];

// ---------------------------------------------------------------------------
// Lexer

function lex(src) {
  const toks = [];
  let i = 0;
  let line = 1;
  let col = 1;
  let docs = [];
  const adv = (n) => {
    for (let k = 0; k < n; k++) {
      if (src[i] === '\n') { line++; col = 1; } else { col++; }
      i++;
    }
  };
  while (i < src.length) {
    const c = src[i];
    if (c === '\n' || c === ' ' || c === '\t' || c === '\r') { adv(1); continue; }
    if (src.startsWith('///', i) && src[i + 3] !== '/') {
      const end = src.indexOf('\n', i);
      const text = src.slice(i + 3, end === -1 ? src.length : end);
      docs.push(text.startsWith(' ') ? text.slice(1) : text);
      adv((end === -1 ? src.length : end) - i);
      continue;
    }
    if (src.startsWith('//', i)) {
      const end = src.indexOf('\n', i);
      adv((end === -1 ? src.length : end) - i);
      continue;
    }
    if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      if (end === -1) throw new WitError('unterminated block comment', line, col);
      adv(end + 2 - i);
      continue;
    }
    const tl = line;
    const tc = col;
    const p = PUNCT.find((q) => src.startsWith(q, i));
    if (p) {
      toks.push({ kind: 'punct', value: p, line: tl, col: tc, docs });
      docs = [];
      adv(p.length);
      continue;
    }
    // Identifiers (kebab-case words, optionally %-escaped) and version/number runs.
    const m = /^%?[A-Za-z0-9_][A-Za-z0-9_\-]*(?:\.[0-9][A-Za-z0-9\-+.]*)?/.exec(src.slice(i));
    if (m) {
      toks.push({ kind: 'word', value: m[0], line: tl, col: tc, docs });
      docs = [];
      adv(m[0].length);
      continue;
    }
    throw new WitError(`unexpected character ${JSON.stringify(c)}`, tl, tc);
  }
  toks.push({ kind: 'eof', value: '<end of file>', line, col, docs: [] });
  return toks;
}

// ---------------------------------------------------------------------------
// Parser

class Parser {
  constructor(src) {
    this.toks = lex(src);
    this.pos = 0;
  }
  peek(o = 0) { return this.toks[this.pos + o]; }
  next() { return this.toks[this.pos++]; }
  fail(msg, t = this.peek()) { throw new WitError(msg, t.line, t.col); }
  isPunct(v, o = 0) { const t = this.peek(o); return t.kind === 'punct' && t.value === v; }
  isWord(v, o = 0) { const t = this.peek(o); return t.kind === 'word' && t.value === v; }
  punct(v) {
    const t = this.next();
    if (t.kind !== 'punct' || t.value !== v) this.fail(`expected '${v}', found '${t.value}'`, t);
    return t;
  }
  keyword(v) {
    const t = this.next();
    if (t.kind !== 'word' || t.value !== v) this.fail(`expected '${v}', found '${t.value}'`, t);
    return t;
  }
  /** An identifier: lower kebab-case words; a keyword only when %-escaped. */
  ident(what) {
    const t = this.next();
    if (t.kind !== 'word') this.fail(`expected ${what}, found '${t.value}'`, t);
    let name = t.value;
    const escaped = name.startsWith('%');
    if (escaped) name = name.slice(1);
    if (!/^[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*$/.test(name)) {
      this.fail(`invalid ${what} '${t.value}' (lower kebab-case words, each starting with a letter)`, t);
    }
    if (!escaped && KEYWORDS.has(name)) this.fail(`'${name}' is a keyword; write %${name} to use it as ${what}`, t);
    return { name, tok: t };
  }

  parseFile() {
    const file = { package: null, interfaces: [], worlds: [] };
    const pkgTok = this.peek();
    if (this.isWord('package')) {
      this.next();
      const ns = this.ident('package namespace');
      this.punct(':');
      const nm = this.ident('package name');
      let version = null;
      if (this.isPunct('@')) {
        this.next();
        const v = this.next();
        if (v.kind !== 'word' || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(v.value)) {
          this.fail(`invalid package version '${v.value}'`, v);
        }
        version = v.value;
      }
      this.punct(';');
      file.package = { namespace: ns.name, name: nm.name, version, docs: pkgTok.docs };
    } else {
      this.fail("expected 'package ns:name@version;' first");
    }
    while (this.peek().kind !== 'eof') {
      const t = this.peek();
      if (this.isWord('interface')) file.interfaces.push(this.parseInterface());
      else if (this.isWord('world')) file.worlds.push(this.parseWorld());
      else this.fail(`expected 'interface' or 'world', found '${t.value}'`);
    }
    return file;
  }

  parseInterface() {
    const kw = this.keyword('interface');
    const { name } = this.ident('interface name');
    const iface = { name, docs: kw.docs, line: kw.line, uses: [], types: [], funcs: [] };
    this.punct('{');
    while (!this.isPunct('}')) {
      const t = this.peek();
      if (t.kind === 'eof') this.fail("unterminated interface (missing '}')");
      if (this.isWord('use')) iface.uses.push(this.parseUse());
      else if (this.isWord('record')) iface.types.push(this.parseRecord());
      else if (this.isWord('variant')) iface.types.push(this.parseVariant());
      else if (this.isWord('enum')) iface.types.push(this.parseEnumOrFlags('enum'));
      else if (this.isWord('flags')) iface.types.push(this.parseEnumOrFlags('flags'));
      else if (this.isWord('type')) iface.types.push(this.parseAlias());
      else if (t.kind === 'word' && this.isPunct(':', 1)) iface.funcs.push(this.parseFunc());
      else this.fail(`unsupported interface item starting with '${t.value}'`);
    }
    this.punct('}');
    return iface;
  }

  parseUse() {
    const kw = this.keyword('use');
    const from = this.ident('interface name');
    if (this.isPunct(':') || this.isPunct('/') || this.isPunct('@')) {
      this.fail('only `use <interface-in-this-package>.{...}` is supported');
    }
    this.punct('.');
    this.punct('{');
    const names = [];
    for (;;) {
      const n = this.ident('type name');
      let as = n.name;
      if (this.isWord('as')) { this.next(); as = this.ident('type name').name; }
      names.push({ name: n.name, as, line: n.tok.line, col: n.tok.col });
      if (this.isPunct(',')) { this.next(); if (this.isPunct('}')) break; continue; }
      break;
    }
    this.punct('}');
    this.punct(';');
    return { from: from.name, names, line: kw.line, col: kw.col };
  }

  parseRecord() {
    const kw = this.keyword('record');
    const { name } = this.ident('record name');
    this.punct('{');
    const fields = [];
    while (!this.isPunct('}')) {
      const f = this.ident('field name');
      this.punct(':');
      const type = this.parseType();
      fields.push({ name: f.name, type, docs: f.tok.docs, line: f.tok.line, col: f.tok.col });
      if (!this.isPunct(',')) break;
      this.next();
    }
    this.punct('}');
    if (fields.length === 0) this.fail(`record '${name}' has no fields`, kw);
    return { kind: 'record', name, fields, docs: kw.docs, line: kw.line, col: kw.col };
  }

  parseVariant() {
    const kw = this.keyword('variant');
    const { name } = this.ident('variant name');
    this.punct('{');
    const cases = [];
    while (!this.isPunct('}')) {
      const c = this.ident('case name');
      let type = null;
      if (this.isPunct('(')) { this.next(); type = this.parseType(); this.punct(')'); }
      cases.push({ name: c.name, type, docs: c.tok.docs, line: c.tok.line, col: c.tok.col });
      if (!this.isPunct(',')) break;
      this.next();
    }
    this.punct('}');
    if (cases.length === 0) this.fail(`variant '${name}' has no cases`, kw);
    return { kind: 'variant', name, cases, docs: kw.docs, line: kw.line, col: kw.col };
  }

  parseEnumOrFlags(kind) {
    const kw = this.keyword(kind);
    const { name } = this.ident(`${kind} name`);
    this.punct('{');
    const cases = [];
    while (!this.isPunct('}')) {
      const c = this.ident(kind === 'enum' ? 'case name' : 'flag name');
      cases.push({ name: c.name, docs: c.tok.docs, line: c.tok.line, col: c.tok.col });
      if (!this.isPunct(',')) break;
      this.next();
    }
    this.punct('}');
    if (cases.length === 0) this.fail(`${kind} '${name}' is empty`, kw);
    if (kind === 'flags' && cases.length > 32) this.fail(`flags '${name}' has more than 32 flags`, kw);
    return { kind, name, cases, docs: kw.docs, line: kw.line, col: kw.col };
  }

  parseAlias() {
    const kw = this.keyword('type');
    const { name } = this.ident('type name');
    this.punct('=');
    const type = this.parseType();
    this.punct(';');
    return { kind: 'alias', name, type, docs: kw.docs, line: kw.line, col: kw.col };
  }

  parseFunc() {
    const n = this.ident('function name');
    this.punct(':');
    if (this.isWord('async')) this.fail('async functions are not supported');
    this.keyword('func');
    this.punct('(');
    const params = [];
    while (!this.isPunct(')')) {
      const p = this.ident('parameter name');
      this.punct(':');
      params.push({ name: p.name, type: this.parseType(), line: p.tok.line, col: p.tok.col });
      if (!this.isPunct(',')) break;
      this.next();
    }
    this.punct(')');
    let result = null;
    if (this.isPunct('->')) {
      this.next();
      if (this.isPunct('(')) this.fail('named results are not supported; return one type');
      result = this.parseType();
    }
    this.punct(';');
    return { name: n.name, params, result, docs: n.tok.docs, line: n.tok.line, col: n.tok.col };
  }

  parseType() {
    const t = this.peek();
    if (t.kind !== 'word') this.fail(`expected a type, found '${t.value}'`);
    const at = { line: t.line, col: t.col };
    switch (t.value) {
      case 'list': {
        this.next(); this.punct('<');
        const elem = this.parseType();
        if (this.isPunct(',')) this.fail('fixed-length lists are not supported');
        this.punct('>');
        return { kind: 'list', elem, ...at };
      }
      case 'option': {
        this.next(); this.punct('<');
        const inner = this.parseType();
        this.punct('>');
        return { kind: 'option', inner, ...at };
      }
      case 'result': {
        this.next();
        let ok = null;
        let err = null;
        if (this.isPunct('<')) {
          this.next();
          if (this.isWord('_')) { this.next(); this.punct(','); err = this.parseType(); }
          else {
            ok = this.parseType();
            if (this.isPunct(',')) { this.next(); err = this.parseType(); }
          }
          this.punct('>');
        }
        return { kind: 'result', ok, err, ...at };
      }
      case 'tuple': {
        this.next(); this.punct('<');
        const elems = [];
        while (!this.isPunct('>')) {
          elems.push(this.parseType());
          if (!this.isPunct(',')) break;
          this.next();
        }
        this.punct('>');
        if (elems.length === 0) this.fail('empty tuple', t);
        return { kind: 'tuple', elems, ...at };
      }
      case 'own': case 'borrow': case 'future': case 'stream': case 'error-context':
        this.fail(`'${t.value}' types are not supported`);
    }
    if (PRIMITIVES.has(t.value)) { this.next(); return { kind: 'prim', name: t.value, ...at }; }
    const { name } = this.ident('type name');
    return { kind: 'ref', name, ...at };
  }

  parseWorld() {
    const kw = this.keyword('world');
    const { name } = this.ident('world name');
    const world = { name, docs: kw.docs, imports: [], exports: [], line: kw.line };
    this.punct('{');
    while (!this.isPunct('}')) {
      const t = this.peek();
      if (this.isWord('import') || this.isWord('export')) {
        const dir = this.next().value;
        const n = this.ident('interface name');
        if (this.isPunct(':')) this.fail(`inline world ${dir}s are not supported; ${dir} a named interface`);
        this.punct(';');
        (dir === 'import' ? world.imports : world.exports).push({ name: n.name, line: n.tok.line, col: n.tok.col });
      } else {
        this.fail(`unsupported world item starting with '${t.value}'`);
      }
    }
    this.punct('}');
    return world;
  }
}

// ---------------------------------------------------------------------------
// Resolution: every type reference points at one named type definition.
//
// Resolved types:
//   { kind: 'prim', name }
//   { kind: 'list', elem } | { kind: 'option', inner } | { kind: 'tuple', elems }
//   { kind: 'result', ok: T|null, err: T|null }
//   { kind: 'named', def }   where def = { kind: record|variant|enum|flags|alias, name, iface, ... }

export function parseWit(src) {
  const file = new Parser(src).parseFile();
  const ifaces = new Map();
  for (const i of file.interfaces) {
    if (ifaces.has(i.name)) throw new WitError(`duplicate interface '${i.name}'`, i.line, 1);
    ifaces.set(i.name, i);
  }
  // Definitions per interface, then `use` imports into scopes.
  for (const iface of file.interfaces) {
    iface.scope = new Map();
    for (const def of iface.types) {
      def.iface = iface.name;
      if (iface.scope.has(def.name)) throw new WitError(`duplicate type '${def.name}'`, def.line, def.col);
      iface.scope.set(def.name, def);
      checkUniqueNames(def);
    }
  }
  for (const iface of file.interfaces) {
    for (const u of iface.uses) {
      const from = ifaces.get(u.from);
      if (!from) throw new WitError(`unknown interface '${u.from}'`, u.line, u.col);
      if (from === iface) throw new WitError(`interface '${iface.name}' cannot use itself`, u.line, u.col);
      for (const n of u.names) {
        const def = from.scope.get(n.name);
        if (!def || def.iface !== from.name) throw new WitError(`interface '${u.from}' defines no type '${n.name}'`, n.line, n.col);
        if (iface.scope.has(n.as)) throw new WitError(`'${n.as}' is already defined in '${iface.name}'`, n.line, n.col);
        iface.scope.set(n.as, def);
      }
    }
  }
  const resolve = (iface, t) => {
    switch (t.kind) {
      case 'prim': return { kind: 'prim', name: t.name };
      case 'list': return { kind: 'list', elem: resolve(iface, t.elem) };
      case 'option': return { kind: 'option', inner: resolve(iface, t.inner) };
      case 'tuple': return { kind: 'tuple', elems: t.elems.map((e) => resolve(iface, e)) };
      case 'result': return {
        kind: 'result',
        ok: t.ok && resolve(iface, t.ok),
        err: t.err && resolve(iface, t.err),
      };
      case 'ref': {
        const def = iface.scope.get(t.name);
        if (!def) throw new WitError(`unknown type '${t.name}' in interface '${iface.name}'`, t.line, t.col);
        return { kind: 'named', def };
      }
    }
    throw new Error(`unreachable: ${t.kind}`);
  };
  for (const iface of file.interfaces) {
    for (const def of iface.types) {
      if (def.kind === 'record') for (const f of def.fields) f.type = resolve(iface, f.type);
      if (def.kind === 'variant') for (const c of def.cases) if (c.type) c.type = resolve(iface, c.type);
      if (def.kind === 'alias') def.type = resolve(iface, def.type);
    }
    const seen = new Set();
    for (const fn of iface.funcs) {
      if (seen.has(fn.name)) {
        throw new WitError(`duplicate function '${fn.name}'`, fn.line, fn.col);
      }
      seen.add(fn.name);
      const pnames = new Set();
      for (const p of fn.params) {
        if (pnames.has(p.name)) throw new WitError(`duplicate parameter '${p.name}'`, p.line, p.col);
        pnames.add(p.name);
        p.type = resolve(iface, p.type);
      }
      if (fn.result) fn.result = resolve(iface, fn.result);
    }
  }
  // No type may contain itself (WIT has no recursive types).
  for (const iface of file.interfaces) for (const def of iface.types) checkAcyclic(def, []);

  for (const w of file.worlds) {
    const names = new Set();
    for (const item of [...w.imports, ...w.exports]) {
      if (!ifaces.has(item.name)) throw new WitError(`world '${w.name}' names unknown interface '${item.name}'`, item.line, item.col);
      if (names.has(item.name)) throw new WitError(`interface '${item.name}' appears twice in world '${w.name}'`, item.line, item.col);
      names.add(item.name);
    }
  }
  return { package: file.package, interfaces: file.interfaces, worlds: file.worlds, interface: (n) => ifaces.get(n) };
}

function checkUniqueNames(def) {
  const list = def.kind === 'record' ? def.fields : def.kind === 'alias' ? [] : def.cases;
  const seen = new Set();
  for (const x of list) {
    if (seen.has(x.name)) throw new WitError(`duplicate name '${x.name}' in ${def.kind} '${def.name}'`, x.line, x.col);
    seen.add(x.name);
  }
}

function checkAcyclic(def, stack) {
  if (stack.includes(def)) {
    throw new WitError(`type '${def.name}' contains itself`, def.line, def.col);
  }
  const walk = (t) => {
    if (!t) return;
    switch (t.kind) {
      case 'list': walk(t.elem); break;
      case 'option': walk(t.inner); break;
      case 'tuple': t.elems.forEach(walk); break;
      case 'result': walk(t.ok); walk(t.err); break;
      case 'named': checkAcyclic(t.def, [...stack, def]); break;
    }
  };
  if (def.kind === 'record') def.fields.forEach((f) => walk(f.type));
  if (def.kind === 'variant') def.cases.forEach((c) => walk(c.type));
  if (def.kind === 'alias') walk(def.type);
}

/** Follows aliases to the underlying type. */
export function unalias(t) {
  while (t && t.kind === 'named' && t.def.kind === 'alias') t = t.def.type;
  return t;
}
