// sysctl get/set in a chosen network namespace, through /proc/sys.
//
// Keys are accepted in the two forms the procps `sysctl` tool accepts, with its rule
// for telling them apart (the first separator decides):
//   dotted  net.ipv4.conf.eth0.forwarding   — '.' separates; a '/' inside a component
//           stands for a '.', so the interface "eth0.100" is written  net.ipv4.conf.eth0/100.forwarding
//   path    net/ipv4/conf/eth0.100/forwarding — '/' separates, dots are literal.
// (The reference `tuning` plugin replaces every '.' with '/', so it cannot name an
// interface with a dot in the dotted form; its keys without such names mean the same here.)
// `interfaceSysctlKey()` builds a per-interface key from parts without that ambiguity.
//
// Validation: no empty, '.' or '..' component, no absolute path, no NUL or control
// character, and only keys under `net` unless the caller passes other `allowPrefixes`.
//
// Namespaces: /proc/sys/net shows the namespace of the thread that OPENS the file, so
// the file is opened (and read or written) synchronously inside withNetns().
import { closeSync, constants as fsc, openSync, readFileSync, writeSync } from 'node:fs';
import { SysError, toSysError } from './errors.ts';
import { type NetnsHandle, withNetns } from './netns.ts';

export interface SysctlOptions {
  /**
   * Keys the call may touch, as key prefixes in either form, matched by whole components
   * ('net.ipv4' allows net.ipv4.ip_forward, not net.ipv4x). Replaces the default ['net'].
   */
  allowPrefixes?: readonly string[];
}

const DEFAULT_PREFIXES: readonly string[] = ['net'];
const MAX_KEY = 1024;
const MAX_VALUE = 4096;

function invalid(key: string, why: string): never {
  throw new SysError('EINVAL', `sysctl.key ${JSON.stringify(key)}`, `invalid sysctl key: ${why}`);
}

/** Split a key into its path components (validated), in either form. */
export function parseSysctlKey(key: string): string[] {
  if (typeof key !== 'string' || key.length === 0) invalid(String(key), 'empty');
  if (key.length > MAX_KEY) invalid(key.slice(0, 64), 'too long');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f\s]/.test(key)) invalid(key, 'contains NUL, whitespace or a control character');
  if (key.startsWith('/')) invalid(key, 'absolute paths are not keys (write net/ipv4/ip_forward, not /proc/sys/...)');
  const first = key.search(/[./]/);
  const parts =
    first >= 0 && key[first] === '/'
      ? key.split('/')
      : key.split('.').map((c) => c.replaceAll('/', '.'));
  for (const p of parts) {
    if (p === '') invalid(key, 'empty component (repeated, leading or trailing separator)');
    if (p === '.' || p === '..') invalid(key, `"${p}" component`);
  }
  return parts;
}

/** Canonical dotted form of a key (the one procps prints), e.g. net.ipv4.conf.eth0/100.forwarding. */
export function formatSysctlKey(parts: readonly string[]): string {
  return parts.map((p) => p.replaceAll('.', '/')).join('.');
}

/** A prefix may end in a separator or a wildcard: 'net', 'net.', 'net.*' and 'net/' are the same. */
function parsePrefix(prefix: string): string[] {
  const m = /^(.*?)(?:[./]\*?|\*)?$/.exec(typeof prefix === 'string' ? prefix : '');
  return parseSysctlKey(m?.[1] ?? '');
}

/** The /proc/sys path for a key, after validation and the prefix check. */
export function sysctlPath(key: string, opts: SysctlOptions = {}): string {
  const parts = parseSysctlKey(key);
  const prefixes = (opts.allowPrefixes ?? DEFAULT_PREFIXES).map(parsePrefix);
  const allowed = prefixes.some((pre) => pre.length <= parts.length && pre.every((c, i) => parts[i] === c));
  if (!allowed) {
    const names = (opts.allowPrefixes ?? DEFAULT_PREFIXES).join(', ');
    throw new SysError('EPERM', `sysctl.key ${formatSysctlKey(parts)}`, `key outside the allowed prefixes (${names})`);
  }
  return `/proc/sys/${parts.join('/')}`;
}

