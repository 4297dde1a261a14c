// Grants as an operator types them on the command line, and coverage between two capability
// sets without a network config (what install needs to say "this widens the grant" or "the
// plugin will be refused").
//
//   --grant links.container            a boolean capability
//   --grant links.create=bridge,veth   list capabilities, comma-separated values
//   --grant 'sysctl.container: "net.ipv4.conf.*.*"'   the form refusal messages print
//   --grant '{"links": {"container": true}}'          a whole capability document
//   --grant @grant.json                 a file holding one
import { readFileSync } from 'node:fs';
import { type Capabilities, type CapabilitySpec, emptyCapabilities, missingCapabilities, parseCapabilities, resolveCapabilities } from '../../caps/manifest.ts';
import type { Template, TemplatePart } from '../../caps/pattern.ts';
import { specToJson } from './describe.ts';

/**
 * Every capability key of the format, by its dotted name, read off the manifest's own empty
 * set (host/caps/manifest.ts) so that a key added there is a `--grant` key here too: a
 * boolean (`links.container`) or a list (`links.create`, `files.read`).
 */
function capabilityKeys(): { booleans: string[]; lists: string[] } {
  const booleans: string[] = [];
  const lists: string[] = [];
  const walk = (o: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(o)) {
      const name = prefix + k;
      if (typeof v === 'boolean') booleans.push(name);
      else if (Array.isArray(v)) lists.push(name);
      else if (typeof v === 'object' && v !== null) walk(v as Record<string, unknown>, `${name}.`);
      // Any other kind of value is not a --grant key (test/unit/plugin-grant.test.ts fails on one).
    }
  };
  walk(emptyCapabilities().spec as unknown as Record<string, unknown>, '');
  return { booleans, lists };
}

const { booleans: BOOLEANS, lists: LISTS } = capabilityKeys();
/** The `--grant` keys, for messages: `links.container, ..., files.read`. */
export const GRANT_KEYS: readonly string[] = [...BOOLEANS, ...LISTS];

function emptyDoc(): Record<string, unknown> {
  return { version: 1 };
}

function setPath(doc: Record<string, unknown>, path: string, value: unknown): void {
  const segs = path.split('.');
  let o = doc;
  for (const s of segs.slice(0, -1)) {
    const next = o[s];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) o = next as Record<string, unknown>;
    else {
      const fresh: Record<string, unknown> = {};
      o[s] = fresh;
      o = fresh;
    }
  }
  o[segs[segs.length - 1]!] = value;
}

/** `add` merged into `into`, both in the spec's shape: lists joined (no duplicates), booleans or'ed. */
function mergeSpec(into: unknown, add: unknown): unknown {
  if (Array.isArray(into) && Array.isArray(add)) return [...into, ...add.filter((x: unknown) => !into.includes(x))];
  if (typeof into === 'boolean' && typeof add === 'boolean') return into || add;
  if (typeof into === 'object' && into !== null && typeof add === 'object' && add !== null) {
    const out: Record<string, unknown> = { ...(into as Record<string, unknown>) };
    for (const [k, v] of Object.entries(add)) out[k] = k in out ? mergeSpec(out[k], v) : v;
    return out;
  }
  return add;
}

