// `cni-wasm plugin build [dir]`: compile a plugin project into a component with its
// capability manifest embedded, the way `npm run build` builds the first-party plugins, and
// check the result with the host's own verifier.
//
// A project is a folder with `capabilities.json` and either
//   index.ts   AssemblyScript importing the SDK package: `import ... from "@cni-wasm/sdk"`
//              (what `plugin new` makes), or the in-repository "../sdk" layout of plugins-as/;
//   index.wat  a core module written against the ABI (docs/abi.md), without the SDK.
// The plugin type is package.json's "cniWasm.type", else its "name" (without a scope), else the
// folder's name; the output is build/<type>.wasm.
//
// The compiler (AssemblyScript) and the componentizer (jco) are ES modules and development
// dependencies of cni-wasm: they are loaded from the installed cni-wasm's node_modules only
// when something is built, never on the plugin path a runtime execs.
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { CniError } from '../../cni/errors.ts';
import { CapabilityFormatError, parseCapabilities } from '../../caps/manifest.ts';
import { verifyStructure } from '../../runtime/verify.ts';
import { checkTypeName, cniWasmRoot, importFile, sizeText, witPackage } from './paths.ts';

type BuildLib = typeof import('../../../scripts/plugin-build/lib.mjs');
type SectionsLib = typeof import('../../../scripts/plugin-build/wasm-sections.mjs');
interface Jco {
  parse(wat: string): Promise<Uint8Array>;
}

export const SDK_PACKAGE = '@cni-wasm/sdk';
/** asc names files of a package `~lib/<package>/<path>`; the abort handler is named that way. */
export const SDK_ABORT = `abort=~lib/${SDK_PACKAGE}/generated/bindings/cniwAbort`;

export interface BuildOptions {
  dir: string;
  /** Default: <dir>/build/<type>.wasm. */
  out?: string | undefined;
  /** The plugin type; default from package.json or the folder name. */
  name?: string | undefined;
  /** The cni-wasm package root (default: the one this code runs from). */
  root?: string | undefined;
}

export interface BuildSummary {
  type: string;
  outFile: string;
  language: 'assemblyscript' | 'wat';
  /** The SDK folder compiled in (AssemblyScript projects). */
  sdk: string | undefined;
  coreSize: number;
  size: number;
  sha256: string;
  ms: number;
  /** asc's warnings ("" when clean). */
  diagnostics: string;
}

interface ProjectInfo {
  type: string;
}

