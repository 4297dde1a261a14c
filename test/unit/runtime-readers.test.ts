// The component and core-module readers on what jco actually produces, the memory/table
// rewriter on real V8 instances, and robustness against truncated and corrupted input.
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from '@bytecodealliance/jco';
import { ByteReader, WasmFormatError, encodeU32 } from '../../host/runtime/bytes.ts';
import { binaryKind, readComponent, COMPONENT_VERSION } from '../../host/runtime/component.ts';
import { capModule, readCoreModule } from '../../host/runtime/core-module.ts';
import { buildFixture, componentize, fixtureText, NULL_PLUGIN_WAT, coreModule } from '../fixtures/hostile/build.ts';

let nullComponent: Uint8Array;
let logComponent: Uint8Array;

beforeAll(async () => {
  nullComponent = await buildFixture('null');
  logComponent = await componentize(fixtureText('log'));
});

describe('bytes', () => {
  it('reads LEB128 u32 and refuses overlong or out-of-range encodings', () => {
    for (const n of [0, 1, 127, 128, 624485, 2 ** 32 - 1]) {
      expect(new ByteReader(new Uint8Array(encodeU32(n))).u32()).toBe(n);
    }
    expect(() => new ByteReader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f])).u32()).toThrow(WasmFormatError);
    expect(() => new ByteReader(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x00])).u32()).toThrow(WasmFormatError);
    expect(() => new ByteReader(new Uint8Array([0x80])).u32()).toThrow(/unexpected end/);
  });

  it('reads s33 type codes as negative numbers', () => {
    expect(new ByteReader(new Uint8Array([0x73])).s33()).toBe(-13);
    expect(new ByteReader(new Uint8Array([0x05])).s33()).toBe(5);
  });

  it('refuses a name that is not UTF-8 or runs past its container', () => {
    expect(new ByteReader(new Uint8Array([3, 0x61, 0xc3, 0xa4])).name()).toBe('aä');
    expect(new ByteReader(new Uint8Array([0])).name()).toBe('');
    expect(() => new ByteReader(new Uint8Array([2, 0xc3, 0x28])).name()).toThrow(/UTF-8/);
    expect(() => new ByteReader(new Uint8Array([5, 0x61])).name()).toThrow(/past the end/);
  });
});

describe('component reader', () => {
  it('tells components, core modules and other files apart', async () => {
    expect(binaryKind(nullComponent)).toEqual({ kind: 'component', version: COMPONENT_VERSION });
    expect(binaryKind(await coreModule(NULL_PLUGIN_WAT)).kind).toBe('core-module');
    expect(binaryKind(new TextEncoder().encode('#!/bin/sh\necho hi\n')).kind).toBe('other');
    expect(binaryKind(new Uint8Array(3)).kind).toBe('other');
  });

  it('lists the world interfaces jco new wires up, and the embedded core modules', () => {
    const c = readComponent(logComponent);
    expect(c.imports).toEqual([
      { name: 'cni:plugin/log@0.1.0', kind: 'instance' },
      { name: 'cni:plugin/types@0.1.0', kind: 'instance' },
    ]);
    expect(c.exports).toEqual([{ name: 'cni:plugin/handler@0.1.0', kind: 'instance' }]);
    // main + wit-component's shim and fixups (log.write lowers a string: it needs the memory)
    expect(c.modules.length).toBe(3);
    expect(c.modules.every((m) => m.depth === 0)).toBe(true);
    expect(c.canon.filter((x) => x.op === 'lower').length).toBe(1);
    expect(c.canon.filter((x) => x.op === 'lift').length).toBe(5);
    expect(c.canon.every((x) => x.stringEncoding === 'utf8' && x.unsupported.length === 0)).toBe(true);
    // jco new nests a type-only shim component for the exported interface
    expect(c.nestedComponents).toBe(1);
  });

  it('refuses another component binary version', () => {
    const b = nullComponent.slice();
    b[4] = 0x0c;
    expect(() => readComponent(b)).toThrow(/version 12 is not supported/);
  });
});

