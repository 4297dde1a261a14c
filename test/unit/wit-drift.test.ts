// The generated ABI code must match wit/plugin.wit: regenerate in memory and compare
// with the committed files, so a hand edit or a WIT change without `npm run gen:wit`
// fails here. Also: the parser is strict, and the generated core signatures agree
// with the ones jco derives from the same WIT.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { componentEmbed } from '@bytecodealliance/jco';
import { generateAll, ROOT, WIT_PATH, WORLD } from '../../scripts/wit/generate.mjs';
import { parseWit, WitError } from '../../scripts/wit/parser.mjs';
import { coreSignatures } from '../../scripts/wit/core-signatures.mjs';
import { EXPORT_SIGNATURES, IMPORT_SIGNATURES } from '../../host/runtime/generated/abi.ts';

const witSource = readFileSync(join(ROOT, WIT_PATH), 'utf8');

describe('generated ABI code is in sync with the WIT', () => {
  const files = generateAll(witSource);

  it('generates the host glue and the AssemblyScript bindings', () => {
    expect(Object.keys(files).sort()).toEqual([
      'host/runtime/generated/abi.ts',
      'plugins-as/sdk/generated/abi.ts',
      'plugins-as/sdk/generated/bindings.ts',
      'plugins-as/sdk/generated/export-names.json',
      'plugins-as/sdk/generated/exports.ts',
    ]);
  });

  for (const [rel, content] of Object.entries(files)) {
    it(`${rel} is what the generator makes from ${WIT_PATH}`, () => {
      const committed = readFileSync(join(ROOT, rel), 'utf8');
      // On failure: run `npm run gen:wit` and commit the result (never edit generated files).
      expect(committed === content, `${rel} is stale: run npm run gen:wit`).toBe(true);
    });
  }

  it('a WIT change shows up in the output', () => {
    const changed = generateAll(witSource.replace('get-link: func(', 'get-link2: func('));
    expect(changed['host/runtime/generated/abi.ts']).not.toEqual(files['host/runtime/generated/abi.ts']);
    expect(changed['plugins-as/sdk/generated/bindings.ts']).toContain('"get-link2"');
  });
});

describe('core signatures agree with jco', () => {
  it('every import and export of jco\'s dummy module for world plugin matches IMPORT_/EXPORT_SIGNATURES', async () => {
    const dummy = await componentEmbed({ dummy: true, witSource, world: WORLD });
    const jco = coreSignatures(dummy);
    // jco 1.35 uses the newer `cm32p2|ns:pkg/iface@maj.min|name` mangling; compare by interface and name.
    const ours = new Map(IMPORT_SIGNATURES.map((s) => [`${s.module.replace(/@.*$/, '')}|${s.name}`, s]));
    expect(jco.imports.length).toBe(IMPORT_SIGNATURES.length);
    for (const imp of jco.imports) {
      const key = `${imp.module.replace(/^cm32p2\|/, '').replace(/@.*$/, '')}|${imp.name}`;
      const mine = ours.get(key);
      expect(mine, key).toBeDefined();
      expect({ key, params: mine?.params, results: mine?.results }).toEqual({ key, params: imp.params, results: imp.results });
    }
    const exportKey = (n: string): string => {
      const m = /^cm32p2\|([^@]+)@[^|]*\|(.+?)(_post)?$/.exec(n);
      if (m) return m[3] ? `cabi_post_${m[1]}#${m[2]}` : `${m[1]}#${m[2]}`;
      return n.replace(/^cm32p2_/, 'cabi_');
    };
    const mine = new Map(EXPORT_SIGNATURES.map((s) => [s.name.replace(/@0\.1\.0/, ''), s]));
    const theirs = jco.exports.filter((e) => e.name !== 'cm32p2_initialize');
    expect(theirs.length).toBe(EXPORT_SIGNATURES.length);
    for (const e of theirs) {
      const key = exportKey(e.name);
      const s = mine.get(key);
      expect(s, key).toBeDefined();
      expect({ key, params: s?.params, results: s?.results }).toEqual({ key, params: e.params, results: e.results });
    }
  });

  it('functions with more than 16 flat params take a pointer; compound results use a retptr', () => {
    const sig = (iface: string, name: string) => IMPORT_SIGNATURES.find((s) => s.module === `cni:plugin/${iface}@0.1.0` && s.name === name);
    expect(sig('netlink', 'set-link')).toMatchObject({ params: ['i32', 'i32'], results: [] });
    expect(sig('netlink', 'add-route')).toMatchObject({ params: ['i32', 'i32'], results: [] });
    expect(sig('log', 'write')).toMatchObject({ params: ['i32', 'i32', 'i32'], results: [] });
    expect(EXPORT_SIGNATURES.find((s) => s.name === 'cni:plugin/handler@0.1.0#add')).toMatchObject({
      params: Array(12).fill('i32'),
      results: ['i32'],
    });
  });
});

