// The network configuration a plugin reads on stdin: decoded, checked for the fields
// every CNI plugin shares, and the version negotiated.
import { CniError, ErrorCode } from './errors.ts';
import type { Command } from './env.ts';
import { SUPPORTED_VERSIONS, isSupportedVersion, versionAtLeast, type CniVersion } from './version.ts';

export type JsonObject = { [k: string]: unknown };

/** The fields every plugin config shares (spec "Plugin configuration objects"); the rest is the plugin's. */
export interface NetConf extends JsonObject {
  cniVersion: CniVersion;
  name: string;
  type: string;
  capabilities?: Record<string, boolean>;
  ipam?: JsonObject & { type?: string };
  dns?: JsonObject;
  args?: JsonObject;
  runtimeConfig?: JsonObject;
  prevResult?: JsonObject;
}

const NETWORK_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(msg: string, details = ''): CniError {
  return new CniError(ErrorCode.InvalidConfig, msg, details);
}

function expectType(conf: JsonObject, field: string, kind: 'string' | 'object' | 'boolean' | 'array'): void {
  const v = conf[field];
  if (v === undefined) return;
  const ok =
    kind === 'object' ? isObject(v) : kind === 'array' ? Array.isArray(v) : typeof v === kind;
  if (!ok) throw invalid(`invalid network config: "${field}" must be ${kind === 'array' ? 'an array' : `a${kind === 'object' ? 'n' : ''} ${kind}`}`, `got ${JSON.stringify(v)}`);
}

/** Decode stdin: not JSON or not an object → 6. */
export function decodeConfig(bytes: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes);
  } catch (e) {
    throw new CniError(ErrorCode.DecodeFailure, `error decoding network config: ${(e as Error).message}`, 'stdin must hold one JSON object');
  }
  if (!isObject(parsed)) {
    throw new CniError(ErrorCode.DecodeFailure, 'error decoding network config: not a JSON object', `got ${bytes.trim().slice(0, 80)}`);
  }
  return parsed;
}

/** Check the shared fields and the version rules for `command`. Codes: 7 invalid, 1 version. */
export function validateConfig(conf: JsonObject, command: Command): NetConf {
  if (conf.name === undefined || conf.name === '') throw invalid('missing network name');
  expectType(conf, 'name', 'string');
  if (!NETWORK_NAME_RE.test(conf.name as string)) {
    throw invalid('invalid characters found in network name', conf.name as string);
  }
  if (conf.type === undefined || conf.type === '') throw invalid('missing plugin type', 'the config has no "type" field');
  expectType(conf, 'type', 'string');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(conf.type as string)) {
    // The type names a file on CNI_PATH: refuse anything that could walk out of it.
    throw invalid('invalid characters found in plugin type', conf.type as string);
  }
  expectType(conf, 'cniVersion', 'string');
  for (const f of ['ipam', 'dns', 'args', 'runtimeConfig', 'prevResult', 'capabilities']) expectType(conf, f, 'object');
  if (isObject(conf.ipam)) expectType(conf.ipam, 'type', 'string');
  if (isObject(conf.capabilities)) {
    for (const [k, v] of Object.entries(conf.capabilities)) {
      if (typeof v !== 'boolean') throw invalid(`invalid network config: capability "${k}" must be a boolean`);
    }
  }
  if (isObject(conf.dns)) {
    for (const f of ['nameservers', 'search', 'options']) {
      const v = conf.dns[f];
      if (v !== undefined && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
        throw invalid(`invalid network config: "dns.${f}" must be an array of strings`);
      }
    }
    expectType(conf.dns, 'domain', 'string');
  }

  // A config without cniVersion is 0.1.0, as libcni decodes it.
  const version = (conf.cniVersion as string | undefined) ?? '0.1.0';
  if (!isSupportedVersion(version)) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      'incompatible CNI versions',
      `config is "${version}", plugin supports [${SUPPORTED_VERSIONS.join(' ')}]`,
    );
  }
  if (command === 'CHECK' && !versionAtLeast(version, '0.4.0')) {
    throw new CniError(ErrorCode.IncompatibleVersion, 'config version does not allow CHECK', `config is "${version}", CHECK needs 0.4.0 or later`);
  }
  if ((command === 'GC' || command === 'STATUS') && !versionAtLeast(version, '1.1.0')) {
    throw new CniError(ErrorCode.IncompatibleVersion, `config version does not allow ${command}`, `config is "${version}", ${command} needs 1.1.0 or later`);
  }
  return { ...conf, cniVersion: version } as NetConf;
}
