// The capability format, shared by a plugin's manifest (what it asks for, its
// `capabilities.json`, embedded in the component as the custom section
// `cni-wasm:capabilities`) and an operator's grant (the policy file). Documented in
// docs/capabilities.md; every key is listed there with exactly what it allows.
//
//   {
//     "version": 1,
//     "links":   { "create": ["bridge", "veth"], "host": ["${bridge}"], "read": ["${underlay}"], "container": true },
//     "routes":  { "host": true },
//     "sysctl":  { "host": ["net.ipv4.ip_forward"], "container": ["net.ipv4.conf.*.*"] },
//     "firewall": true,
//     "store":   ["/var/lib/cni/networks", "${ipam.dataDir}"],
//     "files":   { "read": ["${ipam.resolvConf}"] },
//     "ipam":    true
//   }
//
// Validation is strict: unknown keys, wrong types and malformed patterns are refused with
// the JSON path of every problem. Everything absent is denied.
import {
  type Glob,
  type KeyGlob,
  type KeyTemplate,
  PatternError,
  type Template,
  globCovers,
  globToString,
  keyCovers,
  keyGlobToString,
  keyTemplateToString,
  normalizeRoot,
  parseKeyTemplate,
  parseTemplate,
  pathWithin,
  resolveKeyTemplate,
  resolveTemplate,
  templateToString,
} from './pattern.ts';

export const CUSTOM_SECTION = 'cni-wasm:capabilities';
export const FORMAT_VERSION = 1;
export const LINK_KINDS = ['bridge', 'veth', 'vxlan'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];
export const MAX_LIST = 64;

/** A capability set as written, after validation (absent keys filled with "nothing"). */
export interface CapabilitySpec {
  links: { create: LinkKind[]; host: string[]; read: string[]; container: boolean };
  routes: { host: boolean };
  sysctl: { host: string[]; container: string[] };
  firewall: boolean;
  store: string[];
  files: { read: string[] };
  ipam: boolean;
}

/** A validated capability set with its patterns parsed (still unresolved). */
export interface Capabilities {
  readonly spec: CapabilitySpec;
  readonly linksHost: readonly Template[];
  readonly linksRead: readonly Template[];
  readonly sysctlHost: readonly KeyTemplate[];
  readonly sysctlContainer: readonly KeyTemplate[];
  readonly store: readonly Template[];
  readonly filesRead: readonly Template[];
}

/** A pattern resolved for one invocation, with the text it came from (for messages). */
export interface Resolved<G> {
  glob: G;
  source: string;
}

/** Capabilities resolved against one invocation's network config. */
export interface ResolvedCapabilities {
  readonly create: ReadonlySet<LinkKind>;
  readonly linksHost: readonly Resolved<Glob>[];
  readonly linksRead: readonly Resolved<Glob>[];
  readonly container: boolean;
  readonly hostRoutes: boolean;
  readonly sysctlHost: readonly Resolved<KeyGlob>[];
  readonly sysctlContainer: readonly Resolved<KeyGlob>[];
  readonly firewall: boolean;
  /** Normalised absolute directories. */
  readonly store: readonly Resolved<string>[];
  /** Normalised absolute file paths (exact: no wildcards, no directory prefixes). */
  readonly filesRead: readonly Resolved<string>[];
  readonly ipam: boolean;
}

