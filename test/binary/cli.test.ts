// The CLI a person types, and `install` making the binary answer under plugin names.
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BINARY, runBinary } from './run-binary.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cniw-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('cli', () => {
  it('--help names the main commands', () => {
    const r = runBinary({}, '', ['--help']);
    expect(r.status).toBe(0);
    for (const word of ['net', 'install', 'version', 'CNI_COMMAND=VERSION']) expect(r.stdout).toContain(word);
  });
  it('version prints the CNI versions', () => {
    const r = runBinary({}, '', ['version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/cni-wasm \d+\.\d+\.\d+/);
    expect(r.stdout).toContain('0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0');
  });
  it('an unknown subcommand fails with a hint', () => {
    const r = runBinary({}, '', ['frobnicate']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--help');
  });
});

describe('install', () => {
  it('writes launchers that answer as the plugin, idempotently', () => {
    const dir = join(tmp, 'bin1');
    const r = runBinary({}, '', ['install', '--dir', dir, '--plugins', 'bridge,host-local']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/created\s+.*bridge/);
    const launched = runBinary({ CNI_COMMAND: 'VERSION' }, '', [], join(dir, 'bridge'));
    expect(launched.status).toBe(0);
    expect(launched.json!.supportedVersions).toHaveLength(7);
    const again = runBinary({}, '', ['install', '--dir', dir, '--plugins', 'bridge,host-local']);
    expect(again.stdout).toMatch(/unchanged\s+.*bridge/);
  });
  it('--symlink links to the binary', () => {
    const dir = join(tmp, 'bin2');
    expect(runBinary({}, '', ['install', '--dir', dir, '--symlink', '--plugins', 'vxlan']).status).toBe(0);
    expect(lstatSync(join(dir, 'vxlan')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'vxlan'))).toBe(realpathSync(BINARY));
    expect(runBinary({ CNI_COMMAND: 'VERSION' }, '', [], join(dir, 'vxlan')).status).toBe(0);
  });
  it('refuses to replace a foreign file without --force', () => {
    const dir = join(tmp, 'bin3');
    runBinary({}, '', ['install', '--dir', dir, '--plugins', 'x']);
    writeFileSync(join(dir, 'bridge'), '#!/bin/sh\necho reference\n');
    const r = runBinary({}, '', ['install', '--dir', dir, '--plugins', 'bridge']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--force');
    expect(readFileSync(join(dir, 'bridge'), 'utf8')).toContain('reference');
    expect(runBinary({}, '', ['install', '--dir', dir, '--plugins', 'bridge', '--force']).stdout).toMatch(/replaced/);
  });
  it('the name it was exec\'d as picks the plugin, not the config\'s type (IPAM delegation)', () => {
    // A Go plugin delegating IPAM execs CNI_PATH/<ipam type> with its own config, whose type is its own.
    const dir = join(tmp, 'bin5');
    const sym = join(tmp, 'bin6');
    expect(runBinary({}, '', ['install', '--dir', dir, '--plugins', 'null,nosuch']).status).toBe(0);
    expect(runBinary({}, '', ['install', '--dir', sym, '--symlink', '--plugins', 'null']).status).toBe(0);
    const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/none', CNI_IFNAME: 'eth0', CNI_PATH: dir };
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'bridge' });
    for (const exe of [join(dir, 'null'), join(sym, 'null')]) {
      const r = runBinary(env, conf, [], exe);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.json).toEqual({ cniVersion: '1.0.0' }); // the null plugin's answer, not bridge's
    }
    const r = runBinary(env, JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'null' }), [], join(dir, 'nosuch'));
    expect(r.status).toBe(1);
    expect(String(r.json!.msg)).toContain('"nosuch"');
  });
  it('run by hand under a plugin name, it says what it is on stderr, like the reference plugins', () => {
    const dir = join(tmp, 'bin7');
    runBinary({}, '', ['install', '--dir', dir, '--plugins', 'bridge']);
    const r = runBinary({}, '', [], join(dir, 'bridge'));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/CNI bridge plugin .*\nCNI protocol versions supported: 0\.1\.0/);
  });
  it('rejects plugin names that are paths', () => {
    const r = runBinary({}, '', ['install', '--dir', join(tmp, 'bin4'), '--plugins', '../evil']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('invalid plugin name');
  });
});