/** Kernel rules for interface names (dev_valid_name): 1-15 bytes, not '.'/'..', no '/', ':' or whitespace. */
export function validInterfaceName(name: string): boolean {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    Buffer.byteLength(name) < 16 &&
    name !== '.' &&
    name !== '..' &&
    // eslint-disable-next-line no-control-regex
    !/[/:\s\x00-\x1f\x7f]/.test(name)
  );
}

/** Path-form key for a per-interface setting: interfaceSysctlKey('ipv4', 'eth0.100', 'forwarding'). */
export function interfaceSysctlKey(family: 'ipv4' | 'ipv6', ifname: string, leaf: string): string {
  if (!validInterfaceName(ifname)) {
    throw new SysError('EINVAL', `sysctl.key ${family} ${JSON.stringify(ifname)}`, 'invalid interface name');
  }
  const key = `net/${family}/conf/${ifname}/${leaf}`;
  parseSysctlKey(key);
  return key;
}

function where(ns: NetnsHandle | undefined): string {
  return ns ? ` in ${ns.path}` : '';
}

/** Read a sysctl (without the trailing newline) in `ns`, or in the current namespace. */
export function getSysctl(key: string, ns?: NetnsHandle, opts: SysctlOptions = {}): string {
  const path = sysctlPath(key, opts);
  const op = `sysctl.get ${formatSysctlKey(parseSysctlKey(key))}${where(ns)}`;
  const body = (): string => {
    let fd: number;
    try {
      fd = openSync(path, fsc.O_RDONLY);
    } catch (e) {
      throw sysctlError(e, op, 'read');
    }
    try {
      const text = readFileSync(fd, 'utf8');
      return text.endsWith('\n') ? text.slice(0, -1) : text;
    } catch (e) {
      throw sysctlError(e, op, 'read');
    } finally {
      closeSync(fd);
    }
  };
  return ns ? withNetns(ns, body) : body();
}

/** Write a sysctl in `ns`, or in the current namespace. The kernel parses the value. */
export function setSysctl(key: string, value: string, ns?: NetnsHandle, opts: SysctlOptions = {}): void {
  const path = sysctlPath(key, opts);
  const op = `sysctl.set ${formatSysctlKey(parseSysctlKey(key))}${where(ns)}`;
  if (typeof value !== 'string' || value.includes('\0') || value.length > MAX_VALUE) {
    throw new SysError('EINVAL', op, 'invalid sysctl value (not a string, contains NUL, or longer than 4096)');
  }
  const bytes = Buffer.from(value, 'utf8');
  const body = (): void => {
    let fd: number;
    try {
      fd = openSync(path, fsc.O_WRONLY);
    } catch (e) {
      throw sysctlError(e, op, 'write');
    }
    try {
      const n = writeSync(fd, bytes, 0, bytes.length);
      if (n !== bytes.length) throw new SysError('EIO', op, `short write (${n} of ${bytes.length} bytes)`);
    } catch (e) {
      throw sysctlError(e, op, 'write');
    } finally {
      closeSync(fd);
    }
  };
  if (ns) withNetns(ns, body);
  else body();
}

function sysctlError(e: unknown, op: string, mode: 'read' | 'write'): SysError {
  if (e instanceof SysError) return e;
  const err = toSysError(e, op);
  if (err.errno === 'ENOENT') return new SysError('ENOENT', op, 'no such sysctl key', { cause: e });
  if (err.errno === 'EACCES' || err.errno === 'EPERM') {
    return new SysError(err.errno, op, mode === 'write' ? 'sysctl key is read-only here' : 'sysctl key is write-only', { cause: e });
  }
  if (err.errno === 'EINVAL') return new SysError('EINVAL', op, 'the kernel rejected the value', { cause: e });
  return err;
}
