// Patterns of the capability format: templates with `${config.path}` placeholders,
// resolved against an invocation's network config into glob patterns whose only
// wildcard is `*`.
//
//   link names   `cni0`, `veth*`, `${bridge}`, `${bridge:-cni0}`   `*` = any run of characters
//   sysctl keys  `net.ipv4.conf.${bridge}.*`, `net.ipv6.conf.**`     matched component by component:
//                `*` never crosses a '.', a last component `**` matches one or more
//                components, and a '/' in a literal stands for a '.' inside a component
//                (procps's dotted form: net.ipv4.conf.eth0/100.forwarding)
//   store roots  `/var/lib/cni/networks`, `${ipam.dataDir}`          no wildcard; whole path components
//
// A placeholder's value is always literal: a `*` or '.' in a config value never acts as a
// wildcard or a separator. A placeholder that resolves to nothing (field absent, empty, or
// not a string or integer) makes the whole pattern match nothing.
import { parseSysctlKey } from '../sys/sysctl.ts';

/** One piece of a resolved glob: literal text or `*`. */
export type GlobPart = { lit: string } | { star: true };
/** A resolved glob pattern. */
export type Glob = readonly GlobPart[];

/** One piece of a template, before resolution. */
export type TemplatePart = { lit: string } | { star: true } | { ph: readonly string[]; def?: string };
export type Template = readonly TemplatePart[];

export const MAX_PATTERN = 256;
const PATH_SEGMENT = /^[A-Za-z0-9_-]+$/;

export class PatternError extends Error {
  constructor(msg: string) {
    super(msg);
    this.name = 'PatternError';
  }
}

/**
 * Parse `text` into a template. `${a.b.c}` reads config field a.b.c (numeric segments
 * index arrays); `${a.b:-text}` uses `text` when the field resolves to nothing.
 * `*` is a wildcard unless `wildcards` is false (then it is refused).
 */
