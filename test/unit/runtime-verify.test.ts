// What the runtime accepts as a plugin, and the error it answers for everything else.
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, print } from '@bytecodealliance/jco';
import { CniError } from '../../host/cni/errors.ts';
import { RuntimeErrorCode } from '../../host/runtime/errors.ts';
import { resolveLimits } from '../../host/runtime/limits.ts';
import { capMainModule, verifyStructure, PLUGIN_WORLD } from '../../host/runtime/verify.ts';
import { readCoreModule } from '../../host/runtime/core-module.ts';
import { buildFixture, componentize, fixtureText } from '../fixtures/hostile/build.ts';

const ident = (type: string) => ({ type, path: `/plugins/${type}.wasm` });

function refusal(type: string, bytes: Uint8Array): CniError {
  try {
    verifyStructure(ident(type), bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(CniError);
    return e as CniError;
  }
  throw new Error(`${type} was accepted`);
}

const built = new Map<string, Uint8Array>();
beforeAll(async () => {
  for (const f of ['null', 'core-only', 'evil-import', 'wasi-import', 'second-module', 'wasi-adapter', 'min-above-cap', 'huge-max', 'log']) {
    built.set(f, await buildFixture(f));
  }
});
const fx = (name: string): Uint8Array => built.get(name)!;

/** Rewrite the printed text of a good component and parse it back (to make shapes jco new would not). */
async function edit(bytes: Uint8Array, from: string | RegExp, to: string): Promise<Uint8Array> {
  const text = await print(bytes);
  const next = text.replace(from, to);
  expect(next).not.toBe(text);
  return parse(next);
}

describe('verifyStructure accepts', () => {
  it('the null plugin, with its manifest', () => {
    const v = verifyStructure(ident('null'), fx('null'));
    expect(v.manifest).toBe('{"version":1}');
    expect(v.hasInitialize).toBe(false);
    expect(new WebAssembly.Module(v.module as Uint8Array<ArrayBuffer>)).toBeInstanceOf(WebAssembly.Module);
  });

  it('a plugin importing host interfaces (wit-component shim and fixup modules are recognised)', () => {
    const v = verifyStructure(ident('log'), fx('log'));
    expect(readCoreModule(v.module).imports.map((i) => `${i.module}.${i.name}`)).toEqual(['cni:plugin/log@0.1.0.write']);
  });

  it('not a module with the newer cm32p2 names (jco dummy of the world), with a message that says so', async () => {
    const { componentEmbed, componentNew } = await import('@bytecodealliance/jco');
    const { PLUGIN_WIT } = await import('../fixtures/hostile/build.ts');
    const dummy = await componentNew(await componentEmbed({ dummy: true, witSource: PLUGIN_WIT, world: 'plugin' }));
    const e = refusal('dummy', dummy);
    expect(e.message).toMatch(/uses wit-component's newer "cm32p2" export names/);
    expect(e.details).toMatch(/cni:plugin\/handler@0\.1\.0#add/);
  });
});

describe('verifyStructure refuses', () => {
  it('a core module that is not a component', () => {
    const e = refusal('core-only', fx('core-only'));
    expect(e.code).toBe(RuntimeErrorCode.PluginRefused);
    expect(e.message).toBe('plugin "core-only": refused: it is a core WebAssembly module, not a component');
    expect(e.details).toContain('/plugins/core-only.wasm');
  });

  it('a file that is not WebAssembly at all', () => {
    expect(refusal('text', new TextEncoder().encode('{"not":"wasm"}')).message).toMatch(/not a WebAssembly component/);
  });

  it('an interface the host does not provide, by name', () => {
    expect(refusal('evil-import', fx('evil-import')).message).toBe('plugin "evil-import": refused: it imports "cni:plugin/evil@0.1.0", which the host does not provide');
    expect(refusal('wasi-import', fx('wasi-import')).message).toMatch(/imports "wasi:cli\/environment@0\.2\.0", which the host does not provide/);
  });

  it('a second user module, and a WASI adapter module', () => {
    expect(refusal('second-module', fx('second-module')).message).toMatch(/core module #1 is a second user module .*exports work/);
    expect(refusal('wasi-adapter', fx('wasi-adapter')).message).toMatch(/core module #1 imports "wasi_snapshot_preview1"\."fd_write"/);
  });

  it('a main module whose import has another signature than the host function', async () => {
    // log.write with a fourth parameter, declared in the core module only.
    const bad = await edit(fx('log'), /\(type \(;0;\) \(func \(param i32 i32 i32\)\)\)/, '(type (;0;) (func (param i32 i32 i32 i32)))');
    expect(refusal('badsig', bad).message).toMatch(/imports "cni:plugin\/log@0\.1\.0"\."write" with type \(i32 i32 i32 i32\) -> \(\); the host's is \(i32 i32 i32\) -> \(\)/);
  });

  it('a main module importing a function its interface does not have', async () => {
    const bad = await edit(fx('log'), '(import "cni:plugin/log@0.1.0" "write"', '(import "cni:plugin/log@0.1.0" "exec"');
    const e = refusal('nofunc', bad);
    expect(e.message).toMatch(/imports "cni:plugin\/log@0\.1\.0"\."exec", which the host does not provide/);
    expect(e.details).toMatch(/interface cni:plugin\/log@0\.1\.0 has no function "exec"/);
  });

  it('a main module importing its memory', async () => {
    const bad = await edit(fx('null'), '(memory (;0;) 1)', '(import "cni:plugin/log@0.1.0" "mem" (memory 1))');
    expect(refusal('impmem', bad).message).toMatch(/imports its memory/);
  });

  it('a main module missing a required handler export, or exporting it with the wrong type', async () => {
    const missing = await edit(fx('null'), /\(export "cni:plugin\/handler@0\.1\.0#gc" \(func ([$\w]+)\)\)/, '(export "renamed" (func $1))');
    expect(refusal('nogc', missing).message).toMatch(/does not export "cni:plugin\/handler@0\.1\.0#gc"/);
    const wrong = await edit(fx('null'), /\(export "cabi_post_cni:plugin\/handler@0\.1\.0#gc" \(func [$\w]+\)\)/, '(export "cabi_post_cni:plugin/handler@0.1.0#gc" (func $$realloc))');
    expect(refusal('badpost', wrong).message).toMatch(/exports "cabi_post_cni:plugin\/handler@0\.1\.0#gc" with type \(i32 i32 i32 i32\) -> \(i32\); the ABI's is \(i32\) -> \(\)/);
  });

  it('a component exporting something besides the handler', async () => {
    const text = await print(fx('null'));
    const extra = text.replace(/\n\s*\(export \$cni:plugin\/handler@0\.1\.0 [^\n]*\n/, (m) => `${m}  (export "extra" (core module 0))\n`);
    expect(extra).not.toBe(text);
    expect(refusal('extra', await parse(extra)).message).toMatch(/exports "extra" \(core-module\), which is not part of the plugin world/);
  });

  it('a component lowering strings as UTF-16', async () => {
    const bad = await edit(fx('log'), 'string-encoding=utf8)', 'string-encoding=utf16)');
    expect(refusal('utf16', bad).message).toMatch(/passes strings as utf16/);
  });

  it('malformed bytes inside a valid preamble', () => {
    const b = fx('null').slice(0, 40);
    expect(refusal('cut', b).message).toMatch(/malformed component/);
  });
});

describe('capMainModule', () => {
  it('refuses a module whose initial memory is above the cap, naming the limit', () => {
    const v = verifyStructure(ident('min-above-cap'), fx('min-above-cap'));
    expect(() => capMainModule(ident('min-above-cap'), v, resolveLimits())).toThrow(/memory 0 \(pages\) starts at 2048, above the cap of 1024/);
    // with a larger cap it is accepted: the refusal is the limit's doing
    expect(() => capMainModule(ident('min-above-cap'), v, resolveLimits({ memoryMiB: 256 }))).not.toThrow();
  });

  it('lowers a 4 GiB maximum to the cap', () => {
    const v = verifyStructure(ident('huge-max'), fx('huge-max'));
    expect(v.core.memories[0]?.max).toBe(65536);
    const capped = readCoreModule(capMainModule(ident('huge-max'), v, resolveLimits({ memoryMiB: 8 })));
    expect(capped.memories[0]?.max).toBe(128);
  });
});

describe('the generated world', () => {
  it('every signature the glue declares is accepted by a module that imports it', async () => {
    // One core module importing every host function with the generated signature.
    const types = PLUGIN_WORLD.imports.map((s) => `(param ${s.params.join(' ')})${s.results.length ? ` (result ${s.results.join(' ')})` : ''}`);
    const imports = PLUGIN_WORLD.imports.map((s, i) => `(import "${s.module}" "${s.name}" (func $i${i} ${types[i]}))`).join('\n');
    const wat = `(module ${imports}\n${fixtureText('trap').replace(/^[\s\S]*?\(module/, '').replace(/\)\s*$/, '')})`;
    const bytes = await componentize(wat);
    const v = verifyStructure(ident('all'), bytes);
    expect(readCoreModule(v.module).imports.length).toBe(PLUGIN_WORLD.imports.length);
  });
});
