// The runtime as the binary uses it: registered with host/cni/registry.ts when (and only
// when) a `.wasm` plugin is found, so VERSION and early errors never load it. Policy comes
// from host/caps (loadPolicy + authorize); the host API for an invocation comes from the
// factory below.
import { setWasmLoader } from '../cni/registry.ts';
import { authorize, loadPolicy, type Authorization, type Policy } from '../caps/policy.ts';
import { CapabilityFormatError, parseCapabilities, type Capabilities } from '../caps/manifest.ts';
import { refused } from './errors.ts';
import { createWasmLoader, loadWasmPluginSync, type HostBinding, type HostContext, type LoadContext, type LoaderHooks } from './loader.ts';
import { createHostBinding } from './host-api/binding.ts';
import { MANIFEST_SECTION } from './verify.ts';
import { WitResultError, type HostImports } from './generated/abi.ts';

type Env = Record<string, string | undefined>;

/** A plugin's manifest (the custom section's text), validated by the capability format. */
export function parseManifest(ctx: LoadContext): Capabilities | undefined {
  if (ctx.manifest === undefined) return undefined;
  const where = `the ${MANIFEST_SECTION} section of ${ctx.plugin.path}`;
  try {
    return parseCapabilities(JSON.parse(ctx.manifest), where);
  } catch (e) {
    if (e instanceof CapabilityFormatError || e instanceof SyntaxError) throw refused(ctx.plugin, `its capability manifest is invalid: ${e.message}`);
    throw e;
  }
}

/**
 * Until the host API (host/runtime/host-api/) is wired in here, every host call answers an
 * error the plugin can report, and log lines are dropped.
 */
export function unavailableHost(ctx: HostContext<Authorization>): HostBinding {
  const why = `the host API is not available in this build (plugin "${ctx.plugin.type}")`;
  const iface = (name: string, cniErrors = false): unknown =>
    new Proxy(
      {},
      {
        get: (_t, fn) => () => {
          throw new WitResultError(cniErrors ? { code: 999, msg: `${name}.${String(fn)}: ${why}`, details: '' } : { tag: 'other', val: `${name}.${String(fn)}: ${why}` });
        },
      },
    );
  const imports = {
    log: { write: (): void => {} },
    netlink: iface('netlink'),
    sysctl: iface('sysctl'),
    firewall: iface('firewall'),
    store: iface('store'),
    ipam: iface('ipam', true),
  } as unknown as HostImports;
  return { imports };
}

export function defaultHooks(env: Env = process.env): LoaderHooks<Authorization> {
  let policy: Policy | undefined;
  const hooks: LoaderHooks<Authorization> = {
    env,
    authorize(ctx) {
      policy ??= loadPolicy(env);
      return authorize({
        policy,
        type: ctx.plugin.type,
        path: ctx.plugin.path,
        manifest: parseManifest(ctx),
        config: ctx.request.config,
        fileBytes: ctx.fileBytes,
      });
    },
    // The host API (host/runtime/host-api); a `.wasm` IPAM plugin runs nested through this loader.
    createHost: (ctx) => createHostBinding(ctx, { procEnv: env, runWasm: (type, path, req) => loadWasmPluginSync(hooks, type, path).run(req) }),
  };
  return hooks;
}

/**
 * The loader, exported rather than only registered: when the runtime is bundled as its own
 * lazily required file, this module's copy of registry.ts is not the caller's, so
 * findPlugin takes the loader from here.
 */
export const wasmLoader = createWasmLoader(defaultHooks());
setWasmLoader(wasmLoader);
