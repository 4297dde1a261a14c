// `cni-wasm install`: make this binary answer under each plugin name in a runtime's
// CNI bin directory, so that CNI_PATH/<type> reaches it.
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PLUGIN_ARG } from './invoked-as.ts';

export const DEFAULT_PLUGINS = ['bridge', 'host-local', 'vxlan'];
const MARKER = '# cni-wasm launcher';

export interface InstallOptions {
  dir: string;
  plugins: string[];
  /** Symlinks rely on `#!/usr/bin/env node`; launchers pin this Node binary (runtimes often run plugins with a short PATH). */
  mode: 'launcher' | 'symlink';
  /** Replace files that are not ours (e.g. the reference plugins). */
  force: boolean;
  entry: string;
  node: string;
}

export interface InstallAction {
  name: string;
  path: string;
  action: 'created' | 'replaced' | 'unchanged';
}

function isOurs(path: string, entry: string): boolean {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return resolve(join(path, '..'), readlinkSync(path)) === entry;
  if (!st.isFile() || st.size > 4096) return false;
  return readFileSync(path, 'utf8').includes(MARKER);
}

/** The launcher passes its plugin name: the runtime exec'd CNI_PATH/<name>, and that name picks the plugin. */
export function launcherScript(node: string, entry: string, name: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh\n${MARKER} (written by "cni-wasm install"; safe to replace)\nexec ${q(node)} ${q(entry)} ${q(`${PLUGIN_ARG}${name}`)} "$@"\n`;
}

export function install(opts: InstallOptions): InstallAction[] {
  for (const p of opts.plugins) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(p)) throw new Error(`invalid plugin name "${p}"`);
  }
  mkdirSync(opts.dir, { recursive: true });
  const actions: InstallAction[] = [];
  for (const name of opts.plugins) {
    const path = join(opts.dir, name);
    const exists = existsSync(path) || isDanglingLink(path);
    if (exists && !isOurs(path, opts.entry) && !opts.force) {
      throw new Error(`${path} exists and is not cni-wasm; pass --force to replace it`);
    }
    const tmp = `${path}.cni-wasm-tmp`;
    if (existsSync(tmp) || isDanglingLink(tmp)) unlinkSync(tmp);
    if (opts.mode === 'symlink') {
      if (exists && lstatSync(path).isSymbolicLink() && isOurs(path, opts.entry)) {
        actions.push({ name, path, action: 'unchanged' });
        continue;
      }
      symlinkSync(opts.entry, tmp);
    } else {
      const script = launcherScript(opts.node, opts.entry, name);
      if (exists && lstatSync(path).isFile() && readFileSync(path, 'utf8') === script) {
        actions.push({ name, path, action: 'unchanged' });
        continue;
      }
      writeFileSync(tmp, script);
      chmodSync(tmp, 0o755);
    }
    // Rename over the old file: a runtime exec'ing it concurrently sees old or new, never neither.
    renameSync(tmp, path);
    actions.push({ name, path, action: exists ? 'replaced' : 'created' });
  }
  return actions;
}

function isDanglingLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
