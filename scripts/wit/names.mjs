// Naming and type-description helpers shared by the host and AssemblyScript generators.

import { unalias } from './parser.mjs';

export function pascal(kebab) {
  return kebab.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

export function camel(kebab) {
  const p = pascal(kebab);
  return p[0].toLowerCase() + p.slice(1);
}

export function upperSnake(kebab) {
  return kebab.replace(/-/g, '_').toUpperCase();
}

/** A stable PascalCase key for any type, used to name generated helpers. */
export function typeKey(t) {
  if (t === null) return 'Unit';
  switch (t.kind) {
    case 'prim': return pascal(t.name);
    case 'named': return pascal(t.def.name);
    case 'list': return `List${typeKey(t.elem)}`;
    case 'option': return `Option${typeKey(t.inner)}`;
    case 'tuple': return `Tuple${t.elems.map(typeKey).join('')}`;
    case 'result': return `Result${typeKey(t.ok)}${typeKey(t.err)}`;
  }
  throw new Error(`typeKey: ${t.kind}`);
}

/** The WIT spelling of a type, for messages and comments. */
export function witName(t) {
  if (t === null) return '_';
  switch (t.kind) {
    case 'prim': return t.name;
    case 'named': return t.def.name;
    case 'list': return `list<${witName(t.elem)}>`;
    case 'option': return `option<${witName(t.inner)}>`;
    case 'tuple': return `tuple<${t.elems.map(witName).join(', ')}>`;
    case 'result':
      if (!t.ok && !t.err) return 'result';
      if (!t.err) return `result<${witName(t.ok)}>`;
      return `result<${witName(t.ok)}, ${witName(t.err)}>`;
  }
  throw new Error(`witName: ${t.kind}`);
}

/** Rejects types the generators do not implement, with the WIT position. */
export function checkSupported(t, where) {
  const u = unalias(t);
  if (!u) return;
  switch (u.kind) {
    case 'prim':
      if (['u64', 's64', 'f32', 'f64'].includes(u.name)) {
        throw new Error(`${where}: ${u.name} is not supported by the generator (only 32-bit-or-smaller integers)`);
      }
      return;
    case 'list': checkSupported(u.elem, where); return;
    case 'option': {
      const inner = unalias(u.inner);
      if (inner.kind === 'option') throw new Error(`${where}: option<option<...>> is not supported by the generator`);
      checkSupported(u.inner, where);
      return;
    }
    case 'tuple': u.elems.forEach((e) => checkSupported(e, where)); return;
    case 'result': checkSupported(u.ok, where); checkSupported(u.err, where); return;
    case 'named': return; // definitions are checked once each
  }
}

/** The world's imported and exported interfaces, in WIT order, plus every type definition. */
export function worldModel(wit, worldName) {
  const world = wit.worlds.find((w) => w.name === worldName);
  if (!world) throw new Error(`no world '${worldName}' in the WIT`);
  const pkg = wit.package;
  const qualified = (iface) => `${pkg.namespace}:${pkg.name}/${iface}${pkg.version ? `@${pkg.version}` : ''}`;
  const imports = world.imports.map((i) => wit.interface(i.name));
  const exports = world.exports.map((i) => wit.interface(i.name));
  const defs = wit.interfaces.flatMap((i) => i.types);
  for (const d of defs) {
    const where = `${d.iface}.${d.name}`;
    if (d.kind === 'record') d.fields.forEach((f) => checkSupported(f.type, `${where}.${f.name}`));
    if (d.kind === 'variant') d.cases.forEach((c) => c.type && checkSupported(c.type, `${where}.${c.name}`));
    if (d.kind === 'alias') checkSupported(d.type, where);
  }
  for (const i of [...imports, ...exports]) {
    for (const f of i.funcs) {
      f.params.forEach((p) => checkSupported(p.type, `${i.name}.${f.name}(${p.name})`));
      if (f.result) checkSupported(f.result, `${i.name}.${f.name} result`);
    }
  }
  return { world, pkg, qualified, imports, exports, defs };
}

/** Formats doc-comment lines as a JSDoc block at the given indentation. */
export function jsdoc(docs, indent = '') {
  if (!docs || docs.length === 0) return [];
  if (docs.length === 1) return [`${indent}/** ${docs[0]} */`];
  return [`${indent}/**`, ...docs.map((d) => (d ? `${indent} * ${d}` : `${indent} *`)), `${indent} */`];
}
