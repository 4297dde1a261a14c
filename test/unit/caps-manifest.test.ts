import { describe, expect, it } from 'vitest';
import {
  CapabilityFormatError,
  emptyCapabilities,
  missingCapabilities,
  parseCapabilities,
  parseManifestBytes,
  resolveCapabilities,
} from '../../host/caps/manifest.ts';

const full = {
  version: 1,
  links: { create: ['bridge', 'veth'], host: ['${bridge}'], read: ['${dev}'], container: true },
  routes: { host: true },
  sysctl: { host: ['net.ipv4.ip_forward', 'net.ipv4.conf.${bridge}.*'], container: ['net.ipv4.conf.*.*', 'net.ipv6.conf.**'] },
  firewall: true,
  store: ['/var/lib/cni/networks', '${ipam.dataDir}'],
  ipam: true,
};

function problems(doc: unknown): string[] {
  try {
    parseCapabilities(doc, 'test');
  } catch (e) {
    if (e instanceof CapabilityFormatError) return e.problems;
    throw e;
  }
  return [];
}

describe('manifest validation', () => {
  it('accepts the full format and fills absent keys with nothing', () => {
    const c = parseCapabilities(full, 'test');
    expect(c.spec.links.create).toEqual(['bridge', 'veth']);
    expect(c.linksHost).toHaveLength(1);
    expect(c.sysctlContainer).toHaveLength(2);
    const empty = parseCapabilities({}, 'test');
    expect(empty.spec).toEqual(emptyCapabilities().spec);
  });

  it('refuses unknown keys at every level', () => {
    expect(problems({ netlink: true })).toEqual(['netlink: unknown key (known: version, links, routes, sysctl, firewall, store, files, ipam)']);
    expect(problems({ links: { delete: [] } })[0]).toMatch(/^links\.delete: unknown key/);
    expect(problems({ sysctl: { node: [] } })[0]).toMatch(/^sysctl\.node: unknown key/);
    expect(problems({ routes: { container: true } })[0]).toMatch(/^routes\.container: unknown key/);
  });

  it('refuses wrong types and reports every problem with its path', () => {
    const p = problems({ links: { create: 'bridge', host: [1], container: 'yes' }, firewall: 1, store: '/x', sysctl: [], ipam: null });
    expect(p).toEqual([
      'links.create: must be an array of strings, got "bridge"',
      'links.host[0]: must be a string, got 1',
      'links.container: must be true or false, got "yes"',
      'sysctl: must be an object, got []',
      'firewall: must be true or false, got 1',
      'store: must be an array of strings, got "/x"',
      'ipam: must be true or false, got null',
    ]);
  });

  it('refuses unknown link kinds, bad patterns, bad store roots and other versions', () => {
    expect(problems({ links: { create: ['macvlan'] } })).toEqual(['links.create[0]: unknown link kind "macvlan" (known: bridge, veth, vxlan)']);
    expect(problems({ links: { host: ['${br'] } })[0]).toContain('links.host[0] "${br": unclosed placeholder');
    expect(problems({ sysctl: { host: ['net..x'] } })[0]).toContain('sysctl.host[0]');
    expect(problems({ store: ['relative/dir'] })[0]).toContain('absolute path');
    expect(problems({ store: ['/var/*'] })[0]).toContain('"*" is not allowed');
    expect(problems({ store: ['/var/../etc'] })[0]).toContain('".."');
    expect(problems({ version: 2 })[0]).toContain('unsupported 2');
    expect(problems([])).toEqual(['must be a JSON object, got []']);
  });

  it('bounds list sizes', () => {
    const many = Array.from({ length: 65 }, (_, i) => `l${i}`);
    expect(problems({ links: { host: many } })).toEqual(['links.host: at most 64 entries']);
  });

  it('reads the custom section bytes: UTF-8 JSON', () => {
    const c = parseManifestBytes(new TextEncoder().encode(JSON.stringify({ ipam: true })), 'm');
    expect(c.spec.ipam).toBe(true);
    expect(() => parseManifestBytes(new Uint8Array([0xff, 0xfe]), 'm')).toThrow('not valid UTF-8');
    expect(() => parseManifestBytes(new TextEncoder().encode('{'), 'm')).toThrow('not valid JSON');
  });
});

