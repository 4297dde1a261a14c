// What the host accepts as a plugin: a component of the `cni:plugin/plugin` world in the shape
// `jco new` makes from one core module, and nothing else. The component's own structure is
// only inspected (the host never instantiates it as a component): it extracts the main core
// module, checks every import of that module against the host's generated signatures and its
// exports against the handler's, caps its memory and tables, and reads its capability
// manifest. Every refusal is a CNI error naming the plugin, its file and what is wrong.
import { WasmFormatError } from './bytes.ts';
import { binaryKind, readComponent, COMPONENT_VERSION, type ComponentInfo, type EmbeddedModule } from './component.ts';
import { capModule, readCoreModule, type CoreModuleInfo, type FuncType } from './core-module.ts';
import { refused, type PluginIdent } from './errors.ts';
import { memoryPages, type Limits } from './limits.ts';
import { EXPORT_SIGNATURES, IMPORT_SIGNATURES, type CoreExportSignature, type CoreImportSignature } from './generated/abi.ts';

export interface WorldSignatures {
  /** Host functions a plugin may import (module = `cni:plugin/<interface>@<version>`). */
  imports: readonly CoreImportSignature[];
  /** Functions the main module exports. */
  exports: readonly CoreExportSignature[];
}

/** The world generated from wit/plugin.wit. */
export const PLUGIN_WORLD: WorldSignatures = { imports: IMPORT_SIGNATURES, exports: EXPORT_SIGNATURES };

export const HANDLER_INTERFACE = 'cni:plugin/handler@0.1.0';
export const HANDLER_FUNCS = ['add', 'del', 'check', 'status', 'gc'] as const;
export type HandlerFunc = (typeof HANDLER_FUNCS)[number];
/** Interfaces with types only: a component imports them, its core module does not. */
const TYPE_ONLY_INTERFACES = ['cni:plugin/types@0.1.0'];
export const MANIFEST_SECTION = 'cni-wasm:capabilities';

export interface StructureInfo {
  /** The main core module as the file holds it. */
  module: Uint8Array;
  /** The `cni-wasm:capabilities` custom section (UTF-8 JSON), when the module carries one. */
  manifest: string | undefined;
  /** The module exports `_initialize`, to be called once after instantiation. */
  hasInitialize: boolean;
  core: CoreModuleInfo;
}

const sig = (t: { params: readonly string[]; results: readonly string[] }): string => `(${t.params.join(' ')}) -> (${t.results.join(' ')})`;
const sameType = (a: FuncType, b: { params: readonly string[]; results: readonly string[] }): boolean =>
  a.params.length === b.params.length &&
  a.results.length === b.results.length &&
  a.params.every((p, i) => p === b.params[i]) &&
  a.results.every((p, i) => p === b.results[i]);

const isShimModule = (m: CoreModuleInfo): boolean =>
  // wit-component's shim: a table of indirect-call trampolines, no imports, no memory.
  m.imports.length === 0 &&
  m.memories.length === 0 &&
  !m.hasStart &&
  m.exports.every((e) => (e.kind === 'func' && /^[0-9]+$/.test(e.name)) || (e.kind === 'table' && e.name === '$imports'));

const isFixupModule = (m: CoreModuleInfo): boolean =>
  // wit-component's fixups: fill the shim's table with the lowered imports; no code of its own.
  m.exports.length === 0 &&
  m.memories.length === 0 &&
  !m.hasStart &&
  m.imports.every((i) => (i.module === 'shim' && i.kind === 'table' && i.name === '$imports') || (i.module === 'actual' && i.kind === 'func'));

const isInitModule = (m: CoreModuleInfo): boolean =>
  // wit-component's way of running the main module's `_initialize`: a start function calling it.
  m.exports.length === 0 &&
  m.memories.length === 0 &&
  m.imports.length === 1 &&
  m.imports[0]?.module === 'main' &&
  m.imports[0].name === '_initialize' &&
  m.imports[0].kind === 'func';

function describeModule(m: CoreModuleInfo): string {
  const imp = [...new Set(m.imports.map((i) => i.module))].slice(0, 4).join(', ') || 'nothing';
  const exp = m.exports.slice(0, 4).map((e) => e.name).join(', ') || 'nothing';
  return `imports from ${imp}; exports ${exp}`;
}

