// `cni-wasm plugin inspect <file.wasm>`: what a plugin file is, before anyone runs it: its
// world, the host interfaces and functions it imports, what it exports, the capabilities it
// declares (in the operator's terms), its sha256 and size, and whether this host would load
// it. Everything is read with the runtime's own readers and verifier (host/runtime).
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { CniError } from '../../cni/errors.ts';
import { type CapabilitySpec, CapabilityFormatError, parseManifestBytes } from '../../caps/manifest.ts';
import { WasmFormatError } from '../../runtime/bytes.ts';
import { binaryKind, readComponent, type ComponentInfo } from '../../runtime/component.ts';
import { type CoreModuleInfo, readCoreModule } from '../../runtime/core-module.ts';
import { HANDLER_INTERFACE, MANIFEST_SECTION, verifyStructure } from '../../runtime/verify.ts';
import { describeCapabilities, linesText, specToJson, type CapabilityLine } from './describe.ts';
import { sizeText } from './paths.ts';

/** Larger files are not read (the runtime's own cap, maxModuleBytes, defaults to 16 MiB). */
const MAX_INSPECT_BYTES = 64 << 20;

export interface Inspection {
  file: string;
  size: number;
  sha256: string;
  /** 'component', 'core-module' or 'other' (not WebAssembly). */
  kind: string;
  /** `cni:plugin/plugin@0.1.0` when the component targets the plugin world, else null. */
  world: string | null;
  /** Whether this host would load it (the same structural checks as at run time). */
  accepted: boolean;
  /** Why it would be refused, when it would. */
  refusal: { msg: string; details: string } | null;
  imports: {
    /** Interfaces the component imports (`cni:plugin/netlink@0.1.0`). */
    interfaces: string[];
    /** Host functions its main core module calls (`netlink.get-link`). */
    functions: string[];
  };
  exports: {
    interfaces: string[];
    /** Handler functions it implements (`add`, `del`, ...). */
    functions: string[];
  };
  /** The main module's linear memory, in 64 KiB pages. */
  memory: { minPages: number; maxPages: number | null } | null;
  /** The declared capabilities (`cni-wasm:capabilities`), null when it carries none. */
  capabilities: Record<string, unknown> | null;
  /** The same, in the operator's terms. */
  capabilityLines: CapabilityLine[];
  /** Set when the manifest is present but invalid. */
  capabilitiesError: string | null;
}

export interface ReadPlugin {
  bytes: Uint8Array;
  sha256: string;
}

export function readPluginFile(file: string, max = MAX_INSPECT_BYTES): ReadPlugin {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > max) throw new Error(`${file} is ${size} bytes, more than a plugin may be (${max})`);
    const bytes = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, bytes, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    const b = bytes.subarray(0, off);
    return { bytes: b, sha256: createHash('sha256').update(b).digest('hex') };
  } finally {
    closeSync(fd);
  }
}

/** The type a file would serve under by default: its name without `.wasm`. */
export function typeFromFile(file: string): string {
  return basename(file).replace(/\.wasm$/, '');
}

function mainModuleOf(comp: ComponentInfo): CoreModuleInfo | undefined {
  for (const m of comp.modules) {
    try {
      const info = readCoreModule(m.bytes);
      if (info.exports.some((e) => e.name === `${HANDLER_INTERFACE}#add`)) return info;
    } catch {
      /* a malformed helper module: verify reports it */
    }
  }
  return undefined;
}

const shortIface = (module: string): string => /^cni:plugin\/([a-z-]+)@/.exec(module)?.[1] ?? module;