describe('resolution and coverage', () => {
  const config = { name: 'net1', type: 'bridge', bridge: 'cni0', dev: 'eth0', ipam: { type: 'host-local', dataDir: '/run/ipam' } };

  it('resolves placeholders against the config; unresolved ones drop out', () => {
    const r = resolveCapabilities(parseCapabilities(full, 't'), config);
    expect(r.linksHost.map((p) => p.source)).toEqual(['${bridge}']);
    expect(r.store.map((s) => s.glob)).toEqual(['/var/lib/cni/networks', '/run/ipam']);
    const r2 = resolveCapabilities(parseCapabilities(full, 't'), { name: 'n' });
    expect(r2.linksHost).toEqual([]);
    expect(r2.store.map((s) => s.glob)).toEqual(['/var/lib/cni/networks']);
  });

  it('a store placeholder that resolves to a relative path or ".." matches nothing', () => {
    const c = parseCapabilities({ store: ['${ipam.dataDir}'] }, 't');
    expect(resolveCapabilities(c, { ipam: { dataDir: 'rel' } }).store).toEqual([]);
    expect(resolveCapabilities(c, { ipam: { dataDir: '/a/../b' } }).store).toEqual([]);
  });

  it('the same document covers itself; nothing is covered by the empty grant', () => {
    const r = resolveCapabilities(parseCapabilities(full, 't'), config);
    expect(missingCapabilities(r, r)).toEqual([]);
    const none = resolveCapabilities(emptyCapabilities(), config);
    expect(missingCapabilities(r, none)).toEqual([
      'links.create: "bridge"',
      'links.create: "veth"',
      'links.host: "cni0" (from "${bridge}")',
      'links.read: "eth0" (from "${dev}")',
      'links.container',
      'routes.host',
      'sysctl.host: "net.ipv4.ip_forward"',
      'sysctl.host: "net.ipv4.conf.cni0.*" (from "net.ipv4.conf.${bridge}.*")',
      'sysctl.container: "net.ipv4.conf.*.*"',
      'sysctl.container: "net.ipv6.conf.**"',
      'firewall',
      'store: "/var/lib/cni/networks"',
      'store: "/run/ipam" (from "${ipam.dataDir}")',
      'ipam',
    ]);
  });

  it('names exactly what goes beyond the grant', () => {
    const grant = resolveCapabilities(
      parseCapabilities({ links: { create: ['veth'], host: ['cni*'], read: ['eth*'] }, sysctl: { host: ['net.ipv4.conf.**'] }, store: ['/var/lib/cni'] }, 'g'),
      config,
    );
    const asked = resolveCapabilities(
      parseCapabilities(
        {
          links: { create: ['veth', 'vxlan'], host: ['${bridge}', 'eth0'], read: ['${dev}', 'cni9'] },
          sysctl: { host: ['net.ipv4.conf.${bridge}.forwarding', 'net.ipv4.ip_forward'] },
          store: ['/var/lib/cni/networks', '/var/lib/other'],
        },
        'm',
      ),
      config,
    );
    expect(missingCapabilities(asked, grant)).toEqual([
      'links.create: "vxlan"',
      'links.host: "eth0"',
      'sysctl.host: "net.ipv4.ip_forward"',
      'store: "/var/lib/other"',
    ]);
  });

  it('a plugin asking for a wider pattern than granted is refused', () => {
    const grant = resolveCapabilities(parseCapabilities({ links: { host: ['${bridge}'] }, sysctl: { container: ['net.ipv4.conf.*.*'] } }, 'g'), config);
    const asked = resolveCapabilities(parseCapabilities({ links: { host: ['*'] }, sysctl: { container: ['net.**'] } }, 'm'), config);
    expect(missingCapabilities(asked, grant)).toEqual(['links.host: "*"', 'sysctl.container: "net.**"']);
  });
});

