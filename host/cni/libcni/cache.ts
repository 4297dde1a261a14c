// The result cache, in libcni's own format, so a node can move between a Go runtime and
// cni-wasm: `<cacheDir>/results/<network>-<containerID>-<ifname>`, directory 0700, file 0600,
// JSON {kind: "cniCacheV1", containerId, config (base64 of the list's bytes), ifName,
// networkName, netns?, cniArgs?, capabilityArgs?, result?}, written as Go marshals it.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CniError, ErrorCode } from '../errors.ts';
import { goMarshal, isObject } from './gojson.ts';

export const CNI_CACHE_V1 = 'cniCacheV1';
export const DEFAULT_CACHE_DIR = '/var/lib/cni';

/** The arguments of one invocation, besides the network config (libcni RuntimeConf). */
export interface RuntimeConf {
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS as ordered pairs. */
  args: [string, string][];
  /** Capability arguments (CAP_ARGS); a plugin gets only the keys it declares in `capabilities`. */
  capabilityArgs?: Record<string, unknown> | undefined;
}

/** One cached ADD, as listed for GC (libcni NetworkAttachment). */
export interface NetworkAttachment {
  containerId: string;
  network: string;
  ifName: string;
  config: Buffer;
  netns: string;
  cniArgs: [string, string][] | undefined;
  capabilityArgs: Record<string, unknown> | undefined;
}

export interface CachedInfo extends NetworkAttachment {
  kind: string;
  result: Record<string, unknown> | undefined;
}

/** Serialize a cache entry byte for byte as libcni's json.Marshal(cachedInfo) does. */
export function encodeCachedInfo(e: {
  containerId: string;
  config: Buffer;
  ifName: string;
  networkName: string;
  netns: string;
  cniArgs: [string, string][] | undefined;
  capabilityArgs: Record<string, unknown> | undefined;
  result: Record<string, unknown> | undefined;
}): string {
  // Struct field order, then omitempty for netns, cniArgs, capabilityArgs and result.
  const parts = [
    `"kind":${goMarshal(CNI_CACHE_V1)}`,
    `"containerId":${goMarshal(e.containerId)}`,
    `"config":${goMarshal(e.config.toString('base64'))}`,
    `"ifName":${goMarshal(e.ifName)}`,
    `"networkName":${goMarshal(e.networkName)}`,
  ];
  if (e.netns !== '') parts.push(`"netns":${goMarshal(e.netns)}`);
  if (e.cniArgs && e.cniArgs.length > 0) parts.push(`"cniArgs":${goMarshal(e.cniArgs)}`);
  if (e.capabilityArgs && Object.keys(e.capabilityArgs).length > 0) parts.push(`"capabilityArgs":${goMarshal(e.capabilityArgs)}`);
  if (e.result && Object.keys(e.result).length > 0) parts.push(`"result":${goMarshal(e.result)}`);
  return `{${parts.join(',')}}`;
}

function strField(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Error(`field ${k} is not a string`);
  return v;
}

