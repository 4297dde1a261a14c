import { describe, expect, it } from 'vitest';
import {
  PatternError,
  globCovers,
  globMatch,
  keyCovers,
  keyGlobToString,
  keyMatch,
  lookupField,
  normalizeRoot,
  parseKeyTemplate,
  parseTemplate,
  pathWithin,
  resolveKeyTemplate,
  resolveTemplate,
  type Glob,
  type KeyGlob,
} from '../../host/caps/pattern.ts';

const g = (text: string, config: unknown = {}): Glob => {
  const r = resolveTemplate(parseTemplate(text), config);
  if (!r) throw new Error(`${text} resolved to nothing`);
  return r;
};
const k = (text: string, config: unknown = {}): KeyGlob => {
  const r = resolveKeyTemplate(parseKeyTemplate(text), config);
  if (!r) throw new Error(`${text} resolved to nothing`);
  return r;
};

describe('templates', () => {
  it('parses literals, stars and placeholders with defaults', () => {
    expect(parseTemplate('veth*')).toEqual([{ lit: 'veth' }, { star: true }]);
    expect(parseTemplate('${bridge}')).toEqual([{ ph: ['bridge'] }]);
    expect(parseTemplate('x-${ipam.dataDir:-/var/lib}-*')).toEqual([{ lit: 'x-' }, { ph: ['ipam', 'dataDir'], def: '/var/lib' }, { lit: '-' }, { star: true }]);
    expect(parseTemplate('a**b')).toEqual([{ lit: 'a' }, { star: true }, { lit: 'b' }]);
  });

  it.each([
    ['', 'empty'],
    ['${bridge', 'unclosed'],
    ['${}', 'invalid placeholder'],
    ['${a..b}', 'invalid placeholder'],
    ['${a b}', 'invalid placeholder'],
    ['${a:-}', 'invalid default'],
    ['${a:-x*}', 'literal text'],
    ['a}b', 'stray'],
    ['a\nb', 'control'],
    ['x'.repeat(300), 'longer'],
  ])('refuses %j', (text, why) => {
    expect(() => parseTemplate(text)).toThrow(PatternError);
    expect(() => parseTemplate(text)).toThrow(why);
  });

  it('refuses wildcards where they are not allowed', () => {
    expect(() => parseTemplate('/var/*', { wildcards: false })).toThrow('"*" is not allowed');
  });

  it('resolves fields, nested fields and array indexes; integers become text', () => {
    const conf = { bridge: 'cni0', ipam: { dataDir: '/run/x', ranges: [[{ subnet: '10.0.0.0/24' }]] }, vni: 42 };
    expect(lookupField(conf, ['bridge'])).toBe('cni0');
    expect(lookupField(conf, ['ipam', 'dataDir'])).toBe('/run/x');
    expect(lookupField(conf, ['ipam', 'ranges', '0', '0', 'subnet'])).toBe('10.0.0.0/24');
    expect(lookupField(conf, ['vni'])).toBe('42');
  });

  it('a placeholder that resolves to nothing makes the pattern match nothing', () => {
    const conf = { empty: '', obj: {}, flag: true, n: 1.5, arr: ['a'], nul: null };
    for (const f of ['missing', 'empty', 'obj', 'flag', 'n', 'arr', 'nul']) {
      expect(resolveTemplate(parseTemplate(`\${${f}}`), conf)).toBeUndefined();
    }
    expect(resolveTemplate(parseTemplate('${ipam.x.y}'), { ipam: 'str' })).toBeUndefined();
    expect(resolveTemplate(parseTemplate('${arr.x}'), { arr: ['a'] })).toBeUndefined();
    // Prototype properties are not fields.
    expect(resolveTemplate(parseTemplate('${constructor}'), {})).toBeUndefined();
    expect(resolveTemplate(parseTemplate('${toString}'), {})).toBeUndefined();
  });

  it('uses the default when the field resolves to nothing', () => {
    expect(resolveTemplate(parseTemplate('${bridge:-cni0}'), {})).toEqual([{ lit: 'cni0' }]);
    expect(resolveTemplate(parseTemplate('${bridge:-cni0}'), { bridge: 'br1' })).toEqual([{ lit: 'br1' }]);
  });
});

describe('glob matching', () => {
  it('matches whole names, * any run', () => {
    expect(globMatch(g('cni0'), 'cni0')).toBe(true);
    expect(globMatch(g('cni0'), 'cni01')).toBe(false);
    expect(globMatch(g('veth*'), 'veth')).toBe(true);
    expect(globMatch(g('veth*'), 'veth1234')).toBe(true);
    expect(globMatch(g('veth*'), 'xveth1')).toBe(false);
    expect(globMatch(g('*'), '')).toBe(true);
    expect(globMatch(g('a*b*c'), 'aXbYbc')).toBe(true);
    expect(globMatch(g('a*b*c'), 'aXbYbd')).toBe(false);
  });

  it('placeholder values are literal: a * or . in a config value is not a wildcard', () => {
    const p = g('${bridge}', { bridge: 'br*' });
    expect(globMatch(p, 'br*')).toBe(true);
    expect(globMatch(p, 'br0')).toBe(false);
  });
});

describe('glob coverage', () => {
  it.each([
    ['*', 'anything', true],
    ['*', 'veth*', true],
    ['veth*', 'veth*', true],
    ['veth*', 'veth0', true],
    ['veth*', 'veth0*', true],
    ['veth0*', 'veth*', false],
    ['veth0', 'veth*', false],
    ['cni0', 'cni0', true],
    ['cni0', 'cni1', false],
    ['*a*', '*a', true],
    ['*a*', '*', false],
    ['a*b', 'a*x*b', true],
    ['a*x*b', 'a*b', false],
  ])('%j covers %j: %s', (outer, inner, want) => {
    expect(globCovers(g(outer), g(inner))).toBe(want);
  });

  it('a literal * from a config value is covered only by a star or the same literal', () => {
    const inner = g('${x}', { x: 'a*' });
    expect(globCovers(g('a*'), inner)).toBe(true);
    expect(globCovers(g('${x}', { x: 'a*' }), inner)).toBe(true);
    expect(globCovers(g('${x}', { x: 'a*' }), g('ab'))).toBe(false);
  });
});

