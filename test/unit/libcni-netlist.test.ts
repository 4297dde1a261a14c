// ADD/CHECK/DEL/GC/STATUS of a list, against a recording fake plugin (test/fixtures/libcni/
// fake-plugin.mjs, exec'd for real). It touches no network, so this runs in any namespace.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CniError } from '../../host/cni/errors.ts';
import { CniConfig, RawExec, confListFromBytes, type NetworkConfigList, type RuntimeConf } from '../../host/cni/libcni/index.ts';

const FAKE = resolve('test/fixtures/libcni/fake-plugin.mjs');

interface Call {
  plugin: string;
  env: Record<string, string>;
  conf: Record<string, unknown>;
}

let dir: string;
let bin: string;
let log: string;
let cni: CniConfig;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'libcni-netlist-'));
  bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const n of ['fakea', 'fakeb', 'fakec']) symlinkSync(FAKE, join(bin, n));
  log = join(dir, 'calls.jsonl');
  process.env.FAKE_LOG = log;
  cni = new CniConfig({ path: [join(dir, 'empty'), bin], cacheDir: join(dir, 'cache') });
});
afterEach(() => {
  delete process.env.FAKE_LOG;
  rmSync(dir, { recursive: true, force: true });
});

function calls(): Call[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Call);
}

function mkList(version: string, plugins: Record<string, unknown>[], extra: Record<string, unknown> = {}): NetworkConfigList {
  return confListFromBytes(Buffer.from(JSON.stringify({ cniVersion: version, name: 'testnet', plugins, ...extra })));
}

const rt = (over: Partial<RuntimeConf> = {}): RuntimeConf => ({
  containerId: 'ctr1',
  netns: '/var/run/netns/none',
  ifName: 'eth0',
  args: [['IgnoreUnknown', '1']],
  capabilityArgs: { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'tcp' }] },
  ...over,
});

async function rejected(p: Promise<unknown>): Promise<CniError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CniError);
    return e as CniError;
  }
  throw new Error('expected a rejection');
}

const cacheFile = (cid = 'ctr1', ifName = 'eth0') => join(dir, 'cache', 'results', `testnet-${cid}-${ifName}`);

