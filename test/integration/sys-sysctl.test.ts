// host/sys/sysctl on the real kernel, inside throwaway namespaces: every write is read
// back from inside the namespace with other tools (cat, procps sysctl), and shown not to
// leak into another namespace or into the process's own one.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSysError } from '../../host/sys/errors.ts';
import { type NetnsHandle, openNetns, withNetns } from '../../host/sys/netns.ts';
import { formatSysctlKey, getSysctl, interfaceSysctlKey, parseSysctlKey, setSysctl, sysctlPath } from '../../host/sys/sysctl.ts';
import { cleanup, makeNetns, type Netns } from '../harness/netns.ts';

let a: Netns;
let b: Netns;
let nsA: NetnsHandle;
let nsB: NetnsHandle;

function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isSysError(e)) return e.errno;
    throw e;
  }
  throw new Error('expected a SysError, nothing was thrown');
}

const cat = (ns: Netns, rel: string) => ns.run('cat', [`/proc/sys/${rel}`]).trim();

beforeAll(() => {
  a = makeNetns('sysctl-a');
  b = makeNetns('sysctl-b');
  nsA = openNetns(a.path);
  nsB = openNetns(b.path);
  // interface names with dots, as VLAN sub-interfaces are named
  a.run('ip', ['link', 'add', 'eth0.100', 'type', 'veth', 'peer', 'name', 'eth0']);
});

afterAll(() => {
  nsA?.close();
  nsB?.close();
  cleanup();
});

