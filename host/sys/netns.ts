// Network namespaces: open one by path, and run synchronous code inside it.
//
// The switch is setns() on the main thread, through the cniw addon. Rules this
// module enforces (see docs in DESIGN.md, "Namespaces"):
//  - libuv's thread pool is started before the first switch, so its threads are
//    created in the namespace the process started in (a thread created while the
//    main thread is switched would stay in the other namespace for good);
//  - the function run inside a namespace is synchronous: a Promise returned from it
//    is refused (its continuation would run in whatever namespace is current later);
//  - the thread always switches back; if it cannot, the process aborts rather than
//    go on acting in the wrong namespace.
// A socket (netlink) or a /proc/sys file opened inside `withNetns` stays bound to
// that namespace after the switch back.
import { closeSync, constants as fsc, fstatSync, openSync, stat, writeSync } from 'node:fs';
import { SysError, toSysError } from './errors.ts';
import { CLONE_NEWNET, isNativeError, loadNative } from './native.ts';

const NSTYPE_NAMES: Record<number, string> = {
  0x00020000: 'mount',
  0x02000000: 'cgroup',
  0x04000000: 'uts',
  0x08000000: 'ipc',
  0x10000000: 'user',
  0x20000000: 'pid',
  0x40000000: 'network',
  0x00000080: 'time',
};

/** A namespace path that cannot be used: kind `not-found` (ENOENT) or `invalid` (EINVAL, not a network namespace). */
export class NetnsError extends SysError {
  readonly path: string;
  constructor(errno: string, path: string, message: string, cause?: unknown) {
    super(errno, `netns.open ${path}`, message, cause === undefined ? {} : { cause });
    this.name = 'NetnsError';
    this.path = path;
  }
}

export function isNetnsError(e: unknown): e is NetnsError {
  return e instanceof NetnsError;
}

/** An open network namespace. Keep it open while it is used; `close()` when done. */
export class NetnsHandle {
  readonly path: string;
  /** Namespace identity: two handles name the same namespace iff dev and ino are equal. */
  readonly dev: number;
  readonly ino: number;
  readonly isHost: boolean;
  #fd: number;

  /** @internal use openNetns() or hostNetns(). */
  constructor(path: string, fd: number, dev: number, ino: number, isHost: boolean) {
    this.path = path;
    this.#fd = fd;
    this.dev = dev;
    this.ino = ino;
    this.isHost = isHost;
  }

