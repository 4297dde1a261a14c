// The plugin build pipeline (scripts/plugin-build/lib.mjs): asc -> rename-exports -> manifest
// section -> jco componentEmbed + componentNew, on the null plugin and on broken plugins.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { componentWit } from '@bytecodealliance/jco';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CAPABILITIES_SECTION,
  type BuildResult,
  PluginBuildError,
  REPO_ROOT,
  buildPlugin,
  findPlugins,
  mainCoreModule,
} from '../../scripts/plugin-build/lib.mjs';
import { COMPONENT_PREAMBLE, customSections, memoryLimits, sections, setCustomSection } from '../../scripts/plugin-build/wasm-sections.mjs';

const NULL_DIR = path.join(REPO_ROOT, 'plugins-as', 'null');
let tmp: string;
let built: BuildResult;
let component: Uint8Array;

/** A plugin directory under tmp/plugins-as/<name> (beside a link to the SDK), from files. */
function makePlugin(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, 'plugins-as', name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  return dir;
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'cniw-build-'));
  mkdirSync(path.join(tmp, 'plugins-as'));
  symlinkSync(path.join(REPO_ROOT, 'plugins-as', 'sdk'), path.join(tmp, 'plugins-as', 'sdk'), 'dir');
  built = await buildPlugin(NULL_DIR, path.join(tmp, 'out', 'null.wasm'));
  component = readFileSync(built.outFile);
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the null plugin', () => {
  it('is found as a plugin, and the SDK is not', () => {
    const names = findPlugins().map((d) => path.basename(d));
    expect(names).toContain('null');
    expect(names).not.toContain('sdk');
  });

  it('builds into a component', () => {
    expect(built.skipped).toBe(false);
    expect(built.componentSize).toBe(component.length);
    expect(built.diagnostics).toBe(''); // the SDK compiles without warnings
    // magic, version 0x0d, layer 1: a component, not a core module
    expect([...component.subarray(0, 8)]).toEqual([...COMPONENT_PREAMBLE]);
  });

  it('has the plugin world: exports the handler, imports only cni:plugin interfaces', async () => {
    const wit = await componentWit(component);
    expect(wit).toContain('export cni:plugin/handler@0.1.0;');
    const imports = [...wit.matchAll(/^\s*import ([^;]+);/gm)].map((m) => m[1]!);
    expect(imports.length).toBeGreaterThan(0);
    for (const i of imports) expect(i).toMatch(/^cni:plugin\/[a-z-]+@0\.1\.0$/);
  });

  it('carries capabilities.json in the cni-wasm:capabilities section of its core module', () => {
    const core = mainCoreModule(component);
    const manifests = customSections(core, CAPABILITIES_SECTION);
    expect(manifests).toHaveLength(1);
    const declared: unknown = JSON.parse(readFileSync(path.join(NULL_DIR, 'capabilities.json'), 'utf8'));
    expect(JSON.parse(Buffer.from(manifests[0]!).toString('utf8'))).toEqual(declared);
    // one section, inside the module: none at the component level
    expect(customSections(component, CAPABILITIES_SECTION)).toHaveLength(0);
  });

  it('imports nothing but the WIT interfaces (no env.abort, no WASI) and caps its memory', () => {
    const core = mainCoreModule(component);
    const mod = new WebAssembly.Module(core);
    for (const imp of WebAssembly.Module.imports(mod)) {
      expect(imp.module).toMatch(/^cni:plugin\/[a-z-]+@0\.1\.0$/);
    }
    const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
    for (const f of ['add', 'del', 'check', 'status', 'gc']) {
      expect(exports).toContain(`cni:plugin/handler@0.1.0#${f}`);
      expect(exports).toContain(`cabi_post_cni:plugin/handler@0.1.0#${f}`);
    }
    expect(exports).toContain('cabi_realloc');
    expect(exports).toContain('memory');
    expect(exports.filter((e) => e.startsWith('__cniw_'))).toEqual([]);
    expect(memoryLimits(core)).toEqual([{ min: expect.any(Number), max: 256, shared: false, memory64: false }]);
  });

  it('answers every command when run as a core module', () => {
    const mod = new WebAssembly.Module(mainCoreModule(component));
    const logged: string[] = [];
    let mem: WebAssembly.Memory | undefined;
    const inst = new WebAssembly.Instance(mod, {
      'cni:plugin/log@0.1.0': {
        write: (_level: number, ptr: number, len: number) => logged.push(Buffer.from(mem!.buffer, ptr, len).toString()),
      },
    });
    const ex = inst.exports as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
    mem = ex.memory;
    const put = (s: string): [number, number] => {
      const b = Buffer.from(s);
      const p = ex.cabi_realloc!(0, 0, 1, b.length);
      new Uint8Array(ex.memory.buffer, p, b.length).set(b);
      return [p, b.length];
    };
    for (const cmd of ['add', 'del', 'check', 'status', 'gc']) {
      // request: config, container-id, ifname, args (empty list), prev-result (none), has-container
      const ret = ex[`cni:plugin/handler@0.1.0#${cmd}`]!(
        ...put('{"cniVersion":"1.1.0","name":"n","type":"null"}'),
        ...put('ctr1'),
        ...put('eth0'),
        0,
        0,
        0,
        0,
        0,
        1,
      );
      const view = new DataView(ex.memory.buffer);
      expect(view.getUint8(ret), cmd).toBe(0); // result::ok
      if (cmd === 'add') {
        const json = Buffer.from(ex.memory.buffer, view.getUint32(ret + 4, true), view.getUint32(ret + 8, true)).toString();
        expect(json).toBe('{"cniVersion":"1.1.0"}');
      }
      ex[`cabi_post_cni:plugin/handler@0.1.0#${cmd}`]!(ret);
    }
    expect(logged).toEqual([]);
  });

  it('is skipped when nothing changed, and rebuilds to the same bytes', async () => {
    const again = await buildPlugin(NULL_DIR, built.outFile);
    expect(again.skipped).toBe(true);
    expect(again.hash).toBe(built.hash);
    const forced = await buildPlugin(NULL_DIR, built.outFile, { force: true });
    expect(forced.skipped).toBe(false);
    expect(Buffer.compare(readFileSync(built.outFile), component)).toBe(0);
  });

  it('is rebuilt when an input changes', async () => {
    const dir = path.join(tmp, 'plugins-as', 'null-copy');
    cpSync(NULL_DIR, dir, { recursive: true });
    const out = path.join(tmp, 'out', 'null-copy.wasm');
    const first = await buildPlugin(dir, out);
    expect(first.skipped).toBe(false);
    writeFileSync(path.join(dir, 'capabilities.json'), '{ "version": 1, "ipam": false }\n');
    const second = await buildPlugin(dir, out);
    expect(second.skipped).toBe(false);
    expect(second.hash).not.toBe(first.hash);
    const manifest = customSections(mainCoreModule(readFileSync(out)), CAPABILITIES_SECTION)[0]!;
    expect(Buffer.from(manifest).toString()).toBe('{"version":1,"ipam":false}');
  });
});