export function parseTemplate(text: string, opts: { wildcards?: boolean } = {}): Template {
  if (typeof text !== 'string') throw new PatternError('must be a string');
  if (text.length === 0) throw new PatternError('must not be empty');
  if (text.length > MAX_PATTERN) throw new PatternError(`longer than ${MAX_PATTERN} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(text)) throw new PatternError('contains a control character');
  const wildcards = opts.wildcards ?? true;
  const out: TemplatePart[] = [];
  let lit = '';
  const flush = (): void => {
    if (lit) out.push({ lit });
    lit = '';
  };
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '$' && text[i + 1] === '{') {
      const end = text.indexOf('}', i + 2);
      if (end < 0) throw new PatternError(`unclosed placeholder at "${text.slice(i)}"`);
      const body = text.slice(i + 2, end);
      const dflt = body.indexOf(':-');
      const path = dflt >= 0 ? body.slice(0, dflt) : body;
      const segs = path.split('.');
      if (path === '' || !segs.every((s) => PATH_SEGMENT.test(s))) {
        throw new PatternError(`invalid placeholder "\${${body}}": write \${field} or \${field.sub} (letters, digits, '_' and '-')`);
      }
      const part: { ph: string[]; def?: string } = { ph: segs };
      if (dflt >= 0) {
        const d = body.slice(dflt + 2);
        if (d === '' || d.includes('$') || d.includes('{')) throw new PatternError(`invalid default in "\${${body}}"`);
        if (d.includes('*')) throw new PatternError(`a placeholder default is literal text and may not hold "*": "\${${body}}"`);
        part.def = d;
      }
      flush();
      out.push(part);
      i = end + 1;
      continue;
    }
    if (c === '*') {
      if (!wildcards) throw new PatternError('"*" is not allowed here');
      flush();
      if (!(out.length > 0 && 'star' in out[out.length - 1]!)) out.push({ star: true });
      i++;
      continue;
    }
    if (c === '}' || c === '{') throw new PatternError(`stray "${c}"`);
    lit += c;
    i++;
  }
  flush();
  return out;
}

/** The config value at `path` as text, or undefined when it resolves to nothing. */
export function lookupField(config: unknown, path: readonly string[]): string | undefined {
  let v: unknown = config;
  for (const seg of path) {
    if (Array.isArray(v)) {
      if (!/^(0|[1-9][0-9]*)$/.test(seg)) return undefined;
      v = v[Number(seg)];
    } else if (typeof v === 'object' && v !== null) {
      if (!Object.prototype.hasOwnProperty.call(v, seg)) return undefined;
      v = (v as Record<string, unknown>)[seg];
    } else {
      return undefined;
    }
  }
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return undefined;
}

/** Resolve placeholders; undefined when one resolves to nothing (the pattern then matches nothing). */
export function resolveTemplate(t: Template, config: unknown): Glob | undefined {
  const out: GlobPart[] = [];
  const pushLit = (s: string): void => {
    const last = out[out.length - 1];
    if (last && 'lit' in last) out[out.length - 1] = { lit: last.lit + s };
    else out.push({ lit: s });
  };
  for (const p of t) {
    if ('star' in p) {
      if (!(out.length > 0 && 'star' in out[out.length - 1]!)) out.push({ star: true });
    } else if ('lit' in p) {
      pushLit(p.lit);
    } else {
      const v = lookupField(config, p.ph) ?? p.def;
      if (v === undefined) return undefined;
      pushLit(v);
    }
  }
  return out;
}

/** Does the glob match the whole of `s`? */
export function globMatch(g: Glob, s: string): boolean {
  // Greedy matching with backtracking to the last star: linear in practice, O(n*m) worst case.
  // Flatten into characters and stars.
  const toks = flatten(g);
  let ti = 0;
  let si = 0;
  let starTi = -1;
  let starSi = 0;
  while (si < s.length) {
    const t = toks[ti];
    if (t !== undefined && t !== STAR && t === s[si]) {
      ti++;
      si++;
    } else if (t === STAR) {
      starTi = ti++;
      starSi = si;
    } else if (starTi >= 0) {
      ti = starTi + 1;
      si = ++starSi;
    } else {
      return false;
    }
  }
  while (toks[ti] === STAR) ti++;
  return ti === toks.length;
}

const STAR: unique symbol = Symbol('star');
type Tok = string | typeof STAR;

function flatten(g: Glob): Tok[] {
  const out: Tok[] = [];
  for (const p of g) {
    if ('star' in p) out.push(STAR);
    else for (const ch of p.lit) out.push(ch);
  }
  return out;
}

/**
 * Is every string `inner` matches also matched by `outer`? (Language inclusion for
 * `*`-only globs: `outer` must match `inner` read as text in which each of inner's stars
 * is a fresh symbol that only one of outer's stars can absorb.)
 */
export function globCovers(outer: Glob, inner: Glob): boolean {
  const o = flatten(outer);
  const n = flatten(inner);
  // dp[j] = outer[0..i) matches inner[0..j)
  let dp = new Array<boolean>(n.length + 1).fill(false);
  dp[0] = true;
  for (let i = 1; i <= o.length; i++) {
    const t = o[i - 1]!;
    const next = new Array<boolean>(n.length + 1).fill(false);
    if (t === STAR) {
      next[0] = dp[0]!;
      for (let j = 1; j <= n.length; j++) next[j] = dp[j]! || next[j - 1]!;
    } else {
      for (let j = 1; j <= n.length; j++) next[j] = dp[j - 1]! && n[j - 1] === t;
    }
    dp = next;
  }
  return dp[n.length]!;
}

export function globToString(g: Glob): string {
  return g.map((p) => ('star' in p ? '*' : p.lit)).join('');
}

export function templateToString(t: Template): string {
  return t.map((p) => ('star' in p ? '*' : 'lit' in p ? p.lit : `\${${p.ph.join('.')}${p.def !== undefined ? `:-${p.def}` : ''}}`)).join('');
}

// ---------- sysctl key patterns: a template per component

/**
 * A sysctl pattern: one template per key component, and `rest` when it ends in `.**`
 * (one or more further components of any name).
 */
export interface KeyTemplate {
  readonly comps: readonly Template[];
  readonly rest: boolean;
}
/** A resolved sysctl pattern. */
export interface KeyGlob {
  readonly comps: readonly Glob[];
  readonly rest: boolean;
}

/**
 * Parse a dotted sysctl pattern. Literal '.' separates components; inside a literal a '/'
 * stands for a '.' within the component; placeholder values never split. `*` matches
 * within one component; a last component `**` matches one or more components.
 */
export function parseKeyTemplate(text: string): KeyTemplate {
  let body = text;
  let rest = false;
  if (typeof text === 'string' && text.endsWith('.**')) {
    body = text.slice(0, -3);
    rest = true;
  }
  if (typeof body === 'string' && body.includes('**')) throw new PatternError('"**" may only be the whole last component (e.g. net.ipv4.conf.**)');
  const t = parseTemplate(body);
  const comps: TemplatePart[][] = [[]];
  for (const p of t) {
    if (!('lit' in p)) {
      comps[comps.length - 1]!.push(p);
      continue;
    }
    const pieces = p.lit.split('.');
    pieces.forEach((piece, i) => {
      if (i > 0) comps.push([]);
      if (piece) comps[comps.length - 1]!.push({ lit: piece.replaceAll('/', '.') });
    });
  }
  for (const c of comps) {
    if (c.length === 0) throw new PatternError('empty key component (repeated, leading or trailing ".")');
    if (c.length === 1) {
      const only = c[0]!;
      if ('lit' in only && (only.lit === '.' || only.lit === '..')) throw new PatternError(`"${only.lit}" component`);
    }
  }
  return { comps, rest };
}

export function resolveKeyTemplate(t: KeyTemplate, config: unknown): KeyGlob | undefined {
  const out: Glob[] = [];
  for (const c of t.comps) {
    const g = resolveTemplate(c, config);
    if (g === undefined) return undefined;
    // A value that makes a component empty, '.', '..' or holds '/' could address another key.
    if (g.length === 0) return undefined;
    const text = globToString(g);
    if (g.every((p) => 'lit' in p) && (text === '.' || text === '..')) return undefined;
    if (g.some((p) => 'lit' in p && (p.lit.includes('/') || p.lit.includes('\0')))) return undefined;
    out.push(g);
  }
  return { comps: out, rest: t.rest };
}

/** Does the key pattern match `key` (either procps form)? Invalid keys match nothing. */
export function keyMatch(g: KeyGlob, key: string): boolean {
  let parts: string[];
  try {
    parts = parseSysctlKey(key);
  } catch {
    return false;
  }
  return keyMatchParts(g, parts);
}

export function keyMatchParts(g: KeyGlob, parts: readonly string[]): boolean {
  if (g.rest ? parts.length <= g.comps.length : parts.length !== g.comps.length) return false;
  return g.comps.every((c, i) => globMatch(c, parts[i]!));
}

export function keyCovers(outer: KeyGlob, inner: KeyGlob): boolean {
  const o = outer.comps;
  const n = inner.comps;
  if (!outer.rest) {
    if (inner.rest || o.length !== n.length) return false;
  } else if (inner.rest ? n.length < o.length : n.length <= o.length) {
    return false;
  }
  return o.every((c, i) => globCovers(c, n[i]!));
}

const dotted = (g: Glob): Glob => g.map((p) => ('lit' in p ? { lit: p.lit.replaceAll('.', '/') } : p));

/** Dotted text of a key pattern ('.' inside a component written as '/'). */
export function keyGlobToString(g: KeyGlob): string {
  return g.comps.map((c) => globToString(dotted(c))).join('.') + (g.rest ? '.**' : '');
}

export function keyTemplateToString(t: KeyTemplate): string {
  return (
    t.comps.map((c) => templateToString(c.map((p) => ('lit' in p ? { lit: p.lit.replaceAll('.', '/') } : p)))).join('.') + (t.rest ? '.**' : '')
  );
}

// ---------- store roots

/**
 * Normalise an absolute directory path: collapses '//' and '/.', refuses '..', relative
 * paths and NUL. Returns undefined for anything unusable.
 */
export function normalizeRoot(p: string): string | undefined {
  if (typeof p !== 'string' || !p.startsWith('/') || p.includes('\0') || p.length > 4096) return undefined;
  const comps = p.split('/').filter((c) => c !== '' && c !== '.');
  if (comps.some((c) => c === '..')) return undefined;
  return `/${comps.join('/')}`;
}

/** Is `path` the directory `root` or inside it (whole components)? Both normalised. */
export function pathWithin(root: string, path: string): boolean {
  if (root === '/') return true;
  return path === root || path.startsWith(`${root}/`);
}
