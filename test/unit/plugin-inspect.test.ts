// `plugin inspect` (host/cli/plugin/inspect.ts) on components built from WAT fixtures with
// jco, and the operator wording of capabilities (describe.ts).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco';
import { beforeAll, describe, expect, it } from 'vitest';
import { LINK_KINDS, parseCapabilities } from '../../host/caps/manifest.ts';
import { capabilityText, describeCapabilities, specToJson } from '../../host/cli/plugin/describe.ts';
import { GRANT_KEYS } from '../../host/cli/plugin/grant.ts';
import { formatInspection, inspectBytes, typeFromFile } from '../../host/cli/plugin/inspect.ts';
import { buildCapsFixture, withCustomSection } from '../fixtures/hostile-caps/build.ts';
import { NULL_PLUGIN_WAT, PLUGIN_WIT, completeModule, coreModule } from '../fixtures/hostile/build.ts';

let grantUser: Uint8Array;
let overreach: Uint8Array;
let core: Uint8Array;
let fileReader: Uint8Array;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The null plugin with `manifest` as its cni-wasm:capabilities section (instead of its own `{"version":1}`). */
async function nullWithManifest(manifest: unknown): Promise<Uint8Array> {
  const wat = NULL_PLUGIN_WAT.replace(/\(@custom "cni-wasm:capabilities" .*\)/, '');
  const core = withCustomSection(await parse(completeModule(wat)), 'cni-wasm:capabilities', new TextEncoder().encode(JSON.stringify(manifest)));
  return componentNew(await componentEmbed({ binary: core, witSource: PLUGIN_WIT, world: 'plugin' }));
}

/** docs/capabilities.md's "At a glance" table: capability as named there -> what it allows, without the backticks. */
function docsTable(): Map<string, string> {
  const text = readFileSync(new URL('../../docs/capabilities.md', import.meta.url), 'utf8');
  const section = text.slice(text.indexOf('## At a glance'), text.indexOf('\n## ', text.indexOf('## At a glance') + 1));
  const rows = new Map<string, string>();
  for (const m of section.matchAll(/^\| (`[^|]+`) \| (.+) \|$/gm)) rows.set(m[1]!.replace(/`/g, ''), m[2]!.replace(/`/g, ''));
  return rows;
}

beforeAll(async () => {
  grantUser = await buildCapsFixture('grant-user');
  overreach = await buildCapsFixture('overreach');
  core = await coreModule(NULL_PLUGIN_WAT);
  fileReader = await nullWithManifest({ version: 1, store: ['${ipam.dataDir}'], files: { read: ['${ipam.resolvConf}', '/etc/hosts'] } });
});

describe('plugin inspect', () => {
  it('a component: world, interfaces, the host functions it calls, handler functions, memory, manifest, digest', () => {
    const i = inspectBytes('/x/grant-user.wasm', grantUser, sha(grantUser));
    expect(i.kind).toBe('component');
    expect(i.accepted).toBe(true);
    expect(i.refusal).toBeNull();
    expect(i.world).toBe('cni:plugin/plugin@0.1.0');
    expect(i.size).toBe(grantUser.length);
    expect(i.sha256).toBe(sha(grantUser));
    expect(i.imports.interfaces).toEqual(expect.arrayContaining(['cni:plugin/netlink@0.1.0', 'cni:plugin/sysctl@0.1.0']));
    expect(i.imports.functions).toEqual(['netlink.create-bridge', 'sysctl.set']);
    expect(i.exports.interfaces).toEqual(['cni:plugin/handler@0.1.0']);
    expect(i.exports.functions).toEqual(['add', 'del', 'check', 'status', 'gc']);
    expect(i.memory).toEqual({ minPages: 1, maxPages: null });
    expect(i.capabilities).toEqual({ version: 1, links: { create: ['bridge'] }, sysctl: { host: ['net.ipv4.ip_forward'] } });
    expect(i.capabilityLines.map((l) => l.name)).toEqual(['links.create: "bridge"', 'sysctl.host: "net.ipv4.ip_forward"']);
    const text = formatInspection(i);
    expect(text).toContain(sha(grantUser));
    expect(text).toContain('loads here   yes');
    expect(text).toContain('calls      netlink.create-bridge, sysctl.set');
    expect(text).toContain('read and write host-namespace sysctls matching "net.ipv4.ip_forward"');
    expect(JSON.parse(JSON.stringify(i))).toEqual(i);
  });

  it('every declared capability is listed, wildcards and all', () => {
    const i = inspectBytes('/x/overreach.wasm', overreach, sha(overreach));
    expect(i.accepted).toBe(true); // structure only: the policy refuses it later
    expect(i.capabilityLines.map((l) => l.name)).toEqual(['links.create: "bridge"', 'links.create: "vxlan"', 'links.host: "*"', 'sysctl.host: "net.**"', 'firewall']);
  });

  it('files.read: shown in the JSON and in words, placeholders explained', () => {
    const i = inspectBytes('/x/reader.wasm', fileReader, sha(fileReader));
    expect(i.accepted).toBe(true);
    expect(i.capabilities).toEqual({ version: 1, store: ['${ipam.dataDir}'], files: { read: ['${ipam.resolvConf}', '/etc/hosts'] } });
    expect(i.capabilityLines.map((l) => l.name)).toEqual(['store: "${ipam.dataDir}"', 'files.read: "${ipam.resolvConf}"', 'files.read: "/etc/hosts"']);
    const text = formatInspection(i);
    expect(text).toContain('capabilities declared: {"version":1,"store":["${ipam.dataDir}"],"files":{"read":["${ipam.resolvConf}","/etc/hosts"]}}');
    expect(text).toContain(
      '  - files.read: "${ipam.resolvConf}"\n' +
        '      read that one file, "${ipam.resolvConf}" (a regular file of at most 64 KiB of UTF-8 text); the path and, after following symlinks, ' +
        'the file actually opened must both be granted [${ipam.resolvConf} is the network config\'s "ipam.resolvConf" field]\n',
    );
  });

  it('a core module is not a plugin: refused with the runtime\'s reason, still described', () => {
    const i = inspectBytes('/x/null.wasm', core, sha(core));
    expect(i.kind).toBe('core-module');
    expect(i.accepted).toBe(false);
    expect(i.world).toBeNull();
    expect(i.refusal?.msg).toMatch(/core WebAssembly module, not a component/);
    expect(i.exports.functions).toEqual(['add', 'del', 'check', 'status', 'gc']);
    expect(i.capabilities).toEqual({ version: 1 });
    expect(formatInspection(i)).toContain('loads here   no: plugin "null": refused: it is a core WebAssembly module');
  });

  it('not WebAssembly at all', () => {
    const junk = new TextEncoder().encode('#!/bin/sh\necho hi\n');
    const i = inspectBytes('/x/junk.wasm', junk, sha(junk));
    expect(i.kind).toBe('other');
    expect(i.accepted).toBe(false);
    expect(i.imports.functions).toEqual([]);
    expect(formatInspection(i)).toContain('kind         not WebAssembly');
  });

  it('the type a file serves', () => {
    expect(typeFromFile('/a/b/tune.wasm')).toBe('tune');
    expect(typeFromFile('tune')).toBe('tune');
  });
});