/** One `--grant` argument into a capability document fragment. */
export function grantFragment(arg: string): Record<string, unknown> {
  const text = arg.trim();
  if (text.startsWith('{') || text.startsWith('@')) {
    const src = text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text;
    let doc: unknown;
    try {
      doc = JSON.parse(src);
    } catch (e) {
      throw new Error(`--grant ${text.startsWith('@') ? text : 'JSON'}: not valid JSON: ${(e as Error).message}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('--grant: a capability document must be a JSON object');
    return doc as Record<string, unknown>;
  }
  const m = /^([a-z.]+)\s*(?:(=)\s*(.*)|:\s*(".*"))?$/s.exec(text);
  if (!m) throw new Error(`--grant ${JSON.stringify(arg)}: write a capability (${GRANT_KEYS.join(', ')}), key=value[,value], key: "value", a JSON object or @file.json`);
  const key = m[1]!;
  const doc = emptyDoc();
  if (BOOLEANS.includes(key)) {
    if (m[2] !== undefined || m[4] !== undefined) throw new Error(`--grant ${key} takes no value`);
    setPath(doc, key, true);
    return doc;
  }
  if (!LISTS.includes(key)) throw new Error(`--grant: unknown capability ${JSON.stringify(key)} (known: ${GRANT_KEYS.join(', ')})`);
  let values: string[];
  if (m[4] !== undefined) {
    const v: unknown = JSON.parse(m[4]);
    if (typeof v !== 'string') throw new Error(`--grant ${key}: the value must be a JSON string`);
    values = [v];
  } else if (m[2] !== undefined) {
    values = (m[3] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  } else {
    values = [];
  }
  if (values.length === 0) throw new Error(`--grant ${key} needs a value: ${key}=<value>[,<value>]`);
  setPath(doc, key, values);
  return doc;
}

/**
 * All `--grant` arguments as one validated capability set. Each argument is validated on its
 * own by the manifest's validator first (unknown keys, wrong types, malformed patterns, a
 * relative or `..` file path: refused naming the argument), then they are merged, and the
 * union is validated again (list lengths).
 */
export function parseGrantArgs(args: readonly string[]): Capabilities {
  let spec: unknown = emptyCapabilities().spec;
  for (const a of args) spec = mergeSpec(spec, parseCapabilities(grantFragment(a), `--grant ${a}`).spec);
  return parseCapabilities(specToJson(spec as CapabilitySpec), 'the grant given with --grant');
}

// ---------- coverage without a network config

function templatesOf(c: Capabilities): { t: Template; path: boolean }[] {
  const out: { t: Template; path: boolean }[] = [];
  for (const t of c.linksHost) out.push({ t, path: false });
  for (const t of c.linksRead) out.push({ t, path: false });
  for (const k of [...c.sysctlHost, ...c.sysctlContainer]) for (const t of k.comps) out.push({ t, path: false });
  for (const t of c.store) out.push({ t, path: true });
  for (const t of c.filesRead) out.push({ t, path: true });
  return out;
}

function setField(config: Record<string, unknown>, segs: readonly string[], value: string): void {
  let o: Record<string, unknown> | unknown[] = config;
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    const nextIsIndex = !last && /^(0|[1-9][0-9]*)$/.test(segs[i + 1]!);
    const key: string | number = Array.isArray(o) ? Number(seg) : seg;
    const cur: unknown = Array.isArray(o) ? o[key as number] : o[key as string];
    if (last) {
      if (Array.isArray(o)) o[key as number] = value;
      else o[key as string] = value;
      return;
    }
    let next: unknown = cur;
    if (typeof next !== 'object' || next === null) {
      next = nextIsIndex ? [] : {};
      if (Array.isArray(o)) o[key as number] = next;
      else o[key as string] = next;
    }
    o = next as Record<string, unknown> | unknown[];
  });
}

/**
 * A network config in which every field the patterns read holds a distinct value of its
 * own (`⟨field⟩`, `/⟨field⟩` for store roots), unlike any literal: a pattern naming `${bridge}` then covers only patterns naming
 * `${bridge}` (or wildcards matching anything).
 */
export function sentinelConfig(...sets: Capabilities[]): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const seen = new Map<string, boolean>();
  for (const c of sets) {
    for (const { t, path } of templatesOf(c)) {
      for (const p of t as readonly TemplatePart[]) {
        if (!('ph' in p)) continue;
        const k = p.ph.join('.');
        seen.set(k, (seen.get(k) ?? false) || path);
      }
    }
  }
  // Brackets no literal pattern text is likely to match: only wildcards and the same placeholder do.
  for (const [k, path] of seen) setField(config, k.split('.'), path ? `/\u27e8${k}\u27e9` : `\u27e8${k}\u27e9`);
  return config;
}

/**
 * What `asked` holds that `granted` does not cover, for any network config: checked with
 * every placeholder set to a value of its own and with every placeholder absent (defaults
 * apply). Names as in refusal messages (`links.create: "vxlan"`, `firewall`).
 */
export function coverageGaps(asked: Capabilities, granted: Capabilities): string[] {
  const out: string[] = [];
  for (const config of [sentinelConfig(asked, granted), {}]) {
    for (const gap of missingCapabilities(resolveCapabilities(asked, config), resolveCapabilities(granted, config))) {
      // Report sentinel values as the placeholders they stand for.
      const text = gap.replace(/"[^"]*\u27e8[^"]*" \(from ("[^"]*")\)/g, '$1');
      if (!out.includes(text)) out.push(text);
    }
  }
  return out;
}

/** The same capabilities, lists in any order (every list of the spec, whatever its key). */
export function sameSpec(a: CapabilitySpec, b: CapabilitySpec): boolean {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm).sort();
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
    return v;
  };
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}
