// Loading and finding network configs as libcni does (conf.go).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CniError } from '../../host/cni/errors.ts';
import {
  confFiles,
  confListFromBytes,
  injectConf,
  loadNetworkConf,
  NoConfigsFoundError,
  NotFoundError,
  pluginConfFromBytes,
} from '../../host/cni/libcni/index.ts';
import { selectListVersion } from '../../host/cni/libcni/conf.ts';
import { goMarshal } from '../../host/cni/libcni/gojson.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'libcni-conf-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function put(name: string, content: unknown): void {
  writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
}

const list = (name: string, extra: Record<string, unknown> = {}) => ({
  cniVersion: '1.0.0',
  name,
  plugins: [{ type: 'bridge', bridge: `br-${name}` }],
  ...extra,
});

function thrown(f: () => unknown): CniError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CniError);
    return e as CniError;
  }
  throw new Error('expected an error');
}

describe('confFiles', () => {
  it('lists matching files in byte order, skipping directories and other extensions', () => {
    for (const n of ['b.conflist', '9-y.conflist', '10-x.conflist', 'a.conflist', 'A.conflist', 'x.conf', 'y.conflist.bak', '.conflist']) put(n, '{}');
    mkdirSync(join(dir, 'z.conflist'));
    expect(confFiles(dir, ['.conflist']).map((f) => f.slice(dir.length + 1))).toEqual([
      '.conflist',
      '10-x.conflist',
      '9-y.conflist',
      'A.conflist',
      'a.conflist',
      'b.conflist',
    ]);
  });

  it('returns nothing for a missing directory', () => {
    expect(confFiles(join(dir, 'nope'), ['.conf'])).toEqual([]);
  });
});

describe('loadNetworkConf', () => {
  it('finds a conflist by network name, not by file name', () => {
    put('10-a.conflist', list('other'));
    put('20-b.conflist', list('mynet'));
    const l = loadNetworkConf(dir, 'mynet');
    expect(l.name).toBe('mynet');
    expect(l.cniVersion).toBe('1.0.0');
    expect(l.plugins.map((p) => p.network.type)).toEqual(['bridge']);
    expect(l.bytes.toString()).toBe(JSON.stringify(list('mynet')));
  });

  it('takes the lexically first file when two lists share a name', () => {
    put('9-second.conflist', list('dup', { plugins: [{ type: 'second' }] }));
    put('10-first.conflist', list('dup', { plugins: [{ type: 'first' }] }));
    expect(loadNetworkConf(dir, 'dup').plugins[0]!.network.type).toBe('first');
  });

  it('prefers a .conflist over a .conf of the same name', () => {
    put('00-single.conf', { cniVersion: '0.4.0', name: 'n', type: 'single' });
    put('99-list.conflist', list('n'));
    expect(loadNetworkConf(dir, 'n').plugins[0]!.network.type).toBe('bridge');
  });

  it('wraps a plain .conf into a one-plugin list, as libcni re-marshals it', () => {
    const single = { type: 'bridge', name: 'solo', cniVersion: '0.4.0', ipam: { type: 'host-local', subnet: '10.1.0.0/24' } };
    put('10-solo.conf', JSON.stringify(single, null, 2));
    const l = loadNetworkConf(dir, 'solo');
    expect(l.name).toBe('solo');
    expect(l.cniVersion).toBe('0.4.0');
    expect(l.plugins).toHaveLength(1);
    // Go: json.Marshal(map) — keys sorted, compact.
    expect(l.bytes.toString()).toBe(
      '{"cniVersion":"0.4.0","name":"solo","plugins":[{"cniVersion":"0.4.0","ipam":{"subnet":"10.1.0.0/24","type":"host-local"},"name":"solo","type":"bridge"}]}',
    );
    expect(l.plugins[0]!.bytes.toString()).toBe('{"cniVersion":"0.4.0","ipam":{"subnet":"10.1.0.0/24","type":"host-local"},"name":"solo","type":"bridge"}');
  });

  it('also reads .json single-plugin files', () => {
    put('x.json', { cniVersion: '1.0.0', name: 'j', type: 'ptp' });
    expect(loadNetworkConf(dir, 'j').plugins[0]!.network.type).toBe('ptp');
  });

  it('names the directory when the network is missing', () => {
    put('a.conflist', list('a'));
    const e = thrown(() => loadNetworkConf(dir, 'b'));
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e.message).toBe(`no net configuration with name "b" in ${dir}`);
    expect(e.code).toBe(7);
  });

  it('says when the directory has no configs at all', () => {
    expect(thrown(() => loadNetworkConf(dir, 'b'))).toBeInstanceOf(NoConfigsFoundError);
    expect(thrown(() => loadNetworkConf(join(dir, 'missing'), 'b')).message).toBe(`no net configurations found in ${join(dir, 'missing')}`);
  });

  it('stops at an unparseable file that sorts before the match, as libcni does', () => {
    put('10-bad.conflist', '{ not json');
    put('20-good.conflist', list('good'));
    const e = thrown(() => loadNetworkConf(dir, 'good'));
    expect(e.message).toContain('10-bad.conflist');
    expect(e.code).toBe(6);
  });

  it('reports a plugin without a type', () => {
    put('a.conflist', { cniVersion: '1.0.0', name: 'a', plugins: [{ type: 'ok' }, { bridge: 'x' }] });
    expect(thrown(() => loadNetworkConf(dir, 'a')).message).toContain("failed to parse plugin config 1: error parsing configuration: missing 'type'");
  });

  it('loads plugin configs from <dir>/<network>/*.conf after the inlined ones', () => {
    put('a.conflist', list('a'));
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', '20-second.conf'), JSON.stringify({ type: 'portmap' }));
    writeFileSync(join(dir, 'a', '10-first.conf'), JSON.stringify({ type: 'tuning' }));
    writeFileSync(join(dir, 'a', 'ignored.json'), JSON.stringify({ type: 'nope' }));
    expect(loadNetworkConf(dir, 'a').plugins.map((p) => p.network.type)).toEqual(['bridge', 'tuning', 'portmap']);
    put('a.conflist', list('a', { loadOnlyInlinedPlugins: true }));
    expect(loadNetworkConf(dir, 'a').plugins.map((p) => p.network.type)).toEqual(['bridge']);
  });

  it('accepts a list with no "plugins" key when its directory holds plugins, and refuses one with neither', () => {
    put('a.conflist', { cniVersion: '1.0.0', name: 'a' });
    expect(thrown(() => loadNetworkConf(dir, 'a')).message).toContain('no plugin configs found');
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', 'p.conf'), JSON.stringify({ type: 'bridge' }));
    expect(loadNetworkConf(dir, 'a').plugins.map((p) => p.network.type)).toEqual(['bridge']);
  });
});

