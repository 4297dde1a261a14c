import { describe, expect, it } from 'vitest';
import { Audit, sanitize, type AuditLevel } from '../../host/caps/audit.ts';
import { Enforcer, PermissionDenied } from '../../host/caps/enforce.ts';
import { parseCapabilities, resolveCapabilities } from '../../host/caps/manifest.ts';
import { attachmentMark, isReservedAlias, networkMark, parseMark } from '../../host/caps/marks.ts';

const config = { name: 'net1', type: 'bridge', bridge: 'cni0', underlay: 'eth0', ipam: { dataDir: '/run/ipam' } };
const owner = { plugin: 'bridge', network: 'net1' };
const attachment = { containerId: 'c1', ifname: 'eth0' };

function enforcer(doc: unknown, extra: { gcValid?: { containerId: string; ifname: string }[]; noAttachment?: boolean } = {}): Enforcer {
  const caps = resolveCapabilities(parseCapabilities(doc, 't'), config);
  return new Enforcer(caps, { ...owner, attachment: extra.noAttachment ? undefined : attachment, gcValid: extra.gcValid });
}

function denial(fn: () => unknown): PermissionDenied {
  try {
    fn();
  } catch (e) {
    if (e instanceof PermissionDenied) return e;
    throw e;
  }
  throw new Error('not denied');
}

describe('marks', () => {
  it('network and attachment marks carry the plugin type and read back', () => {
    expect(networkMark(owner)).toBe('cni-wasm plugin=bridge net=net1');
    expect(attachmentMark(owner, attachment)).toBe('cni-wasm plugin=bridge net=net1 ctr=c1 if=eth0');
    expect(parseMark(attachmentMark(owner, attachment))).toEqual({ ...owner, attachment });
    expect(parseMark('something else')).toBeUndefined();
  });

  it('over-long marks become a digest within IFALIASZ', () => {
    const long = { plugin: 'p', network: 'n'.repeat(300) };
    const m = networkMark(long);
    expect(Buffer.byteLength(m)).toBeLessThanOrEqual(255);
    expect(m).toMatch(/^cni-wasm h=[0-9a-f]{64}$/);
    expect(networkMark(long)).toBe(m);
    expect(attachmentMark(long, attachment)).not.toBe(m);
  });

  it('reserves the mark prefix', () => {
    expect(isReservedAlias('cni-wasm plugin=x net=y')).toBe(true);
    expect(isReservedAlias('  CNI-WASM')).toBe(true);
    expect(isReservedAlias('my bridge')).toBe(false);
  });
});