describe('capabilities in operator terms', () => {
  it('one line per capability, for every key of the format; placeholders explained', () => {
    const spec = parseCapabilities(
      {
        links: { create: [...LINK_KINDS], host: ['${bridge:-cni0}'], read: ['${underlay}'], container: true },
        routes: { host: true },
        sysctl: { host: ['net.ipv4.ip_forward'], container: ['net.ipv4.conf.*.*'] },
        firewall: true,
        store: ['${ipam.dataDir}'],
        files: { read: ['${ipam.resolvConf}'] },
        ipam: true,
      },
      'test',
    ).spec;
    const lines = describeCapabilities(spec);
    expect(lines.map((l) => l.name)).toEqual([
      'links.create: "bridge"',
      'links.create: "veth"',
      'links.create: "vxlan"',
      'links.host: "${bridge:-cni0}"',
      'links.read: "${underlay}"',
      'links.container',
      'routes.host',
      'sysctl.host: "net.ipv4.ip_forward"',
      'sysctl.container: "net.ipv4.conf.*.*"',
      'firewall',
      'store: "${ipam.dataDir}"',
      'files.read: "${ipam.resolvConf}"',
      'ipam',
    ]);
    expect(lines[3]!.allows).toContain('[${bridge} is the network config\'s "bridge" field (or "cni0" when it is absent)');
    expect(lines[4]!.allows).toContain('never change them');
    expect(capabilityText(parseCapabilities({}, 't').spec)).toContain('nothing beyond logging');
    // The JSON form round-trips through the validator.
    expect(parseCapabilities(specToJson(spec), 'rt').spec).toEqual(spec);
    expect(specToJson(parseCapabilities({}, 't').spec)).toEqual({ version: 1 });
    expect(specToJson(spec).files).toEqual({ read: ['${ipam.resolvConf}'] });
  });

  it('in the words of docs/capabilities.md, which lists every capability key', () => {
    const docs = docsTable();
    // Every key of the format has a row: `links.container`, or `files.read: "<path>"` for a list.
    for (const key of GRANT_KEYS) expect([...docs.keys()].some((n) => n === key || n.startsWith(`${key}: `)), key).toBe(true);
    // Capabilities without a pattern: the same words exactly.
    const fixed = parseCapabilities({ links: { create: [...LINK_KINDS], container: true }, routes: { host: true }, firewall: true, ipam: true }, 't').spec;
    for (const l of describeCapabilities(fixed)) expect(l.allows, l.name).toBe(docs.get(l.name));
    // files.read: the table's words with the path named.
    const f = describeCapabilities(parseCapabilities({ files: { read: ['/etc/resolv.conf'] } }, 't').spec);
    expect(f[0]!.allows.replace(', "/etc/resolv.conf"', '')).toBe(docs.get('files.read: "<path>"'));
  });
});
