import { describe, expect, it } from 'vitest';
import { parseCniArgs, readPluginEnv, validateInterfaceName } from '../../host/cni/env.ts';
import { CniError } from '../../host/cni/errors.ts';

const base = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };

function codeOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CniError);
    return (e as CniError).code;
  }
  return undefined;
}

describe('readPluginEnv', () => {
  it('reads a complete ADD environment', () => {
    const env = readPluginEnv({ ...base, CNI_ARGS: 'IgnoreUnknown=1;IP=10.0.0.5', CNI_PATH: '/a::/b' });
    expect(env).toEqual({
      command: 'ADD',
      containerId: 'c1',
      netns: '/var/run/netns/x',
      ifname: 'eth0',
      args: [
        ['IgnoreUnknown', '1'],
        ['IP', '10.0.0.5'],
      ],
      ignoreUnknownArgs: true,
      path: ['/a', '/b'],
    });
  });

  it.each([
    ['ADD', 'CNI_NETNS'],
    ['ADD', 'CNI_CONTAINERID'],
    ['ADD', 'CNI_IFNAME'],
    ['ADD', 'CNI_PATH'],
    ['CHECK', 'CNI_NETNS'],
    ['DEL', 'CNI_IFNAME'],
    ['DEL', 'CNI_PATH'],
    ['GC', 'CNI_PATH'],
    ['STATUS', 'CNI_PATH'],
  ])('%s without %s is code 4 naming the variable', (cmd, missing) => {
    const env: Record<string, string> = { ...base, CNI_COMMAND: cmd };
    delete env[missing];
    expect(() => readPluginEnv(env)).toThrow(missing);
    expect(codeOf(() => readPluginEnv(env))).toBe(4);
  });

  it('DEL does not need CNI_NETNS (the namespace may be gone)', () => {
    const { CNI_NETNS: _, ...env } = { ...base, CNI_COMMAND: 'DEL' };
    expect(readPluginEnv(env).netns).toBe('');
  });

  it('GC and STATUS need no container', () => {
    expect(readPluginEnv({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }).command).toBe('GC');
    expect(readPluginEnv({ CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }).command).toBe('STATUS');
  });

  it('VERSION needs nothing else', () => {
    expect(readPluginEnv({ CNI_COMMAND: 'VERSION' }).command).toBe('VERSION');
  });

  it('an unknown or empty command is code 4', () => {
    expect(codeOf(() => readPluginEnv({ ...base, CNI_COMMAND: 'FROB' }))).toBe(4);
    expect(codeOf(() => readPluginEnv({ ...base, CNI_COMMAND: '' }))).toBe(4);
    expect(codeOf(() => readPluginEnv({ ...base, CNI_COMMAND: 'add' }))).toBe(4);
  });

  it('container ids with bad characters are code 4', () => {
    for (const id of ['-lead', 'a b', 'a/b', '../x', 'ä']) {
      expect(codeOf(() => readPluginEnv({ ...base, CNI_CONTAINERID: id }))).toBe(4);
    }
  });
});

describe('validateInterfaceName', () => {
  it('accepts ordinary names and rejects the kernel-invalid ones with code 4', () => {
    expect(() => validateInterfaceName('eth0')).not.toThrow();
    expect(() => validateInterfaceName('a'.repeat(15))).not.toThrow();
    for (const bad of ['a'.repeat(16), '.', '..', 'a/b', 'a:b', 'a b', 'a\tb']) {
      expect(codeOf(() => validateInterfaceName(bad))).toBe(4);
    }
  });
});

describe('parseCniArgs', () => {
  it('keeps order and values with "="', () => {
    expect(parseCniArgs('A=1;B=x=y;C=').args).toEqual([
      ['A', '1'],
      ['B', 'x=y'],
      ['C', ''],
    ]);
  });
  it('reads IgnoreUnknown as a boolean', () => {
    expect(parseCniArgs('IgnoreUnknown=true').ignoreUnknown).toBe(true);
    expect(parseCniArgs('IgnoreUnknown=0').ignoreUnknown).toBe(false);
    expect(codeOf(() => parseCniArgs('IgnoreUnknown=maybe'))).toBe(4);
  });
  it('rejects pairs without a key or "=" with code 4', () => {
    expect(codeOf(() => parseCniArgs('A'))).toBe(4);
    expect(codeOf(() => parseCniArgs('=1'))).toBe(4);
    expect(codeOf(() => parseCniArgs('A=1;junk'))).toBe(4);
  });
});