/** Check that a file is a plugin of the world; answer its main module and manifest. Throws CniError 100. */
export function verifyStructure(plugin: PluginIdent, bytes: Uint8Array, world: WorldSignatures = PLUGIN_WORLD): StructureInfo {
  const { kind, version } = binaryKind(bytes);
  if (kind === 'core-module') {
    throw refused(plugin, 'it is a core WebAssembly module, not a component', 'componentize it against wit/plugin.wit (componentEmbed + componentNew, see docs/abi.md)');
  }
  if (kind !== 'component') throw refused(plugin, 'it is not a WebAssembly component (bad magic number or layer)');
  if (version !== COMPONENT_VERSION) {
    throw refused(plugin, `component binary version ${version} is not supported`, `this host reads version ${COMPONENT_VERSION} (what wit-component emits)`);
  }
  let comp: ComponentInfo;
  try {
    comp = readComponent(bytes);
  } catch (e) {
    if (e instanceof WasmFormatError) throw refused(plugin, `malformed component: ${e.message}`);
    throw e;
  }
  checkComponentShape(plugin, comp, world);
  const main = findMainModule(plugin, comp);
  checkMainModule(plugin, main.info, world);
  return { module: main.module.bytes, manifest: readManifest(plugin, main.info), hasInitialize: main.info.exports.some((e) => e.name === '_initialize'), core: main.info };
}

function checkComponentShape(plugin: PluginIdent, comp: ComponentInfo, world: WorldSignatures): void {
  const provided = new Set([...world.imports.map((s) => s.module), ...TYPE_ONLY_INTERFACES]);
  for (const imp of comp.imports) {
    if (!provided.has(imp.name)) {
      throw refused(plugin, `it imports "${imp.name}", which the host does not provide`, `the host provides: ${[...provided].sort().join(', ')}`);
    }
    if (imp.kind !== 'instance') throw refused(plugin, `it imports "${imp.name}" as a ${imp.kind}, not as an interface instance`);
  }
  let handler = false;
  for (const exp of comp.exports) {
    if (exp.name === HANDLER_INTERFACE && exp.kind === 'instance') handler = true;
    else throw refused(plugin, `it exports "${exp.name}" (${exp.kind}), which is not part of the plugin world`, `a plugin exports only ${HANDLER_INTERFACE}`);
  }
  if (!handler) throw refused(plugin, `it does not export ${HANDLER_INTERFACE}`);
  for (const c of comp.canon) {
    if (c.op === 'builtin') {
      throw refused(plugin, `it uses canonical built-in 0x${c.opcode.toString(16)} (resources, async or threads), which the host does not provide`);
    }
    if (c.stringEncoding !== 'utf8') throw refused(plugin, `it passes strings as ${c.stringEncoding}; the host speaks UTF-8 only`);
    if (c.unsupported.length) throw refused(plugin, `its canonical ${c.op} uses ${c.unsupported.join(', ')}, which the host does not support`);
  }
}

function findMainModule(plugin: PluginIdent, comp: ComponentInfo): { module: EmbeddedModule; info: CoreModuleInfo } {
  const addExport = `${HANDLER_INTERFACE}#add`;
  let main: { module: EmbeddedModule; info: CoreModuleInfo } | undefined;
  for (const m of comp.modules) {
    let info: CoreModuleInfo;
    try {
      info = readCoreModule(m.bytes);
    } catch (e) {
      if (e instanceof WasmFormatError) throw refused(plugin, `core module #${m.index} is malformed: ${e.message}`);
      throw e;
    }
    if (m.depth > 0) throw refused(plugin, `core module #${m.index} sits inside a nested component; only one flat component is accepted`);
    if (info.exports.some((e) => e.name === addExport && e.kind === 'func')) {
      if (main) throw refused(plugin, `core modules #${main.module.index} and #${m.index} both export ${addExport}; a plugin has one main module`);
      main = { module: m, info };
      continue;
    }
    // Helpers are never instantiated by the host (it links the main module itself), but only
    // these known shapes are accepted, so that a component means what the host runs.
    if (isShimModule(info) || isFixupModule(info) || isInitModule(info)) continue;
    if (info.exports.some((e) => e.name.startsWith('cm32p2|'))) {
      throw refused(
        plugin,
        `core module #${m.index} uses wit-component's newer "cm32p2" export names`,
        `this host reads the names of docs/abi.md (${addExport}, cabi_realloc, memory)`,
      );
    }
    const foreign = info.imports.find((i) => !i.module.startsWith('cni:plugin/') && i.module !== 'shim' && i.module !== 'actual');
    if (foreign) {
      throw refused(
        plugin,
        `core module #${m.index} imports "${foreign.module}"."${foreign.name}": adapters and helper modules other than wit-component's shim and fixups are not accepted`,
        'a plugin is one core module componentized by jco new, without a WASI adapter',
      );
    }
    throw refused(plugin, `core module #${m.index} is a second user module (${describeModule(info)}); a plugin has exactly one main module`);
  }
  if (!main) {
    throw refused(plugin, `no core module exports ${addExport}`, 'the main module must use the component-model names of docs/abi.md');
  }
  return main;
}

