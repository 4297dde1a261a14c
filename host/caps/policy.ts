// The operator's policy: which capabilities each plugin type is granted, an optional
// sha256 pin of its .wasm file, and its resource limits. Documented in docs/policy.md.
//
//   /etc/cni/cni-wasm/policy.json   (CNI_WASM_POLICY overrides the location)
//   {
//     "version": 1,
//     "limits": { "callTimeoutMs": 5000 },                  for every plugin
//     "plugins": {
//       "bridge": { "grant": { ... }, "sha256": "9f86d0...", "limits": { "memoryMiB": 32 } }
//     }
//   }
//
// A plugin type without an entry gets the built-in entry when it is first-party
// (default-policy.ts), else an empty grant. A plugin runs only if its manifest asks for
// nothing beyond its grant; it then holds exactly what it asked for.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CniError, ErrorCode } from '../cni/errors.ts';
import { type Limits, parseLimits, resolveLimits } from '../runtime/limits.ts';
import { refused } from '../runtime/errors.ts';
import { DEFAULT_POLICY_PLUGINS } from './default-policy.ts';
import {
  type Capabilities,
  CapabilityFormatError,
  type ResolvedCapabilities,
  emptyCapabilities,
  missingCapabilities,
  parseCapabilities,
  resolveCapabilities,
} from './manifest.ts';

export const DEFAULT_POLICY_PATH = '/etc/cni/cni-wasm/policy.json';
export const POLICY_VERSION = 1;

type Env = Record<string, string | undefined>;

export interface PolicyEntry {
  grant: Capabilities;
  /** Lower-case hex sha256 digests; the plugin file must have one of them. Empty: not pinned. */
  sha256: string[];
  limits: Partial<Limits>;
  /** Where the entry came from: the policy file's path, or 'built-in'. */
  source: string;
}

export interface Policy {
  /** The file read, or the one that would have been read. */
  path: string;
  /** False when the default file does not exist (built-in entries only). */
  fromFile: boolean;
  limits: Partial<Limits>;
  plugins: ReadonlyMap<string, PolicyEntry>;
}

const TOP_KEYS = ['version', 'limits', 'plugins'];
const ENTRY_KEYS = ['grant', 'sha256', 'limits'];
const TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function invalid(where: string, msg: string, details = ''): CniError {
  return new CniError(ErrorCode.InvalidConfig, `invalid cni-wasm policy ${where}: ${msg}`, details);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseEntry(type: string, raw: unknown, where: string, source: string): PolicyEntry {
  const at = `plugins.${type}`;
  if (!isPlainObject(raw)) throw invalid(where, `${at}: must be an object`, `got ${JSON.stringify(raw)}`);
  const unknown = Object.keys(raw).filter((k) => !ENTRY_KEYS.includes(k));
  if (unknown.length) throw invalid(where, `${at}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`, `known: ${ENTRY_KEYS.join(', ')}`);
  let grant: Capabilities;
  try {
    grant = raw.grant === undefined ? emptyCapabilities() : parseCapabilities(raw.grant, `${at}.grant`);
  } catch (e) {
    if (e instanceof CapabilityFormatError) throw invalid(where, e.message);
    throw e;
  }
  let sha256: string[] = [];
  if (raw.sha256 !== undefined) {
    const list = typeof raw.sha256 === 'string' ? [raw.sha256] : raw.sha256;
    if (!Array.isArray(list) || list.length === 0 || !list.every((h): h is string => typeof h === 'string' && /^[0-9a-fA-F]{64}$/.test(h))) {
      throw invalid(where, `${at}.sha256: must be a hex sha256 digest (64 characters) or a non-empty list of them`, `got ${JSON.stringify(raw.sha256)}`);
    }
    sha256 = list.map((h) => h.toLowerCase());
  }
  const limits = parseLimits(raw.limits, `cni-wasm policy ${where}: ${at}`);
  return { grant, sha256, limits, source };
}

/** Validate a parsed policy document. `where` names it in messages (its path). */
export function parsePolicy(doc: unknown, where: string): Policy {
  if (!isPlainObject(doc)) throw invalid(where, 'must be a JSON object');
  const unknown = Object.keys(doc).filter((k) => !TOP_KEYS.includes(k));
  if (unknown.length) throw invalid(where, `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`, `known: ${TOP_KEYS.join(', ')}`);
  if (doc.version !== undefined && doc.version !== POLICY_VERSION) {
    throw invalid(where, `unsupported version ${JSON.stringify(doc.version)}`, `this host reads version ${POLICY_VERSION}`);
  }
  const limits = parseLimits(doc.limits, `cni-wasm policy ${where}`);
  const plugins = new Map<string, PolicyEntry>();
  if (doc.plugins !== undefined) {
    if (!isPlainObject(doc.plugins)) throw invalid(where, 'plugins: must be an object keyed by plugin type');
    for (const [type, raw] of Object.entries(doc.plugins)) {
      if (!TYPE_RE.test(type)) throw invalid(where, `plugins: ${JSON.stringify(type)} is not a plugin type name`);
      plugins.set(type, parseEntry(type, raw, where, where));
    }
  }
  return { path: where, fromFile: true, limits, plugins };
}

let builtins: Map<string, PolicyEntry> | undefined;

/** The built-in entries of first-party plugins. */
export function builtinEntries(): ReadonlyMap<string, PolicyEntry> {
  if (!builtins) {
    builtins = new Map();
    for (const [type, raw] of Object.entries(DEFAULT_POLICY_PLUGINS)) builtins.set(type, parseEntry(type, raw, 'built-in', 'built-in'));
  }
  return builtins;
}

export function policyPath(env: Env = process.env): string {
  return env.CNI_WASM_POLICY || DEFAULT_POLICY_PATH;
}

/**
 * Read the operator's policy. The default file may be absent (built-in entries only);
 * a file named by CNI_WASM_POLICY must exist. Unreadable or invalid → CniError 7.
 */
export function loadPolicy(env: Env = process.env): Policy {
  const path = policyPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' && !env.CNI_WASM_POLICY) return { path, fromFile: false, limits: {}, plugins: new Map() };
    throw invalid(path, `cannot read it: ${(e as Error).message}`, env.CNI_WASM_POLICY ? 'CNI_WASM_POLICY names this file' : '');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw invalid(path, `not valid JSON: ${(e as Error).message}`);
  }
  return parsePolicy(doc, path);
}