describe('broken plugins fail with a clear message', () => {
  const nullSource = () => readFileSync(path.join(NULL_DIR, 'index.ts'), 'utf8');

  it('capabilities.json that is not JSON', async () => {
    const dir = makePlugin('badcaps', { 'index.ts': nullSource(), 'capabilities.json': '{ "version": 1, }' });
    const err = await buildPlugin(dir, path.join(tmp, 'out', 'badcaps.wasm')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginBuildError);
    expect((err as Error).message).toMatch(/^plugin "badcaps": .*capabilities\.json is not valid JSON: /);
  });

  it('capabilities.json that is not an object, or missing', async () => {
    const arr = makePlugin('arraycaps', { 'index.ts': nullSource(), 'capabilities.json': '[]' });
    await expect(buildPlugin(arr, path.join(tmp, 'out', 'x.wasm'))).rejects.toThrow(/capabilities\.json must hold a JSON object, not an array/);
    const none = makePlugin('nocaps', { 'index.ts': nullSource() });
    await expect(buildPlugin(none, path.join(tmp, 'out', 'x.wasm'))).rejects.toThrow(/capabilities\.json is missing/);
  });

  it('capabilities.json the host would refuse (validated with host/caps at build time)', async () => {
    const dir = makePlugin('wrongcaps', { 'index.ts': nullSource(), 'capabilities.json': '{"version":1,"links":{"create":["tun"]},"net":true}' });
    const err = await buildPlugin(dir, path.join(tmp, 'out', 'x.wasm')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginBuildError);
    expect((err as Error).message).toMatch(/^plugin "wrongcaps": .*capabilities\.json: 2 problems: /);
    expect((err as Error).message).toContain('net: unknown key');
    expect((err as Error).message).toContain('links.create[0]: unknown link kind "tun"');
  });

  it('a compile error names the plugin and shows asc diagnostics', async () => {
    const dir = makePlugin('typo', { 'index.ts': 'export function f(): i32 { return "x"; }\n', 'capabilities.json': '{}' });
    await expect(buildPlugin(dir, path.join(tmp, 'out', 'x.wasm'))).rejects.toThrow(/^plugin "typo": asc failed[\s\S]*TS2322/);
  });

  it('an entry file without the handler exports', async () => {
    const src = nullSource().replace(/^export \* from "\.\.\/sdk\/generated\/exports";$/m, '');
    const dir = makePlugin('noexports', { 'index.ts': src, 'capabilities.json': '{}' });
    await expect(buildPlugin(dir, path.join(tmp, 'out', 'x.wasm'))).rejects.toThrow(/generated\/exports/);
  });

  it('a plugin that imports something a component cannot have (Math.random needs env.seed)', async () => {
    const src = nullSource().replace('return okResult(new CniResult());', 'const r = new CniResult(); r.addInterface("x" + Math.random().toString()); return okResult(r);');
    const dir = makePlugin('random', { 'index.ts': src, 'capabilities.json': '{}' });
    await expect(buildPlugin(dir, path.join(tmp, 'out', 'x.wasm'))).rejects.toThrow(/imports env\.seed: Math\.random/);
  });
});