describe('core-module reader', () => {
  it('reads imports with their types, exports, memory and the manifest section', () => {
    const c = readComponent(logComponent);
    const main = c.modules.map((m) => readCoreModule(m.bytes)).find((m) => m.exports.some((e) => e.name === 'cni:plugin/handler@0.1.0#add'));
    expect(main).toBeDefined();
    expect(main!.imports).toEqual([{ module: 'cni:plugin/log@0.1.0', name: 'write', kind: 'func', type: { params: ['i32', 'i32', 'i32'], results: [] } }]);
    const add = main!.exports.find((e) => e.name === 'cni:plugin/handler@0.1.0#add');
    expect(add?.type).toEqual({ params: Array(12).fill('i32'), results: ['i32'] });
    expect(main!.memories).toEqual([{ min: 1, max: undefined, shared: false, is64: false }]);
    const nul = readComponent(nullComponent).modules.map((m) => readCoreModule(m.bytes))[0]!;
    const manifest = nul.custom.find((s) => s.name === 'cni-wasm:capabilities');
    // kept by jco new inside the main core module
    expect(new TextDecoder().decode(manifest?.data)).toBe('{"version":1}');
  });

  it('reads shared and 64-bit memories (which the cap refuses)', async () => {
    const shared = await parse('(module (memory 1 2 shared))');
    const info = readCoreModule(shared);
    expect(info.memories[0]).toEqual({ min: 1, max: 2, shared: true, is64: false });
    expect(() => capModule(shared, info, { memoryPages: 10, tableElements: 10 })).toThrow(/shared/);
  });
});

describe('capModule', () => {
  const grow = (bytes: Uint8Array, pages: number): number => {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));
    return (inst.exports['memory'] as WebAssembly.Memory).grow(pages);
  };

  it('sets a maximum where none is declared, and memory.grow past it fails', async () => {
    const bytes = await parse('(module (memory (export "memory") 1))');
    const capped = capModule(bytes, readCoreModule(bytes), { memoryPages: 4, tableElements: 10 });
    expect(readCoreModule(capped).memories[0]).toEqual({ min: 1, max: 4, shared: false, is64: false });
    expect(() => grow(capped, 4)).toThrow(RangeError);
    expect(grow(capped, 3)).toBe(1);
    // without the cap the same grow succeeds: the test can fail
    expect(grow(bytes, 4)).toBe(1);
  });

  it('lowers a huge maximum, keeps a small one, refuses an initial size above the cap', async () => {
    const huge = await parse('(module (memory (export "memory") 2 65536) (table 1 1000000 funcref))');
    const capped = readCoreModule(capModule(huge, readCoreModule(huge), { memoryPages: 16, tableElements: 100 }));
    expect(capped.memories[0]?.max).toBe(16);
    expect(capped.tables[0]?.limits.max).toBe(100);
    const small = await parse('(module (memory (export "memory") 1 2))');
    expect(capModule(small, readCoreModule(small), { memoryPages: 16, tableElements: 100 })).toBe(small);
    const big = await parse('(module (memory (export "memory") 17))');
    expect(() => capModule(big, readCoreModule(big), { memoryPages: 16, tableElements: 100 })).toThrow(/starts at 17, above the cap of 16/);
  });

  it('keeps everything else byte for byte (data, code, custom sections)', async () => {
    const bytes = await parse(`(module (memory (export "memory") 1) (data (i32.const 8) "abc")
      (func (export "f") (result i32) (i32.load8_u (i32.const 9))) (@custom "x" "payload"))`);
    const capped = capModule(bytes, readCoreModule(bytes), { memoryPages: 2, tableElements: 1 });
    expect(capped.length).toBe(bytes.length + 1); // one limits byte: the maximum
    const inst = new WebAssembly.Instance(new WebAssembly.Module(capped as Uint8Array<ArrayBuffer>));
    expect((inst.exports['f'] as () => number)()).toBe(0x62);
    expect(new TextDecoder().decode(readCoreModule(capped).custom.find((c) => c.name === 'x')?.data)).toBe('payload');
  });
});

describe('robustness', () => {
  // Deterministic PRNG so a failure reproduces.
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };

  it('a truncated component or module fails with WasmFormatError, never anything else', () => {
    const main = readComponent(nullComponent).modules[0]!.bytes;
    for (let cut = 0; cut < nullComponent.length; cut += 7) {
      try {
        readComponent(nullComponent.subarray(0, cut));
      } catch (e) {
        expect(e).toBeInstanceOf(WasmFormatError);
      }
    }
    for (let cut = 8; cut < main.length; cut++) {
      try {
        readCoreModule(main.subarray(0, cut));
      } catch (e) {
        expect(e).toBeInstanceOf(WasmFormatError);
      }
    }
  });

  it('random byte corruption fails with WasmFormatError or parses, never crashes or hangs', () => {
    let failures = 0;
    for (let i = 0; i < 2000; i++) {
      const b = nullComponent.slice();
      for (let k = 0; k < 3; k++) b[8 + rand(b.length - 8)] = rand(256);
      try {
        const c = readComponent(b);
        for (const m of c.modules) readCoreModule(m.bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(WasmFormatError);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
  });

  it('a vector count larger than its section is refused before allocating', () => {
    // type section claiming 2^32-1 function types in 5 bytes
    const b = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(() => readCoreModule(b)).toThrow(/cannot fit/);
  });
});
