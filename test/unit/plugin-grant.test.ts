// `--grant` arguments and coverage between two capability sets without a network config
// (host/cli/plugin/grant.ts): what `plugin install` uses to say what a grant leaves out and
// what a new grant would widen.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CapabilityFormatError, emptyCapabilities, parseCapabilities } from '../../host/caps/manifest.ts';
import { describeCapabilities, specToJson } from '../../host/cli/plugin/describe.ts';
import { GRANT_KEYS, coverageGaps, grantFragment, parseGrantArgs, sameSpec, sentinelConfig } from '../../host/cli/plugin/grant.ts';

const dir = mkdtempSync(join(tmpdir(), 'plugin-grant-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const caps = (doc: unknown) => parseCapabilities(doc, 'test');

describe('--grant arguments', () => {
  it('booleans, key=value lists, the refusal-message form, JSON and @file', () => {
    expect(grantFragment('links.container')).toEqual({ version: 1, links: { container: true } });
    expect(grantFragment('firewall')).toEqual({ version: 1, firewall: true });
    expect(grantFragment('links.create=bridge, veth')).toEqual({ version: 1, links: { create: ['bridge', 'veth'] } });
    // What a refusal prints ("links.host: \"eth0\"") can be pasted back.
    expect(grantFragment('sysctl.container: "net.ipv4.conf.*.*"')).toEqual({ version: 1, sysctl: { container: ['net.ipv4.conf.*.*'] } });
    expect(grantFragment('{"ipam": true}')).toEqual({ ipam: true });
    const f = join(dir, 'g.json');
    writeFileSync(f, '{"store": ["/var/lib/x"]}');
    expect(grantFragment(`@${f}`)).toEqual({ store: ['/var/lib/x'] });
  });

  it('refuses unknown capabilities, missing values and values on booleans', () => {
    expect(() => grantFragment('links.everything')).toThrow(/unknown capability "links.everything"/);
    expect(() => grantFragment('links.host')).toThrow(/needs a value/);
    expect(() => grantFragment('links.container=yes')).toThrow(/takes no value/);
    expect(() => grantFragment('{nope')).toThrow(/not valid JSON/);
    expect(() => grantFragment('[1]')).toThrow(/write a capability/);
  });

  it('files.read: key=value and the refusal-message form, placeholders kept as written', () => {
    expect(grantFragment('files.read=/etc/resolv.conf')).toEqual({ version: 1, files: { read: ['/etc/resolv.conf'] } });
    expect(grantFragment('files.read: "${ipam.resolvConf}"')).toEqual({ version: 1, files: { read: ['${ipam.resolvConf}'] } });
    const g = parseGrantArgs(['files.read=/etc/resolv.conf', 'files.read: "${ipam.resolvConf}"', '{"files": {"read": ["/etc/resolv.conf", "/etc/hosts"]}}', 'store=/var/lib/cni']);
    expect(g.spec.files.read).toEqual(['/etc/resolv.conf', '${ipam.resolvConf}', '/etc/hosts']);
    expect(g.spec.store).toEqual(['/var/lib/cni']);
    expect(GRANT_KEYS).toContain('files.read');
  });

  it('files.read is validated as the manifest validates it: exact absolute paths, no "..", no wildcards', () => {
    const refused = (arg: string): string => {
      try {
        parseGrantArgs([arg]);
      } catch (e) {
        expect(e).toBeInstanceOf(CapabilityFormatError);
        return (e as Error).message;
      }
      throw new Error(`${arg} was accepted`);
    };
    expect(refused('files.read=resolv.conf')).toMatch(/^--grant files\.read=resolv\.conf: files\.read\[0\] "resolv\.conf": must be an absolute path or start with a placeholder/);
    expect(refused('files.read=/etc/../shadow')).toMatch(/files\.read\[0\] "\/etc\/\.\.\/shadow": not a usable absolute path/);
    expect(refused('files.read=/etc/*.conf')).toMatch(/files\.read\[0\]/);
    expect(refused('files.read: "${ipam.resolvConf"')).toMatch(/files\.read\[0\]/);
    // A JSON grant is checked whole, as a manifest: unknown keys and wrong types are not dropped.
    expect(refused('{"files": {"write": ["/tmp/x"]}}')).toMatch(/files\.write: unknown key \(known: read\)/);
    expect(refused('{"files": ["/etc/resolv.conf"]}')).toMatch(/files: must be an object/);
    expect(refused('{"firewall": "yes"}')).toMatch(/firewall: must be true or false/);
    expect(refused('{"version": 2}')).toMatch(/version: unsupported 2/);
  });

  it('merges every argument into one validated set', () => {
    const g = parseGrantArgs(['links.create=veth', 'links.create=bridge,veth', 'links.container', 'sysctl.container=net.ipv4.conf.*.*']);
    expect(g.spec.links.create).toEqual(['veth', 'bridge']);
    expect(g.spec.links.container).toBe(true);
    expect(g.spec.sysctl.container).toEqual(['net.ipv4.conf.*.*']);
    expect(() => parseGrantArgs(['links.create=macvlan'])).toThrow(CapabilityFormatError);
    expect(() => parseGrantArgs(['sysctl.host=net.**.x'])).toThrow(/"\*\*" may only be the whole last component/);
    expect(parseGrantArgs([]).spec).toEqual(caps({}).spec);
  });
});

describe('coverage without a config', () => {
  it('the same set, and wider grants, leave nothing out', () => {
    const m = caps({ links: { create: ['veth'], host: ['${bridge}'], container: true }, sysctl: { container: ['net.ipv4.conf.*.*'] }, store: ['${ipam.dataDir}'] });
    expect(coverageGaps(m, m)).toEqual([]);
    const wider = caps({ links: { create: ['veth', 'bridge'], host: ['*'], container: true }, sysctl: { container: ['net.ipv4.conf.**'] }, store: ['/'] });
    expect(coverageGaps(m, wider)).toEqual([]);
  });

  it('names each uncovered capability as refusals do, placeholders as written', () => {
    const m = caps({ links: { create: ['vxlan'], host: ['${bridge}'] }, firewall: true, sysctl: { host: ['net.ipv4.conf.${bridge}.forwarding'] } });
    const g = caps({ links: { host: ['cni*'] }, sysctl: { host: ['net.ipv4.conf.cni*.*'] } });
    expect(coverageGaps(m, g)).toEqual(['links.create: "vxlan"', 'links.host: "${bridge}"', 'sysctl.host: "net.ipv4.conf.${bridge}.forwarding"', 'firewall']);
  });

  it('a default applies when the field is absent: checked too', () => {
    // The grant covers ${bridge} whatever its value, but not the literal default cni0... when the
    // field is absent the manifest asks for cni0, which a grant of "${bridge}" does not cover.
    const m = caps({ links: { host: ['${bridge:-cni0}'] } });
    expect(coverageGaps(m, caps({ links: { host: ['${bridge}'] } }))).toEqual(['links.host: "cni0" (from "${bridge:-cni0}")']);
    expect(coverageGaps(m, caps({ links: { host: ['${bridge:-cni0}'] } }))).toEqual([]);
  });

  it('store roots and array-indexed placeholders', () => {
    const m = caps({ store: ['${ipam.ranges.0.0.dataDir}', '/var/lib/cni/networks'] });
    expect(sentinelConfig(m)).toEqual({ ipam: { ranges: [[{ dataDir: '/\u27e8ipam.ranges.0.0.dataDir\u27e9' }]] } });
    expect(coverageGaps(m, caps({ store: ['/var/lib/cni'] }))).toEqual(['store: "${ipam.ranges.0.0.dataDir}"']);
    expect(coverageGaps(m, caps({ store: ['/var/lib/cni', '${ipam.ranges.0.0.dataDir}'] }))).toEqual([]);
  });

  it('files.read: a missing grant is named, placeholders as written; only the same path covers a path', () => {
    const m = caps({ store: ['${ipam.dataDir}'], files: { read: ['${ipam.resolvConf}'] } });
    expect(sentinelConfig(m)).toEqual({ ipam: { dataDir: '/\u27e8ipam.dataDir\u27e9', resolvConf: '/\u27e8ipam.resolvConf\u27e9' } });
    expect(coverageGaps(m, caps({ store: ['${ipam.dataDir}'] }))).toEqual(['files.read: "${ipam.resolvConf}"']);
    // A literal path does not cover a placeholder (the config may name another file), nor a directory its files.
    expect(coverageGaps(m, caps({ store: ['/'], files: { read: ['/etc/resolv.conf'] } }))).toEqual(['files.read: "${ipam.resolvConf}"']);
    expect(coverageGaps(caps({ files: { read: ['/etc/resolv.conf'] } }), caps({ files: { read: ['/etc'] } }))).toEqual(['files.read: "/etc/resolv.conf"']);
    expect(coverageGaps(m, caps({ store: ['${ipam.dataDir}'], files: { read: ['${ipam.resolvConf}'] } }))).toEqual([]);
    // A placeholder inside a path, and a default that applies when the field is absent.
    expect(coverageGaps(caps({ files: { read: ['${dir}/resolv.conf'] } }), caps({}))).toEqual(['files.read: "${dir}/resolv.conf"']);
    expect(coverageGaps(caps({ files: { read: ['${ipam.resolvConf:-/etc/resolv.conf}'] } }), caps({ files: { read: ['${ipam.resolvConf}'] } }))).toEqual([
      'files.read: "/etc/resolv.conf" (from "${ipam.resolvConf:-/etc/resolv.conf}")',
    ]);
  });

  it('sameSpec ignores order', () => {
    expect(sameSpec(caps({ links: { create: ['veth', 'bridge'] } }).spec, caps({ links: { create: ['bridge', 'veth'] } }).spec)).toBe(true);
    expect(sameSpec(caps({ ipam: true }).spec, caps({}).spec)).toBe(false);
    expect(sameSpec(caps({ files: { read: ['/a', '/b'] } }).spec, caps({ files: { read: ['/b', '/a'] } }).spec)).toBe(true);
    expect(sameSpec(caps({ files: { read: ['/a'] } }).spec, caps({}).spec)).toBe(false);
  });
});

// Every capability key of the format (read off host/caps/manifest.ts's own empty set, so a key
// added there shows up here by itself) must be known to the whole kit: a --grant key, described
// in words, written into a policy entry, and reported when a grant leaves it out. A key the kit
// was not taught fails here.
describe('every capability key of the manifest is known to the plugin kit', () => {
  type Leaf = { key: string; kind: 'boolean' | 'list' | 'other' };
  const leaves: Leaf[] = [];
  const walk = (o: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === 'boolean') leaves.push({ key: prefix + k, kind: 'boolean' });
      else if (Array.isArray(v)) leaves.push({ key: prefix + k, kind: 'list' });
      else if (typeof v === 'object' && v !== null) walk(v as Record<string, unknown>, `${prefix}${k}.`);
      else leaves.push({ key: prefix + k, kind: 'other' });
    }
  };
  walk(emptyCapabilities().spec as unknown as Record<string, unknown>, '');

  /** A manifest holding only `value` under the dotted `key`. */
  const docWith = (key: string, value: unknown): Record<string, unknown> => {
    const segs = key.split('.');
    let v: unknown = value;
    for (const s of segs.reverse()) v = { [s]: v };
    return v as Record<string, unknown>;
  };
  const validates = (key: string, value: string): boolean => {
    try {
      parseCapabilities(docWith(key, [value]), 'probe');
      return true;
    } catch {
      return false;
    }
  };
  // A value of each kind the format takes; the first one the manifest accepts for a key is used.
  const LITERALS = ['bridge', 'eth0', 'net.ipv4.ip_forward', '/var/lib/probe'];
  const PLACEHOLDERS = ['${probe.field}', 'net.ipv4.conf.${probe.field}.forwarding', '/var/lib/${probe.field}'];

  it('the manifest has the keys this test knows how to probe', () => {
    expect(leaves.map((l) => l.key)).toEqual(expect.arrayContaining(['links.create', 'links.container', 'store', 'files.read', 'ipam']));
    expect(leaves.filter((l) => l.kind === 'other')).toEqual([]); // a new kind of value: teach grant.ts and describe.ts
    expect([...GRANT_KEYS].sort()).toEqual(leaves.map((l) => l.key).sort());
  });

  it.each(leaves)('$key', ({ key, kind }) => {
    const empty = caps({});
    if (kind === 'boolean') {
      const g = parseGrantArgs([key]);
      expect(describeCapabilities(g.spec).map((l) => l.name)).toEqual([key]);
      expect(describeCapabilities(g.spec)[0]!.allows.length).toBeGreaterThan(20);
      expect(parseCapabilities(specToJson(g.spec), 'written').spec).toEqual(g.spec);
      expect(specToJson(g.spec)).not.toEqual(specToJson(empty.spec));
      expect(sameSpec(g.spec, empty.spec)).toBe(false);
      expect(coverageGaps(g, empty)).toEqual([key]);
      expect(coverageGaps(g, g)).toEqual([]);
      return;
    }
    const value = LITERALS.find((v) => validates(key, v));
    expect(value, `no sample value of ${key} validates`).toBeDefined();
    const g = parseGrantArgs([`${key}=${value!}`]);
    expect(g.spec).toEqual(caps(docWith(key, [value])).spec);
    expect(describeCapabilities(g.spec).map((l) => l.name)).toEqual([`${key}: ${JSON.stringify(value)}`]);
    expect(describeCapabilities(g.spec)[0]!.allows).toContain(key === 'links.create' ? 'create' : JSON.stringify(value));
    expect(parseCapabilities(specToJson(g.spec), 'written').spec).toEqual(g.spec);
    expect(sameSpec(g.spec, empty.spec)).toBe(false);
    expect(coverageGaps(g, empty)).toEqual([`${key}: ${JSON.stringify(value)}`]);
    expect(coverageGaps(g, g)).toEqual([]);
    // With a placeholder (where the key takes one): reported as written, covered by itself.
    const ph = PLACEHOLDERS.find((v) => validates(key, v));
    if (ph !== undefined) {
      const p = parseGrantArgs([`${key}: ${JSON.stringify(ph)}`]);
      expect(describeCapabilities(p.spec)[0]!.allows).toContain('${probe.field} is the network config\'s "probe.field" field');
      expect(coverageGaps(p, empty)).toEqual([`${key}: ${JSON.stringify(ph)}`]);
      expect(coverageGaps(p, g)).toEqual([`${key}: ${JSON.stringify(ph)}`]);
      expect(coverageGaps(p, p)).toEqual([]);
    } else {
      expect(key).toBe('links.create'); // the only list without patterns
    }
  });
});