/** The type a project builds: --name, package.json "cniWasm.type", its unscoped "name", or the folder name. */
export function projectType(dir: string, name?: string): ProjectInfo {
  if (name) return { type: checkTypeName(name, 'plugin type') };
  const pkgFile = join(dir, 'package.json');
  if (existsSync(pkgFile)) {
    let pkg: { name?: unknown; cniWasm?: { type?: unknown } };
    try {
      pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as typeof pkg;
    } catch (e) {
      throw new Error(`${pkgFile} is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof pkg.cniWasm?.type === 'string') return { type: checkTypeName(pkg.cniWasm.type, `plugin type in ${pkgFile} (cniWasm.type)`) };
    if (typeof pkg.name === 'string') return { type: checkTypeName(pkg.name.replace(/^@[^/]+\//, ''), `plugin type (the name in ${pkgFile})`) };
  }
  return { type: checkTypeName(basename(dir), 'plugin type (the folder name)') };
}

/** Find `node_modules/@cni-wasm/sdk` from `dir` upwards, as asc does. */
export function findSdk(dir: string): string | undefined {
  let d = resolve(dir);
  for (;;) {
    const p = join(d, 'node_modules', SDK_PACKAGE);
    if (existsSync(join(p, 'index.ts'))) return realpathSync(p);
    const up = dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

/** The SDK's WIT package (package.json "cniWasm.wit"). */
export function sdkWit(sdkDir: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8')) as { cniWasm?: { wit?: unknown } };
    return typeof pkg.cniWasm?.wit === 'string' ? pkg.cniWasm.wit : undefined;
  } catch {
    return undefined;
  }
}

function readManifest(dir: string): Uint8Array {
  const file = join(dir, 'capabilities.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: every plugin declares its capabilities ({"version": 1} asks for nothing; see docs/capabilities.md)`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    parseCapabilities(doc, file);
  } catch (e) {
    if (e instanceof CapabilityFormatError) throw new Error(`${e.message}\n(the host would refuse this manifest; docs/capabilities.md lists every key)`);
    throw e;
  }
  return new TextEncoder().encode(JSON.stringify(doc));
}

function requireTools(root: string): void {
  const missing = ['assemblyscript', '@bytecodealliance/jco'].filter((p) => !existsSync(join(root, 'node_modules', p, 'package.json')));
  if (missing.length) {
    throw new Error(
      `plugin build needs the AssemblyScript compiler and jco (${missing.join(', ')} missing from ${join(root, 'node_modules')}). ` +
        `They are development dependencies of cni-wasm, left out of a production install (npm ci --omit=dev): run "npm ci" in ${root} to build plugins`,
    );
  }
}

/** Build one project. Throws an Error whose message says what to fix. */
export async function buildProject(o: BuildOptions): Promise<BuildSummary> {
  const t0 = performance.now();
  const root = o.root ?? cniWasmRoot();
  const dir = resolve(o.dir);
  if (!existsSync(dir)) throw new Error(`${dir} does not exist`);
  const { type } = projectType(dir, o.name);
  const outFile = resolve(o.out ?? join(dir, 'build', `${type}.wasm`));
  const manifest = readManifest(dir);
  const tsEntry = join(dir, 'index.ts');
  const watEntry = join(dir, 'index.wat');
  if (!existsSync(tsEntry) && !existsSync(watEntry)) {
    throw new Error(`${dir} has neither index.ts (AssemblyScript) nor index.wat (WebAssembly text): nothing to build (cni-wasm plugin new makes a project)`);
  }
  requireTools(root);
  const lib = await importFile<BuildLib>(join(root, 'scripts', 'plugin-build', 'lib.mjs'));
  const sections = await importFile<SectionsLib>(join(root, 'scripts', 'plugin-build', 'wasm-sections.mjs'));
  const witPath = join(root, 'wit', 'plugin.wit');

  let core: Uint8Array;
  let language: BuildSummary['language'];
  let sdk: string | undefined;
  let diagnostics = '';
  let maximumMemory: number | undefined;
  if (existsSync(tsEntry)) {
    language = 'assemblyscript';
    const source = readFileSync(tsEntry, 'utf8');
    if (!source.includes(`"${SDK_PACKAGE}`) && !source.includes(`'${SDK_PACKAGE}`)) {
      // The in-repository layout (plugins-as/<name>/ importing "../sdk"): the build library's own pipeline.
      const r = await lib.buildPlugin(dir, outFile, { stampFile: null, force: true, witPath });
      const bytes = readFileSync(outFile);
      verifyOrThrow(type, outFile, bytes);
      return summary(type, outFile, language, undefined, r.coreSize, bytes, t0, r.diagnostics ?? '');
    }
    sdk = findSdk(dir);
    if (!sdk) {
      throw new Error(
        `${tsEntry} imports ${SDK_PACKAGE}, which is not installed for this project (no node_modules/${SDK_PACKAGE} in ${dir} or above). ` +
          `Run "npm install" in ${dir} (its package.json names the SDK as a file: dependency), or link it: ln -s ${join(root, 'plugins-as', 'sdk')} ${join(dir, 'node_modules', SDK_PACKAGE)}`,
      );
    }
    const want = witPackage(root);
    const have = sdkWit(sdk);
    if (have !== want) {
      throw new Error(`the SDK in ${sdk} speaks ${have ?? 'an unknown WIT version'}, this cni-wasm speaks ${want}: use the SDK that comes with it (${join(root, 'plugins-as', 'sdk')})`);
    }
    maximumMemory = lib.DEFAULT_OPTIONS.maximumMemory;
    try {
      const r = await lib.compileAssemblyScript({ ...lib.DEFAULT_OPTIONS, baseDir: dir, entries: ['index.ts'], use: [SDK_ABORT] });
      core = r.binary;
      diagnostics = r.diagnostics;
    } catch (e) {
      const hint = /cniwAbort' not found|Global alias/.test((e as Error).message)
        ? `\nhint: index.ts must import the SDK by its package name ("${SDK_PACKAGE}") and \`export * from "${SDK_PACKAGE}/generated/exports"\``
        : '';
      throw new Error(`plugin "${type}": ${(e as Error).message}${hint}`);
    }
    const mapFile = join(sdk, 'generated', 'export-names.json');
    try {
      core = await lib.renameExports(core, join(root, 'scripts', 'wit', 'rename-exports.mjs'), mapFile);
    } catch (e) {
      throw new Error(`plugin "${type}": ${(e as Error).message}`);
    }
  } else {
    language = 'wat';
    const jcoEntry = createRequire(join(root, 'package.json')).resolve('@bytecodealliance/jco');
    const jco = await importFile<Jco>(jcoEntry);
    try {
      core = await jco.parse(readFileSync(watEntry, 'utf8'));
    } catch (e) {
      throw new Error(`plugin "${type}": ${watEntry} does not parse: ${String((e as Error).message ?? e)}`);
    }
  }
  core = sections.setCustomSection(core, 'cni-wasm:capabilities', manifest);
  const problems = lib.checkCoreModule(core, maximumMemory ? { maximumMemory } : {});
  if (problems.length) throw new Error(`plugin "${type}": the core module ${problems.join('; ')}${language === 'wat' ? ' (docs/abi.md lists what a plugin module exports)' : ''}`);
  let component: Uint8Array;
  try {
    component = await lib.componentize(core, readFileSync(witPath, 'utf8'));
  } catch (e) {
    throw new Error(`plugin "${type}": does not match the WIT world "plugin" of ${witPath}: ${String((e as Error).message ?? e)}`);
  }
  verifyOrThrow(type, outFile, component);
  mkdirSync(dirname(outFile), { recursive: true });
  const tmp = `${outFile}.tmp-${process.pid}`;
  writeFileSync(tmp, component);
  renameSync(tmp, outFile);
  return summary(type, outFile, language, sdk, core.length, component, t0, diagnostics);
}

function verifyOrThrow(type: string, path: string, bytes: Uint8Array): void {
  try {
    verifyStructure({ type, path }, bytes);
  } catch (e) {
    if (e instanceof CniError) throw new Error(`the host would refuse the built component: ${e.message}${e.details ? ` (${e.details})` : ''}`);
    throw e;
  }
}

function summary(type: string, outFile: string, language: BuildSummary['language'], sdk: string | undefined, coreSize: number, bytes: Uint8Array, t0: number, diagnostics: string): BuildSummary {
  return {
    type,
    outFile,
    language,
    sdk,
    coreSize,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    ms: Math.round(performance.now() - t0),
    diagnostics,
  };
}

export function registerBuild(plugin: Command): void {
  plugin
    .command('build')
    .description('compile a plugin project (index.ts with the SDK, or index.wat) into a component with its capabilities.json embedded')
    .argument('[dir]', 'the project folder', '.')
    .option('-o, --out <file>', 'output file (default: <dir>/build/<type>.wasm)')
    .option('--name <type>', 'the plugin type (default: package.json "cniWasm.type", else its name, else the folder name)')
    .action(async (dir: string, opts: { out?: string; name?: string }) => {
      const r = await buildProject({ dir, out: opts.out, name: opts.name });
      if (r.diagnostics) process.stderr.write(`${r.diagnostics}\n`);
      const shown = relative(process.cwd(), r.outFile) || r.outFile;
      process.stdout.write(
        `built plugin "${r.type}" (${r.language === 'wat' ? 'WebAssembly text' : 'AssemblyScript'}): ${shown.startsWith('..') ? r.outFile : shown}\n` +
          `  ${sizeText(r.size)} component, core module ${sizeText(r.coreSize)}, in ${(r.ms / 1000).toFixed(1)} s\n` +
          `  sha256 ${r.sha256}\n` +
          `next: cni-wasm plugin inspect ${shown.startsWith('..') ? r.outFile : shown}\n`,
      );
    });
}
