// Network configuration files, read and found the way libcni does (libcni/conf.go):
// `.conflist` files first, in byte order of their paths, the first whose `name` matches;
// then (deprecated) `.conf`/`.json` single-plugin files, wrapped into a one-plugin list.
// A file that cannot be parsed before the match stops the search with an error, as in libcni.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CniError, ErrorCode } from '../errors.ts';
import { CURRENT_VERSION } from '../version.ts';
import { goMarshal, isObject } from './gojson.ts';
import { cmpVersion } from './semver.ts';

/** The fields libcni reads from one plugin's config; `raw` is the whole parsed object. */
export interface PluginConf {
  type: string;
  name: string;
  cniVersion: string;
  capabilities: Record<string, boolean>;
  raw: Record<string, unknown>;
}

export interface PluginConfig {
  network: PluginConf;
  /** The config bytes handed to the plugin (before injection). */
  bytes: Buffer;
}

export interface NetworkConfigList {
  name: string;
  cniVersion: string;
  disableCheck: boolean;
  disableGC: boolean;
  loadOnlyInlinedPlugins: boolean;
  plugins: PluginConfig[];
  /** The list's own bytes: the file as read (what the result cache stores as `config`). */
  bytes: Buffer;
}

function invalid(msg: string, details = ''): CniError {
  return new CniError(ErrorCode.InvalidConfig, msg, details);
}

function parseJson(bytes: Buffer | string, what: string): unknown {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (e) {
    throw new CniError(ErrorCode.DecodeFailure, `error parsing ${what}: ${(e as Error).message}`);
  }
}

function optString(obj: Record<string, unknown>, key: string, what: string): string {
  const v = obj[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw invalid(`error parsing ${what}: invalid ${key} type ${typeof v}`);
  return v;
}

/** One plugin's config from its bytes (libcni NetworkPluginConfFromBytes). */
export function pluginConfFromBytes(bytes: Buffer): PluginConfig {
  const raw = parseJson(bytes, 'configuration');
  if (!isObject(raw)) throw new CniError(ErrorCode.DecodeFailure, 'error parsing configuration: not a JSON object');
  const what = 'configuration';
  const caps: Record<string, boolean> = {};
  const rawCaps = raw.capabilities;
  if (rawCaps !== undefined && rawCaps !== null) {
    if (!isObject(rawCaps)) throw invalid(`error parsing ${what}: invalid capabilities type`);
    for (const [k, v] of Object.entries(rawCaps)) {
      if (typeof v !== 'boolean') throw invalid(`error parsing ${what}: capability "${k}" must be a boolean`);
      caps[k] = v;
    }
  }
  const type = optString(raw, 'type', what);
  if (type === '') throw invalid(`error parsing ${what}: missing 'type'`);
  return {
    network: { type, name: optString(raw, 'name', what), cniVersion: optString(raw, 'cniVersion', what), capabilities: caps, raw },
    bytes,
  };
}

function readBool(raw: Record<string, unknown>, key: string): boolean {
  const v = raw[key];
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string') throw invalid(`error parsing configuration list: invalid type ${v === null ? 'null' : typeof v} for ${key}`);
  const s = v.toLowerCase();
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw invalid(`error parsing configuration list: invalid value "${s}" for ${key}`);
}

/**
 * The version a list runs at: with `cniVersions`, the highest entry (or `cniVersion`) that is
 * not above the spec version this implementation speaks; otherwise `cniVersion` as written.
 */
export function selectListVersion(cniVersion: string, cniVersions: unknown): string {
  if (cniVersions === undefined) return cniVersion;
  if (!Array.isArray(cniVersions)) throw invalid(`error parsing configuration list: invalid type for cniVersions: ${typeof cniVersions}`);
  const usable: string[] = [];
  const consider = (v: string, where: string): void => {
    let above: boolean;
    try {
      above = cmpVersion(v, CURRENT_VERSION) > 0;
    } catch (e) {
      throw invalid(`error parsing configuration list: invalid ${where}: ${(e as Error).message}`);
    }
    if (!above) usable.push(v);
  };
  cniVersions.forEach((v, i) => {
    if (typeof v !== 'string') throw invalid(`error parsing configuration list: invalid type for cniVersions index ${i}: ${typeof v}`);
    consider(v, `cniVersions entry ${v} at index ${i}`);
  });
  if (cniVersion !== '') consider(cniVersion, `cniVersion ${cniVersion}`);
  if (usable.length === 0) return cniVersion;
  return usable.reduce((best, v) => (cmpVersion(v, best) > 0 ? v : best));
}

/** A network configuration list from bytes (libcni NetworkConfFromBytes); plugins may be empty. */
export function confListFromBytes(bytes: Buffer): NetworkConfigList {
  const raw = parseJson(bytes, 'configuration list');
  if (!isObject(raw)) throw new CniError(ErrorCode.DecodeFailure, 'error parsing configuration list: not a JSON object');
  if (!('name' in raw)) throw invalid('error parsing configuration list: no name');
  if (typeof raw.name !== 'string') throw invalid(`error parsing configuration list: invalid name type ${typeof raw.name}`);
  let cniVersion = '';
  if ('cniVersion' in raw) {
    if (typeof raw.cniVersion !== 'string') throw invalid(`error parsing configuration list: invalid cniVersion type ${typeof raw.cniVersion}`);
    cniVersion = raw.cniVersion;
  }
  const list: NetworkConfigList = {
    name: raw.name,
    cniVersion: selectListVersion(cniVersion, raw.cniVersions),
    disableCheck: readBool(raw, 'disableCheck'),
    disableGC: readBool(raw, 'disableGC'),
    loadOnlyInlinedPlugins: readBool(raw, 'loadOnlyInlinedPlugins'),
    plugins: [],
    bytes,
  };
  if (!('plugins' in raw)) {
    if (list.loadOnlyInlinedPlugins) throw invalid("error parsing configuration list: `loadOnlyInlinedPlugins` is true, and no 'plugins' key");
    return list;
  }
  if (!Array.isArray(raw.plugins)) throw invalid(`error parsing configuration list: invalid 'plugins' type ${typeof raw.plugins}`);
  if (raw.plugins.length === 0) throw invalid('error parsing configuration list: no plugins in list');
  raw.plugins.forEach((p, i) => {
    try {
      list.plugins.push(pluginConfFromBytes(Buffer.from(goMarshal(p))));
    } catch (e) {
      const ce = e instanceof CniError ? e : invalid(String(e));
      throw new CniError(ce.code, `failed to parse plugin config ${i}: ${ce.message}`, ce.details);
    }
  });
  return list;
}

/** Go's filepath.Ext: from the last dot of the last path element, dot included. */
function goExt(name: string): string {
  const i = name.lastIndexOf('.');
  return i < 0 || name.indexOf('/', i) >= 0 ? '' : name.slice(i);
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Files (not directories) in dir whose extension is one of exts, sorted; none if dir is missing. */
export function confFiles(dir: string, exts: readonly string[]): string[] {
  let ents;
  try {
    ents = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CniError(ErrorCode.IoFailure, `failed to read network config directory ${dir}: ${(e as Error).message}`);
  }
  return ents
    .filter((d) => !d.isDirectory() && exts.includes(goExt(d.name)))
    .map((d) => join(dir, d.name))
    .sort(byteCompare);
}

function readConfFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new CniError(ErrorCode.IoFailure, `error reading ${file}: ${(e as Error).message}`);
  }
}

