// The runtime side of CNI, what libcni gives a container runtime: load a network config
// list, run ADD/CHECK/DEL/GC/STATUS through its plugins, keep the result cache.
//
//   const cni = new CniConfig({ path: ['/opt/cni/bin'] });
//   const list = loadNetworkConf('/etc/cni/net.d', 'mynet');
//   const result = await cni.addNetworkList(list, { containerId, netns, ifName: 'eth0', args: [] });
import { CniError, ErrorCode } from '../errors.ts';
import { CURRENT_VERSION } from '../version.ts';
import { DEFAULT_CACHE_DIR, ResultCache, type NetworkAttachment, type RuntimeConf } from './cache.ts';
import type { NetworkConfigList } from './conf.ts';
import { RawExec, getVersionInfo, type PluginExec } from './invoke.ts';
import {
  addNetworkList,
  checkNetworkList,
  delNetworkList,
  gcNetworkList,
  getCachedResult,
  statusNetworkList,
  type GCArgs,
  type Invoker,
} from './netlist.ts';
import type { AnyResult } from './results.ts';

export type { NetworkAttachment, RuntimeConf } from './cache.ts';
export { CNI_CACHE_V1, DEFAULT_CACHE_DIR, ResultCache } from './cache.ts';
export {
  confFiles,
  confListFromBytes,
  confListFromConf,
  confListFromFile,
  injectConf,
  loadConf,
  loadNetworkConf,
  pluginConfFromBytes,
  NoConfigsFoundError,
  NotFoundError,
  type NetworkConfigList,
  type PluginConf,
  type PluginConfig,
} from './conf.ts';
export { RawExec, findInPath, type PluginExec } from './invoke.ts';
export { buildOneConfig, type GCArgs, type GCAttachment } from './netlist.ts';
export { printResult, type AnyResult } from './results.ts';

export interface VersionInfo {
  cniVersion: string;
  supportedVersions: string[];
}

/** What a runtime calls (libcni's CNI interface, network-list part). */
export interface Cni {
  addNetworkList(list: NetworkConfigList, rt: RuntimeConf): Promise<AnyResult | undefined>;
  checkNetworkList(list: NetworkConfigList, rt: RuntimeConf): Promise<void>;
  delNetworkList(list: NetworkConfigList, rt: RuntimeConf): Promise<void>;
  gcNetworkList(list: NetworkConfigList, args?: GCArgs): Promise<void>;
  getStatusNetworkList(list: NetworkConfigList): Promise<void>;
  getNetworkListCachedResult(list: NetworkConfigList, rt: RuntimeConf): AnyResult | undefined;
  getNetworkListCachedConfig(list: NetworkConfigList, rt: RuntimeConf): { config: Buffer; rt: RuntimeConf } | undefined;
  getCachedAttachments(containerId?: string): NetworkAttachment[];
  getVersionInfo(pluginType: string): Promise<VersionInfo>;
  /** Every plugin exists and supports the list's version; returns the capabilities the list declares. */
  validateNetworkList(list: NetworkConfigList): Promise<string[]>;
}

export interface CniConfigOptions {
  /** Plugin directories, searched in order (CNI_PATH). */
  path: string[];
  /** Result cache directory; default: env CNI_CACHE_DIR, else /var/lib/cni. */
  cacheDir?: string;
  /** How plugins are found and run; default: real binaries, their stderr copied to ours. */
  exec?: PluginExec;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CNI_CACHE_DIR || DEFAULT_CACHE_DIR;
}

export class CniConfig implements Cni {
  readonly path: string[];
  readonly cacheDir: string;
  private readonly inv: Invoker;

  constructor(opts: CniConfigOptions) {
    this.path = [...opts.path];
    this.cacheDir = opts.cacheDir || defaultCacheDir();
    this.inv = { path: this.path, exec: opts.exec ?? new RawExec(), cache: new ResultCache(this.cacheDir) };
  }

  addNetworkList(list: NetworkConfigList, rt: RuntimeConf): Promise<AnyResult | undefined> {
    return addNetworkList(this.inv, list, rt);
  }

  checkNetworkList(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    return checkNetworkList(this.inv, list, rt);
  }

  delNetworkList(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    return delNetworkList(this.inv, list, rt);
  }

  gcNetworkList(list: NetworkConfigList, args?: GCArgs): Promise<void> {
    return gcNetworkList(this.inv, list, args);
  }

  getStatusNetworkList(list: NetworkConfigList): Promise<void> {
    return statusNetworkList(this.inv, list);
  }

  getNetworkListCachedResult(list: NetworkConfigList, rt: RuntimeConf): AnyResult | undefined {
    return getCachedResult(this.inv, list, rt);
  }

  getNetworkListCachedConfig(list: NetworkConfigList, rt: RuntimeConf): { config: Buffer; rt: RuntimeConf } | undefined {
    return this.inv.cache.getConfig(list.name, rt);
  }

  getCachedAttachments(containerId = ''): NetworkAttachment[] {
    return this.inv.cache.attachments(containerId);
  }

  async getVersionInfo(pluginType: string): Promise<VersionInfo> {
    const pluginPath = this.inv.exec.findInPath(pluginType, this.path);
    return getVersionInfo(this.inv.exec, pluginPath, CURRENT_VERSION);
  }

  async validateNetworkList(list: NetworkConfigList): Promise<string[]> {
    const want = list.cniVersion === '' ? '0.1.0' : list.cniVersion;
    const caps = new Set<string>();
    const errs: string[] = [];
    for (const p of list.plugins) {
      try {
        const info = await this.getVersionInfo(p.network.type);
        if (!info.supportedVersions.includes(want)) errs.push(`plugin ${p.network.type} does not support config version ${JSON.stringify(want)}`);
      } catch (e) {
        errs.push(e instanceof Error ? e.message : String(e));
      }
      for (const [c, on] of Object.entries(p.network.capabilities)) if (on) caps.add(c);
    }
    if (errs.length > 0) throw new CniError(ErrorCode.IncompatibleVersion, errs.join('; '));
    return [...caps];
  }
}
