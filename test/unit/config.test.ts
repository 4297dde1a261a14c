import { describe, expect, it } from 'vitest';
import { decodeConfig, validateConfig } from '../../host/cni/config.ts';
import { CniError } from '../../host/cni/errors.ts';

function codeOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CniError);
    return (e as CniError).code;
  }
  return undefined;
}

const ok = { cniVersion: '1.0.0', name: 'net1', type: 'bridge' };

describe('decodeConfig', () => {
  it('decodes an object', () => {
    expect(decodeConfig(JSON.stringify(ok))).toEqual(ok);
  });
  it.each(['', '{', 'nope', '[]', '3', 'null', '"s"'])('%j is code 6', (text) => {
    expect(codeOf(() => decodeConfig(text))).toBe(6);
  });
});

describe('validateConfig', () => {
  it('accepts a minimal config and keeps unknown fields', () => {
    const c = validateConfig({ ...ok, bridge: 'cni0' }, 'ADD');
    expect(c.bridge).toBe('cni0');
    expect(c.cniVersion).toBe('1.0.0');
  });
  it('treats a missing cniVersion as 0.1.0', () => {
    expect(validateConfig({ name: 'n', type: 't' }, 'ADD').cniVersion).toBe('0.1.0');
  });
  it.each([
    [{ type: 'bridge' }, 'missing network name'],
    [{ name: '', type: 'bridge' }, 'missing network name'],
    [{ name: 'bad name', type: 'bridge' }, 'invalid characters'],
    [{ name: '-x', type: 'bridge' }, 'invalid characters'],
    [{ name: 3, type: 'bridge' }, '"name" must be a string'],
    [{ name: 'n' }, 'missing plugin type'],
    [{ name: 'n', type: 7 }, '"type" must be a string'],
    [{ name: 'n', type: '../../bin/sh' }, 'invalid characters found in plugin type'],
    [{ name: 'n', type: 't', cniVersion: 1 }, '"cniVersion" must be a string'],
    [{ name: 'n', type: 't', ipam: 'host-local' }, '"ipam" must be an object'],
    [{ name: 'n', type: 't', ipam: { type: 5 } }, '"type" must be a string'],
    [{ name: 'n', type: 't', dns: { nameservers: '8.8.8.8' } }, 'dns.nameservers'],
    [{ name: 'n', type: 't', prevResult: [] }, '"prevResult" must be an object'],
    [{ name: 'n', type: 't', runtimeConfig: 'x' }, '"runtimeConfig" must be an object'],
    [{ name: 'n', type: 't', capabilities: { portMappings: 'yes' } }, 'capability'],
    [{ name: 'n', type: 't', args: 1 }, '"args" must be an object'],
  ])('%j is code 7 (%s)', (conf, msg) => {
    expect(() => validateConfig({ cniVersion: '1.0.0', ...conf } as Record<string, unknown>, 'ADD')).toThrow(msg);
    expect(codeOf(() => validateConfig({ cniVersion: '1.0.0', ...conf } as Record<string, unknown>, 'ADD'))).toBe(7);
  });
  it.each(['0.5.0', '1.2.0', '2.0.0', 'latest', ''])('cniVersion %j is code 1', (v) => {
    expect(codeOf(() => validateConfig({ ...ok, cniVersion: v }, 'ADD'))).toBe(1);
  });
  it('CHECK needs 0.4.0 or later', () => {
    for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.3.1']) expect(codeOf(() => validateConfig({ ...ok, cniVersion: v }, 'CHECK'))).toBe(1);
    for (const v of ['0.4.0', '1.0.0', '1.1.0']) expect(() => validateConfig({ ...ok, cniVersion: v }, 'CHECK')).not.toThrow();
  });
  it('GC and STATUS need 1.1.0', () => {
    for (const cmd of ['GC', 'STATUS'] as const) {
      expect(codeOf(() => validateConfig({ ...ok, cniVersion: '1.0.0' }, cmd))).toBe(1);
      expect(() => validateConfig({ ...ok, cniVersion: '1.1.0' }, cmd)).not.toThrow();
    }
  });
});