  /** The open file descriptor; throws once closed. */
  get fd(): number {
    if (this.#fd < 0) throw new SysError('EBADF', `netns ${this.path}`, 'namespace handle is closed');
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  sameAs(other: NetnsHandle): boolean {
    return this.dev === other.dev && this.ino === other.ino;
  }

  /** Close the descriptor. The host handle is shared and stays open (close is a no-op on it). */
  close(): void {
    if (this.isHost || this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeSync(fd);
  }
}

/**
 * Open a network namespace by path (`CNI_NETNS`, `/var/run/netns/<name>`, `/proc/<pid>/ns/net`).
 * Throws NetnsError: `ENOENT` (kind not-found) when nothing is there, `EINVAL` (kind invalid)
 * when the path is not a network namespace; other failures as SysError with their errno.
 */
export function openNetns(path: string): NetnsHandle {
  return open(path, false);
}

/** `/var/run/netns/<name>` as `ip netns` names it. */
export function openNamedNetns(name: string): NetnsHandle {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') {
    throw new NetnsError('EINVAL', name, `"${name}" is not a valid namespace name`);
  }
  return open(`/var/run/netns/${name}`, false);
}

let host: NetnsHandle | undefined;

/**
 * The namespace this process started in (for the CNI binary: the node's own namespace).
 * Opened once, on first use outside any switch, and kept open.
 */
export function hostNetns(): NetnsHandle {
  if (host) return host;
  if (stack.length > 0) {
    // Unreachable through this module (withNetns opens it before switching), kept as a guard.
    throw new SysError('EINVAL', 'netns.host', 'cannot resolve the host namespace while switched');
  }
  host = open('/proc/self/ns/net', true);
  return host;
}

function open(path: string, isHost: boolean): NetnsHandle {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY) // libuv adds O_CLOEXEC;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new NetnsError('ENOENT', path, 'network namespace does not exist', e);
    if (code === 'ENOTDIR') throw new NetnsError('ENOENT', path, 'network namespace does not exist (a path component is not a directory)', e);
    throw toSysError(e, `netns.open ${path}`);
  }
  try {
    let type: number;
    try {
      type = loadNative().nsType(fd);
    } catch (e) {
      if (isNativeError(e) && (e.code === 'ENOTTY' || e.code === 'EINVAL')) {
        const st = fstatSync(fd);
        const what = st.isFile() && st.size === 0 ? 'an empty file (an unmounted namespace leaves one behind)' : st.isDirectory() ? 'a directory' : 'not a namespace file';
        throw new NetnsError('EINVAL', path, `not a network namespace: ${what}`, e);
      }
      throw toSysError(e, `netns.open ${path}`);
    }
    if (type !== CLONE_NEWNET) {
      throw new NetnsError('EINVAL', path, `not a network namespace: it is a ${NSTYPE_NAMES[type] ?? `0x${type.toString(16)}`} namespace`);
    }
    const st = fstatSync(fd);
    return new NetnsHandle(path, fd, st.dev, st.ino, isHost);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

// Namespaces the main thread has entered through withNetns, innermost last.
const stack: NetnsHandle[] = [];

/** The namespace the main thread is in now, as far as this module switched it. */
export function currentNetns(): NetnsHandle {
  return stack[stack.length - 1] ?? hostNetns();
}

let poolWarm = false;

/**
 * Start libuv's thread pool now, in the current (host) namespace. libuv creates all
 * pool threads on the first piece of work queued (uv_queue_work → init_once creates
 * UV_THREADPOOL_SIZE threads and waits until each has started), so one async fs call
 * is enough: when `stat()` returns, the threads exist.
 */
export function warmThreadPool(): void {
  if (poolWarm) return;
  if (stack.length > 0) throw new SysError('EINVAL', 'netns.warm', 'thread pool must be started outside any namespace switch');
  poolWarm = true;
  stat('/', () => {});
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** A function returning a Promise does not type-check as the body of withNetns. */
export type SyncResult<T> = T extends PromiseLike<unknown> ? never : T;

/**
 * Run `fn` with the main thread inside `ns`, synchronously, and switch back.
 * No await, no async fs, no child process, no new thread may happen inside `fn`
 * (returning a Promise is refused with a TypeError after switching back).
 * Nesting works; entering the namespace the thread is already in costs nothing.
 */
export function withNetns<T>(ns: NetnsHandle, fn: () => SyncResult<T>): SyncResult<T> {
  const from = currentNetns();
  const target = ns.fd; // throws if closed
  if (from.sameAs(ns)) return checkSync(fn());
  warmThreadPool();
  const native = loadNative();
  try {
    native.setns(target, CLONE_NEWNET);
  } catch (e) {
    throw toSysError(e, `netns.enter ${ns.path}`);
  }
  stack.push(ns);
  try {
    return checkSync(fn());
  } finally {
    stack.pop();
    try {
      native.setns(from.fd, CLONE_NEWNET);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      try {
        writeSync(2, `cni-wasm: FATAL: cannot switch back from network namespace ${ns.path} to ${from.path}: ${msg}; aborting rather than act in the wrong namespace\n`);
      } finally {
        process.abort();
      }
    }
  }
}

/**
 * Return the main thread to the host namespace if a withNetns window was left open.
 * V8 skips `finally` blocks when it stops a script that ran out of its time budget, so
 * a plugin stopped inside a host call can leave the thread switched; whoever stops it
 * calls this before doing anything else. Aborts if it cannot switch back.
 */
export function resetNetns(): void {
  if (stack.length === 0) return;
  const where = stack[stack.length - 1]?.path ?? '?';
  stack.length = 0;
  const home = hostNetns();
  try {
    loadNative().setns(home.fd, CLONE_NEWNET);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    try {
      writeSync(2, `cni-wasm: FATAL: cannot return from network namespace ${where} to ${home.path}: ${msg}; aborting rather than act in the wrong namespace\n`);
    } finally {
      process.abort();
    }
  }
}

function checkSync<T>(r: T): T {
  if (isThenable(r)) {
    // Its continuation would run in whatever namespace is current later: refuse it.
    r.then(undefined, () => {});
    throw new TypeError('withNetns: the function returned a Promise; only synchronous code may run inside a namespace');
  }
  return r;
}
