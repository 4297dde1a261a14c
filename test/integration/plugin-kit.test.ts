// The third-party author's journey, end to end through the built binary dist/cni-wasm.cjs:
// scaffold a project in a temporary folder (outside the repository), build it, inspect it,
// install it with a grant (and a WAT plugin written without the SDK), run it in a network
// configuration list after bridge in throwaway namespaces, then change the module and see it
// refused by the pinned digest, and see a plugin whose manifest asks for more than its grant
// refused at load, naming the missing capability. `plugin test` runs the scaffold's own test.
//
// The bridge is the wasm one when the build made dist/plugins/bridge.wasm, else the reference
// plugin from /usr/lib/cni (the test says which in its name).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINARY } from '../binary/run-binary.ts';
import { cleanup, makeNetns, type Netns } from '../harness/netns.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST_PLUGINS = join(ROOT, 'dist', 'plugins');
const WASM_BRIDGE = existsSync(join(DIST_PLUGINS, 'bridge.wasm'));
const BRIDGE_KIND = WASM_BRIDGE ? 'the wasm bridge' : 'the reference bridge';
const NET = 'kit';

let top: string;
let project: string;
let node: Netns;
let ctr: Netns;
let firstSha = '';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [BINARY, ...args], {
    cwd: opts.cwd ?? top,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run): Run {
  if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

const paths = () => ({ plugins: join(top, 'plugins'), policy: join(top, 'policy.json'), bin: join(top, 'bin'), netd: join(top, 'net.d'), cache: join(top, 'cache') });

/** The environment a runtime on the node would have, plus the audit log. */
function runtimeEnv(logFile: string): Record<string, string> {
  const p = paths();
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NETCONFPATH: p.netd,
    CNI_PATH: [p.bin, DIST_PLUGINS, '/usr/lib/cni'].join(':'),
    CNI_WASM_PLUGIN_DIR: p.plugins,
    CNI_WASM_POLICY: p.policy,
    CNI_LOG_LEVEL: 'debug',
    CNI_LOG_FILE: logFile,
  };
}

let runs = 0;
/** `cni-wasm net <op> kit <ctr>` inside the node namespace, as cnitool on a node would. */
function net(op: string): Run & { log: Record<string, unknown>[] } {
  const logFile = join(top, `net-${++runs}.jsonl`);
  const r = node.spawn(process.execPath, [BINARY, 'net', op, NET, ctr.path, '--cache-dir', paths().cache], { env: runtimeEnv(logFile) });
  const log = existsSync(logFile)
    ? readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, log };
}

function build(dir: string, out?: string): Run {
  return ok(cli(['plugin', 'build', dir, ...(out ? ['-o', out] : [])]));
}

function install(file: string, ...args: string[]): Run {
  const p = paths();
  return cli(['plugin', 'install', file, '--plugin-dir', p.plugins, '--policy', p.policy, '--bin-dir', p.bin, ...args]);
}

