// The PluginLoader that host/cni/registry.ts calls for a `<type>.wasm`: read the file, verify
// it is a plugin of this world, and return a Plugin whose run() authorizes it (policy hook),
// caps and compiles its main module, builds the host API for this invocation (host hook),
// instantiates it (one instance per invocation), calls the handler for the command and
// answers in the protocol's terms. Policy and host API come in through hooks, so the
// runtime does not depend on their internals and tests can use small fakes.
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { CniError, ErrorCode } from '../cni/errors.ts';
import { isObject, type JsonObject } from '../cni/config.ts';
import { convertResult, prevResultFromConfig, resultToJSON } from '../cni/result.ts';
import type { Command } from '../cni/env.ts';
import { locatePlugin, searchDirs, type Plugin, type PluginLoader, type PluginRequest } from '../cni/registry.ts';
import { pluginError, refused, RuntimeErrorCode, type PluginIdent } from './errors.ts';
import { applyEnvLimits, memoryPages, resolveLimits, type Limits } from './limits.ts';
import { verifyStructure, capMainModule, type HandlerFunc, type StructureInfo } from './verify.ts';
import { compileModule, invokePlugin, type HostImports, type WitRequest } from './instance.ts';
import { enter, leave } from '../trace.ts';

export interface LoadContext {
  plugin: PluginIdent;
  /** The invocation as the protocol layer read it. */
  request: PluginRequest;
  /** The `cni-wasm:capabilities` section of the main module (UTF-8 JSON), if any. */
  manifest: string | undefined;
  /** The plugin file, e.g. for a sha256 pin. */
  fileBytes: Uint8Array;
}

export interface HostContext<A> extends LoadContext {
  /** What authorize() answered. */
  authorization: A;
  /** The limits in force (policy, then CNI_WASM_LIMITS tightening). The host API enforces maxLogBytes. */
  limits: Limits;
}

export interface HostBinding {
  imports: HostImports;
  /**
   * The budget stopped the plugin, possibly inside a host call (JS `finally` blocks do not
   * run for a termination): restore what a half-done host call may have left, e.g. switch
   * the thread back to the host network namespace.
   */
  abort?(): void;
  /** The invocation is over, whatever its outcome. */
  close?(): void;
}

/**
 * Synchronous on purpose: a plugin delegating IPAM to a `.wasm` IPAM plugin does so from
 * inside a (synchronous) host call, and the nested plugin runs through the same path.
 */
export interface LoaderHooks<A extends { limits: Limits }> {
  /** The policy: may this plugin run here, and with which limits? Throw a CniError to refuse. */
  authorize(ctx: LoadContext): A;
  /** The host API for one invocation, within the authorization. */
  createHost(ctx: HostContext<A>): HostBinding;
  /** The process environment (CNI_WASM_LIMITS); default process.env. */
  env?: Record<string, string | undefined>;
}

const COMMAND_FUNC: Partial<Record<Command, HandlerFunc>> = { ADD: 'add', DEL: 'del', CHECK: 'check', STATUS: 'status', GC: 'gc' };

