// The CNI errors the wasm runtime answers with. The spec reserves codes below 100 for
// well-known errors and leaves 100+ to plugins; cni-wasm is the plugin the runtime sees, so
// its runtime faults take the first plugin-specific codes. They are not 999 ("internal
// error", which in this code base means a bug in cni-wasm): a refused or misbehaving plugin
// is the plugin's fault, and a distinct code lets an operator tell the cases apart.
// Every message names the plugin; `details` names its file.
import { CniError } from '../cni/errors.ts';

export const RuntimeErrorCode = {
  /** The .wasm file is not a plugin of this world, or breaks a load-time limit: refused before it ran. */
  PluginRefused: 100,
  /** The plugin trapped (unreachable, out-of-bounds access, stack overflow, an ABI violation...). */
  PluginTrap: 101,
  /** The plugin ran past its wall-clock budget and was stopped. */
  PluginTimeout: 102,
  /** The plugin exceeded a size limit (result, log, bytes passed to a host call). */
  PluginLimit: 103,
  /** The plugin's answer is not what the protocol requires (ADD result not a JSON object...). */
  PluginBadResult: 104,
} as const;

export interface PluginIdent {
  type: string;
  path: string;
}

export function pluginError(code: number, plugin: PluginIdent, msg: string, details = ''): CniError {
  const where = `plugin file: ${plugin.path}`;
  return new CniError(code, `plugin "${plugin.type}": ${msg}`, details ? `${details}; ${where}` : where);
}

export function refused(plugin: PluginIdent, msg: string, details = ''): CniError {
  return pluginError(RuntimeErrorCode.PluginRefused, plugin, `refused: ${msg}`, details);
}