describe('files.read', () => {
  it('validates exact absolute paths (placeholders allowed; no wildcard, no "..", no relative path, no other key)', () => {
    const c = parseCapabilities({ files: { read: ['/etc/resolv.conf', '${ipam.resolvConf}', '${dir}/resolv.conf'] } }, 't');
    expect(c.spec.files.read).toEqual(['/etc/resolv.conf', '${ipam.resolvConf}', '${dir}/resolv.conf']);
    expect(c.filesRead).toHaveLength(3);
    expect(problems({ files: { read: ['/etc/*.conf'] } })[0]).toContain('"*" is not allowed');
    expect(problems({ files: { read: ['etc/resolv.conf'] } })[0]).toContain('absolute path');
    expect(problems({ files: { read: ['/etc/../shadow'] } })[0]).toContain('".."');
    expect(problems({ files: { read: '/etc/resolv.conf' } })).toEqual(['files.read: must be an array of strings, got "/etc/resolv.conf"']);
    expect(problems({ files: { write: ['/x'] } })).toEqual(['files.write: unknown key (known: read)']);
    expect(problems({ files: true })).toEqual(['files: must be an object, got true']);
  });

  it('resolves to normalised paths; a placeholder that resolves to nothing, a relative path or ".." grants nothing', () => {
    const c = parseCapabilities({ files: { read: ['${ipam.resolvConf}', '/etc//./hosts'] } }, 't');
    const paths = (cfg: unknown) => resolveCapabilities(c, cfg).filesRead.map((f) => f.glob);
    expect(paths({ ipam: { resolvConf: '/run/systemd/resolve/resolv.conf' } })).toEqual(['/run/systemd/resolve/resolv.conf', '/etc/hosts']);
    expect(paths({ ipam: { resolvConf: '/etc//resolv.conf/' } })).toEqual(['/etc/resolv.conf', '/etc/hosts']);
    expect(paths({})).toEqual(['/etc/hosts']);
    expect(paths({ ipam: { resolvConf: 'resolv.conf' } })).toEqual(['/etc/hosts']);
    expect(paths({ ipam: { resolvConf: '/etc/../etc/shadow' } })).toEqual(['/etc/hosts']);
  });

  it('a path is covered only by the same path (no directory prefixes)', () => {
    const cfg = { ipam: { resolvConf: '/etc/resolv.conf' } };
    const grant = resolveCapabilities(parseCapabilities({ files: { read: ['/etc/resolv.conf', '/etc'] } }, 'g'), cfg);
    const ok = resolveCapabilities(parseCapabilities({ files: { read: ['${ipam.resolvConf}'] } }, 'm'), cfg);
    expect(missingCapabilities(ok, grant)).toEqual([]);
    const wider = resolveCapabilities(parseCapabilities({ files: { read: ['/etc/hosts', '${ipam.resolvConf}'] } }, 'm'), { ipam: { resolvConf: '/etc/resolv.conf.d' } });
    expect(missingCapabilities(wider, grant)).toEqual(['files.read: "/etc/hosts"', 'files.read: "/etc/resolv.conf.d" (from "${ipam.resolvConf}")']);
    // the built-in host-local case: the same placeholder on both sides, whatever the config says
    const placeholder = parseCapabilities({ files: { read: ['${ipam.resolvConf}'] } }, 'x');
    for (const cf of [{}, cfg, { ipam: { resolvConf: '/x/y' } }]) {
      expect(missingCapabilities(resolveCapabilities(placeholder, cf), resolveCapabilities(placeholder, cf))).toEqual([]);
    }
  });
});
