import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CniError } from '../../host/cni/errors.ts';
import { DEFAULT_LIMITS } from '../../host/runtime/limits.ts';
import { parseCapabilities } from '../../host/caps/manifest.ts';
import { DEFAULT_POLICY_PATH, authorize, builtinEntries, entryFor, loadPolicy, parsePolicy, policyPath, sha256Hex } from '../../host/caps/policy.ts';

const dir = mkdtempSync(join(tmpdir(), 'caps-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, doc: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return p;
}

function cniError(fn: () => unknown): CniError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

const bridgeConf = { cniVersion: '1.0.0', name: 'net1', type: 'bridge', bridge: 'br7', ipam: { type: 'host-local' } };

describe('policy file', () => {
  it('default location, overridable by CNI_WASM_POLICY', () => {
    expect(policyPath({})).toBe(DEFAULT_POLICY_PATH);
    expect(DEFAULT_POLICY_PATH).toBe('/etc/cni/cni-wasm/policy.json');
    expect(policyPath({ CNI_WASM_POLICY: '/x/p.json' })).toBe('/x/p.json');
  });

  it('a missing default file means built-in entries only; a missing named file is an error', () => {
    // The machine may or may not have /etc/cni/cni-wasm/policy.json: only the path is checked here.
    expect(loadPolicy({ CNI_WASM_POLICY: '' }).path).toBe(DEFAULT_POLICY_PATH);
    const e = cniError(() => loadPolicy({ CNI_WASM_POLICY: join(dir, 'absent.json') }));
    expect(e.code).toBe(7);
    expect(e.message).toContain('cannot read it');
    expect(e.details).toContain('CNI_WASM_POLICY');
  });

  it('reads grants, pins and limits per plugin type', () => {
    const hash = 'A'.repeat(64);
    const path = write('ok.json', {
      version: 1,
      limits: { callTimeoutMs: 2000 },
      plugins: { mine: { grant: { ipam: true }, sha256: hash, limits: { memoryMiB: 8 } }, other: {} },
    });
    const p = loadPolicy({ CNI_WASM_POLICY: path });
    expect(p.fromFile).toBe(true);
    expect(p.limits).toEqual({ callTimeoutMs: 2000 });
    const e = entryFor(p, 'mine')!;
    expect(e.grant.spec.ipam).toBe(true);
    expect(e.sha256).toEqual(['a'.repeat(64)]);
    expect(e.limits).toEqual({ memoryMiB: 8 });
    expect(e.source).toBe(path);
    expect(entryFor(p, 'other')!.grant.spec.ipam).toBe(false);
    expect(entryFor(p, 'nobody')).toBeUndefined();
  });

  it.each([
    ['not JSON', '{', 'not valid JSON'],
    ['not an object', '[]', 'must be a JSON object'],
    ['unknown top key', { plugin: {} }, 'unknown key plugin'],
    ['other version', { version: 2 }, 'unsupported version 2'],
    ['plugins not an object', { plugins: [] }, 'plugins: must be an object'],
    ['bad type name', { plugins: { '../x': {} } }, 'is not a plugin type name'],
    ['entry not an object', { plugins: { a: true } }, 'plugins.a: must be an object'],
    ['unknown entry key', { plugins: { a: { grants: {} } } }, 'plugins.a: unknown key grants'],
    ['bad grant', { plugins: { a: { grant: { links: { create: ['tun'] } } } } }, 'plugins.a.grant: links.create[0]: unknown link kind "tun"'],
    ['bad pin', { plugins: { a: { sha256: 'abc' } } }, 'plugins.a.sha256'],
    ['empty pin list', { plugins: { a: { sha256: [] } } }, 'plugins.a.sha256'],
    ['unknown limit', { plugins: { a: { limits: { cpu: 1 } } } }, 'unknown limit "cpu"'],
    ['limit out of range', { limits: { memoryMiB: 0 } }, 'memoryMiB'],
  ])('refuses %s', (_name, doc, msg) => {
    const path = write('bad.json', doc);
    const e = cniError(() => loadPolicy({ CNI_WASM_POLICY: path }));
    expect(e.code).toBe(7);
    expect(`${e.message} ${e.details}`).toContain(msg);
    expect(e.message).toContain(path);
  });

  it('ships valid built-in entries for the first-party plugins', () => {
    const b = builtinEntries();
    expect([...b.keys()].sort()).toEqual(['bridge', 'host-local', 'vxlan']);
    for (const e of b.values()) expect(e.source).toBe('built-in');
    expect(b.get('host-local')!.grant.spec.store).toEqual(['/var/lib/cni/networks', '${ipam.dataDir}']);
    expect(b.get('host-local')!.grant.spec.files.read).toEqual(['${ipam.resolvConf}']);
  });

  it("an operator's entry replaces the built-in one whole", () => {
    const p = parsePolicy({ plugins: { bridge: { grant: { ipam: true } } } }, '/p.json');
    expect(entryFor(p, 'bridge')!.grant.spec.links.create).toEqual([]);
    expect(entryFor(p, 'host-local')!.source).toBe('built-in');
  });
});

describe('authorize', () => {
  const policy = parsePolicy(
    {
      limits: { callTimeoutMs: 3000 },
      plugins: {
        custom: { grant: { links: { create: ['veth'], host: ['${bridge}'] }, ipam: true }, limits: { memoryMiB: 16 } },
        pinned: { grant: {}, sha256: sha256Hex(Buffer.from('module')) },
      },
    },
    '/etc/p.json',
  );

  it('a manifest within the grant runs with exactly what it asked for, and the merged limits', () => {
    const manifest = parseCapabilities({ links: { create: ['veth'] }, ipam: true }, 'm');
    const a = authorize({ policy, type: 'custom', path: '/x/custom.wasm', manifest, config: bridgeConf });
    expect([...a.caps.create]).toEqual(['veth']);
    expect(a.caps.linksHost).toEqual([]); // granted, but not asked for
    expect(a.granted.linksHost.map((p) => p.source)).toEqual(['${bridge}']);
    expect(a.limits).toEqual({ ...DEFAULT_LIMITS, callTimeoutMs: 3000, memoryMiB: 16 });
    expect(a.source).toBe('/etc/p.json');
  });

  it('a manifest beyond the grant does not run, and the error names every missing capability', () => {
    const manifest = parseCapabilities({ links: { create: ['veth', 'vxlan'], host: ['eth0'] }, firewall: true }, 'm');
    const e = cniError(() => authorize({ policy, type: 'custom', path: '/x/custom.wasm', manifest, config: bridgeConf }));
    expect(e.code).toBe(100);
    expect(e.message).toBe('plugin "custom": refused: asks for capabilities it is not granted: links.create: "vxlan", links.host: "eth0", firewall');
    expect(e.details).toContain('policy: /etc/p.json');
    expect(e.details).toContain('/x/custom.wasm');
  });

  it('placeholders resolve per invocation: the grant follows the config', () => {
    const manifest = parseCapabilities({ links: { host: ['br7'] } }, 'm');
    expect(() => authorize({ policy, type: 'custom', path: 'p', manifest, config: bridgeConf })).not.toThrow();
    expect(() => authorize({ policy, type: 'custom', path: 'p', manifest, config: { ...bridgeConf, bridge: 'br8' } })).toThrow('links.host: "br7"');
  });

  it('a plugin without an entry gets nothing: it runs only if it asks for nothing', () => {
    expect(() => authorize({ policy, type: 'stranger', path: 'p', manifest: undefined, config: {} })).not.toThrow();
    const e = cniError(() => authorize({ policy, type: 'stranger', path: 'p', manifest: parseCapabilities({ ipam: true }, 'm'), config: {} }));
    expect(e.message).toContain('ipam');
    expect(e.details).toContain('no policy entry for plugin type "stranger"');
  });

  it('first-party plugins fall back to the built-in grant', () => {
    const manifest = parseCapabilities({ links: { create: ['bridge', 'veth'], host: ['${bridge:-cni0}'], container: true }, firewall: true, ipam: true }, 'm');
    const a = authorize({ policy, type: 'bridge', path: 'p', manifest, config: bridgeConf });
    expect(a.source).toBe('built-in');
    expect(a.caps.linksHost.map((p) => p.glob)).toEqual([[{ lit: 'br7' }]]);
  });

  it('checks a sha256 pin', () => {
    expect(() => authorize({ policy, type: 'pinned', path: 'p', manifest: undefined, config: {}, fileBytes: Buffer.from('module') })).not.toThrow();
    const e = cniError(() => authorize({ policy, type: 'pinned', path: 'p', manifest: undefined, config: {}, fileBytes: Buffer.from('other') }));
    expect(e.code).toBe(100);
    expect(e.message).toContain('is not the one the policy pins');
    expect(cniError(() => authorize({ policy, type: 'pinned', path: 'p', manifest: undefined, config: {} })).code).toBe(999);
  });
});
