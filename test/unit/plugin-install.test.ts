// `plugin install` (host/cli/plugin/install.ts) and the policy edits behind it
// (policy-edit.ts): grants shown and written pinned to the file's sha256, no silent widening,
// upgrades, refusals, atomic writes under a lock. Plugins are WAT fixtures built with jco.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../host/caps/policy.ts';
import { applyInstall, formatPlan, type InstallOptions, planInstall } from '../../host/cli/plugin/install.ts';
import { readPolicyFile, withPolicyLock, writePolicyFile } from '../../host/cli/plugin/policy-edit.ts';
import { buildCapsFixture, withCustomSection } from '../fixtures/hostile-caps/build.ts';
import { NULL_PLUGIN_WAT, PLUGIN_WIT, completeModule, componentize } from '../fixtures/hostile/build.ts';

const top = mkdtempSync(join(tmpdir(), 'plugin-install-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));

let dir: string;
let policy: string;
let plugins: string;
let fileA: string; // grant-user: links.create bridge, sysctl.host net.ipv4.ip_forward
let fileB: string; // the same plugin, other bytes (a trailing custom section)
let fileNull: string; // asks for nothing
let fileReader: string; // host-local's manifest: store ${ipam.dataDir}, files.read ${ipam.resolvConf}
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Append a custom section to a component: other bytes, same plugin. */
function withTrailingSection(bytes: Uint8Array, text: string): Uint8Array {
  const name = new TextEncoder().encode(text);
  const body = [name.length, ...name];
  return new Uint8Array([...bytes, 0, body.length, ...body]);
}

/** The null plugin with `manifest` as its cni-wasm:capabilities section (instead of its own `{"version":1}`). */
async function nullWithManifest(manifest: unknown): Promise<Uint8Array> {
  const wat = NULL_PLUGIN_WAT.replace(/\(@custom "cni-wasm:capabilities" .*\)/, '');
  const core = withCustomSection(await parse(completeModule(wat)), 'cni-wasm:capabilities', new TextEncoder().encode(JSON.stringify(manifest)));
  return componentNew(await componentEmbed({ binary: core, witSource: PLUGIN_WIT, world: 'plugin' }));
}

beforeAll(async () => {
  fileReader = join(top, 'reader.wasm');
  writeFileSync(fileReader, await nullWithManifest({ version: 1, store: ['${ipam.dataDir}'], files: { read: ['${ipam.resolvConf}'] } }));
  const a = await buildCapsFixture('grant-user');
  fileA = join(top, 'grant-user.wasm');
  writeFileSync(fileA, a);
  fileB = join(top, 'grant-user-v2.wasm');
  writeFileSync(fileB, withTrailingSection(a, 'v2'));
  fileNull = join(top, 'nothing.wasm');
  writeFileSync(fileNull, await componentize(NULL_PLUGIN_WAT));
});

let n = 0;
beforeEach(() => {
  dir = join(top, `case-${++n}`);
  mkdirSync(dir);
  policy = join(dir, 'etc', 'policy.json');
  plugins = join(dir, 'plugins');
});

const opts = (o: Partial<InstallOptions> & { file: string }): InstallOptions => ({ pluginDir: plugins, policy, env: {}, ...o });
function install(o: Partial<InstallOptions> & { file: string }): ReturnType<typeof planInstall> {
  const p = planInstall(opts(o));
  applyInstall(p, opts(o));
  return p;
}
const entry = (type: string): Record<string, unknown> => (JSON.parse(readFileSync(policy, 'utf8')) as { plugins: Record<string, Record<string, unknown>> }).plugins[type]!;

describe('plugin install', () => {
  it('copies the file, writes the grant pinned to its sha256, atomically, and shows the grant first', () => {
    const p = planInstall(opts({ file: fileA, name: 'gu', grantDeclared: true }));
    expect(p.change).toBe('new');
    expect(p.notCovered).toEqual([]);
    const text = formatPlan(p);
    expect(text).toContain(`sha256   ${sha(fileA)}`);
    expect(text).toContain('(created): a new entry, pinned to this sha256');
    expect(text).toContain('create bridge devices in the host namespace');
    expect(text).toContain('read and write host-namespace sysctls matching "net.ipv4.ip_forward"');
    expect(text).toContain('the plugin declares exactly this.');
    expect(existsSync(policy)).toBe(false); // planning writes nothing
    const done = applyInstall(p, opts({ file: fileA }));
    expect(done.join('\n')).toMatch(/copied {3}.*gu\.wasm/);
    expect(readFileSync(join(plugins, 'gu.wasm'))).toEqual(readFileSync(fileA));
    expect(statSync(join(plugins, 'gu.wasm')).mode & 0o777).toBe(0o644);
    expect(entry('gu')).toEqual({ grant: { version: 1, links: { create: ['bridge'] }, sysctl: { host: ['net.ipv4.ip_forward'] } }, sha256: sha(fileA) });
    expect(statSync(policy).mode & 0o777).toBe(0o644);
    expect(readdirSync(join(dir, 'etc'))).toEqual(['policy.json']); // no temporaries left
    parsePolicy(JSON.parse(readFileSync(policy, 'utf8')), policy);
  });

  it('a plugin that declares capabilities needs an explicit choice; one that declares none does not', () => {
    expect(() => planInstall(opts({ file: fileA }))).toThrow(/declares capabilities.*--grant-declared/s);
    expect(() => planInstall(opts({ file: fileA, grantDeclared: true, grants: ['firewall'] }))).toThrow(/either --grant-declared or --grant/);
    const p = install({ file: fileNull, name: 'nothing' });
    expect(p.grant).toEqual(readPolicyFile(policy).policy.plugins.get('nothing')!.grant.spec);
    expect(entry('nothing')).toEqual({ grant: { version: 1 }, sha256: sha(fileNull) });
  });

  it('a grant narrower than the manifest is written, with a warning naming what the plugin will be refused for', () => {
    const p = install({ file: fileA, name: 'gu', grants: ['sysctl.host=net.ipv4.ip_forward'] });
    expect(p.notCovered).toEqual(['links.create: "bridge"']);
    expect(formatPlan(p)).toMatch(/WARNING: the grant does not cover all of it.*\n {2}- links\.create: "bridge"/);
    expect(entry('gu').grant).toEqual({ version: 1, sysctl: { host: ['net.ipv4.ip_forward'] } });
  });

  it('never widens an existing grant silently: refused naming the additions, unless --replace-grant', () => {
    install({ file: fileA, name: 'gu', grants: ['sysctl.host=net.ipv4.ip_forward'] });
    const before = readFileSync(policy, 'utf8');
    expect(() => planInstall(opts({ file: fileA, name: 'gu', grants: ['links.create=bridge,veth', 'sysctl.host=net.ipv4.ip_forward', 'firewall'] }))).toThrow(
      /refusing to widen the grant of "gu" \(in .*policy\.json.*\n {2}- links\.create: "bridge"\n {2}- links\.create: "veth"\n {2}- firewall\n.*--replace-grant/s,
    );
    expect(readFileSync(policy, 'utf8')).toBe(before);
    const p = install({ file: fileA, name: 'gu', grantDeclared: true, replaceGrant: true });
    expect(p.change).toBe('widens');
    expect(p.widens).toEqual(['links.create: "bridge"']);
    expect(formatPlan(p)).toContain('WIDENS the previous grant');
    expect(entry('gu').grant).toEqual({ version: 1, links: { create: ['bridge'] }, sysctl: { host: ['net.ipv4.ip_forward'] } });
  });

  it('the same grant again is unchanged; a narrower one is allowed', () => {
    install({ file: fileA, name: 'gu', grantDeclared: true });
    const again = install({ file: fileA, name: 'gu', grantDeclared: true });
    expect(again.change).toBe('unchanged');
    expect(formatPlan(again)).toContain('already there, identical');
    const narrow = install({ file: fileA, name: 'gu', grants: ['sysctl.host=net.ipv4.ip_forward'] });
    expect(narrow.change).toBe('narrows');
  });

  it('an upgrade replaces the file and the pin, keeping the entry\'s limits and the rest of the policy', () => {
    mkdirSync(join(dir, 'etc'));
    writeFileSync(policy, JSON.stringify({ version: 1, limits: { callTimeoutMs: 3000 }, plugins: { other: { grant: { ipam: true } } } }));
    install({ file: fileA, name: 'gu', grantDeclared: true });
    const doc = JSON.parse(readFileSync(policy, 'utf8')) as { plugins: Record<string, Record<string, unknown>> };
    doc.plugins.gu!.limits = { memoryMiB: 8 };
    writeFileSync(policy, JSON.stringify(doc));
    const p = install({ file: fileB, name: 'gu', grantDeclared: true });
    expect(p.destSha256).toBe(sha(fileA));
    expect(p.transitional).toBeDefined();
    expect(formatPlan(p)).toContain(`replaces the file with sha256 ${sha(fileA)}`);
    expect(formatPlan(p)).toContain(`previously pinned: ${sha(fileA)}`);
    expect(readFileSync(join(plugins, 'gu.wasm'))).toEqual(readFileSync(fileB));
    const after = JSON.parse(readFileSync(policy, 'utf8')) as Record<string, unknown> & { plugins: Record<string, Record<string, unknown>> };
    expect(after.plugins.gu).toEqual({ grant: { version: 1, links: { create: ['bridge'] }, sysctl: { host: ['net.ipv4.ip_forward'] } }, sha256: sha(fileB), limits: { memoryMiB: 8 } });
    expect(after.plugins.other).toEqual({ grant: { ipam: true } });
    expect(after.limits).toEqual({ callTimeoutMs: 3000 });
  });

  it('does not overwrite a plugin file the policy does not account for (a first-party plugin) without --force', () => {
    mkdirSync(plugins);
    writeFileSync(join(plugins, 'gu.wasm'), readFileSync(fileB));
    expect(() => planInstall(opts({ file: fileA, name: 'gu', grantDeclared: true }))).toThrow(/gu\.wasm exists .* no entry for "gu".*--force/);
    expect(install({ file: fileA, name: 'gu', grantDeclared: true, force: true }).destSha256).toBe(sha(fileB));
  });

  it('a first-party type is compared with its built-in grant', () => {
    // grant-user's manifest (a bridge, ip_forward) is within the built-in bridge grant.
    expect(planInstall(opts({ file: fileA, name: 'bridge', grantDeclared: true })).change).toBe('narrows');
    expect(() => planInstall(opts({ file: fileA, name: 'bridge', grants: ['links.create=bridge,vxlan'] }))).toThrow(/its built-in grant.*links\.create: "vxlan"/s);
  });

  it('refuses what the host would not load, an invalid type name, and a broken policy file', () => {
    const junk = join(dir, 'junk.wasm');
    writeFileSync(junk, 'not wasm');
    expect(() => planInstall(opts({ file: junk, grantDeclared: true }))).toThrow(/this host would not load it/);
    expect(() => planInstall(opts({ file: fileA, name: '../evil', grantDeclared: true }))).toThrow(/invalid plugin type/);
    mkdirSync(join(dir, 'etc'));
    writeFileSync(policy, '{"plugins": {"x": {"grant": {"links": {"create": ["tap"]}}}}}');
    expect(() => planInstall(opts({ file: fileA, grantDeclared: true }))).toThrow(/does not validate.*unknown link kind "tap".*fix it before installing/s);
    writeFileSync(policy, '{');
    expect(() => planInstall(opts({ file: fileA, grantDeclared: true }))).toThrow(/not valid JSON/);
  });

  it('an entry changed between planning and writing aborts the install', () => {
    const p = planInstall(opts({ file: fileA, name: 'gu', grantDeclared: true }));
    install({ file: fileNull, name: 'gu' }); // another install got there first
    expect(() => applyInstall(p, opts({ file: fileA }))).toThrow(/changed while this install was being prepared/);
  });

  it('files.read: written into the entry as declared, and shown in words', () => {
    const p = install({ file: fileReader, name: 'reader', grantDeclared: true });
    expect(p.notCovered).toEqual([]);
    const text = formatPlan(p);
    expect(text).toContain('  - files.read: "${ipam.resolvConf}"\n      read that one file, "${ipam.resolvConf}" (a regular file of at most 64 KiB of UTF-8 text)');
    expect(text).toContain('the plugin declares exactly this.');
    expect(entry('reader')).toEqual({ grant: { version: 1, store: ['${ipam.dataDir}'], files: { read: ['${ipam.resolvConf}'] } }, sha256: sha(fileReader) });
    expect(readPolicyFile(policy).policy.plugins.get('reader')!.grant.spec.files.read).toEqual(['${ipam.resolvConf}']);
    // --grant files.read=... is written too.
    const g = install({ file: fileReader, name: 'reader2', grants: ['store=${ipam.dataDir}', 'files.read=${ipam.resolvConf},/etc/hosts'] });
    expect(entry('reader2').grant).toEqual({ version: 1, store: ['${ipam.dataDir}'], files: { read: ['${ipam.resolvConf}', '/etc/hosts'] } });
    expect(g.notCovered).toEqual([]);
    expect(() => planInstall(opts({ file: fileReader, name: 'reader3', grants: ['files.read=etc/hosts'] }))).toThrow(/files\.read\[0\] "etc\/hosts": must be an absolute path/);
  });

  it('files.read: a grant without it is written with a warning naming the entry as declared, placeholder and all', () => {
    const p = install({ file: fileReader, name: 'reader', grants: ['store=${ipam.dataDir}'] });
    expect(p.notCovered).toEqual(['files.read: "${ipam.resolvConf}"']);
    expect(formatPlan(p)).toMatch(/WARNING: the grant does not cover all of it.*\n {2}- files\.read: "\$\{ipam\.resolvConf\}"\n/s);
    expect(formatPlan(p)).not.toContain('\u27e8');
    // A literal path is not the placeholder (the config may name another file).
    expect(planInstall(opts({ file: fileReader, name: 'reader-lit', grants: ['store=${ipam.dataDir}', 'files.read=/etc/resolv.conf'] })).notCovered).toEqual(['files.read: "${ipam.resolvConf}"']);
    // Adding it later widens the grant: refused without --replace-grant, naming it as written.
    expect(() => planInstall(opts({ file: fileReader, name: 'reader', grantDeclared: true }))).toThrow(/refusing to widen.*\n {2}- files\.read: "\$\{ipam\.resolvConf\}"\n/s);
    expect(install({ file: fileReader, name: 'reader', grantDeclared: true, replaceGrant: true }).widens).toEqual(['files.read: "${ipam.resolvConf}"']);
  });

  it("files.read: dropping it from host-local's built-in grant narrows it", () => {
    const p = planInstall(opts({ file: fileReader, name: 'host-local', grants: ['store=/var/lib/cni/networks,${ipam.dataDir}'] }));
    expect(p.change).toBe('narrows');
    expect(p.notCovered).toEqual(['files.read: "${ipam.resolvConf}"']);
    expect(planInstall(opts({ file: fileReader, name: 'host-local', grantDeclared: true })).change).toBe('narrows');
  });

  it('--bin-dir makes cni-wasm answer as the type there', () => {
    install({ file: fileNull, name: 'nothing', binDir: join(dir, 'bin') });
    expect(readFileSync(join(dir, 'bin', 'nothing'), 'utf8')).toContain('# cni-wasm launcher');
  });
});

describe('policy file edits', () => {
  it('an invalid document is never written; the old file stays', () => {
    writePolicyFile(policy, { version: 1, plugins: { a: { grant: { ipam: true } } } });
    expect(() => writePolicyFile(policy, { version: 1, plugins: { a: { grant: { ipam: 'yes' } } } })).toThrow(/ipam: must be true or false/);
    expect(JSON.parse(readFileSync(policy, 'utf8'))).toEqual({ version: 1, plugins: { a: { grant: { ipam: true } } } });
    expect(readdirSync(join(dir, 'etc'))).toEqual(['policy.json']);
  });

  it('the lock is exclusive: a second holder waits, then gives up naming the directory', () => {
    const t0 = performance.now();
    const inner = withPolicyLock(policy, () => {
      expect(() => withPolicyLock(policy, () => 1, 150)).toThrow(/another process holds the lock on .*etc/);
      return 7;
    });
    expect(inner).toBe(7);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(withPolicyLock(policy, () => 'free again')).toBe('free again');
  });
});