beforeAll(() => {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first (npm test does)`);
  top = mkdtempSync(join(tmpdir(), 'plugin-kit-'));
  project = join(top, 'journey');
  node = makeNetns('kit-node');
  ctr = makeNetns('kit-ctr');
  const p = paths();
  mkdirSync(p.netd);
  if (WASM_BRIDGE) ok(cli(['install', '--dir', p.bin, '--plugins', 'bridge,host-local']));
  writeFileSync(
    join(p.netd, '10-kit.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: NET,
      plugins: [
        { type: 'bridge', bridge: 'cniwkit0', isGateway: true, ipam: { type: 'host-local', subnet: '10.252.0.0/24', dataDir: join(top, 'ipam') } },
        { type: 'journey' },
        { type: 'passthrough' },
      ],
    }),
  );
});

afterAll(() => {
  cleanup();
  if (top) rmSync(top, { recursive: true, force: true });
});

const audit = (log: Record<string, unknown>[], plugin: string) => log.filter((l) => l.plugin === plugin && l.audit === true && typeof l.call === 'string');
const pluginLines = (log: Record<string, unknown>[], plugin: string) => log.filter((l) => l.plugin === plugin && l.source === 'plugin').map((l) => l.msg);

describe('a third-party plugin, from an empty folder to a conflist', () => {
  it('scaffolds a project outside the repository, builds it, inspects it', () => {
    const made = ok(cli(['plugin', 'new', 'journey', '--dir', project]));
    expect(made.stdout).toContain(`created ${project}`);
    expect(existsSync(join(project, 'node_modules', '@cni-wasm', 'sdk', 'index.ts'))).toBe(true);
    const b = build(project);
    expect(b.stdout).toMatch(/built plugin "journey" \(AssemblyScript\)/);
    const file = join(project, 'build', 'journey.wasm');
    expect(existsSync(file)).toBe(true);
    const i = JSON.parse(ok(cli(['plugin', 'inspect', file, '--json'])).stdout) as {
      world: string;
      accepted: boolean;
      sha256: string;
      size: number;
      imports: { functions: string[] };
      exports: { functions: string[] };
      capabilities: unknown;
    };
    expect(i.world).toBe('cni:plugin/plugin@0.1.0');
    expect(i.accepted).toBe(true);
    expect(i.size).toBe(readFileSync(file).length);
    expect(i.imports.functions.sort()).toEqual(['log.write', 'netlink.get-link']);
    expect(i.exports.functions).toEqual(['add', 'del', 'check', 'status', 'gc']);
    expect(i.capabilities).toEqual({ version: 1, links: { container: true } });
    firstSha = i.sha256;
    const text = ok(cli(['plugin', 'inspect', file])).stdout;
    expect(text).toContain(`sha256       ${firstSha}`);
    expect(text).toContain('- links.container');
  }, 240_000);

  it('installs it with a grant, pinned to its digest, and a WAT plugin made without the SDK', () => {
    const r = ok(install(join(project, 'build', 'journey.wasm'), '--grant', 'links.container'));
    expect(r.stdout).toContain('grant for "journey" (what the plugin may do):\n  - links.container\n      read and change links');
    expect(r.stdout).toContain('the plugin declares exactly this.');
    const policy = JSON.parse(readFileSync(paths().policy, 'utf8')) as { plugins: Record<string, { grant: unknown; sha256: string }> };
    expect(policy.plugins.journey).toEqual({ grant: { version: 1, links: { container: true } }, sha256: firstSha });
    expect(readFileSync(join(paths().bin, 'journey'), 'utf8')).toContain('# cni-wasm launcher');

    // The ABI is the contract: a component written in WebAssembly text, no SDK, no compiler.
    const wat = join(top, 'passthrough.wasm');
    const b = build(join(ROOT, 'examples', 'passthrough'), wat);
    expect(b.stdout).toContain('(WebAssembly text)');
    const w = ok(install(wat));
    expect(w.stdout).toContain('nothing beyond logging and answering the runtime');
    expect(existsSync(join(paths().plugins, 'passthrough.wasm'))).toBe(true);
  }, 120_000);

  it(`runs in a conflist after ${BRIDGE_KIND} in throwaway namespaces (ADD, CHECK, DEL), the result passing through`, () => {
    const add = net('add');
    expect(add.status, add.stdout + add.stderr).toBe(0);
    const result = JSON.parse(add.stdout) as { interfaces: { name: string; sandbox?: string }[]; ips: { address: string; gateway: string; interface: number }[] };
    // bridge's result, passed on unchanged by journey and then by the WAT passthrough.
    const eth0 = result.interfaces.findIndex((i) => i.name === 'eth0' && i.sandbox === ctr.path);
    expect(eth0).toBeGreaterThanOrEqual(0);
    expect(result.ips).toEqual([{ interface: eth0, address: expect.stringMatching(/^10\.252\.0\.\d+\/24$/) as unknown as string, gateway: '10.252.0.1' }]);
    const addrs = ctr.ipJson<{ ifname: string; addr_info: { local: string }[] }[]>('addr', 'show', 'eth0');
    expect(addrs[0]?.addr_info.map((a) => a.local)).toContain(result.ips[0]!.address.split('/')[0]);
    // What journey did, from the audit log: one host call, one line of its own.
    expect(audit(add.log, 'journey').map((l) => [l.call, l.outcome, l.command])).toEqual([['netlink.get-link', 'ok', 'ADD']]);
    expect(pluginLines(add.log, 'journey')).toEqual(['eth0 is up: yes, mtu 1500']);
    expect(pluginLines(add.log, 'passthrough')).toEqual(['passthrough: passing the previous result on']);

    const check = net('check');
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(audit(check.log, 'journey').map((l) => l.call)).toEqual(['netlink.get-link']);
    const del = net('del');
    expect(del.status, del.stdout + del.stderr).toBe(0);
    expect(ctr.ipJson<{ ifname: string }[]>('link', 'show').map((l) => l.ifname)).toEqual(['lo']);
  }, 60_000);

  it('a changed module is refused by the pinned digest, naming both; installing the new build moves the pin', () => {
    const src = join(project, 'index.ts');
    writeFileSync(src, readFileSync(src, 'utf8').replace('" is up: "', '" up: "'));
    build(project);
    const changed = join(project, 'build', 'journey.wasm');
    const newSha = (JSON.parse(ok(cli(['plugin', 'inspect', changed, '--json'])).stdout) as { sha256: string }).sha256;
    expect(newSha).not.toBe(firstSha);
    // Replace the installed file behind the policy's back.
    writeFileSync(join(paths().plugins, 'journey.wasm'), readFileSync(changed));
    const add = net('add');
    expect(add.status).toBe(1);
    const err = JSON.parse(add.stdout) as { code: number; msg: string; details: string };
    expect(err.code).toBe(100);
    // libcni's wrapping, then the host's refusal.
    expect(err.msg).toBe(`plugin type="journey" failed (add): plugin "journey": refused: its sha256 ${newSha} is not the one the policy pins`);
    expect(err.details).toContain(`pinned: ${firstSha}`);
    expect(add.log.some((l) => l.type === 'journey' && l.outcome === 'error' && l.code === 100)).toBe(true);

    // The operator installs the new build: same grant, new pin; the network works again.
    const up = ok(install(changed, '--grant', 'links.container'));
    expect(up.stdout).toContain('the grant is unchanged, pinned to this sha256');
    expect(up.stdout).toContain(`previously pinned: ${firstSha}`);
    expect((JSON.parse(readFileSync(paths().policy, 'utf8')) as { plugins: { journey: { sha256: string } } }).plugins.journey.sha256).toBe(newSha);
    const del = net('del'); // the bridge's half-made attachment from the refused ADD
    expect(del.status, del.stdout).toBe(0);
    const again = net('add');
    expect(again.status, again.stdout).toBe(0);
    expect(pluginLines(again.log, 'journey')).toEqual(['eth0 up: yes, mtu 1500']);
    expect(net('del').status).toBe(0);
  }, 240_000);

  it('never widens a grant silently', () => {
    const r = install(join(project, 'build', 'journey.wasm'), '--grant', 'links.container', '--grant', 'firewall');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('refusing to widen the grant of "journey"');
    expect(r.stderr).toContain('  - firewall\n');
  });

  it('a manifest asking for more than the grant is refused at load, naming the missing capability', () => {
    const file = join(project, 'build', 'journey.wasm');
    const r = ok(install(file, '--name', 'journey-narrow', '--grant', 'links.create=veth'));
    expect(r.stdout).toContain('WARNING: the grant does not cover all of it; the plugin will be refused at load');
    expect(r.stdout).toContain('  - links.container\n');
    const logFile = join(top, 'narrow.jsonl');
    const conf = {
      cniVersion: '1.0.0',
      name: NET,
      type: 'journey-narrow',
      prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: ctr.path }], ips: [] },
    };
    const a = node.spawn(process.execPath, [BINARY], {
      input: JSON.stringify(conf),
      env: { ...runtimeEnv(logFile), CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c-narrow', CNI_NETNS: ctr.path, CNI_IFNAME: 'eth0' },
    });
    expect(a.status).toBe(1);
    const err = JSON.parse(a.stdout) as { code: number; msg: string; details: string };
    expect(err.code).toBe(100);
    expect(err.msg).toBe('plugin "journey-narrow": refused: asks for capabilities it is not granted: links.container');
    expect(err.details).toContain(`policy: ${paths().policy}`);
  });

  it('plugin test runs the scaffold\'s own test config in throwaway namespaces and prints the host calls', () => {
    const conflist = join(project, 'test', 'conflist.json');
    const doc = JSON.parse(readFileSync(conflist, 'utf8')) as { plugins: { ipam?: { dataDir?: string } }[] };
    doc.plugins[0]!.ipam!.dataDir = join(top, 'ipam-test');
    writeFileSync(conflist, JSON.stringify(doc));
    const r = cli(['plugin', 'test', 'build/journey.wasm', '--config', 'test/conflist.json', '--grant-declared'], {
      cwd: project,
      env: { CNI_PATH: [DIST_PLUGINS, '/usr/lib/cni'].join(':'), CNI_WASM_PLUGIN_DIR: DIST_PLUGINS },
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\nADD {3}ok\n {2}result: \{"cniVersion":"1\.0\.0"/);
    expect(r.stdout).toContain('netlink.get-link("container", "eth0") -> ok');
    expect(r.stdout).toContain('log info: eth0 up: yes, mtu 1500');
    expect(r.stdout).toContain('passed: ADD ok, CHECK ok, DEL ok');
    const ns = /namespaces (cniw-ptest-[0-9a-f]+)-node/.exec(r.stdout)?.[1];
    expect(ns).toBeDefined();
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(ns!);

    // Under the operator's policy, the narrow grant: refused at load, reported, and still cleaned up.
    const narrow = join(top, 'narrow.conflist');
    writeFileSync(narrow, JSON.stringify({ ...doc, plugins: [doc.plugins[0], { type: 'journey-narrow' }] }));
    const f = cli(['plugin', 'test', join(paths().plugins, 'journey-narrow.wasm'), '--config', narrow, '--policy', paths().policy], {
      cwd: project,
      env: { CNI_PATH: [DIST_PLUGINS, '/usr/lib/cni'].join(':'), CNI_WASM_PLUGIN_DIR: DIST_PLUGINS },
    });
    expect(f.status).toBe(1);
    expect(f.stdout).toContain('ADD   FAILED');
    expect(f.stdout).toContain('answered CNI error 100: ADD failed: plugin "journey-narrow": refused: asks for capabilities it is not granted: links.container');
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(/cniw-ptest-/);
  }, 120_000);
});