describe('abort', () => {
  it('is routed to the log import, then traps (no env.abort import)', async () => {
    const src = readFileSync(path.join(NULL_DIR, 'index.ts'), 'utf8').replace(
      'return okResult(new CniResult());',
      'assert(req.ifname == "never", "boom"); return okResult(new CniResult());',
    );
    const dir = makePlugin('aborts', { 'index.ts': src, 'capabilities.json': '{}' });
    const out = path.join(tmp, 'out', 'aborts.wasm');
    await buildPlugin(dir, out);
    const mod = new WebAssembly.Module(mainCoreModule(readFileSync(out)));
    expect(WebAssembly.Module.imports(mod).map((i) => `${i.module}#${i.name}`)).toEqual(['cni:plugin/log@0.1.0#write']);
    const logged: string[] = [];
    let mem: WebAssembly.Memory | undefined;
    const inst = new WebAssembly.Instance(mod, {
      'cni:plugin/log@0.1.0': { write: (level: number, p: number, n: number) => logged.push(`${level} ${Buffer.from(mem!.buffer, p, n).toString()}`) },
    });
    const ex = inst.exports as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
    mem = ex.memory;
    expect(() => ex['cni:plugin/handler@0.1.0#add']!(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).toThrow(WebAssembly.RuntimeError);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^3 abort: boom at aborts\/index\.ts:\d+:\d+$/);
  });
});

describe('wasm-sections', () => {
  it('appends a custom section and replaces an existing one', () => {
    const core = mainCoreModule(component);
    const once = setCustomSection(core, 'x-test', Buffer.from('one'));
    const twice = setCustomSection(once, 'x-test', Buffer.from('two'));
    expect(customSections(twice, 'x-test').map((b) => Buffer.from(b).toString())).toEqual(['two']);
    expect(sections(twice).length).toBe(sections(core).length + 1);
    expect(WebAssembly.Module.customSections(new WebAssembly.Module(twice), 'x-test').map((b) => Buffer.from(b).toString())).toEqual(['two']);
  });

  it('encodes section sizes beyond one LEB128 byte', () => {
    const core = mainCoreModule(component);
    const big = Buffer.alloc(70_000, 0x61);
    const out = setCustomSection(core, 'x-big', big);
    expect(Buffer.compare(Buffer.from(customSections(out, 'x-big')[0]!), big)).toBe(0);
    expect(() => new WebAssembly.Module(out)).not.toThrow();
  });
});