/** Plugin configs kept beside a list, in `<dir>/<network name>/*.conf` (libcni NetworkPluginConfsFromFiles). */
export function pluginConfsFromDir(confDir: string, networkName: string): PluginConfig[] {
  const dir = join(confDir, networkName);
  return confFiles(dir, ['.conf']).map((f) => {
    try {
      return pluginConfFromBytes(readConfFile(f));
    } catch (e) {
      const ce = e instanceof CniError ? e : invalid(String(e));
      throw new CniError(ce.code, `${f}: ${ce.message}`, ce.details);
    }
  });
}

/** A `.conflist` file, with plugins from its network's subdirectory unless loadOnlyInlinedPlugins. */
export function confListFromFile(file: string): NetworkConfigList {
  let list: NetworkConfigList;
  try {
    list = confListFromBytes(readConfFile(file));
  } catch (e) {
    const ce = e instanceof CniError ? e : invalid(String(e));
    throw new CniError(ce.code, `${file}: ${ce.message}`, ce.details);
  }
  if (!list.loadOnlyInlinedPlugins) {
    const dir = file.slice(0, Math.max(0, file.lastIndexOf('/'))) || '.';
    list.plugins.push(...pluginConfsFromDir(dir, list.name));
  }
  if (list.plugins.length === 0) throw invalid(`${file}: no plugin configs found`);
  return list;
}

/** Wrap a single plugin config into a one-plugin list (libcni ConfListFromConf). */
export function confListFromConf(conf: PluginConfig): NetworkConfigList {
  const raw = { name: conf.network.name, cniVersion: conf.network.cniVersion, plugins: [conf.network.raw] };
  return confListFromBytes(Buffer.from(goMarshal(raw)));
}

export class NotFoundError extends CniError {
  constructor(dir: string, name: string) {
    super(ErrorCode.InvalidConfig, `no net configuration with name "${name}" in ${dir}`);
  }
}

export class NoConfigsFoundError extends CniError {
  constructor(dir: string) {
    super(ErrorCode.InvalidConfig, `no net configurations found in ${dir}`);
  }
}

/** The first `.conf`/`.json` single-plugin config named `name` (libcni LoadConf, deprecated format). */
export function loadConf(dir: string, name: string): PluginConfig {
  const files = confFiles(dir, ['.conf', '.json']);
  if (files.length === 0) throw new NoConfigsFoundError(dir);
  for (const f of files) {
    let conf: PluginConfig;
    try {
      conf = pluginConfFromBytes(readConfFile(f));
    } catch (e) {
      const ce = e instanceof CniError ? e : invalid(String(e));
      throw new CniError(ce.code, `${f}: ${ce.message}`, ce.details);
    }
    if (conf.network.name === name) return conf;
  }
  throw new NotFoundError(dir, name);
}

/** Find the network named `name` in dir (libcni LoadNetworkConf, what cnitool uses). */
export function loadNetworkConf(dir: string, name: string): NetworkConfigList {
  const lists = confFiles(dir, ['.conflist']);
  for (const f of lists) {
    const list = confListFromFile(f);
    if (list.name === name) return list;
  }
  let single: PluginConfig;
  try {
    single = loadConf(dir, name);
  } catch (e) {
    if (e instanceof NoConfigsFoundError && lists.length > 0) throw new NotFoundError(dir, name);
    throw e;
  }
  return confListFromConf(single);
}

/** The plugin config with keys set (libcni InjectConf): re-marshalled as Go would. */
export function injectConf(orig: PluginConfig, values: Record<string, unknown>): PluginConfig {
  const raw = parseJson(orig.bytes, 'existing network bytes');
  if (!isObject(raw)) throw new CniError(ErrorCode.DecodeFailure, 'unmarshal existing network bytes: not a JSON object');
  for (const [k, v] of Object.entries(values)) {
    if (k === '') throw invalid('keys cannot be empty');
    if (v === null || v === undefined) throw invalid(`key '${k}' value must not be nil`);
    raw[k] = v;
  }
  return pluginConfFromBytes(Buffer.from(goMarshal(raw)));
}