describe('keys', () => {
  it('parses both forms like procps sysctl', () => {
    expect(parseSysctlKey('net.ipv4.ip_forward')).toEqual(['net', 'ipv4', 'ip_forward']);
    expect(parseSysctlKey('net/ipv4/ip_forward')).toEqual(['net', 'ipv4', 'ip_forward']);
    expect(parseSysctlKey('net.ipv4.conf.eth0/100.forwarding')).toEqual(['net', 'ipv4', 'conf', 'eth0.100', 'forwarding']);
    expect(parseSysctlKey('net/ipv4/conf/eth0.100/forwarding')).toEqual(['net', 'ipv4', 'conf', 'eth0.100', 'forwarding']);
    expect(formatSysctlKey(['net', 'ipv4', 'conf', 'eth0.100', 'forwarding'])).toBe('net.ipv4.conf.eth0/100.forwarding');
    expect(sysctlPath('net.ipv6.conf.all.forwarding')).toBe('/proc/sys/net/ipv6/conf/all/forwarding');
    expect(interfaceSysctlKey('ipv4', 'eth0.100', 'rp_filter')).toBe('net/ipv4/conf/eth0.100/rp_filter');
  });

  it('rejects traversal, absolute paths, NUL and malformed keys with EINVAL', () => {
    const bad = [
      '',
      '..',
      'net/../kernel/hostname',
      'net/ipv4/../../kernel/panic',
      'net.ipv4..ip_forward',
      'net/./ipv4/ip_forward',
      '/proc/sys/net/ipv4/ip_forward',
      '/net/ipv4/ip_forward',
      'net.ipv4.ip_forward\0',
      'net.ipv4.ip_forward\n',
      'net.ipv4 .ip_forward',
      'net.ipv4.',
      '.net.ipv4',
      'net//ipv4',
      'net.ipv4.conf./..forwarding', // the component "/.." is ".." in dotted form
    ];
    for (const k of bad) {
      expect(errnoOf(() => sysctlPath(k)), JSON.stringify(k)).toBe('EINVAL');
      expect(errnoOf(() => setSysctl(k, '1', nsA)), JSON.stringify(k)).toBe('EINVAL');
    }
    expect(errnoOf(() => interfaceSysctlKey('ipv4', 'a/b', 'forwarding'))).toBe('EINVAL');
    expect(errnoOf(() => interfaceSysctlKey('ipv4', 'x'.repeat(16), 'forwarding'))).toBe('EINVAL');
    expect(errnoOf(() => interfaceSysctlKey('ipv4', '..', 'forwarding'))).toBe('EINVAL');
  });

  it('refuses keys outside net.* with EPERM unless allowPrefixes widens them', () => {
    for (const k of ['kernel.hostname', 'kernel/panic', 'vm.swappiness', 'network.x', 'netfilter']) {
      expect(errnoOf(() => sysctlPath(k)), k).toBe('EPERM');
    }
    expect(errnoOf(() => getSysctl('kernel.hostname', nsA))).toBe('EPERM');
    // widened: reading the UTS hostname is harmless
    expect(getSysctl('kernel.hostname', nsA, { allowPrefixes: ['net', 'kernel.hostname'] })).toBe(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    // a prefix may end in a separator or a wildcard
    for (const pre of ['kernel.hostname', 'kernel.', 'kernel.*', 'kernel/', 'kernel/*']) {
      expect(sysctlPath('kernel.hostname', { allowPrefixes: [pre] }), pre).toBe('/proc/sys/kernel/hostname');
    }
    expect(errnoOf(() => sysctlPath('kernelx.y', { allowPrefixes: ['kernel.*'] }))).toBe('EPERM');
    expect(errnoOf(() => sysctlPath('net.ipv4.ip_forward', { allowPrefixes: ['../'] }))).toBe('EINVAL');
    // narrowed: only IPv4 per-interface keys
    const narrow = { allowPrefixes: ['net.ipv4.conf'] };
    expect(errnoOf(() => setSysctl('net.ipv4.ip_forward', '1', nsA, narrow))).toBe('EPERM');
    expect(errnoOf(() => setSysctl('net.ipv4.confx.y', '1', nsA, narrow))).toBe('EPERM');
    expect(cat(a, 'net/ipv4/ip_forward')).toBe('0');
  });
});

describe('get and set in a namespace', () => {
  it('writes into the chosen namespace only', () => {
    const rootBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
    expect(getSysctl('net.ipv4.ip_forward', nsA)).toBe('0');
    setSysctl('net.ipv4.ip_forward', '1', nsA);
    expect(cat(a, 'net/ipv4/ip_forward')).toBe('1');
    expect(a.run('sysctl', ['-n', 'net.ipv4.ip_forward']).trim()).toBe('1');
    expect(getSysctl('net/ipv4/ip_forward', nsA)).toBe('1');
    // not in the other namespace, not in ours
    expect(cat(b, 'net/ipv4/ip_forward')).toBe('0');
    expect(getSysctl('net.ipv4.ip_forward', nsB)).toBe('0');
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(rootBefore);
    setSysctl('net.ipv4.ip_forward', '0', nsA);
    expect(cat(a, 'net/ipv4/ip_forward')).toBe('0');
  });

  it('uses the current namespace when none is given', () => {
    withNetns(nsB, () => setSysctl('net.ipv6.conf.all.forwarding', '1'));
    expect(cat(b, 'net/ipv6/conf/all/forwarding')).toBe('1');
    expect(cat(a, 'net/ipv6/conf/all/forwarding')).toBe('0');
    expect(withNetns(nsB, () => getSysctl('net.ipv6.conf.all.forwarding'))).toBe('1');
  });

  it('addresses interfaces whose names contain dots, as procps does', () => {
    setSysctl('net.ipv4.conf.eth0/100.forwarding', '1', nsA);
    expect(cat(a, 'net/ipv4/conf/eth0.100/forwarding')).toBe('1');
    expect(cat(a, 'net/ipv4/conf/eth0/forwarding')).toBe('0');
    expect(a.run('sysctl', ['-n', 'net.ipv4.conf.eth0/100.forwarding']).trim()).toBe('1');
    setSysctl(interfaceSysctlKey('ipv4', 'eth0.100', 'rp_filter'), '2', nsA);
    expect(a.run('sysctl', ['-n', 'net/ipv4/conf/eth0.100/rp_filter']).trim()).toBe('2');
    expect(getSysctl('net.ipv4.conf.eth0/100.rp_filter', nsA)).toBe('2');
  });

  it('round-trips multi-value keys', () => {
    setSysctl('net.ipv4.ip_local_port_range', '20000 30000', nsA);
    expect(a.run('sysctl', ['-n', 'net.ipv4.ip_local_port_range']).trim()).toBe('20000\t30000');
    expect(getSysctl('net.ipv4.ip_local_port_range', nsA)).toBe('20000\t30000');
  });

  it('reports kernel errors by errno: missing key, bad value, read-only key, closed handle', () => {
    expect(errnoOf(() => getSysctl('net.ipv4.conf.nosuchif.forwarding', nsA))).toBe('ENOENT');
    expect(errnoOf(() => setSysctl('net.ipv4.no_such_key', '1', nsA))).toBe('ENOENT');
    // the dotted form without "/" names eth0 → net/ipv4/conf/eth0/100/forwarding, which does not exist
    expect(errnoOf(() => setSysctl('net.ipv4.conf.eth0.100.forwarding', '1', nsA))).toBe('ENOENT');
    expect(errnoOf(() => setSysctl('net.ipv4.ip_forward', 'yes', nsA))).toBe('EINVAL');
    expect(errnoOf(() => setSysctl('net.ipv4.ip_forward', '1\0', nsA))).toBe('EINVAL');
    expect(cat(a, 'net/ipv4/ip_forward')).toBe('0');
    // rmem_max is per-host: read-only (0444) inside a non-initial namespace
    const ro = errnoOf(() => setSysctl('net.core.rmem_max', '4194304', nsA));
    expect(['EACCES', 'EPERM']).toContain(ro);
    expect(getSysctl('net.core.rmem_max', nsA)).toBe(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
    expect(errnoOf(() => getSysctl('net.ipv4', nsA))).toBe('EISDIR');
    // write-only key: route.flush (0200) cannot be read
    expect(['EACCES', 'EPERM', 'EINVAL']).toContain(errnoOf(() => getSysctl('net.ipv4.route.flush', nsA)));
    const gone = openNetns(a.path);
    gone.close();
    expect(errnoOf(() => getSysctl('net.ipv4.ip_forward', gone))).toBe('EBADF');
  });
});
