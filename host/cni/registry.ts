// Which code serves a config's `type`. Plugins are WebAssembly components named
// `<type>.wasm`, found in the plugin directory or on CNI_PATH; the wasm runtime that
// loads them is imported only when one is found, so VERSION and errors stay cheap.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CniError, ErrorCode } from './errors.ts';
import type { NetConf, JsonObject } from './config.ts';
import type { PluginEnv } from './env.ts';

export interface PluginRequest {
  env: PluginEnv;
  config: NetConf;
  /** The config exactly as received on stdin. */
  configText: string;
}

/** What a plugin answers: ADD returns a result object (any CNI version, with `cniVersion`); the others return nothing. */
export interface Plugin {
  readonly type: string;
  readonly source: string;
  run(req: PluginRequest): Promise<JsonObject | undefined>;
}

export type PluginLoader = (type: string, wasmPath: string) => Promise<Plugin>;

let wasmLoader: PluginLoader | undefined;

/** The wasm runtime registers itself here. */
export function setWasmLoader(loader: PluginLoader): void {
  wasmLoader = loader;
}

/** The directory of first-party plugins: `plugins/` next to the bundle, overridable. */
export function defaultPluginDir(env: Record<string, string | undefined> = process.env): string {
  if (env.CNI_WASM_PLUGIN_DIR) return env.CNI_WASM_PLUGIN_DIR;
  const here = dirname(fileURLToPath(import.meta.url));
  // In the bundle this is dist/; run from sources (tests) it is host/cni/.
  return here.endsWith('/host/cni') ? join(here, '..', '..', 'dist', 'plugins') : join(here, 'plugins');
}

export function searchDirs(env: PluginEnv, procEnv: Record<string, string | undefined> = process.env): string[] {
  return [defaultPluginDir(procEnv), ...env.path];
}

export function locatePlugin(type: string, dirs: string[]): string | undefined {
  for (const d of dirs) {
    const p = join(d, `${type}.wasm`);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export async function findPlugin(type: string, dirs: string[]): Promise<Plugin> {
  const path = locatePlugin(type, dirs);
  if (!path) {
    throw new CniError(
      ErrorCode.InvalidConfig,
      `unknown plugin type "${type}": no ${type}.wasm found`,
      `searched: ${dirs.join(', ') || '(no directories)'}`,
    );
  }
  // The runtime registers itself when first needed: nothing of it loads for VERSION or early errors.
  if (!wasmLoader) wasmLoader = (await import('../runtime/register.ts')).wasmLoader;
  if (!wasmLoader) {
    throw new CniError(ErrorCode.PluginNotAvailable, `found ${path} but this build has no wasm runtime`, 'rebuild cni-wasm with the runtime (npm run build)');
  }
  return wasmLoader(type, path);
}
