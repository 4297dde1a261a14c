// `--grant` arguments and coverage between two capability sets without a network config
// (host/cli/plugin/grant.ts): what `plugin install` uses to say what a grant leaves out and
// what a new grant would widen.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CapabilityFormatError, parseCapabilities } from '../../host/caps/manifest.ts';
import { coverageGaps, grantFragment, parseGrantArgs, sameSpec, sentinelConfig } from '../../host/cli/plugin/grant.ts';

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

  it('sameSpec ignores order', () => {
    expect(sameSpec(caps({ links: { create: ['veth', 'bridge'] } }).spec, caps({ links: { create: ['bridge', 'veth'] } }).spec)).toBe(true);
    expect(sameSpec(caps({ ipam: true }).spec, caps({}).spec)).toBe(false);
  });
});