/** The entry for a plugin type: the operator's, else the built-in one, else none. */
export function entryFor(policy: Policy, type: string): PolicyEntry | undefined {
  return policy.plugins.get(type) ?? builtinEntries().get(type);
}

export interface AuthorizeRequest {
  policy: Policy;
  type: string;
  /** The plugin file (for messages). */
  path: string;
  /** The plugin's manifest; undefined when the module carries none (it then asks for nothing). */
  manifest: Capabilities | undefined;
  /** The invocation's network config: placeholders resolve against it. */
  config: unknown;
  /** The plugin file's bytes, to check a sha256 pin. Required when the entry pins one. */
  fileBytes?: Uint8Array;
}

export interface Authorization {
  type: string;
  /** What the plugin may do in this invocation: its manifest, resolved (within the grant). */
  caps: ResolvedCapabilities;
  /** The grant, resolved (for logs). */
  granted: ResolvedCapabilities;
  limits: Limits;
  /** Where the grant came from: the policy file's path, 'built-in', or 'none'. */
  source: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Decide whether a plugin may run in this invocation. Throws CniError 100 (the runtime's
 * "plugin refused") naming every missing capability, or a pin mismatch.
 */
export function authorize(req: AuthorizeRequest): Authorization {
  const entry = entryFor(req.policy, req.type);
  const ident = { type: req.type, path: req.path };
  if (entry && entry.sha256.length > 0) {
    if (!req.fileBytes) throw new CniError(ErrorCode.Internal, `internal error: plugin "${req.type}" is pinned by sha256 but its bytes were not given to the check`);
    const digest = sha256Hex(req.fileBytes);
    if (!entry.sha256.includes(digest)) {
      throw refused(ident, `its sha256 ${digest} is not the one the policy pins`, `policy: ${entry.source}; pinned: ${entry.sha256.join(', ')}`);
    }
  }
  const grant = entry?.grant ?? emptyCapabilities();
  const granted = resolveCapabilities(grant, req.config);
  const caps = resolveCapabilities(req.manifest ?? emptyCapabilities(), req.config);
  const missing = missingCapabilities(caps, granted);
  const source = entry?.source ?? 'none';
  if (missing.length > 0) {
    const where = entry ? `policy: ${entry.source}` : `no policy entry for plugin type "${req.type}" in ${req.policy.path} and no built-in one`;
    throw refused(ident, `asks for capabilities it is not granted: ${missing.join(', ')}`, where);
  }
  return { type: req.type, caps, granted, limits: resolveLimits(req.policy.limits, entry?.limits), source };
}