describe('sysctl key patterns', () => {
  it('matches component by component; * stays within one component', () => {
    const p = k('net.ipv4.conf.*.forwarding');
    expect(keyMatch(p, 'net.ipv4.conf.eth0.forwarding')).toBe(true);
    expect(keyMatch(p, 'net/ipv4/conf/eth0/forwarding')).toBe(true);
    expect(keyMatch(p, 'net.ipv4.conf.eth0.rp_filter')).toBe(false);
    expect(keyMatch(k('net.ipv4.conf.*'), 'net.ipv4.conf.eth0.forwarding')).toBe(false);
  });

  it('a last component ** matches one or more components', () => {
    const p = k('net.ipv6.conf.**');
    expect(keyMatch(p, 'net.ipv6.conf.eth0.accept_dad')).toBe(true);
    expect(keyMatch(p, 'net.ipv6.conf.all')).toBe(true);
    expect(keyMatch(p, 'net.ipv6.conf')).toBe(false);
    expect(keyMatch(p, 'net.ipv4.conf.eth0.x')).toBe(false);
    expect(() => parseKeyTemplate('net.**.x')).toThrow('"**"');
    expect(() => parseKeyTemplate('net.ipv4.a**')).toThrow('"**"');
  });

  it('an interface name with a dot is one component, in both key forms and from a placeholder', () => {
    const fromConf = k('net.ipv4.conf.${bridge}.forwarding', { bridge: 'br.100' });
    expect(keyGlobToString(fromConf)).toBe('net.ipv4.conf.br/100.forwarding');
    expect(keyMatch(fromConf, 'net.ipv4.conf.br/100.forwarding')).toBe(true);
    expect(keyMatch(fromConf, 'net/ipv4/conf/br.100/forwarding')).toBe(true);
    expect(keyMatch(fromConf, 'net.ipv4.conf.br.100.forwarding')).toBe(false);
    const literal = k('net.ipv4.conf.eth0/100.*');
    expect(keyMatch(literal, 'net/ipv4/conf/eth0.100/rp_filter')).toBe(true);
  });

  it('a placeholder value cannot climb out of its component', () => {
    expect(resolveKeyTemplate(parseKeyTemplate('net.ipv4.conf.${b}.x'), { b: '..' })).toBeUndefined();
    expect(resolveKeyTemplate(parseKeyTemplate('net.ipv4.conf.${b}.x'), { b: 'a/b' })).toBeUndefined();
    expect(resolveKeyTemplate(parseKeyTemplate('net.ipv4.conf.${b}.x'), {})).toBeUndefined();
  });

  it('refuses malformed key patterns', () => {
    expect(() => parseKeyTemplate('net..x')).toThrow('empty key component');
    expect(() => parseKeyTemplate('.net')).toThrow('empty key component');
    expect(() => parseKeyTemplate('net.ipv4.')).toThrow('empty key component');
  });

  it('malformed keys match nothing', () => {
    expect(keyMatch(k('net.*'), '/proc/sys/net/x')).toBe(false);
    expect(keyMatch(k('net.**'), 'net.ipv4.conf.eth0.x y')).toBe(false);
    expect(keyMatch(k('net.**'), 'net/../kernel/x')).toBe(false);
  });

  it.each([
    ['net.ipv4.conf.*.*', 'net.ipv4.conf.eth0.forwarding', true],
    ['net.ipv4.conf.*.*', 'net.ipv4.conf.*.forwarding', true],
    ['net.ipv4.conf.**', 'net.ipv4.conf.*.*', true],
    ['net.ipv4.conf.**', 'net.ipv4.conf.**', true],
    ['net.ipv4.**', 'net.ipv4.conf.**', true],
    ['net.ipv4.conf.**', 'net.ipv4.**', false],
    ['net.ipv4.conf.**', 'net.ipv4.conf', false],
    ['net.ipv4.conf.*.*', 'net.ipv4.conf.**', false],
    ['net.ipv4.conf.eth0.*', 'net.ipv4.conf.*.x', false],
    ['net.ipv4.ip_forward', 'net.ipv4.ip_forward', true],
  ])('%j covers %j: %s', (outer, inner, want) => {
    expect(keyCovers(k(outer), k(inner))).toBe(want);
  });
});

describe('store roots', () => {
  it('normalises absolute paths and refuses ".." and relative ones', () => {
    expect(normalizeRoot('/var/lib/cni/networks/')).toBe('/var/lib/cni/networks');
    expect(normalizeRoot('//var/./lib')).toBe('/var/lib');
    expect(normalizeRoot('/')).toBe('/');
    expect(normalizeRoot('/var/lib/../../etc')).toBeUndefined();
    expect(normalizeRoot('var/lib')).toBeUndefined();
    expect(normalizeRoot('/a\0b')).toBeUndefined();
  });

  it('within means whole components', () => {
    expect(pathWithin('/var/lib/cni', '/var/lib/cni')).toBe(true);
    expect(pathWithin('/var/lib/cni', '/var/lib/cni/networks')).toBe(true);
    expect(pathWithin('/var/lib/cni', '/var/lib/cni2')).toBe(false);
    expect(pathWithin('/', '/anything')).toBe(true);
  });
});
