// ADD/CHECK/DEL/GC/STATUS of a network configuration list, as libcni's CNIConfig runs them:
// plugins in order (DEL in reverse), each given the list's name and cniVersion, the previous
// result as prevResult, and runtimeConfig holding only the capability args it declares.
import { CniError, ErrorCode } from '../errors.ts';
import type { ResultCache, RuntimeConf } from './cache.ts';
import { injectConf, type NetworkConfigList, type PluginConf, type PluginConfig } from './conf.ts';
import { argsAsEnv, type PluginExec } from './invoke.ts';
import { resultAsVersion, resultFromCache, resultFromPluginOutput, resultToObject, type AnyResult } from './results.ts';
import { versionGte, versionGteOrFalse } from './semver.ts';

export interface Invoker {
  /** Plugin directories (CNI_PATH). */
  path: string[];
  exec: PluginExec;
  cache: ResultCache;
}

/** A still-valid attachment for GC. */
export interface GCAttachment {
  containerID: string;
  ifname: string;
}

export interface GCArgs {
  validAttachments: GCAttachment[];
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function validateContainerId(id: string): void {
  if (id === '') throw new CniError(ErrorCode.UnknownContainer, 'missing containerID');
  if (!NAME_RE.test(id)) throw new CniError(ErrorCode.InvalidEnv, 'invalid characters in containerID', id);
}

export function validateNetworkName(name: string): void {
  if (name === '') throw new CniError(ErrorCode.InvalidConfig, 'missing network name:');
  if (!NAME_RE.test(name)) throw new CniError(ErrorCode.InvalidConfig, 'invalid characters found in network name', name);
}

export function validateInterfaceName(ifName: string): void {
  if (ifName.length === 0) throw new CniError(ErrorCode.InvalidEnv, 'interface name is empty');
  if (Buffer.byteLength(ifName) > 15) throw new CniError(ErrorCode.InvalidEnv, 'interface name is too long', 'interface name should be less than 16 characters');
  if (ifName === '.' || ifName === '..') throw new CniError(ErrorCode.InvalidEnv, 'interface name is . or ..');
  if (/[/:\s]/u.test(ifName)) throw new CniError(ErrorCode.InvalidEnv, 'interface name contains / or : or whitespace characters');
}

/** `type="bridge" name="x"`, how libcni names a plugin in its errors. */
export function pluginDescription(net: PluginConf): string {
  return `type=${JSON.stringify(net.type)}${net.name ? ` name=${JSON.stringify(net.name)}` : ''}`;
}

/** The same error with context in front of its message; code and details kept. */
function wrap(e: unknown, prefix: string): CniError {
  if (e instanceof CniError) {
    const w = new CniError(e.code, `${prefix}${e.message}`, e.details);
    return w;
  }
  return new CniError(ErrorCode.Internal, `${prefix}${e instanceof Error ? e.message : String(e)}`);
}

/**
 * The config one plugin gets (libcni buildOneConfig): the list's name and cniVersion, prevResult
 * when there is one, and runtimeConfig with the capability args the plugin declares (only when
 * at least one applies; otherwise the plugin's own runtimeConfig, if any, is left alone).
 */
export function buildOneConfig(name: string, cniVersion: string, orig: PluginConfig, prevResult: AnyResult | undefined, rt: RuntimeConf | undefined): PluginConfig {
  const inject: Record<string, unknown> = { name, cniVersion };
  if (prevResult !== undefined) inject.prevResult = resultToObject(prevResult);
  let conf = injectConf(orig, inject);
  if (rt) {
    const rc: Record<string, unknown> = {};
    const capArgs = rt.capabilityArgs ?? {};
    for (const [capability, supported] of Object.entries(conf.network.capabilities)) {
      if (!supported) continue;
      if (Object.prototype.hasOwnProperty.call(capArgs, capability)) rc[capability] = capArgs[capability];
    }
    if (Object.keys(rc).length > 0) conf = injectConf(conf, { runtimeConfig: rc });
  }
  return conf;
}

function invokeArgs(inv: Invoker, command: string, rt: RuntimeConf | undefined): NodeJS.ProcessEnv {
  return argsAsEnv({
    command,
    containerId: rt?.containerId ?? '',
    netns: rt?.netns ?? '',
    pluginArgs: rt?.args ?? [],
    ifName: rt?.ifName ?? '',
    path: inv.path,
  });
}

async function addNetwork(inv: Invoker, list: NetworkConfigList, net: PluginConfig, prevResult: AnyResult | undefined, rt: RuntimeConf): Promise<AnyResult> {
  const pluginPath = inv.exec.findInPath(net.network.type, inv.path);
  validateContainerId(rt.containerId);
  validateNetworkName(list.name);
  validateInterfaceName(rt.ifName);
  const conf = buildOneConfig(list.name, list.cniVersion, net, prevResult, rt);
  const out = await inv.exec.execPlugin(pluginPath, conf.bytes, invokeArgs(inv, 'ADD', rt));
  return resultFromPluginOutput(conf.network.cniVersion, out);
}

/** Run ADD through every plugin, each getting the previous result; cache and return the last result. */
export async function addNetworkList(inv: Invoker, list: NetworkConfigList, rt: RuntimeConf): Promise<AnyResult | undefined> {
  let result: AnyResult | undefined;
  for (const net of list.plugins) {
    try {
      result = await addNetwork(inv, list, net, result, rt);
    } catch (e) {
      throw wrap(e, `plugin ${pluginDescription(net.network)} failed (add): `);
    }
  }
  try {
    inv.cache.add(result && resultToObject(result), list.bytes, list.name, rt);
  } catch (e) {
    throw wrap(e, `failed to set network ${JSON.stringify(list.name)} cached result: `);
  }
  return result;
}

/** The cached ADD result in the list's version, or undefined when none is cached. */
export function getCachedResult(inv: Invoker, list: NetworkConfigList, rt: RuntimeConf): AnyResult | undefined {
  const raw = inv.cache.getResult(list.name, rt);
  if (raw === undefined) return undefined;
  const cached = resultFromCache(raw);
  try {
    return resultAsVersion(cached, list.cniVersion);
  } catch (e) {
    throw wrap(e, `failed to convert cached result to config version ${JSON.stringify(list.cniVersion)}: `);
  }
}

/** CHECK every plugin against the cached result (spec >= 0.4.0; a no-op with disableCheck). */
export async function checkNetworkList(inv: Invoker, list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
  if (!versionGte(list.cniVersion, '0.4.0')) {
    throw new CniError(ErrorCode.IncompatibleVersion, `configuration version ${JSON.stringify(list.cniVersion)} does not support the CHECK command`);
  }
  if (list.disableCheck) return;
  let cached: AnyResult | undefined;
  try {
    cached = getCachedResult(inv, list, rt);
  } catch (e) {
    throw wrap(e, `failed to get network ${JSON.stringify(list.name)} cached result: `);
  }
  for (const net of list.plugins) {
    const pluginPath = inv.exec.findInPath(net.network.type, inv.path);
    const conf = buildOneConfig(list.name, list.cniVersion, net, cached, rt);
    await inv.exec.execPlugin(pluginPath, conf.bytes, invokeArgs(inv, 'CHECK', rt));
  }
}

/** DEL through the plugins in reverse order, with the cached result as prevResult; then drop the cache entry. */
export async function delNetworkList(inv: Invoker, list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
  let cached: AnyResult | undefined;
  // The cached result is given on DEL from spec 0.4.0 on; an unreadable entry is dropped.
  if (versionGte(list.cniVersion, '0.4.0')) {
    try {
      cached = getCachedResult(inv, list, rt);
    } catch {
      inv.cache.del(list.name, rt);
      cached = undefined;
    }
  }
  for (let i = list.plugins.length - 1; i >= 0; i--) {
    const net = list.plugins[i]!;
    try {
      const pluginPath = inv.exec.findInPath(net.network.type, inv.path);
      const conf = buildOneConfig(list.name, list.cniVersion, net, cached, rt);
      await inv.exec.execPlugin(pluginPath, conf.bytes, invokeArgs(inv, 'DEL', rt));
    } catch (e) {
      throw wrap(e, `plugin ${pluginDescription(net.network)} failed (delete): `);
    }
  }
  inv.cache.del(list.name, rt);
}

/**
 * GC (libcni GCNetworkList): DEL every cached attachment of this network that is not in the
 * valid list (with no args, every one), then, for lists of spec >= 1.1.0, send GC with
 * `cni.dev/valid-attachments` to every plugin. Errors are collected, not stopped at.
 */
export async function gcNetworkList(inv: Invoker, list: NetworkConfigList, args: GCArgs | undefined): Promise<void> {
  if (list.disableGC) return;
  let cached;
  try {
    cached = inv.cache.attachments('');
  } catch {
    // libcni gives up silently when it cannot list its cache.
    return;
  }
  const valid = new Set((args?.validAttachments ?? []).map((a) => `${a.containerID}\u0000${a.ifname}`));
  const errs: CniError[] = [];
  for (const att of cached) {
    if (att.network !== list.name) continue;
    if (valid.has(`${att.containerId}\u0000${att.ifName}`)) continue;
    const rt: RuntimeConf = {
      containerId: att.containerId,
      netns: att.netns,
      ifName: att.ifName,
      args: att.cniArgs ?? [],
      capabilityArgs: att.capabilityArgs,
    };
    try {
      await delNetworkList(inv, list, rt);
    } catch (e) {
      errs.push(wrap(e, `failed to delete stale attachment ${rt.containerId} ${rt.ifName}: `));
    }
  }
  if (versionGteOrFalse(list.cniVersion, '1.1.0')) {
    const inject: Record<string, unknown> = { name: list.name, cniVersion: list.cniVersion };
    if (args) {
      const atts = args.validAttachments.map((a) => ({ containerID: a.containerID, ifname: a.ifname }));
      inject['cni.dev/valid-attachments'] = atts;
      // The 1.1.0 spec text named the key this way (libcni #1101); send both.
      inject['cni.dev/attachments'] = atts;
    }
    for (const plugin of list.plugins) {
      try {
        const conf = injectConf(plugin, inject);
        const pluginPath = inv.exec.findInPath(plugin.network.type, inv.path);
        await inv.exec.execPlugin(pluginPath, conf.bytes, invokeArgs(inv, 'GC', undefined));
      } catch (e) {
        errs.push(wrap(e, `failed to GC plugin ${plugin.network.type}: `));
      }
    }
  }
  if (errs.length === 1) throw errs[0]!;
  if (errs.length > 1) {
    const first = errs[0]!;
    throw new CniError(first.code, errs.map((e) => e.message).join('\n'), errs.map((e) => e.details).filter(Boolean).join('\n'));
  }
}

/** STATUS of every plugin, stopping at the first error (spec >= 1.1.0; older lists are simply ready). */
export async function statusNetworkList(inv: Invoker, list: NetworkConfigList): Promise<void> {
  if (!versionGteOrFalse(list.cniVersion, '1.1.0')) return;
  const inject = { name: list.name, cniVersion: list.cniVersion };
  for (const plugin of list.plugins) {
    let conf: PluginConfig;
    try {
      conf = injectConf(plugin, inject);
    } catch (e) {
      throw wrap(e, `failed to generate configuration to get plugin STATUS ${plugin.network.type}: `);
    }
    const pluginPath = inv.exec.findInPath(conf.network.type, inv.path);
    await inv.exec.execPlugin(pluginPath, conf.bytes, invokeArgs(inv, 'STATUS', undefined));
  }
}