export function inspectBytes(file: string, bytes: Uint8Array, sha256: string): Inspection {
  const out: Inspection = {
    file,
    size: bytes.length,
    sha256,
    kind: binaryKind(bytes).kind,
    world: null,
    accepted: false,
    refusal: null,
    imports: { interfaces: [], functions: [] },
    exports: { interfaces: [], functions: [] },
    memory: null,
    capabilities: null,
    capabilityLines: [],
    capabilitiesError: null,
  };
  const ident = { type: typeFromFile(file), path: file };
  let main: CoreModuleInfo | undefined;
  try {
    const s = verifyStructure(ident, bytes);
    out.accepted = true;
    main = s.core;
  } catch (e) {
    if (!(e instanceof CniError)) throw e;
    out.refusal = { msg: e.message, details: e.details };
  }
  if (out.kind === 'component') {
    try {
      const comp = readComponent(bytes);
      out.imports.interfaces = comp.imports.map((i) => i.name);
      out.exports.interfaces = comp.exports.map((x) => x.name);
      main ??= mainModuleOf(comp);
      const handler = comp.exports.find((x) => x.name.startsWith('cni:plugin/handler@'));
      if (handler && comp.imports.every((i) => i.name.startsWith('cni:plugin/'))) out.world = `cni:plugin/plugin@${handler.name.slice('cni:plugin/handler@'.length)}`;
    } catch (e) {
      if (!(e instanceof WasmFormatError)) throw e;
    }
  } else if (out.kind === 'core-module') {
    try {
      main = readCoreModule(bytes);
    } catch (e) {
      if (!(e instanceof WasmFormatError)) throw e;
    }
  }
  if (main) {
    out.imports.functions = main.imports.filter((i) => i.kind === 'func').map((i) => `${shortIface(i.module)}.${i.name}`);
    const prefix = `${HANDLER_INTERFACE}#`;
    out.exports.functions = main.exports.filter((x) => x.kind === 'func' && x.name.startsWith(prefix)).map((x) => x.name.slice(prefix.length));
    const mem = main.memories[0];
    if (mem) out.memory = { minPages: mem.min, maxPages: mem.max ?? null };
    const sections = main.custom.filter((c) => c.name === MANIFEST_SECTION);
    if (sections.length === 1) {
      try {
        const spec: CapabilitySpec = parseManifestBytes(sections[0]!.data, `the ${MANIFEST_SECTION} section`).spec;
        out.capabilities = specToJson(spec);
        out.capabilityLines = describeCapabilities(spec);
      } catch (e) {
        if (!(e instanceof CapabilityFormatError)) throw e;
        out.capabilitiesError = e.message;
      }
    } else if (sections.length > 1) {
      out.capabilitiesError = `${sections.length} ${MANIFEST_SECTION} sections; one is allowed`;
    }
  }
  return out;
}

export function inspectFile(file: string): Inspection {
  const { bytes, sha256 } = readPluginFile(file);
  return inspectBytes(file, bytes, sha256);
}

function pages(n: number): string {
  const mib = (n * 64) / 1024;
  return `${n} page${n === 1 ? '' : 's'} (${mib >= 1 ? `${mib} MiB` : `${n * 64} KiB`})`;
}

export function formatInspection(i: Inspection): string {
  const lines: string[] = [];
  const row = (k: string, v: string): void => {
    lines.push(`${k.padEnd(13)}${v}`);
  };
  row('file', i.file);
  row('size', sizeText(i.size));
  row('sha256', i.sha256);
  row('kind', i.kind === 'component' ? 'WebAssembly component' : i.kind === 'core-module' ? 'core WebAssembly module (not a component)' : 'not WebAssembly');
  row('world', i.world ?? '(not the cni:plugin world)');
  row('loads here', i.accepted ? 'yes: this host accepts its structure (the policy decides what it may do)' : `no: ${i.refusal?.msg ?? 'unknown'}`);
  if (!i.accepted && i.refusal?.details) row('', i.refusal.details);
  row('imports', i.imports.interfaces.length ? i.imports.interfaces.join(', ') : '(none)');
  row('  calls', i.imports.functions.length ? i.imports.functions.join(', ') : '(no host functions)');
  row('exports', i.exports.interfaces.length ? i.exports.interfaces.join(', ') : '(none)');
  row('  handler', i.exports.functions.length ? i.exports.functions.join(', ') : '(none)');
  if (i.memory) row('memory', `initial ${pages(i.memory.minPages)}, maximum ${i.memory.maxPages === null ? 'none (the host caps it)' : pages(i.memory.maxPages)}`);
  lines.push('');
  if (i.capabilitiesError) {
    lines.push(`capabilities: INVALID manifest, the host refuses to load it: ${i.capabilitiesError}`);
  } else if (i.capabilities === null) {
    lines.push('capabilities: none declared (no cni-wasm:capabilities section): it asks for nothing');
  } else {
    lines.push(`capabilities declared: ${JSON.stringify(i.capabilities)}`);
    lines.push(linesText(i.capabilityLines).trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

export function registerInspect(plugin: Command): void {
  plugin
    .command('inspect')
    .description('show what a plugin file is and what it asks for: world, imports, exports, declared capabilities, sha256, size')
    .argument('<file.wasm>', 'the plugin component')
    .option('--json', 'print one JSON object (for machines)')
    .action((file: string, opts: { json?: boolean }) => {
      const i = inspectFile(resolve(file));
      if (opts.json) process.stdout.write(`${JSON.stringify(i, null, 2)}\n`);
      else process.stdout.write(formatInspection(i));
      if (!i.accepted || i.capabilitiesError) process.exitCode = 1;
    });
}