describe('host links', () => {
  const e = enforcer({ links: { host: ['${bridge}', 'veth*'], read: ['${underlay}'] } });

  it('links created by this plugin for this network or this attachment may be changed', () => {
    expect(e.hostLinkAccess({ name: 'anything', alias: networkMark(owner) })).toBe('change');
    expect(e.hostLinkAccess({ name: 'anything', alias: attachmentMark(owner, attachment) })).toBe('change');
  });

  it("another container's, another network's or another plugin's links may not", () => {
    expect(e.hostLinkAccess({ name: 'x', alias: attachmentMark(owner, { containerId: 'c2', ifname: 'eth0' }) })).toBe('none');
    expect(e.hostLinkAccess({ name: 'x', alias: attachmentMark(owner, { containerId: 'c1', ifname: 'eth1' }) })).toBe('none');
    expect(e.hostLinkAccess({ name: 'x', alias: networkMark({ plugin: 'bridge', network: 'net2' }) })).toBe('none');
    expect(e.hostLinkAccess({ name: 'x', alias: networkMark({ plugin: 'vxlan', network: 'net1' }) })).toBe('none');
  });

  it('links named by the grant may be changed; read patterns are read-only', () => {
    expect(e.hostLinkAccess({ name: 'cni0' })).toBe('change');
    expect(e.hostLinkAccess({ name: 'veth12' })).toBe('change');
    expect(e.hostLinkAccess({ name: 'eth0' })).toBe('read');
    expect(e.hostLinkAccess({ name: 'lo' })).toBe('none');
  });

  it('denials name the capability and the link', () => {
    expect(denial(() => e.requireHostLinkChange({ name: 'eth0' })).message).toBe('links.host: may not change host link "eth0": it is read-only (links.read)');
    expect(denial(() => e.requireHostLinkChange({ name: 'lo' }, 'delete')).message).toBe(
      'links.host: may not delete host link "lo": neither created by this plugin for this network nor granted',
    );
    const d = denial(() => e.requireHostLinkRead({ name: 'lo' }));
    expect(d.capability).toBe('links.read');
    expect(d.message).toContain('may not read host link "lo"');
  });

  it('renames keep a granted link within granted names; owned links may take any name', () => {
    expect(() => e.requireHostRename({ name: 'cni0' }, 'veth9')).not.toThrow();
    expect(denial(() => e.requireHostRename({ name: 'cni0' }, 'eth9')).message).toContain('the new name is not granted');
    expect(() => e.requireHostRename({ name: 'x', alias: networkMark(owner) }, 'eth9')).not.toThrow();
  });

  it('GC may change links of attachments that are no longer valid, and only those', () => {
    const gc = enforcer({}, { noAttachment: true, gcValid: [{ containerId: 'c1', ifname: 'eth0' }] });
    expect(gc.hostLinkAccess({ name: 'x', alias: attachmentMark(owner, { containerId: 'c2', ifname: 'eth0' }) })).toBe('change');
    expect(gc.hostLinkAccess({ name: 'x', alias: attachmentMark(owner, attachment) })).toBe('none');
    expect(gc.hostLinkAccess({ name: 'x', alias: attachmentMark({ plugin: 'other', network: 'net1' }, { containerId: 'c2', ifname: 'eth0' }) })).toBe('none');
  });
});

describe('other capabilities', () => {
  it('link kinds', () => {
    const e = enforcer({ links: { create: ['veth'] } });
    expect(() => e.requireCreate('veth')).not.toThrow();
    expect(denial(() => e.requireCreate('vxlan')).message).toBe('links.create: may not create a "vxlan" link');
  });

  it('the container namespace and host routes', () => {
    expect(denial(() => enforcer({}).requireContainer('add an address')).message).toBe('links.container: may not add an address in the container namespace');
    expect(() => enforcer({ links: { container: true } }).requireContainer('x')).not.toThrow();
    expect(denial(() => enforcer({}).requireHostRoutes('add a route')).capability).toBe('routes.host');
  });

  it('sysctl patterns per namespace, in both key forms', () => {
    const e = enforcer({ sysctl: { host: ['net.ipv4.ip_forward', 'net.ipv4.conf.${bridge}.*'], container: ['net.ipv6.conf.**'] } });
    expect(() => e.requireSysctl('host', 'net.ipv4.ip_forward', true)).not.toThrow();
    expect(() => e.requireSysctl('host', 'net/ipv4/conf/cni0/forwarding', true)).not.toThrow();
    expect(denial(() => e.requireSysctl('host', 'net.ipv4.conf.eth0.forwarding', true)).message).toBe(
      'sysctl.host: may not write "net.ipv4.conf.eth0.forwarding" in the host namespace',
    );
    expect(denial(() => e.requireSysctl('container', 'net.ipv4.ip_forward', false)).message).toBe(
      'sysctl.container: may not read "net.ipv4.ip_forward" in the container namespace',
    );
    expect(() => e.requireSysctl('container', 'net.ipv6.conf.eth0.accept_dad', true)).not.toThrow();
  });

  it('store roots must be within a granted root', () => {
    const e = enforcer({ store: ['/var/lib/cni/networks', '${ipam.dataDir}'] });
    expect(e.requireStoreRoot('/var/lib/cni/networks/')).toBe('/var/lib/cni/networks');
    expect(e.requireStoreRoot('/run/ipam/sub')).toBe('/run/ipam/sub');
    expect(denial(() => e.requireStoreRoot('/etc')).message).toBe('store: may not open state under "/etc": outside the granted roots ("/var/lib/cni/networks", "/run/ipam")');
    expect(denial(() => e.requireStoreRoot('/var/lib/cni/networks/../../../etc')).message).toContain('not an absolute path without ".."');
    expect(denial(() => e.requireStoreRoot('/var/lib/cni/networks2')).capability).toBe('store');
  });

  it('firewall and ipam', () => {
    expect(denial(() => enforcer({}).requireFirewall('add masquerade rules')).message).toBe('firewall: may not add masquerade rules');
    expect(denial(() => enforcer({}).requireIpam('delegate ADD')).message).toBe('ipam: may not delegate ADD');
    expect(() => enforcer({ firewall: true, ipam: true }).requireIpam('x')).not.toThrow();
  });
});