describe('addNetworkList', () => {
  it('chains prevResult, injects name/cniVersion/runtimeConfig, sets the CNI_* env and caches the last result', async () => {
    const list = mkList('1.0.0', [{ type: 'fakea', name: 'own' }, { type: 'fakeb', capabilities: { portMappings: true } }]);
    const result = await cni.addNetworkList(list, rt());
    expect(result).toEqual({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'fakea' }, { name: 'fakeb' }],
      ips: [{ address: '10.99.0.2/24', gateway: '10.99.0.1', interface: 0 }],
    });
    const [a, b] = calls();
    expect(a!.plugin).toBe('fakea');
    expect(a!.env).toEqual({
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'ctr1',
      CNI_NETNS: '/var/run/netns/none',
      CNI_IFNAME: 'eth0',
      CNI_ARGS: 'IgnoreUnknown=1',
      CNI_PATH: `${join(dir, 'empty')}:${bin}`,
    });
    expect(a!.conf).toEqual({ type: 'fakea', name: 'testnet', cniVersion: '1.0.0' });
    expect(b!.conf.prevResult).toEqual({ cniVersion: '1.0.0', interfaces: [{ name: 'fakea' }], ips: [{ address: '10.99.0.2/24', gateway: '10.99.0.1', interface: 0 }] });
    expect(b!.conf.runtimeConfig).toEqual({ portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'tcp' }] });
    const cached = JSON.parse(readFileSync(cacheFile(), 'utf8')) as Record<string, unknown>;
    expect(cached.kind).toBe('cniCacheV1');
    expect(Buffer.from(cached.config as string, 'base64').equals(list.bytes)).toBe(true);
    expect(cached.result).toEqual(result);
  });

  it("takes a result without cniVersion to be of the config's version", async () => {
    const result = await cni.addNetworkList(mkList('0.4.0', [{ type: 'fakea', fake: { noVersion: true } }]), rt());
    expect(result?.cniVersion).toBe('0.4.0');
  });

  it("keeps the plugin's error code, message and details, naming the plugin; nothing is cached", async () => {
    const list = mkList('1.0.0', [{ type: 'fakea' }, { type: 'fakeb', name: 'b', fake: { fail: { code: 11, msg: 'busy', details: 'try later' } } }]);
    const e = await rejected(cni.addNetworkList(list, rt()));
    expect(e.code).toBe(11);
    expect(e.message).toBe('plugin type="fakeb" name="b" failed (add): busy');
    expect(e.details).toBe('try later');
    expect(existsSync(cacheFile())).toBe(false);
  });

  it('reports a plugin whose error output is not JSON, and one that printed nothing', async () => {
    const e = await rejected(cni.addNetworkList(mkList('1.0.0', [{ type: 'fakea', fake: { garbage: 'oops' } }]), rt()));
    expect(e.message).toBe('plugin type="fakea" failed (add): netplugin failed but error parsing its diagnostic message "oops": Unexpected token \'o\', "oops" is not valid JSON');
    const e2 = await rejected(cni.addNetworkList(mkList('1.0.0', [{ type: 'fakea', fake: { garbage: '', stderr: 'on fire' } }]), rt()));
    expect(e2.message).toBe('plugin type="fakea" failed (add): netplugin failed: "on fire": exit status 1');
  });

  it('names the searched CNI_PATH directories when a plugin is missing', async () => {
    const e = await rejected(cni.addNetworkList(mkList('1.0.0', [{ type: 'nosuch' }]), rt()));
    expect(e.code).toBe(4);
    expect(e.message).toBe(`plugin type="nosuch" failed (add): failed to find plugin "nosuch" in path [${join(dir, 'empty')} ${bin}]`);
    expect(calls()).toEqual([]);
  });

  it('validates container id, network name and interface name before running anything', async () => {
    expect((await rejected(cni.addNetworkList(mkList('1.0.0', [{ type: 'fakea' }]), rt({ containerId: '' })))).code).toBe(3);
    expect((await rejected(cni.addNetworkList(mkList('1.0.0', [{ type: 'fakea' }]), rt({ containerId: 'a/b' })))).code).toBe(4);
    expect((await rejected(cni.addNetworkList(mkList('1.0.0', [{ type: 'fakea' }]), rt({ ifName: 'a-very-long-ifname' })))).message).toContain('interface name is too long');
    const badName = confListFromBytes(Buffer.from(JSON.stringify({ cniVersion: '1.0.0', name: 'bad name', plugins: [{ type: 'fakea' }] })));
    expect((await rejected(cni.addNetworkList(badName, rt()))).code).toBe(7);
    expect(calls()).toEqual([]);
  });

  it("copies a successful plugin's stderr to the given sink", async () => {
    let err = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        err += chunk.toString();
        cb();
      },
    });
    const quiet = new CniConfig({ path: [bin], cacheDir: join(dir, 'cache'), exec: new RawExec(sink) });
    await quiet.addNetworkList(mkList('1.0.0', [{ type: 'fakea', fake: { stderr: 'note\n' } }]), rt());
    expect(err).toBe('note\n');
  });
});

describe('checkNetworkList', () => {
  it('gives every plugin the cached result as prevResult', async () => {
    const list = mkList('1.0.0', [{ type: 'fakea' }, { type: 'fakeb' }]);
    const added = await cni.addNetworkList(list, rt());
    await cni.checkNetworkList(list, rt());
    const checks = calls().filter((c) => c.env.CNI_COMMAND === 'CHECK');
    expect(checks.map((c) => c.plugin)).toEqual(['fakea', 'fakeb']);
    for (const c of checks) expect(c.conf.prevResult).toEqual(added);
  });

  it('refuses lists below 0.4.0 and runs nothing with disableCheck', async () => {
    const e = await rejected(cni.checkNetworkList(mkList('0.3.1', [{ type: 'fakea' }]), rt()));
    expect(e.message).toBe('configuration version "0.3.1" does not support the CHECK command');
    await cni.checkNetworkList(mkList('1.0.0', [{ type: 'fakea' }], { disableCheck: true }), rt());
    expect(calls()).toEqual([]);
  });

  it('returns the first failing plugin error as it is', async () => {
    const list = mkList('1.0.0', [{ type: 'fakea', fake: { failOn: ['CHECK'], fail: { code: 7, msg: 'wrong address' } } }]);
    await cni.addNetworkList(list, rt());
    const e = await rejected(cni.checkNetworkList(list, rt()));
    expect([e.code, e.message]).toEqual([7, 'wrong address']);
  });
});

