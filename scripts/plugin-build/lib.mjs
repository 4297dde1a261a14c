// Building one AssemblyScript plugin into a cni-wasm component:
//
//   plugins-as/<name>/index.ts ──asc──> core module (no env.abort, no WASI, capped memory)
//     ──rename-exports──> component-model export names (cni:plugin/handler@0.1.0#add, ...)
//     ──+ custom section "cni-wasm:capabilities" (the plugin's capabilities.json)
//     ──jco componentEmbed + componentNew──> component, checked against wit/plugin.wit
//
// Used by scripts/build-plugins.mjs (npm run build), by tests, and later by
// `cni-wasm plugin build`. Heavy tools (asc, jco) are imported only when something is built.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { binaryKind, componentCoreModules, customSections, memoryLimits, setCustomSection } from './wasm-sections.mjs';

export const REPO_ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CAPABILITIES_SECTION = 'cni-wasm:capabilities';
export const WIT_WORLD = 'plugin';
export const HANDLER_INTERFACE = 'cni:plugin/handler@0.1.0';
export const HANDLER_FUNCS = ['add', 'del', 'check', 'status', 'gc'];

/**
 * Compiler settings, measured on the null plugin and on a 74 KB JSON round trip through the SDK
 * (docs/plugin-authoring.md has the table):
 * - runtime "stub": a bump allocator that never frees. One instance serves one CNI call, so a
 *   collector buys nothing: stub modules are ~30% smaller and parse/serialize ~2x faster than
 *   with "incremental". A long-running host must instantiate afresh per call.
 * - -Os (optimizeLevel 2, shrinkLevel 1): 20% smaller and ~40% faster to build than -O3, with the
 *   same speed at run time within noise; --converge added build time and saved 3 bytes.
 * - maximumMemory 256 pages (16 MiB): ample for configs and IPAM state; the host refuses modules
 *   without a maximum and may cap lower.
 */
export const DEFAULT_OPTIONS = Object.freeze({
  runtime: 'stub',
  optimizeLevel: 2,
  shrinkLevel: 1,
  converge: false,
  maximumMemory: 256,
  noAssert: false,
});

export class PluginBuildError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PluginBuildError';
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs and the skip-if-unchanged hash

function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() || (e.isSymbolicLink() && statSync(p).isFile())) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function toolVersion(pkg) {
  try {
    return JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return 'missing';
  }
}

/** sha256 over everything that decides the output: sources, SDK, WIT, tools, options. */
export function inputsHash(pluginDir, opts) {
  const h = createHash('sha256');
  const add = (label, data) => {
    h.update(`${label}\0${data.length}\0`);
    h.update(data);
  };
  for (const f of listFiles(pluginDir)) add(`plugin/${path.relative(pluginDir, f)}`, readFileSync(f));
  for (const f of listFiles(opts.sdkDir)) add(`sdk/${path.relative(opts.sdkDir, f)}`, readFileSync(f));
  add('wit', readFileSync(opts.witPath));
  for (const f of [fileURLToPath(import.meta.url), fileURLToPath(new URL('./wasm-sections.mjs', import.meta.url)), opts.renameScript]) {
    add(`tool/${path.basename(f)}`, existsSync(f) ? readFileSync(f) : Buffer.from('absent'));
  }
  add('versions', Buffer.from(`asc ${toolVersion('assemblyscript')} jco ${toolVersion('@bytecodealliance/jco')} node-abi ${process.versions.modules}`));
  const { runtime, optimizeLevel, shrinkLevel, converge, maximumMemory, noAssert } = opts;
  add('options', Buffer.from(JSON.stringify({ runtime, optimizeLevel, shrinkLevel, converge, maximumMemory, noAssert })));
  return h.digest('hex');
}