describe('audit', () => {
  const id = { plugin: 'bridge', network: 'net1', command: 'ADD', containerId: 'c1', ifname: 'eth0' };
  const collect = (): { lines: { level: AuditLevel; fields: Record<string, unknown>; msg: string }[]; audit: Audit } => {
    const lines: { level: AuditLevel; fields: Record<string, unknown>; msg: string }[] = [];
    return { lines, audit: new Audit(id, { sink: (level, fields, msg) => lines.push({ level, fields, msg }) }) };
  };
  const describeErr = (e: unknown): { tag: string; msg: string } => ({ tag: e instanceof PermissionDenied ? 'permission-denied' : 'other', msg: (e as Error).message });

  it('logs every call at debug with arguments, outcome and duration', () => {
    const { lines, audit } = collect();
    expect(audit.call('netlink.get-link', () => ['host', 'cni0'], () => 7, describeErr, (r) => ({ index: r }))).toBe(7);
    expect(lines).toHaveLength(1);
    const l = lines[0]!;
    expect(l.level).toBe('debug');
    expect(l.fields).toMatchObject({ audit: true, plugin: 'bridge', network: 'net1', containerId: 'c1', call: 'netlink.get-link', args: ['host', 'cni0'], outcome: 'ok', result: { index: 7 } });
    expect(typeof l.fields.durationMs).toBe('number');
  });

  it('logs a denial at warn naming the capability, and the failed call at debug', () => {
    const { lines, audit } = collect();
    expect(() =>
      audit.call('netlink.delete-link', () => ['host', 'lo'], () => {
        throw new PermissionDenied('links.host', 'may not delete host link "lo"');
      }, describeErr),
    ).toThrow(PermissionDenied);
    expect(lines.map((l) => l.level)).toEqual(['warn', 'debug']);
    expect(lines[0]!.fields).toMatchObject({ capability: 'links.host', call: 'netlink.delete-link', outcome: 'denied', args: ['host', 'lo'] });
    expect(lines[0]!.msg).toBe('plugin "bridge" denied: links.host: may not delete host link "lo"');
    expect(lines[1]!.fields).toMatchObject({ outcome: 'permission-denied' });
    expect(audit.denials).toBe(1);
    expect(audit.calls).toBe(1);
  });

  it('does not format arguments when debug is off', () => {
    const audit = new Audit(id, { env: { CNI_LOG_LEVEL: 'error' } });
    let formatted = false;
    audit.call('x', () => {
      formatted = true;
      return [];
    }, () => 1, describeErr);
    expect(formatted).toBe(false);
  });

  it('keeps log lines small', () => {
    expect(sanitize('x'.repeat(1000))).toMatch(/^x{160}…\(1000 bytes\)$/);
    expect((sanitize(Array.from({ length: 40 }, (_, i) => i)) as unknown[]).length).toBe(33);
    expect(sanitize({ a: { b: { c: { d: { e: 1 } } } } })).toEqual({ a: { b: { c: { d: '…' } } } });
  });
});