describe('confListFromBytes', () => {
  const parse = (o: unknown) => confListFromBytes(Buffer.from(JSON.stringify(o)));

  it('reads disableCheck/disableGC as booleans or "true"/"false" strings', () => {
    const l = parse(list('x', { disableCheck: 'TRUE', disableGC: true }));
    expect(l.disableCheck).toBe(true);
    expect(l.disableGC).toBe(true);
    expect(parse(list('x')).disableCheck).toBe(false);
    expect(thrown(() => parse(list('x', { disableCheck: 'yes' }))).message).toContain('invalid value "yes" for disableCheck');
    expect(thrown(() => parse(list('x', { disableGC: 1 }))).message).toContain('invalid type number for disableGC');
  });

  it('refuses lists without a name, with a non-string version, or with an empty plugin array', () => {
    expect(thrown(() => parse({ cniVersion: '1.0.0', plugins: [{ type: 'a' }] })).message).toContain('no name');
    expect(thrown(() => parse({ name: 'x', cniVersion: 1, plugins: [{ type: 'a' }] })).message).toContain('invalid cniVersion type');
    expect(thrown(() => parse({ name: 'x', cniVersion: '1.0.0', plugins: [] })).message).toContain('no plugins in list');
    expect(thrown(() => parse({ name: 'x', plugins: {} })).message).toContain("invalid 'plugins' type");
    expect(thrown(() => parse({ name: 'x', loadOnlyInlinedPlugins: true })).message).toContain('no \'plugins\' key');
  });

  it('marshals each plugin as Go does (sorted keys, compact, HTML-escaped)', () => {
    const l = parse({ name: 'x', cniVersion: '1.0.0', plugins: [{ type: 'a', z: 1, b: { y: '<&>', a: [1, 'x'] } }] });
    expect(l.plugins[0]!.bytes.toString()).toBe('{"b":{"a":[1,"x"],"y":"\\u003c\\u0026\\u003e"},"type":"a","z":1}');
  });
});

describe('cniVersions', () => {
  it('picks the highest version this implementation speaks', () => {
    expect(selectListVersion('', ['0.3.1', '1.0.0', '1.1.0', '2.0.0'])).toBe('1.1.0');
    expect(selectListVersion('', ['1.0.0', '0.4.0'])).toBe('1.0.0');
    expect(selectListVersion('0.4.0', ['0.3.1'])).toBe('0.4.0');
    expect(selectListVersion('1.0.0', ['1.1.0'])).toBe('1.1.0');
    expect(selectListVersion('9.0.0', ['5.0.0'])).toBe('9.0.0');
    expect(selectListVersion('1.0.0', undefined)).toBe('1.0.0');
  });

  it('applies when loading a list', () => {
    const l = confListFromBytes(Buffer.from(JSON.stringify({ name: 'x', cniVersion: '0.4.0', cniVersions: ['1.0.0', '0.3.1', '3.0.0'], plugins: [{ type: 'a' }] })));
    expect(l.cniVersion).toBe('1.0.0');
  });

  it('refuses a malformed cniVersions', () => {
    expect(() => selectListVersion('', 'x')).toThrow(/invalid type for cniVersions/);
    expect(() => selectListVersion('', [1])).toThrow(/cniVersions index 0/);
    expect(() => selectListVersion('', ['1.a.0'])).toThrow(/invalid cniVersions entry 1.a.0 at index 0/);
    expect(() => selectListVersion('1.0.0.0', ['1.0.0'])).toThrow(/invalid cniVersion 1.0.0.0/);
  });
});

describe('injectConf', () => {
  it('sets keys and refuses empty keys or null values', () => {
    const p = pluginConfFromBytes(Buffer.from('{"type":"a","name":"old"}'));
    expect(injectConf(p, { name: 'new', cniVersion: '1.0.0' }).bytes.toString()).toBe('{"cniVersion":"1.0.0","name":"new","type":"a"}');
    expect(() => injectConf(p, { '': 1 })).toThrow(/keys cannot be empty/);
    expect(() => injectConf(p, { prevResult: null })).toThrow(/key 'prevResult' value must not be nil/);
  });

  it('goMarshal sorts by bytes, like Go', () => {
    expect(goMarshal({ b: 1, B: 2, a: null, é: 3, z: [true] })).toBe('{"B":2,"a":null,"b":1,"z":[true],"é":3}');
  });
});