function checkMainModule(plugin: PluginIdent, m: CoreModuleInfo, world: WorldSignatures): void {
  const byKey = new Map(world.imports.map((s) => [`${s.module}\u0000${s.name}`, s]));
  for (const imp of m.imports) {
    const what = `"${imp.module}"."${imp.name}"`;
    if (imp.kind === 'memory') throw refused(plugin, `its main module imports its memory (${what}); a plugin must define its own`);
    if (imp.kind !== 'func') throw refused(plugin, `its main module imports a ${imp.kind} (${what}); the host provides functions only`);
    const s = byKey.get(`${imp.module}\u0000${imp.name}`);
    if (!s) {
      const known = world.imports.some((x) => x.module === imp.module);
      throw refused(plugin, `it imports ${what}, which the host does not provide`, known ? `interface ${imp.module} has no function "${imp.name}"` : `no interface ${imp.module}`);
    }
    if (!imp.type || !sameType(imp.type, s)) {
      throw refused(plugin, `it imports ${what} with type ${imp.type ? sig(imp.type) : '?'}; the host's is ${sig(s)}`);
    }
  }
  const exports = new Map(m.exports.map((e) => [e.name, e]));
  for (const s of world.exports) {
    const e = exports.get(s.name);
    if (!e) {
      if (!s.required) continue;
      throw refused(plugin, `its main module does not export "${s.name}"`);
    }
    if (e.kind !== 'func' || !e.type || !sameType(e.type, s)) {
      throw refused(plugin, `its main module exports "${s.name}" with type ${e.type ? sig(e.type) : e.kind}; the ABI's is ${sig(s)}`);
    }
  }
  const mem = exports.get('memory');
  if (!mem || mem.kind !== 'memory') throw refused(plugin, 'its main module does not export its memory as "memory"');
  if (m.memories.length !== 1) throw refused(plugin, `its main module defines ${m.memories.length} memories; exactly one is supported`);
  const init = exports.get('_initialize');
  if (init && (init.kind !== 'func' || !init.type || init.type.params.length || init.type.results.length)) {
    throw refused(plugin, 'its "_initialize" export is not a function without parameters and results');
  }
}

/**
 * The main module with its memory and table maxima lowered to the limits (set where missing).
 * Decision: cap rather than refuse a missing or large maximum (AssemblyScript declares none
 * by default, and a capped grow fails inside the guest just the same); refuse only what cannot
 * be capped: an initial size above the cap, shared or 64-bit memories. Throws CniError 100.
 */
export function capMainModule(plugin: PluginIdent, structure: StructureInfo, limits: Limits): Uint8Array {
  try {
    return capModule(structure.module, structure.core, { memoryPages: memoryPages(limits), tableElements: limits.maxTableElements });
  } catch (e) {
    if (e instanceof RangeError) {
      throw refused(plugin, `its ${e.message}`, `limits: memoryMiB=${limits.memoryMiB} (${memoryPages(limits)} pages), maxTableElements=${limits.maxTableElements}`);
    }
    throw e;
  }
}

function readManifest(plugin: PluginIdent, info: CoreModuleInfo): string | undefined {
  const manifests = info.custom.filter((c) => c.name === MANIFEST_SECTION);
  if (manifests.length > 1) throw refused(plugin, `its main module carries ${manifests.length} ${MANIFEST_SECTION} sections; one is allowed`);
  if (!manifests[0]) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(manifests[0].data);
  } catch {
    throw refused(plugin, `its ${MANIFEST_SECTION} section is not valid UTF-8`);
  }
}