/** Read a plugin file, refusing one above the size cap before reading it. */
function readPluginFile(plugin: PluginIdent, maxBytes: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(plugin.path, 'r');
  } catch (e) {
    throw new CniError(ErrorCode.IoFailure, `plugin "${plugin.type}": cannot open ${plugin.path}: ${(e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw refused(plugin, `its file is ${size} bytes, above the cap of ${maxBytes} bytes`, 'the cap is the policy limit maxModuleBytes');
    const buf = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/** The WIT request for an invocation. prevResult goes to the plugin in the 1.x form. */
export function witRequest(req: PluginRequest): WitRequest {
  let prevResult: string | undefined;
  const prev = prevResultFromConfig(req.config, req.config.cniVersion);
  if (prev) prevResult = resultToJSON(mapSandbox(convertResult(prev, '1.1.0'), req.env.netns, SANDBOX_CONTAINER)).trimEnd();
  const { env } = req;
  // "gone" is judged by the path here; the host API verifies it is a namespace when it opens it.
  const hasContainer = env.netns !== '' && existsSync(env.netns);
  return { config: req.configText, containerId: env.containerId, ifname: env.ifname, args: env.args, prevResult, hasContainer };
}

/**
 * A plugin never sees CNI_NETNS's path: it writes the `sandbox` of a container-side interface as
 * "container" (the WIT's name for that namespace), and reads it so in a prevResult. The host
 * translates both ways (`from` -> `to` in every interface's sandbox).
 */
export const SANDBOX_CONTAINER = 'container';
function mapSandbox<T>(result: T, from: string, to: string): T {
  const ifs = (result as { interfaces?: unknown }).interfaces;
  if (from === '' || to === '' || !Array.isArray(ifs)) return result;
  for (const i of ifs) if (isObject(i) && i.sandbox === from) i.sandbox = to;
  return result;
}

/** Decode an ADD result string into the object plugin-main converts to the config's version. */
function decodeResult(plugin: PluginIdent, text: string): JsonObject {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
    throw pluginError(RuntimeErrorCode.PluginBadResult, plugin, `its ADD result is not JSON: ${(e as Error).message}`, `result began: ${JSON.stringify(shown)}`);
  }
  if (!isObject(v)) throw pluginError(RuntimeErrorCode.PluginBadResult, plugin, 'its ADD result is not a JSON object');
  return v;
}

/** A loaded (read and verified) plugin that runs synchronously. */
export interface SyncPlugin {
  readonly type: string;
  readonly source: string;
  /** The `cni-wasm:capabilities` manifest, if the plugin carries one. */
  readonly manifest: string | undefined;
  run(req: PluginRequest): JsonObject | undefined;
}

/** Read and verify `<type>.wasm`; the returned plugin authorizes, compiles and runs per invocation. */
export function loadWasmPluginSync<A extends { limits: Limits }>(hooks: LoaderHooks<A>, type: string, path: string): SyncPlugin {
  const env = hooks.env ?? process.env;
  const plugin: PluginIdent = { type, path };
  // Before the policy is known only the defaults and CNI_WASM_LIMITS bound the file size.
  const tr = enter('wasm.read');
  const fileBytes = readPluginFile(plugin, applyEnvLimits(resolveLimits(), env).maxModuleBytes);
  leave(tr);
  const tv = enter('wasm.verify');
  const structure = verifyStructure(plugin, fileBytes);
  leave(tv);
  const compiled = new Map<string, WebAssembly.Module>();
  const compile = (limits: Limits): WebAssembly.Module => {
    const key = `${memoryPages(limits)}/${limits.maxTableElements}`;
    let m = compiled.get(key);
    if (!m) {
      const tc = enter('wasm.compile');
      m = compileModule(plugin, capMainModule(plugin, structure, limits));
      leave(tc);
      compiled.set(key, m);
    }
    return m;
  };
  return {
    type,
    source: path,
    manifest: structure.manifest,
    run: (req) => runPlugin(hooks, env, plugin, fileBytes, structure, compile, req),
  };
}

/** The PluginLoader for host/cni/registry.ts's setWasmLoader. */
export function createWasmLoader<A extends { limits: Limits }>(hooks: LoaderHooks<A>): PluginLoader {
  return async (type: string, path: string): Promise<Plugin> => {
    const p = loadWasmPluginSync(hooks, type, path);
    return { type: p.type, source: p.source, run: async (req) => p.run(req) };
  };
}

/** Does this invocation's IPAM type resolve to a native binary (no `<type>.wasm` where plugins are found)? */
function delegatesToNativeIpam(req: PluginRequest): boolean {
  const t = req.config.ipam?.type;
  return typeof t === 'string' && t !== '' && locatePlugin(t, searchDirs(req.env)) === undefined;
}

function runPlugin<A extends { limits: Limits }>(
  hooks: LoaderHooks<A>,
  env: Record<string, string | undefined>,
  plugin: PluginIdent,
  fileBytes: Uint8Array,
  structure: StructureInfo,
  compile: (limits: Limits) => WebAssembly.Module,
  req: PluginRequest,
): JsonObject | undefined {
  const func = COMMAND_FUNC[req.env.command];
  if (!func) throw new CniError(ErrorCode.InvalidEnv, `plugin "${plugin.type}": no handler for CNI_COMMAND ${req.env.command}`);
  const ctx: LoadContext = { plugin, request: req, manifest: structure.manifest, fileBytes };
  const tp = enter('wasm.policy');
  const authorization = hooks.authorize(ctx);
  const limits = applyEnvLimits(authorization.limits, env);
  leave(tp);
  if (fileBytes.length > limits.maxModuleBytes) {
    throw refused(plugin, `its file is ${fileBytes.length} bytes, above the cap of ${limits.maxModuleBytes} bytes`, 'the cap is the policy limit maxModuleBytes');
  }
  const module = compile(limits);
  const ts = enter('wasm.setup');
  const witReq = witRequest(req);
  const requestBytes = Buffer.byteLength(witReq.config) + Buffer.byteLength(witReq.prevResult ?? '') + witReq.args.reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (requestBytes > limits.maxRequestBytes) {
    // Refused here with a clear answer, rather than the plugin failing to allocate it.
    throw new CniError(
      ErrorCode.InvalidConfig,
      `the request for plugin "${plugin.type}" is ${requestBytes} bytes, above the ${limits.maxRequestBytes} bytes a plugin is handed`,
      'the limit is the policy limit maxRequestBytes',
    );
  }
  const binding = hooks.createHost({ ...ctx, authorization, limits });
  leave(ts);
  try {
    const budgetMs = limits.callTimeoutMs + (delegatesToNativeIpam(req) ? limits.ipamTimeoutMs : 0);
    const out = invokePlugin(
      module,
      { plugin, limits, host: binding.imports, hasInitialize: structure.hasInitialize, onAbort: binding.abort?.bind(binding), budgetMs },
      func,
      witReq,
    );
    const tr = enter('result');
    const result = func === 'add' ? mapSandbox(decodeResult(plugin, out ?? ''), SANDBOX_CONTAINER, req.env.netns) : undefined;
    leave(tr);
    return result;
  } finally {
    const tc = enter('wasm.setup');
    binding.close?.();
    leave(tc);
  }
}