describe('delNetworkList', () => {
  it('runs plugins in reverse order with the cached result, then drops the cache entry', async () => {
    const list = mkList('1.0.0', [{ type: 'fakea' }, { type: 'fakeb' }, { type: 'fakec' }]);
    const added = await cni.addNetworkList(list, rt());
    await cni.delNetworkList(list, rt());
    const dels = calls().filter((c) => c.env.CNI_COMMAND === 'DEL');
    expect(dels.map((c) => c.plugin)).toEqual(['fakec', 'fakeb', 'fakea']);
    for (const c of dels) expect(c.conf.prevResult).toEqual(added);
    expect(existsSync(cacheFile())).toBe(false);
    // A second DEL finds no cache and still succeeds, with no prevResult.
    await cni.delNetworkList(list, rt());
    expect(calls().slice(-3).every((c) => !('prevResult' in c.conf))).toBe(true);
  });

  it('gives no prevResult below 0.4.0', async () => {
    const list = mkList('0.3.1', [{ type: 'fakea' }]);
    await cni.addNetworkList(list, rt());
    await cni.delNetworkList(list, rt());
    expect('prevResult' in calls().at(-1)!.conf).toBe(false);
  });

  it('drops an unreadable cache entry and goes on', async () => {
    mkdirSync(join(dir, 'cache', 'results'), { recursive: true });
    writeFileSync(cacheFile(), '{"kind":"cniCacheV1","result":{"cniVersion":"1.0.0","ips":[{"address":"bad"}]}}');
    await cni.delNetworkList(mkList('1.0.0', [{ type: 'fakea' }]), rt());
    expect('prevResult' in calls()[0]!.conf).toBe(false);
    expect(existsSync(cacheFile())).toBe(false);
  });

  it('keeps the cache entry when a plugin fails', async () => {
    const list = mkList('1.0.0', [{ type: 'fakea', fake: { failOn: ['DEL'], fail: { code: 5, msg: 'io' } } }]);
    await cni.addNetworkList(list, rt());
    const e = await rejected(cni.delNetworkList(list, rt()));
    expect(e.message).toBe('plugin type="fakea" failed (delete): io');
    expect(existsSync(cacheFile())).toBe(true);
  });
});