describe('the WIT parser is strict', () => {
  const bad: [string, string, RegExp][] = [
    ['no package', 'interface a {}', /wit:1:1: expected 'package/],
    ['unknown type', 'package a:b@0.1.0;\ninterface i {\n  f: func(x: nope);\n}', /wit:3:14: unknown type 'nope'/],
    ['resources', 'package a:b@0.1.0;\ninterface i {\n  resource r;\n}', /wit:3:3: unsupported interface item starting with 'resource'/],
    ['keyword as name', 'package a:b@0.1.0;\ninterface i {\n  record list { a: u8 }\n}', /wit:3:10: 'list' is a keyword/],
    ['bad identifier', 'package a:b@0.1.0;\ninterface i {\n  record Foo { a: u8 }\n}', /wit:3:10: invalid record name 'Foo'/],
    ['unknown use', 'package a:b@0.1.0;\ninterface i {\n  use j.{t};\n}', /wit:3:3: unknown interface 'j'/],
    ['use of a missing type', 'package a:b@0.1.0;\ninterface j {}\ninterface i {\n  use j.{t};\n}', /wit:4:10: interface 'j' defines no type 't'/],
    ['duplicate field', 'package a:b@0.1.0;\ninterface i {\n  record r { a: u8, a: u8 }\n}', /wit:3:21: duplicate name 'a'/],
    ['recursive type', 'package a:b@0.1.0;\ninterface i {\n  record r { a: list<r> }\n}', /contains itself/],
    ['stray character', 'package a:b@0.1.0;\ninterface i {\n  f: func() -> u8 $;\n}', /wit:3:19: unexpected character "\$"/],
    ['missing semicolon', 'package a:b@0.1.0;\ninterface i {\n  f: func()\n}', /wit:4:1: expected ';', found '}'/],
    ['unknown world member', 'package a:b@0.1.0;\nworld w {\n  import nope;\n}', /wit:3:10: world 'w' names unknown interface 'nope'/],
    ['async', 'package a:b@0.1.0;\ninterface i {\n  f: async func();\n}', /async functions are not supported/],
    ['unterminated comment', 'package a:b@0.1.0;\n/* x', /wit:2:1: unterminated block comment/],
  ];
  for (const [what, src, re] of bad) {
    it(`rejects ${what} with its position`, () => {
      expect(() => parseWit(src)).toThrow(WitError);
      expect(() => parseWit(src)).toThrow(re);
    });
  }

  it('accepts the subset cni-wasm uses (flags, aliases, tuples, escaped keywords, doc comments)', () => {
    const w = parseWit(`package a:b@1.2.3;
/// docs
interface i {
  flags perms { read, write }
  type name = string;
  record %record { %type: name, t: tuple<u8, s32>, r: result, r2: result<u8>, p: perms }
  f: func(x: %record) -> result<_, string>;
}
world w { export i; }`);
    expect(w.interfaces[0]?.types.map((t) => `${t.kind}:${t.name}`)).toEqual(['flags:perms', 'alias:name', 'record:record']);
  });

  it('parses the project WIT', () => {
    const w = parseWit(witSource);
    expect(w.package).toMatchObject({ namespace: 'cni', name: 'plugin', version: '0.1.0' });
    expect(w.worlds.map((x) => x.name)).toEqual(['plugin']);
  });
});