/** Reads and checks `capabilities.json`: JSON, an object. Returns its bytes, re-encoded compactly. */
export function readCapabilities(pluginDir, name) {
  const file = path.join(pluginDir, 'capabilities.json');
  if (!existsSync(file)) {
    throw new PluginBuildError(`plugin "${name}": ${file} is missing; every plugin declares its capabilities (an empty set is {"version": 1})`);
  }
  const text = readFileSync(file, 'utf8');
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new PluginBuildError(`plugin "${name}": ${file} is not valid JSON: ${e.message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new PluginBuildError(`plugin "${name}": ${file} must hold a JSON object, not ${Array.isArray(doc) ? 'an array' : doc === null ? 'null' : typeof doc}`);
  }
  return new TextEncoder().encode(JSON.stringify(doc));
}

let capsValidator;
/**
 * Checks a manifest with the host's own validator (host/caps/manifest.ts, bundled on the fly
 * with esbuild, ~30 ms), so that a manifest the host would refuse at load fails the build
 * instead. Outside this repository (no host sources) only the JSON checks above apply.
 */
export async function validateCapabilities(doc, where) {
  const source = path.join(REPO_ROOT, 'host', 'caps', 'manifest.ts');
  if (!existsSync(source)) return;
  if (capsValidator === undefined) {
    const { build } = await import('esbuild');
    const out = await build({ entryPoints: [source], bundle: true, write: false, format: 'esm', platform: 'node', target: 'node20', logLevel: 'silent' });
    const mod = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
    capsValidator = mod.parseCapabilities;
  }
  try {
    capsValidator(doc, where);
  } catch (e) {
    throw new PluginBuildError(e.message);
  }
}

// ---------------------------------------------------------------------------------------------
// Steps

let ascModule;
async function loadAsc() {
  ascModule ??= (await import('assemblyscript/asc')).default;
  return ascModule;
}

/**
 * Compiles AssemblyScript to a core module in memory. `entries` are paths relative to `baseDir`;
 * asc makes every entry's exports module exports. `use` lists `--use` aliases
 * (e.g. "abort=sdk/generated/bindings/cniwAbort").
 */
export async function compileAssemblyScript({ baseDir, entries, use = [], runtime, optimizeLevel, shrinkLevel, converge, maximumMemory, noAssert, extraArgs = [] }) {
  const asc = await loadAsc();
  const argv = [...entries, '--baseDir', baseDir, '--outFile', 'out.wasm', '--runtime', runtime, '--optimizeLevel', String(optimizeLevel), '--shrinkLevel', String(shrinkLevel), '--noColors'];
  if (optimizeLevel > 0 || shrinkLevel > 0) argv.push('--optimize');
  if (converge) argv.push('--converge');
  if (noAssert) argv.push('--noAssert');
  if (maximumMemory) argv.push('--maximumMemory', String(maximumMemory));
  for (const u of use) argv.push('--use', u);
  argv.push(...extraArgs);
  let binary = null;
  const stdout = asc.createMemoryStream();
  const stderr = asc.createMemoryStream();
  const res = await asc.main(argv, {
    stdout,
    stderr,
    writeFile(name, contents) {
      if (name.endsWith('.wasm')) binary = contents instanceof Uint8Array ? contents : new TextEncoder().encode(contents);
    },
  });
  const diagnostics = stderr.toString().trim();
  if (res.error || !binary) {
    throw new PluginBuildError(`asc failed${res.error ? `: ${res.error.message}` : ''}${diagnostics ? `\n${diagnostics}` : ''}`);
  }
  return { binary, diagnostics };
}

/**
 * Refuses a core module that imports anything but the WIT interfaces (env.abort, env.seed for
 * Math.random, env.trace, WASI) or whose memory has no maximum.
 */
export function checkCoreModule(core, { maximumMemory } = {}) {
  const problems = [];
  const mod = new WebAssembly.Module(core);
  for (const imp of WebAssembly.Module.imports(mod)) {
    if (imp.module.startsWith('cni:plugin/')) continue;
    const what = `${imp.module}.${imp.name}`;
    let hint = 'only the cni:plugin interfaces can be imported';
    if (imp.module === 'env' && imp.name === 'abort') hint = 'abort was not redirected (build with the SDK runtime, --use abort=...)';
    else if (imp.module === 'env' && imp.name === 'seed') hint = 'Math.random needs a seed import, which plugins do not get';
    else if (imp.module === 'env' && imp.name === 'trace') hint = 'trace() is not available; use the SDK log functions';
    else if (imp.module.startsWith('wasi')) hint = 'WASI is not available to plugins';
    problems.push(`imports ${what}: ${hint}`);
  }
  const mems = memoryLimits(core);
  if (mems.length !== 1) problems.push(`defines ${mems.length} memories, expected exactly one`);
  else if (mems[0].max === undefined) problems.push('memory has no maximum');
  else if (maximumMemory && mems[0].max > maximumMemory) problems.push(`memory maximum ${mems[0].max} pages exceeds ${maximumMemory}`);
  const exports = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  for (const f of HANDLER_FUNCS) {
    if (!exports.has(`${HANDLER_INTERFACE}#${f}`)) problems.push(`does not export ${HANDLER_INTERFACE}#${f}`);
  }
  if (!exports.has('cabi_realloc')) problems.push('does not export cabi_realloc');
  if (!exports.has('memory')) problems.push('does not export its memory');
  return problems;
}

