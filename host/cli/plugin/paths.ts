// Where an installed cni-wasm keeps what the plugin commands need: its own root (the
// package folder holding dist/, wit/, scripts/ and plugins-as/sdk/), the binary a runtime
// execs, and a real dynamic import for the ES-module build tools.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The plugin type name rule (the policy's and the registry's). */
export const TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function checkTypeName(name: string, what = 'plugin name'): string {
  if (!TYPE_RE.test(name) || name.length > 64) {
    throw new Error(`invalid ${what} ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-', starting with a letter or digit (at most 64 characters)`);
  }
  return name;
}

/**
 * The cni-wasm package root: the first ancestor of this file holding wit/plugin.wit and a
 * package.json named cni-wasm. In the bundle this file is dist/cli.cjs; from sources it is
 * host/cli/plugin/paths.ts.
 */
export function cniWasmRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'wit', 'plugin.wit')) && existsSync(join(dir, 'package.json'))) {
      try {
        if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'cni-wasm') return dir;
      } catch {
        /* not ours */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the cni-wasm package folder above ${from} (wit/plugin.wit and package.json)`);
    dir = up;
  }
}

/** The binary a runtime execs (dist/cni-wasm.cjs), resolved through links. */
export function cniWasmEntry(root: string = cniWasmRoot()): string {
  const entry = join(root, 'dist', 'cni-wasm.cjs');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build cni-wasm first (npm run build)`);
  return realpathSync(entry);
}

/** The SDK folder shipped with this cni-wasm (the @cni-wasm/sdk workspace package). */
export function sdkFolder(root: string = cniWasmRoot()): string {
  return join(root, 'plugins-as', 'sdk');
}

/** `cni:plugin@0.1.0`: the WIT package this host speaks, read from wit/plugin.wit. */
export function witPackage(root: string = cniWasmRoot()): string {
  const m = /^\s*package\s+([a-z0-9-]+:[a-z0-9-]+@[0-9A-Za-z.+-]+)\s*;/m.exec(readFileSync(join(root, 'wit', 'plugin.wit'), 'utf8'));
  if (!m) throw new Error(`no package declaration in ${join(root, 'wit', 'plugin.wit')}`);
  return m[1]!;
}

// The bundler turns `import()` into `require()` (the dist files are CommonJS), which cannot
// load an ES module before Node 20.19. The build tools (asc, jco, lib.mjs) are ES modules, so
// they are loaded through a function the bundler cannot see into.
const nativeImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/** import() an ES module file by path. */
export async function importFile<T>(file: string): Promise<T> {
  const url = pathToFileURL(resolve(file)).href;
  try {
    return (await nativeImport(url)) as T;
  } catch (e) {
    // Code run by a module loader of its own (vitest runs sources through vm) has no dynamic
    // import hook behind `new Function`; there a plain import() is the loader's and works.
    if ((e as { code?: string }).code !== 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING') throw e;
    return (await import(/* @vite-ignore */ url)) as T;
  }
}

/** `1234` -> `1.2 KiB (1234 bytes)`. */
export function sizeText(n: number): string {
  return n < 1024 ? `${n} bytes` : `${(n / 1024).toFixed(1)} KiB (${n} bytes)`;
}
