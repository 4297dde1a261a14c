// The result cache in libcni's format (api.go cachedInfo).
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CniConfig, ResultCache, confListFromBytes, type RuntimeConf } from '../../host/cni/libcni/index.ts';
import { decodeCachedInfo } from '../../host/cni/libcni/cache.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'libcni-cache-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const rt: RuntimeConf = {
  containerId: 'cid1',
  netns: '/var/run/netns/c1',
  ifName: 'eth0',
  args: [['K8S_POD_NAME', 'p<1>']],
  capabilityArgs: { portMappings: [{ hostPort: 80, containerPort: 8080, protocol: 'tcp' }], bandwidth: { ingressRate: 1 } },
};
const result = { cniVersion: '1.0.0', ips: [{ address: '10.1.0.2/24', gateway: '10.1.0.1' }], interfaces: [{ name: 'eth0' }], dns: {} };

describe('ResultCache', () => {
  it('writes <dir>/results/<net>-<cid>-<ifname>, dir 0700, file 0600, exactly as libcni marshals it', () => {
    const cache = new ResultCache(join(dir, 'c'));
    const config = Buffer.from('{"name":"n", "cniVersion":"1.0.0"}\n');
    cache.add(result, config, 'n', rt);
    const file = join(dir, 'c', 'results', 'n-cid1-eth0');
    expect(statSync(join(dir, 'c', 'results')).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(
      '{"kind":"cniCacheV1","containerId":"cid1","config":"' +
        config.toString('base64') +
        '","ifName":"eth0","networkName":"n","netns":"/var/run/netns/c1",' +
        '"cniArgs":[["K8S_POD_NAME","p\\u003c1\\u003e"]],' +
        '"capabilityArgs":{"bandwidth":{"ingressRate":1},"portMappings":[{"containerPort":8080,"hostPort":80,"protocol":"tcp"}]},' +
        '"result":{"cniVersion":"1.0.0","dns":{},"interfaces":[{"name":"eth0"}],"ips":[{"address":"10.1.0.2/24","gateway":"10.1.0.1"}]}}',
    );
    // Nothing else is left in the cache directory (no temporary files).
    expect(readdirSync(join(dir, 'c'))).toEqual(['results']);
  });

  it('leaves out empty netns, cniArgs, capabilityArgs and result (omitempty)', () => {
    const cache = new ResultCache(dir);
    cache.add(undefined, Buffer.from('{}'), 'n', { containerId: 'c', netns: '', ifName: 'e', args: [], capabilityArgs: {} });
    expect(readFileSync(join(dir, 'results', 'n-c-e'), 'utf8')).toBe('{"kind":"cniCacheV1","containerId":"c","config":"e30=","ifName":"e","networkName":"n"}');
  });

  it('keeps an existing results directory as it is and replaces an entry whole', () => {
    mkdirSync(join(dir, 'results'), { mode: 0o755 });
    chmodSync(join(dir, 'results'), 0o755);
    const cache = new ResultCache(dir);
    cache.add(result, Buffer.from('{}'), 'n', rt);
    cache.add({ cniVersion: '1.0.0' }, Buffer.from('{}'), 'n', rt);
    expect(statSync(join(dir, 'results')).mode & 0o777).toBe(0o755);
    expect(decodeCachedInfo(readFileSync(join(dir, 'results', 'n-cid1-eth0'), 'utf8')).result).toEqual({ cniVersion: '1.0.0' });
  });

  it('reads back config, args and capability args', () => {
    const cache = new ResultCache(dir);
    cache.add(result, Buffer.from('cfg'), 'n', rt);
    const got = cache.getConfig('n', { containerId: 'cid1', ifName: 'eth0', netns: '/other', args: [] });
    expect(got?.config.toString()).toBe('cfg');
    expect(got?.rt).toEqual({ containerId: 'cid1', ifName: 'eth0', netns: '/other', args: rt.args, capabilityArgs: rt.capabilityArgs });
    expect(cache.getResult('n', rt)).toEqual(result);
    expect(cache.getResult('n', { ...rt, ifName: 'eth1' })).toBeUndefined();
  });

  it('refuses a wrong kind for config and reads a pre-cniCacheV1 file as a bare result', () => {
    mkdirSync(join(dir, 'results'));
    writeFileSync(join(dir, 'results', 'n-cid1-eth0'), JSON.stringify({ cniVersion: '0.4.0', ips: [] }));
    const cache = new ResultCache(dir);
    expect(() => cache.getConfig('n', rt)).toThrow(/has wrong kind/);
    expect(cache.getResult('n', rt)).toEqual({ cniVersion: '0.4.0', ips: [] });
  });

  it('needs network, container id and interface name for a path', () => {
    expect(() => new ResultCache(dir).filePath('', rt)).toThrow(/cache file path requires network name \(""\)/);
    expect(() => new ResultCache(dir).del('n', { containerId: '', ifName: 'x' })).not.toThrow();
    // Nothing outside results/ can be named, whatever DEL is given.
    expect(() => new ResultCache(dir).filePath('n', { containerId: 'c', ifName: '../../../etc/passwd' })).toThrow(/invalid interface name/);
    writeFileSync(join(dir, 'victim'), 'x');
    new ResultCache(join(dir, 'c')).del('n', { containerId: 'c', ifName: '../../../victim' });
    expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('x');
  });

  it('lists attachments in name order, filtered by container, skipping what libcni skips', () => {
    const cache = new ResultCache(dir);
    cache.add(result, Buffer.from('{}'), 'net-b', { ...rt, containerId: 'c2' });
    cache.add(result, Buffer.from('{}'), 'net-a', { ...rt, containerId: 'c1' });
    cache.add(result, Buffer.from('{}'), 'net-a', { ...rt, containerId: 'c1', ifName: 'eth1' });
    writeFileSync(join(dir, 'results', 'garbage'), 'not json');
    writeFileSync(join(dir, 'results', 'legacy-c1-eth0'), JSON.stringify({ cniVersion: '0.3.1' }));
    writeFileSync(join(dir, 'results', 'x-c1-eth9'), JSON.stringify({ kind: 'cniCacheV1', containerId: 'c1', ifName: '', networkName: 'x' }));
    const all = cache.attachments();
    expect(all.map((a) => `${a.network}/${a.containerId}/${a.ifName}`)).toEqual(['net-a/c1/eth0', 'net-a/c1/eth1', 'net-b/c2/eth0']);
    expect(all[0]).toMatchObject({ netns: rt.netns, cniArgs: rt.args, capabilityArgs: rt.capabilityArgs });
    expect(cache.attachments('c2').map((a) => a.network)).toEqual(['net-b']);
    expect(new ResultCache(join(dir, 'none')).attachments()).toEqual([]);
  });

  it('decodes an entry as a Go runtime wrote it', () => {
    // Field order and spacing do not matter to a JSON reader; base64 config does.
    const goWritten =
      '{"kind":"cniCacheV1","containerId":"abc","config":"eyJuYW1lIjoibiJ9","ifName":"eth0","networkName":"n","netns":"/proc/1/ns/net","result":{"cniVersion":"1.0.0","dns":{}}}';
    const info = decodeCachedInfo(goWritten);
    expect(info.config.toString()).toBe('{"name":"n"}');
    expect(info.cniArgs).toBeUndefined();
    expect(info.result).toEqual({ cniVersion: '1.0.0', dns: {} });
    expect(() => decodeCachedInfo('{"kind":"cniCacheV1","config":"***"}')).toThrow(/base64/);
  });
});

describe('CniConfig cache directory', () => {
  it('uses the constructor option, else CNI_CACHE_DIR, else /var/lib/cni', () => {
    const saved = process.env.CNI_CACHE_DIR;
    try {
      process.env.CNI_CACHE_DIR = join(dir, 'env');
      expect(new CniConfig({ path: [], cacheDir: join(dir, 'opt') }).cacheDir).toBe(join(dir, 'opt'));
      expect(new CniConfig({ path: [] }).cacheDir).toBe(join(dir, 'env'));
      delete process.env.CNI_CACHE_DIR;
      expect(new CniConfig({ path: [] }).cacheDir).toBe('/var/lib/cni');
    } finally {
      if (saved === undefined) delete process.env.CNI_CACHE_DIR;
      else process.env.CNI_CACHE_DIR = saved;
    }
  });

  it('reads the cached result back in the list version', () => {
    const cni = new CniConfig({ path: [], cacheDir: dir });
    const list = confListFromBytes(Buffer.from('{"name":"n","cniVersion":"1.0.0","plugins":[{"type":"x"}]}'));
    new ResultCache(dir).add(result, list.bytes, 'n', rt);
    // Decoded as a typed result: the empty dns object is gone, as in Go.
    expect(cni.getNetworkListCachedResult(list, rt)).toEqual({ cniVersion: '1.0.0', ips: result.ips, interfaces: result.interfaces });
    expect(cni.getCachedAttachments('cid1')).toHaveLength(1);
    // A result cached by an older config version comes back in the list's version.
    new ResultCache(dir).add({ cniVersion: '0.4.0', ips: [{ version: '4', address: '10.1.0.2/24', interface: 0 }], interfaces: [{ name: 'eth0' }], dns: {} }, list.bytes, 'n', rt);
    expect(cni.getNetworkListCachedResult(list, rt)).toEqual({ cniVersion: '1.0.0', ips: [{ address: '10.1.0.2/24', interface: 0 }], interfaces: [{ name: 'eth0' }] });
    // A cached result that is not a result at all is an error for the caller (DEL then drops it).
    new ResultCache(dir).add({ cniVersion: '1.0.0', ips: [{ address: 'nope' }] }, list.bytes, 'n', rt);
    expect(() => cni.getNetworkListCachedResult(list, rt)).toThrow(/must be an IP address in CIDR notation/);
  });
});