/** A capability document that does not validate. `problems` holds one line per fault. */
export class CapabilityFormatError extends Error {
  readonly problems: string[];
  constructor(where: string, problems: string[]) {
    super(`${where}: ${problems.length === 1 ? problems[0] : `${problems.length} problems: ${problems.join('; ')}`}`);
    this.name = 'CapabilityFormatError';
    this.problems = problems;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const TOP_KEYS = ['version', 'links', 'routes', 'sysctl', 'firewall', 'store', 'files', 'ipam'] as const;
const LINKS_KEYS = ['create', 'host', 'read', 'container'] as const;
const ROUTES_KEYS = ['host'] as const;
const SYSCTL_KEYS = ['host', 'container'] as const;
const FILES_KEYS = ['read'] as const;

/** An empty capability set: nothing allowed. */
export function emptyCapabilities(): Capabilities {
  return {
    spec: {
      links: { create: [], host: [], read: [], container: false },
      routes: { host: false },
      sysctl: { host: [], container: [] },
      firewall: false,
      store: [],
      files: { read: [] },
      ipam: false,
    },
    linksHost: [],
    linksRead: [],
    sysctlHost: [],
    sysctlContainer: [],
    store: [],
    filesRead: [],
  };
}

/**
 * Validate a capability document (a parsed `capabilities.json`, or a grant from the policy).
 * `where` prefixes every message (e.g. 'capabilities of plugin "bridge"').
 */
export function parseCapabilities(doc: unknown, where: string): Capabilities {
  const problems: string[] = [];
  const out = emptyCapabilities();
  const spec = out.spec;
  const linksHost: Template[] = [];
  const linksRead: Template[] = [];
  const sysctlHost: KeyTemplate[] = [];
  const sysctlContainer: KeyTemplate[] = [];
  const store: Template[] = [];
  const filesRead: Template[] = [];

  const unknownKeys = (obj: Record<string, unknown>, known: readonly string[], path: string): void => {
    for (const k of Object.keys(obj)) {
      if (!known.includes(k)) problems.push(`${path ? `${path}.` : ''}${k}: unknown key (known: ${known.join(', ')})`);
    }
  };
  const bool = (v: unknown, path: string): boolean => {
    if (v === undefined) return false;
    if (typeof v !== 'boolean') {
      problems.push(`${path}: must be true or false, got ${JSON.stringify(v)}`);
      return false;
    }
    return v;
  };
  const list = (v: unknown, path: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      problems.push(`${path}: must be an array of strings, got ${JSON.stringify(v)}`);
      return [];
    }
    if (v.length > MAX_LIST) problems.push(`${path}: at most ${MAX_LIST} entries`);
    const seen = new Set<string>();
    const res: string[] = [];
    v.forEach((x, i) => {
      if (typeof x !== 'string') problems.push(`${path}[${i}]: must be a string, got ${JSON.stringify(x)}`);
      else if (!seen.has(x)) {
        seen.add(x);
        res.push(x);
      }
    });
    return res;
  };
  const obj = (v: unknown, path: string, known: readonly string[]): Record<string, unknown> | undefined => {
    if (v === undefined) return undefined;
    if (!isPlainObject(v)) {
      problems.push(`${path}: must be an object, got ${JSON.stringify(v)}`);
      return undefined;
    }
    unknownKeys(v, known, path);
    return v;
  };
  const patterns = <T>(texts: string[], path: string, parse: (s: string) => T, into: T[]): void => {
    texts.forEach((t, i) => {
      try {
        into.push(parse(t));
      } catch (e) {
        if (!(e instanceof PatternError)) throw e;
        problems.push(`${path}[${i}] ${JSON.stringify(t)}: ${e.message}`);
      }
    });
  };

  if (!isPlainObject(doc)) {
    throw new CapabilityFormatError(where, [`must be a JSON object, got ${JSON.stringify(doc)?.slice(0, 60)}`]);
  }
  unknownKeys(doc, TOP_KEYS, '');
  if (doc.version !== undefined && doc.version !== FORMAT_VERSION) {
    problems.push(`version: unsupported ${JSON.stringify(doc.version)} (this host reads version ${FORMAT_VERSION})`);
  }

  const links = obj(doc.links, 'links', LINKS_KEYS);
  if (links) {
    const kinds = list(links.create, 'links.create');
    kinds.forEach((k, i) => {
      if ((LINK_KINDS as readonly string[]).includes(k)) spec.links.create.push(k as LinkKind);
      else problems.push(`links.create[${i}]: unknown link kind ${JSON.stringify(k)} (known: ${LINK_KINDS.join(', ')})`);
    });
    spec.links.host = list(links.host, 'links.host');
    patterns(spec.links.host, 'links.host', (s) => parseTemplate(s), linksHost);
    spec.links.read = list(links.read, 'links.read');
    patterns(spec.links.read, 'links.read', (s) => parseTemplate(s), linksRead);
    spec.links.container = bool(links.container, 'links.container');
  }
  const routes = obj(doc.routes, 'routes', ROUTES_KEYS);
  if (routes) spec.routes.host = bool(routes.host, 'routes.host');
  const sysctl = obj(doc.sysctl, 'sysctl', SYSCTL_KEYS);
  if (sysctl) {
    spec.sysctl.host = list(sysctl.host, 'sysctl.host');
    patterns(spec.sysctl.host, 'sysctl.host', parseKeyTemplate, sysctlHost);
    spec.sysctl.container = list(sysctl.container, 'sysctl.container');
    patterns(spec.sysctl.container, 'sysctl.container', parseKeyTemplate, sysctlContainer);
  }
  spec.firewall = bool(doc.firewall, 'firewall');
  spec.store = list(doc.store, 'store');
  patterns(spec.store, 'store', parsePathTemplate, store);
  const files = obj(doc.files, 'files', FILES_KEYS);
  if (files) {
    spec.files.read = list(files.read, 'files.read');
    patterns(spec.files.read, 'files.read', parsePathTemplate, filesRead);
  }
  spec.ipam = bool(doc.ipam, 'ipam');

  if (problems.length) throw new CapabilityFormatError(where, problems);
  return { spec, linksHost, linksRead, sysctlHost, sysctlContainer, store, filesRead };
}

/** A store root or a file path: absolute (or starting with a placeholder), no wildcard, no "..". */
function parsePathTemplate(s: string): Template {
  const t = parseTemplate(s, { wildcards: false });
  const first = t[0];
  if (first && 'lit' in first && !first.lit.startsWith('/')) throw new PatternError('must be an absolute path or start with a placeholder');
  if (t.every((p) => 'lit' in p) && normalizeRoot(s) === undefined) throw new PatternError('not a usable absolute path (no "..")');
  return t;
}

/** Parse the UTF-8 JSON bytes of a manifest (the custom section's content). */
export function parseManifestBytes(bytes: Uint8Array, where: string): Capabilities {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CapabilityFormatError(where, ['not valid UTF-8']);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CapabilityFormatError(where, [`not valid JSON: ${(e as Error).message}`]);
  }
  return parseCapabilities(doc, where);
}