let renameModule;
/**
 * Gives the generated trampolines (`__cniw_handler_add`, ...) their component-model names
 * (`cni:plugin/handler@0.1.0#add`, ...) with scripts/wit/rename-exports.mjs and the map the
 * generator wrote beside the bindings (generated/export-names.json).
 */
export async function renameExports(core, renameScript, mapFile) {
  if (!existsSync(renameScript)) throw new PluginBuildError(`${renameScript} is missing`);
  if (!existsSync(mapFile)) throw new PluginBuildError(`${mapFile} is missing (generate the SDK bindings: npm run gen:wit)`);
  renameModule ??= await import(pathToFileURL(renameScript).href);
  const map = JSON.parse(readFileSync(mapFile, 'utf8'));
  const { wasm, renamed } = renameModule.renameExports(core, map);
  if (renamed !== Object.keys(map).length) {
    throw new PluginBuildError(
      `only ${renamed} of the ${Object.keys(map).length} handler exports were found; the entry file must \`export * from "<sdk>/generated/exports"\``,
    );
  }
  return wasm;
}

let jcoModule;
/** componentEmbed + componentNew: wraps the core module, checking it against the WIT world. */
export async function componentize(core, witSource, world = WIT_WORLD) {
  jcoModule ??= await import('@bytecodealliance/jco');
  const embedded = await jcoModule.componentEmbed({ binary: core, witSource, world });
  return jcoModule.componentNew(embedded);
}

/** The plugin's own core module inside a component made by componentize (the first one). */
export function mainCoreModule(component) {
  const mods = componentCoreModules(component);
  if (mods.length === 0) throw new PluginBuildError('component holds no core module');
  return mods[0];
}

// ---------------------------------------------------------------------------------------------
// The whole build