describe('gcNetworkList', () => {
  async function addThree(list: NetworkConfigList): Promise<void> {
    await cni.addNetworkList(list, rt({ containerId: 'keep' }));
    await cni.addNetworkList(list, rt({ containerId: 'stale', args: [['A', 'b']] }));
    const other = confListFromBytes(Buffer.from(JSON.stringify({ cniVersion: '1.0.0', name: 'othernet', plugins: [{ type: 'fakea' }] })));
    await cni.addNetworkList(other, rt({ containerId: 'stale' }));
  }

  it('at 1.1.0: DELs stale attachments of this network with their cached args, then sends GC with valid-attachments', async () => {
    const list = mkList('1.1.0', [{ type: 'fakea' }, { type: 'fakeb' }]);
    await addThree(list);
    const before = calls().length;
    await cni.gcNetworkList(list, { validAttachments: [{ containerID: 'keep', ifname: 'eth0' }] });
    const gc = calls().slice(before);
    expect(gc.map((c) => `${c.env.CNI_COMMAND} ${c.plugin} ${c.env.CNI_CONTAINERID}`)).toEqual([
      'DEL fakeb stale',
      'DEL fakea stale',
      'GC fakea ',
      'GC fakeb ',
    ]);
    expect(gc[0]!.env.CNI_ARGS).toBe('A=b');
    expect(gc[2]!.env).toMatchObject({ CNI_NETNS: '', CNI_IFNAME: '', CNI_ARGS: '', CNI_PATH: `${join(dir, 'empty')}:${bin}` });
    expect(gc[2]!.conf['cni.dev/valid-attachments']).toEqual([{ containerID: 'keep', ifname: 'eth0' }]);
    expect(gc[2]!.conf['cni.dev/attachments']).toEqual([{ containerID: 'keep', ifname: 'eth0' }]);
    expect(gc[2]!.conf).toMatchObject({ name: 'testnet', cniVersion: '1.1.0' });
    expect(existsSync(cacheFile('keep'))).toBe(true);
    expect(existsSync(cacheFile('stale'))).toBe(false);
    expect(cni.getCachedAttachments('stale').map((a) => a.network)).toEqual(['othernet']);
  });

  it('with no args (cnitool): every attachment of the network goes, and GC carries no valid-attachments', async () => {
    const list = mkList('1.1.0', [{ type: 'fakea' }]);
    await addThree(list);
    const before = calls().length;
    await cni.gcNetworkList(list);
    const gc = calls().slice(before);
    expect(gc.map((c) => `${c.env.CNI_COMMAND} ${c.env.CNI_CONTAINERID}`)).toEqual(['DEL keep', 'DEL stale', 'GC ']);
    expect('cni.dev/valid-attachments' in gc[2]!.conf).toBe(false);
  });

  it('below 1.1.0 only cleans the cache; with disableGC does nothing', async () => {
    const list = mkList('1.0.0', [{ type: 'fakea' }]);
    await addThree(list);
    const before = calls().length;
    await cni.gcNetworkList(mkList('1.0.0', [{ type: 'fakea' }], { disableGC: true }), { validAttachments: [] });
    expect(calls().length).toBe(before);
    await cni.gcNetworkList(list, { validAttachments: [] });
    expect(calls().slice(before).map((c) => c.env.CNI_COMMAND)).toEqual(['DEL', 'DEL']);
    expect(cni.getCachedAttachments().map((a) => a.network)).toEqual(['othernet']);
  });

  it('collects errors and goes on', async () => {
    const list = mkList('1.1.0', [{ type: 'fakea', fake: { failOn: ['DEL', 'GC'], fail: { code: 11, msg: 'later' } } }]);
    await cni.addNetworkList(list, rt({ containerId: 'c1' }));
    await cni.addNetworkList(list, rt({ containerId: 'c2' }));
    const e = await rejected(cni.gcNetworkList(list, { validAttachments: [] }));
    expect(e.message.split('\n')).toEqual([
      'failed to delete stale attachment c1 eth0: plugin type="fakea" failed (delete): later',
      'failed to delete stale attachment c2 eth0: plugin type="fakea" failed (delete): later',
      'failed to GC plugin fakea: later',
    ]);
    expect(e.code).toBe(11);
  });
});

describe('getStatusNetworkList', () => {
  it('at 1.1.0 asks each plugin and stops at the first error; below that is simply ready', async () => {
    await cni.getStatusNetworkList(mkList('1.0.0', [{ type: 'fakea' }]));
    expect(calls()).toEqual([]);
    await cni.getStatusNetworkList(mkList('1.1.0', [{ type: 'fakea' }, { type: 'fakeb' }]));
    expect(calls().map((c) => `${c.env.CNI_COMMAND} ${c.plugin} ${c.conf.name}`)).toEqual(['STATUS fakea testnet', 'STATUS fakeb testnet']);
    const list = mkList('1.1.0', [{ type: 'fakea', fake: { fail: { code: 50, msg: 'not ready' } } }, { type: 'fakeb' }]);
    const e = await rejected(cni.getStatusNetworkList(list));
    expect([e.code, e.message]).toEqual([50, 'not ready']);
    expect(calls().at(-1)!.plugin).toBe('fakea');
  });
});

describe('validateNetworkList / getVersionInfo', () => {
  it("checks each plugin's VERSION answer against the list version and returns declared capabilities", async () => {
    const list = mkList('1.1.0', [{ type: 'fakea', capabilities: { portMappings: true, bandwidth: false } }, { type: 'fakeb', capabilities: { ips: true } }]);
    expect((await cni.validateNetworkList(list)).sort()).toEqual(['ips', 'portMappings']);
    expect((await cni.getVersionInfo('fakea')).supportedVersions).toContain('1.1.0');
    process.env.FAKE_VERSIONS = '0.4.0,1.0.0';
    try {
      await expect(cni.validateNetworkList(list)).rejects.toThrow('plugin fakea does not support config version "1.1.0"');
    } finally {
      delete process.env.FAKE_VERSIONS;
    }
  });
});