// ---------- resolution against a network config

function resolveAll<T, G>(ts: readonly T[], resolve: (t: T) => G | undefined, show: (t: T) => string): Resolved<G>[] {
  const out: Resolved<G>[] = [];
  for (const t of ts) {
    const glob = resolve(t);
    if (glob !== undefined) out.push({ glob, source: show(t) });
  }
  return out;
}

/** A path template resolved and normalised; undefined (matches nothing) when not absolute or holding "..". */
function resolvePath(t: Template, config: unknown): string | undefined {
  const g = resolveTemplate(t, config);
  return g === undefined ? undefined : normalizeRoot(globToString(g));
}

/** Resolve placeholders against `config` (the operator's network config, trusted). */
export function resolveCapabilities(c: Capabilities, config: unknown): ResolvedCapabilities {
  return {
    create: new Set(c.spec.links.create),
    linksHost: resolveAll(c.linksHost, (t) => resolveTemplate(t, config), templateToString),
    linksRead: resolveAll(c.linksRead, (t) => resolveTemplate(t, config), templateToString),
    container: c.spec.links.container,
    hostRoutes: c.spec.routes.host,
    sysctlHost: resolveAll(c.sysctlHost, (t) => resolveKeyTemplate(t, config), keyTemplateToString),
    sysctlContainer: resolveAll(c.sysctlContainer, (t) => resolveKeyTemplate(t, config), keyTemplateToString),
    firewall: c.spec.firewall,
    store: resolveAll(c.store, (t) => resolvePath(t, config), templateToString),
    filesRead: resolveAll(c.filesRead, (t) => resolvePath(t, config), templateToString),
    ipam: c.spec.ipam,
  };
}

// ---------- coverage: is what a plugin asks for within what it was granted?

function shown(r: Resolved<unknown>, text: string): string {
  return r.source === text ? JSON.stringify(text) : `${JSON.stringify(text)} (from ${JSON.stringify(r.source)})`;
}

/**
 * Every capability in `asked` that `granted` does not cover, one line each, naming the
 * capability ("links.create: \"vxlan\""). Empty when the plugin may run. Both sides are
 * resolved against the same config; a pattern that resolved to nothing asks for nothing.
 */
export function missingCapabilities(asked: ResolvedCapabilities, granted: ResolvedCapabilities): string[] {
  const out: string[] = [];
  for (const k of asked.create) if (!granted.create.has(k)) out.push(`links.create: ${JSON.stringify(k)}`);
  for (const a of asked.linksHost) {
    if (!granted.linksHost.some((g) => globCovers(g.glob, a.glob))) out.push(`links.host: ${shown(a, globToString(a.glob))}`);
  }
  for (const a of asked.linksRead) {
    // Changing a host link includes reading it.
    if (![...granted.linksRead, ...granted.linksHost].some((g) => globCovers(g.glob, a.glob))) out.push(`links.read: ${shown(a, globToString(a.glob))}`);
  }
  if (asked.container && !granted.container) out.push('links.container');
  if (asked.hostRoutes && !granted.hostRoutes) out.push('routes.host');
  for (const [name, as, gs] of [
    ['sysctl.host', asked.sysctlHost, granted.sysctlHost],
    ['sysctl.container', asked.sysctlContainer, granted.sysctlContainer],
  ] as const) {
    for (const a of as) {
      if (!gs.some((g) => keyCovers(g.glob, a.glob))) out.push(`${name}: ${shown(a, keyGlobToString(a.glob))}`);
    }
  }
  if (asked.firewall && !granted.firewall) out.push('firewall');
  for (const a of asked.store) {
    if (!granted.store.some((g) => pathWithin(g.glob, a.glob))) out.push(`store: ${shown(a, a.glob)}`);
  }
  for (const a of asked.filesRead) {
    // Exact paths: a file is covered only by the same path.
    if (!granted.filesRead.some((g) => g.glob === a.glob)) out.push(`files.read: ${shown(a, a.glob)}`);
  }
  if (asked.ipam && !granted.ipam) out.push('ipam');
  return out;
}

/** The manifest's text for messages and logs. */
export function capabilitiesToJSON(c: Capabilities): CapabilitySpec {
  return c.spec;
}
