// The generated ABI code must match wit/plugin.wit: regenerate in memory and compare
// with the committed files, so a hand edit or a WIT change without `npm run gen:wit`
// fails here. Also: the parser is strict, and the generated core signatures agree
// with the ones jco derives from the same WIT.

import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentEmbed } from '@bytecodealliance/jco';
import { transform } from 'esbuild';
import { generateAll, generateWorld, ROOT, WIT_PATH, WORLD } from '../../scripts/wit/generate.mjs';
import { renameExports } from '../../scripts/wit/rename-exports.mjs';
import { parseWit, WitError } from '../../scripts/wit/parser.mjs';
import { coreSignatures } from '../../scripts/wit/core-signatures.mjs';
import { EXPORT_SIGNATURES, IMPORT_SIGNATURES, type GuestMemory } from '../../host/runtime/generated/abi.ts';

const execFileAsync = promisify(execFile);

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

  it('the generators refuse WIT names whose generated helpers would collide', () => {
    const src = 'package a:b@0.1.0;\ninterface i {\n  record list-u8 { a: u8 }\n  f: func() -> tuple<list-u8, list<u8>>;\n}\nworld w { import i; }';
    expect(() => generateWorld(src, { world: 'w', witPath: 'x.wit' })).toThrow(/would serve both list-u8 and list<u8>/);
  });

  it('parses the project WIT', () => {
    const w = parseWit(witSource);
    expect(w.package).toMatchObject({ namespace: 'cni', name: 'plugin', version: '0.1.0' });
    expect(w.worlds.map((x) => x.name)).toEqual(['plugin']);
  });
});

describe('generator features the project WIT does not use yet (test/fixtures/abi/synthetic.wit)', () => {
  // Generated host glue must typecheck under the project's strict settings, and both sides
  // must agree at run time: flags, aliases, payload-less cases, option<enum>, s8/s16/s32,
  // char, tuples, nested results, exactly 16 flat params, flat results, bare `result`.
  let dir = '';
  let glue: {
    buildImports: (host: unknown, mem: GuestMemory) => WebAssembly.Imports;
    bindEx: (exports: WebAssembly.Exports, mem: GuestMemory) => {
      run(a: number, p: { read: boolean; write: boolean; exec: boolean }): number;
      echo(a: string): string;
      ping(): void;
    };
    WitResultError: new (payload: unknown) => Error;
  };
  let wasm: Uint8Array<ArrayBuffer>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cniw-synthetic-'));
    const fixtures = join(ROOT, 'test/fixtures/abi');
    const { host, as } = generateWorld(readFileSync(join(fixtures, 'synthetic.wit'), 'utf8'), { world: 'w', witPath: 'synthetic.wit' });
    writeFileSync(join(dir, 'abi.ts'), host);
    mkdirSync(join(dir, 'as'));
    for (const [name, content] of Object.entries(as)) writeFileSync(join(dir, 'as', name), content);
    copyFileSync(join(fixtures, 'synthetic-driver.ts'), join(dir, 'driver.ts'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { ...tsconfig.compilerOptions, types: [], typeRoots: [join(ROOT, 'node_modules/@types')], lib: ['ES2022', 'DOM'] },
      files: ['abi.ts'],
    }));
    const [, , js] = await Promise.all([
      execFileAsync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')], { cwd: dir }),
      execFileAsync(process.execPath, [
        join(ROOT, 'node_modules/assemblyscript/bin/asc.js'), 'driver.ts', '--runtime', 'stub',
        '--use', 'abort=as/bindings/cniwAbort', '--outFile', 'driver.wasm',
      ], { cwd: dir }),
      transform(host, { loader: 'ts', format: 'esm' }),
    ]);
    writeFileSync(join(dir, 'abi.mjs'), js.code);
    glue = (await import(pathToFileURL(join(dir, 'abi.mjs')).href)) as typeof glue;
    const names = JSON.parse(as['export-names.json'] ?? '{}') as Record<string, string>;
    wasm = renameExports(readFileSync(join(dir, 'driver.wasm')), names).wasm;
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips through both generated sides', () => {
    const calls: unknown[][] = [];
    type Perms = { read: boolean; write: boolean; exec: boolean };
    type Thing = { n: string; p: Perms; r: { tag: string; val: unknown }[] };
    const api = {
      count: (s: string) => s.length,
      neg: (x: number) => -x | 0,
      flag: () => true,
      permsOf: (p: Perms) => ({ read: !p.read, write: !p.write, exec: true }),
      colorOf: (c: string) => c,
      shapeOf: (s: { tag: string; val?: number }) => (s.tag === 'circle' ? { tag: 'square', val: (s.val ?? 0) * 2 } : s),
      thingOf: (t: Thing) => ({ ...t, n: `${t.n}!`, p: { ...t.p, read: true }, r: [...t.r].reverse() }),
      nothing: () => {},
      bare: () => { throw new glue.WitResultError(undefined); },
      ch: (c: string) => (c === 'A' ? undefined : c),
    };
    const recorded = new Proxy(api, {
      get: (target, prop) => (...args: unknown[]) => {
        calls.push([prop, ...structuredClone(args)]);
        return (Reflect.get(target, prop) as (...a: unknown[]) => unknown)(...args);
      },
    });
    const mem: GuestMemory = { maxLiftBytes: 1 << 16 };
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm), glue.buildImports({ api: recorded }, mem));
    const ex = glue.bindEx(instance.exports, mem);
    expect(ex.run(4294967295, { read: true, write: false, exec: true })).toBe(4294967292);
    expect(ex.ping()).toBeUndefined();
    expect(ex.echo('é: ')).toBe(
      'é: count=5 neg=-2147483648,-5 flag=1 perms=101 color=2 shape=square:6,none' +
      ' thing=thing ✓!|101|square:4294967295|1|-32768|-128|-1|129408|255,ü|2,err bad,ok 7 bare=err ch=1114111,none',
    );
    expect(calls).toStrictEqual([
      ['count', 'héllo'],
      ['neg', -2147483648],
      ['neg', 5],
      ['flag'],
      ['permsOf', { read: false, write: true, exec: false }],
      ['colorOf', 'blue'],
      ['shapeOf', { tag: 'circle', val: 3 }],
      ['shapeOf', { tag: 'none' }],
      ['thingOf', {
        n: 'thing ✓', p: { read: false, write: false, exec: true }, s: { tag: 'square', val: 4294967295 }, c: 'green',
        x: -32768, y: -128, z: -1, ch: '🦀', t: [255, 'ü'], r: [{ tag: 'ok', val: 7 }, { tag: 'err', val: 'bad' }],
      }],
      ['nothing'],
      ['bare'],
      ['ch', '\u{10FFFF}'],
      ['ch', 'A'],
    ]);
  });

  it('thing-of has exactly MAX_FLAT_PARAMS (16) flat params and a retptr', () => {
    const sigs = new WebAssembly.Module(wasm);
    const imp = WebAssembly.Module.imports(sigs).map((i) => `${i.module} ${i.name}`);
    expect(imp).toContain('t:syn/api@0.1.0 thing-of');
    const { host } = generateWorld(readFileSync(join(ROOT, 'test/fixtures/abi/synthetic.wit'), 'utf8'), { world: 'w', witPath: 'synthetic.wit' });
    expect(host).toContain(`{ module: 't:syn/api@0.1.0', name: 'thing-of', params: [${Array(17).fill("'i32'").join(', ')}], results: [] }`);
  });
});