/** Decode a cache file's JSON; throws (plain Error) when it is not a cache entry Go could decode. */
export function decodeCachedInfo(text: string): CachedInfo {
  const o: unknown = JSON.parse(text);
  if (!isObject(o)) throw new Error('not a JSON object');
  const config = strField(o, 'config');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(config) || config.length % 4 !== 0) throw new Error('config is not base64');
  let cniArgs: [string, string][] | undefined;
  if (o.cniArgs !== undefined && o.cniArgs !== null) {
    if (!Array.isArray(o.cniArgs)) throw new Error('cniArgs is not an array');
    cniArgs = o.cniArgs.map((p) => {
      if (!Array.isArray(p) || !p.every((x) => typeof x === 'string')) throw new Error('cniArgs entry is not a string pair');
      return [String(p[0] ?? ''), String(p[1] ?? '')];
    });
  }
  const cap = o.capabilityArgs;
  if (cap !== undefined && cap !== null && !isObject(cap)) throw new Error('capabilityArgs is not an object');
  const res = o.result;
  if (res !== undefined && res !== null && !isObject(res)) throw new Error('result is not an object');
  return {
    kind: strField(o, 'kind'),
    containerId: strField(o, 'containerId'),
    config: Buffer.from(config, 'base64'),
    ifName: strField(o, 'ifName'),
    network: strField(o, 'networkName'),
    netns: strField(o, 'netns'),
    cniArgs,
    capabilityArgs: isObject(cap) ? cap : undefined,
    result: isObject(res) ? res : undefined,
  };
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export class ResultCache {
  constructor(readonly dir: string = DEFAULT_CACHE_DIR) {}

  get resultsDir(): string {
    return join(this.dir, 'results');
  }

  filePath(netName: string, rt: Pick<RuntimeConf, 'containerId' | 'ifName'>): string {
    if (netName === '' || rt.containerId === '' || rt.ifName === '') {
      throw new CniError(
        ErrorCode.InvalidConfig,
        `cache file path requires network name (${JSON.stringify(netName)}), container ID (${JSON.stringify(rt.containerId)}), and interface name (${JSON.stringify(rt.ifName)})`,
      );
    }
    // ADD validates these names; DEL and CHECK do not (in libcni either), so a name that would
    // leave results/ (a "/" in it) is refused here rather than joined into a path.
    for (const [what, v] of [['network name', netName], ['container ID', rt.containerId], ['interface name', rt.ifName]] as const) {
      if (v.includes('/') || v.includes('\0')) throw new CniError(ErrorCode.InvalidEnv, `invalid ${what} for the result cache: ${JSON.stringify(v)}`);
    }
    return join(this.resultsDir, `${netName}-${rt.containerId}-${rt.ifName}`);
  }

  /** Store the result of an ADD. The file is replaced whole, never left half written. */
  add(result: Record<string, unknown> | undefined, config: Buffer, netName: string, rt: RuntimeConf): void {
    const file = this.filePath(netName, rt);
    const text = encodeCachedInfo({
      containerId: rt.containerId,
      config,
      ifName: rt.ifName,
      networkName: netName,
      netns: rt.netns,
      cniArgs: rt.args,
      capabilityArgs: rt.capabilityArgs,
      result,
    });
    mkdirSync(this.resultsDir, { recursive: true, mode: 0o700 });
    // The temporary file lives beside results/, not in it: a reader listing results/ (GC)
    // must never see it.
    const tmp = join(this.dir, `.cni-wasm-${randomBytes(6).toString('hex')}.tmp`);
    try {
      writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
      renameSync(tmp, file);
    } catch {
      rmSync(tmp, { force: true });
      writeFileSync(file, text, { mode: 0o600 });
    }
  }

  /** Remove an entry; a missing file or unusable key is not an error. */
  del(netName: string, rt: Pick<RuntimeConf, 'containerId' | 'ifName'>): void {
    let file: string;
    try {
      file = this.filePath(netName, rt);
    } catch {
      return;
    }
    try {
      unlinkSync(file);
    } catch {
      /* already gone */
    }
  }

  /** The raw bytes of an entry, or undefined when there is none. */
  private read(netName: string, rt: Pick<RuntimeConf, 'containerId' | 'ifName'>): string | undefined {
    const file = this.filePath(netName, rt);
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** The cached config bytes and the runtime conf updated from the entry (libcni getCachedConfig). */
  getConfig(netName: string, rt: RuntimeConf): { config: Buffer; rt: RuntimeConf } | undefined {
    const text = this.read(netName, rt);
    if (text === undefined) return undefined;
    let info: CachedInfo;
    try {
      info = decodeCachedInfo(text);
    } catch (e) {
      throw new CniError(ErrorCode.DecodeFailure, `failed to unmarshal cached network "${netName}" config: ${(e as Error).message}`);
    }
    if (info.kind !== CNI_CACHE_V1) throw new CniError(ErrorCode.DecodeFailure, `read cached network "${netName}" config has wrong kind: ${info.kind}`);
    return { config: info.config, rt: { ...rt, args: info.cniArgs ?? rt.args, capabilityArgs: info.capabilityArgs } };
  }

  /**
   * The cached result JSON as stored, or undefined when there is none. A file that is not a
   * cniCacheV1 entry is read as a bare result (the pre-cniCacheV1 format libcni still reads).
   */
  getResult(netName: string, rt: Pick<RuntimeConf, 'containerId' | 'ifName'>): Record<string, unknown> | undefined {
    const text = this.read(netName, rt);
    if (text === undefined) return undefined;
    let info: CachedInfo | undefined;
    try {
      info = decodeCachedInfo(text);
    } catch {
      info = undefined;
    }
    if (info && info.kind === CNI_CACHE_V1) return info.result ?? {};
    let legacy: unknown;
    try {
      legacy = JSON.parse(text);
    } catch (e) {
      throw new CniError(ErrorCode.DecodeFailure, `failed to parse cached result of network "${netName}": ${(e as Error).message}`);
    }
    if (!isObject(legacy)) throw new CniError(ErrorCode.DecodeFailure, `cached result of network "${netName}" is not a JSON object`);
    return legacy;
  }

  /** Every cached attachment, optionally of one container, in file-name order (libcni GetCachedAttachments). */
  attachments(containerId = ''): NetworkAttachment[] {
    let names: string[];
    try {
      names = readdirSync(this.resultsDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new CniError(ErrorCode.IoFailure, `failed to read cache directory ${this.resultsDir}: ${(e as Error).message}`);
    }
    const out: NetworkAttachment[] = [];
    for (const name of names.sort(byteCompare)) {
      if (containerId !== '') {
        const part = `-${containerId}-`;
        const pos = name.indexOf(part);
        if (pos <= 0 || pos + part.length >= name.length) continue;
      }
      let info: CachedInfo;
      try {
        info = decodeCachedInfo(readFileSync(join(this.resultsDir, name), 'utf8'));
      } catch {
        continue;
      }
      if (info.kind !== CNI_CACHE_V1) continue;
      if (containerId !== '' && info.containerId !== containerId) continue;
      if (info.ifName === '' || info.network === '') continue;
      const { kind: _k, result: _r, ...att } = info;
      out.push(att);
    }
    return out;
  }
}