function resolveOptions(pluginDir, opts) {
  const o = { ...DEFAULT_OPTIONS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
  // Plugins import the SDK as "../sdk": by default it is the plugin's sibling, else this repo's.
  const sibling = path.join(path.dirname(pluginDir), 'sdk');
  o.sdkDir = path.resolve(o.sdkDir ?? (existsSync(sibling) ? sibling : path.join(REPO_ROOT, 'plugins-as', 'sdk')));
  o.witPath = path.resolve(o.witPath ?? path.join(REPO_ROOT, 'wit', 'plugin.wit'));
  o.renameScript = path.resolve(o.renameScript ?? path.join(REPO_ROOT, 'scripts', 'wit', 'rename-exports.mjs'));
  return o;
}

const ms = (t0) => Math.round(performance.now() - t0);

/**
 * Builds plugins-as/<name>/ (dir) into the component outFile.
 * opts: runtime, optimizeLevel, shrinkLevel, converge, maximumMemory (pages), noAssert, sdkDir
 *   (default: the plugin's sibling "sdk", which its `import ... from "../sdk"` reaches), witPath,
 *   renameScript, force (ignore the stamp), stampFile (default <outFile>.stamp.json;
 *   null disables skipping).
 * Returns { name, outFile, skipped, hash, coreSize, componentSize, timings: { total, asc, rename,
 *   componentize }, diagnostics (asc's warnings, "" when clean; absent when skipped) }.
 * Throws PluginBuildError with a message naming the plugin.
 */
export async function buildPlugin(dir, outFile, opts = {}) {
  const t0 = performance.now();
  const pluginDir = path.resolve(dir);
  const o = resolveOptions(pluginDir, opts);
  const name = path.basename(pluginDir);
  const entry = path.join(pluginDir, 'index.ts');
  if (!existsSync(entry)) throw new PluginBuildError(`plugin "${name}": ${entry} is missing`);
  const capabilities = readCapabilities(pluginDir, name);

  const stampFile = o.stampFile === undefined ? `${outFile}.stamp.json` : o.stampFile;
  const hash = inputsHash(pluginDir, o);
  if (stampFile && !o.force && existsSync(outFile) && existsSync(stampFile)) {
    try {
      const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
      const out = readFileSync(outFile);
      if (stamp.inputs === hash && stamp.output === createHash('sha256').update(out).digest('hex')) {
        return { name, outFile, skipped: true, hash, coreSize: stamp.coreSize, componentSize: out.length, timings: { total: ms(t0) } };
      }
    } catch {
      // A broken stamp means rebuild.
    }
  }

  // asc resolves files relative to baseDir; the abort handler's internal name follows from it
  // (it logs the message through the log import, then traps: a component cannot import env.abort).
  const baseDir = path.dirname(pluginDir);
  const rel = (p) => path.relative(baseDir, p).split(path.sep).join('/');
  const entries = [rel(entry)];
  const use = [`abort=${rel(path.join(o.sdkDir, 'generated', 'bindings'))}/cniwAbort`];
  await validateCapabilities(JSON.parse(new TextDecoder().decode(capabilities)), `plugin "${name}": ${path.join(pluginDir, 'capabilities.json')}`);

  const tAsc = performance.now();
  let core;
  let diagnostics;
  try {
    ({ binary: core, diagnostics } = await compileAssemblyScript({ ...o, baseDir, entries, use }));
  } catch (e) {
    const hint = /cniwAbort' not found/.test(e.message)
      ? `\nhint: the entry file must use the SDK: import from "../sdk" and \`export * from "../sdk/generated/exports"\``
      : '';
    throw new PluginBuildError(`plugin "${name}": ${e.message}${hint}`);
  }
  const ascMs = ms(tAsc);

  const tRename = performance.now();
  core = await renameExports(core, o.renameScript, path.join(o.sdkDir, 'generated', 'export-names.json'));
  core = setCustomSection(core, CAPABILITIES_SECTION, capabilities);
  const renameMs = ms(tRename);

  const problems = checkCoreModule(core, o);
  if (problems.length) throw new PluginBuildError(`plugin "${name}": the core module ${problems.join('; ')}`);

  const tComp = performance.now();
  let component;
  try {
    component = await componentize(core, readFileSync(o.witPath, 'utf8'));
  } catch (e) {
    throw new PluginBuildError(`plugin "${name}": does not match the WIT world "${WIT_WORLD}": ${e.message ?? e}`);
  }
  const compMs = ms(tComp);

  // The manifest must survive componentization inside the plugin's core module.
  const kept = customSections(mainCoreModule(component), CAPABILITIES_SECTION);
  if (kept.length !== 1 || Buffer.compare(Buffer.from(kept[0]), Buffer.from(capabilities)) !== 0) {
    throw new PluginBuildError(`plugin "${name}": the ${CAPABILITIES_SECTION} section did not survive componentization`);
  }
  if (binaryKind(component) !== 'component') throw new PluginBuildError(`plugin "${name}": jco did not produce a component`);

  mkdirSync(path.dirname(outFile), { recursive: true });
  const tmp = `${outFile}.tmp-${process.pid}`;
  writeFileSync(tmp, component);
  renameSync(tmp, outFile);
  if (stampFile) {
    const stamp = { plugin: name, inputs: hash, output: createHash('sha256').update(component).digest('hex'), coreSize: core.length, componentSize: component.length };
    writeFileSync(stampFile, `${JSON.stringify(stamp, null, 2)}\n`);
  }
  return {
    name,
    outFile,
    skipped: false,
    hash,
    coreSize: core.length,
    componentSize: component.length,
    timings: { total: ms(t0), asc: ascMs, rename: renameMs, componentize: compMs },
    diagnostics,
  };
}

/** Plugin directories under root: subdirectories with an index.ts, except the SDK. */
export function findPlugins(root = path.join(REPO_ROOT, 'plugins-as')) {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== 'sdk' && !e.name.startsWith('.') && existsSync(path.join(root, e.name, 'index.ts')))
    .map((e) => path.join(root, e.name))
    .sort();
}
