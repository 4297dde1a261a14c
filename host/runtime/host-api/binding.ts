// The adapter between the runtime's loader (host/runtime/loader.ts, LoaderHooks.createHost)
// and the host API: one host API per plugin instance, built from what the loader knows
// (the request, the authorization, the limits in force), with in-process IPAM delegation
// through the loader itself. Structural types only, so the loader and this module do not
// import each other.
import type { JsonObject } from '../../cni/config.ts';
import type { PluginRequest } from '../../cni/registry.ts';
import type { AuditSink } from '../../caps/audit.ts';
import type { Authorization } from '../../caps/policy.ts';
import { resetNetns, type NetnsHandle } from '../../sys/netns.ts';
import type { Limits } from '../limits.ts';
import { type HostApi, createHostImports } from './index.ts';

/** What the loader passes to createHost (a subset of its HostContext). */
export interface BindingContext {
  plugin: { type: string; path: string };
  request: PluginRequest;
  authorization: Pick<Authorization, 'caps'>;
  limits: Limits;
}

export interface BindingOptions {
  /**
   * Run a `.wasm` plugin synchronously through the loader (its own authorization, its own
   * host API), e.g. `(type, path, req) => loadWasmPluginSync(hooks, type, path).run(req)`.
   * Without it a `.wasm` IPAM type cannot be delegated to.
   */
  runWasm?: (type: string, path: string, req: PluginRequest) => JsonObject | undefined;
  procEnv?: Record<string, string | undefined>;
  hostNs?: NetnsHandle;
  auditSink?: AuditSink;
  pluginDirs?: readonly string[];
}

export interface HostBindingResult {
  imports: HostApi;
  /** The budget stopped the plugin (possibly inside a host call): release what it held. */
  abort(): void;
  close(): void;
}

// Delegation runs synchronously inside a host call, so a counter tells how deep we are.
let depth = 0;

export function createHostBinding(ctx: BindingContext, opts: BindingOptions = {}): HostBindingResult {
  const runWasm = opts.runWasm;
  const api = createHostImports({
    plugin: ctx.plugin.type,
    env: ctx.request.env,
    config: ctx.request.config,
    configText: ctx.request.configText,
    caps: ctx.authorization.caps,
    limits: ctx.limits,
    depth,
    ...(opts.procEnv ? { procEnv: opts.procEnv } : {}),
    ...(opts.hostNs ? { hostNs: opts.hostNs } : {}),
    ...(opts.auditSink ? { auditSink: opts.auditSink } : {}),
    ...(opts.pluginDirs ? { pluginDirs: opts.pluginDirs } : {}),
    ...(runWasm
      ? {
          runWasmIpam: (r) => {
            depth++;
            try {
              // The delegated command (DEL after a failed ADD, say), not the caller's.
              const out = runWasm(r.type, r.wasmPath, { env: { ...r.env, command: r.command }, config: r.config, configText: r.configText });
              return out === undefined ? undefined : JSON.stringify(out);
            } finally {
              depth--;
            }
          },
        }
      : {}),
  });
  // A budget stop skips finally blocks: a host call stopped inside a namespace window
  // would leave the thread there, so go home before anything else runs.
  const abort = (): void => {
    resetNetns();
    api.dispose();
  };
  return { imports: api, abort, close: () => api.dispose() };
}
