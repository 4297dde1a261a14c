// The one error type of host/sys: a failed system operation, named by its errno.
// Shared by netns, rtnetlink, sysctl, nf_tables and the store, so that the CNI
// layer maps every kernel failure the same way (errnoKind → CNI code).

export type SysErrorKind = 'not-found' | 'exists' | 'invalid' | 'permission-denied' | 'io' | 'other';

export interface SysErrorOptions {
  /** The kernel's extended-ack message (NLMSGERR_ATTR_MSG), when it sent one. */
  extack?: string;
  /** The negative errno number, when known (for logs; `errno` is the stable name). */
  errnoNumber?: number;
  cause?: unknown;
}

export class SysError extends Error {
  /** errno name: EEXIST, ENODEV, ENOENT, EBUSY, ... ('EUNKNOWN' when the number has no name here). */
  readonly errno: string;
  /** What was being done, e.g. 'link.create veth0', 'netns.open /var/run/netns/x'. */
  readonly op: string;
  readonly extack?: string;
  readonly errnoNumber?: number;

  constructor(errno: string, op: string, message?: string, opts: SysErrorOptions = {}) {
    const detail = message ?? describeErrno(errno);
    const ext = opts.extack ? ` (kernel: ${opts.extack})` : '';
    super(`${op}: ${detail}${ext} [${errno}]`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SysError';
    this.errno = errno;
    this.op = op;
    if (opts.extack !== undefined) this.extack = opts.extack;
    if (opts.errnoNumber !== undefined) this.errnoNumber = opts.errnoNumber;
  }

  get kind(): SysErrorKind {
    return errnoKind(this.errno);
  }
}

export function isSysError(e: unknown): e is SysError {
  return e instanceof SysError;
}

export function errnoKind(errno: string): SysErrorKind {
  switch (errno) {
    case 'ENOENT':
    case 'ENODEV':
    case 'ESRCH':
    case 'EADDRNOTAVAIL':
      return 'not-found';
    case 'EEXIST':
      return 'exists';
    case 'EINVAL':
    case 'ERANGE':
    case 'EOPNOTSUPP':
    case 'ENOTSUP':
    case 'EAFNOSUPPORT':
    case 'EPROTONOSUPPORT':
    case 'E2BIG':
    case 'EMSGSIZE':
      return 'invalid';
    case 'EPERM':
    case 'EACCES':
      return 'permission-denied';
    case 'EIO':
    case 'ENOBUFS':
    case 'ETIMEDOUT':
    case 'ENOMEM':
    case 'EAGAIN':
      return 'io';
    default:
      return 'other';
  }
}

// Linux errno numbers (asm-generic) → names, for netlink errors which arrive as numbers.
const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 7: 'E2BIG', 9: 'EBADF',
  11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 18: 'EXDEV',
  19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 23: 'ENFILE', 24: 'EMFILE', 25: 'ENOTTY', 28: 'ENOSPC',
  30: 'EROFS', 31: 'EMLINK', 34: 'ERANGE', 36: 'ENAMETOOLONG', 39: 'ENOTEMPTY', 61: 'ENODATA',
  71: 'EPROTO', 75: 'EOVERFLOW', 90: 'EMSGSIZE', 92: 'ENOPROTOOPT', 93: 'EPROTONOSUPPORT',
  95: 'EOPNOTSUPP', 97: 'EAFNOSUPPORT', 98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL', 100: 'ENETDOWN',
  101: 'ENETUNREACH', 105: 'ENOBUFS', 107: 'ENOTCONN', 110: 'ETIMEDOUT', 113: 'EHOSTUNREACH', 524: 'ENOTSUPP',
};

const ERRNO_TEXT: Record<string, string> = {
  EPERM: 'operation not permitted', ENOENT: 'no such file or object', ESRCH: 'no such process or object',
  EIO: 'input/output error', E2BIG: 'argument list too long', EAGAIN: 'resource temporarily unavailable',
  ENOMEM: 'out of memory', EACCES: 'permission denied', EBUSY: 'device or resource busy',
  EEXIST: 'already exists', ENODEV: 'no such device', ENOTDIR: 'not a directory', EINVAL: 'invalid argument',
  ENOSPC: 'no space left', ERANGE: 'value out of range', EMSGSIZE: 'message too long',
  EOPNOTSUPP: 'operation not supported', ENOTSUP: 'operation not supported', EAFNOSUPPORT: 'address family not supported',
  EADDRINUSE: 'address in use', EADDRNOTAVAIL: 'address not available', ENETDOWN: 'network is down',
  ENETUNREACH: 'network unreachable', ENOBUFS: 'no buffer space', ETIMEDOUT: 'timed out',
  ENOTEMPTY: 'not empty', EHOSTUNREACH: 'host unreachable', ENOTSUPP: 'operation not supported',
};

/** errno number (positive or negative) → name. */
export function errnoName(n: number): string {
  return ERRNO_NAMES[Math.abs(n)] ?? `EUNKNOWN(${Math.abs(n)})`;
}

export function describeErrno(errno: string): string {
  return ERRNO_TEXT[errno] ?? errno;
}

/**
 * Wrap anything thrown by a syscall (the cniw addon, node:fs) as a SysError.
 * Node's fs errors and the addon's errors both carry `code` = errno name.
 */
export function toSysError(e: unknown, op: string): SysError {
  if (e instanceof SysError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const num = (e as { errno?: unknown } | null)?.errno;
  const errno = typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : typeof num === 'number' ? errnoName(num) : 'EUNKNOWN';
  const opts: SysErrorOptions = { cause: e };
  if (typeof num === 'number') opts.errnoNumber = Math.abs(num);
  return new SysError(errno, op, describeErrno(errno), opts);
}
