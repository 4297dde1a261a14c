// A small on-disk state store for IPAM: one directory, one file per key, and one
// cross-process lock (flock on `<dir>/lock`), laid out like the reference host-local
// plugin's disk backend so that a node can switch between host-local and cni-wasm:
//   dir 0755, data files 0644, `lock` (host-local opens it O_CREAT|O_RDONLY 0750),
//   `<ip>` containing `<containerID>\r\n<ifname>`, `last_reserved_ip.<rangeID>`.
// The store itself is generic (names and bytes); host-local's format lives in the plugin.
//
// Everything is synchronous: wasm host imports are synchronous.
//
// A dead lock holder needs no recovery code: flock(2) locks belong to the open file
// description, and the kernel drops them when the last descriptor of it is closed,
// which process exit (SIGKILL included) does. Node opens every file with O_CLOEXEC,
// so a child the holder exec'd does not inherit (and keep) the lock.
import {
  closeSync,
  constants as fsc,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { SysError, toSysError } from '../errors.ts';
import { LOCK_EX, LOCK_NB, LOCK_UN, loadNative } from '../native.ts';

export const LOCK_FILE = 'lock';
const DIR_MODE = 0o755;
const FILE_MODE = 0o644;
const LOCK_MODE = 0o750; // what host-local's go-filemutex passes to open(2)
const TMP_PREFIX = '.tmp-';

/** Releases the lock; calling it again is a no-op. */
export type Release = () => void;

export interface LockOptions {
  /** Give up after this long with SysError ETIMEDOUT. Default 30 s; 0 = try once. */
  timeoutMs?: number;
}

export interface StoreOptions {
  /** Create the directory (and its parents, mode 0755) if it is missing. Default true. */
  create?: boolean;
  /** fsync data files and the directory after each change. Default true. */
  durable?: boolean;
}

export interface Store {
  readonly dir: string;
  /** Take the store's exclusive cross-process lock, waiting up to `timeoutMs`. */
  lock(opts?: LockOptions): Release;
  /** Run `fn` under the lock. */
  withLock<T>(fn: () => T, opts?: LockOptions): T;
  /** Create `name` with `data` unless it exists; false if it exists. Readers never see it half-written. */
  createExclusive(name: string, data: string | Uint8Array): boolean;
  /** The content of `name` (UTF-8), or undefined if there is none. */
  read(name: string): string | undefined;
  readBytes(name: string): Uint8Array | undefined;
  /** Write `name` atomically (temp file, fsync, rename): readers see the old or the new content. */
  replace(name: string, data: string | Uint8Array): void;
  /** Remove `name`; false if it did not exist. */
  remove(name: string): boolean;
  /** Names of the stored entries, sorted (without the lock file and temporaries). */
  list(): string[];
}

/** Names are single path components: no `/`, no NUL, not `.`/`..`, not hidden, not `lock`. */
export function validateName(name: string): void {
  const bad = (why: string): never => {
    throw new SysError('EINVAL', `store.name ${JSON.stringify(name)}`, `invalid entry name: ${why}`);
  };
  if (typeof name !== 'string' || name.length === 0) bad('empty');
  if (name.includes('/')) bad('contains "/"');
  if (name.includes('\0')) bad('contains NUL');
  if (name === '.' || name === '..') bad('is a directory reference');
  if (name.startsWith('.')) bad('names starting with "." are reserved for temporary files');
  if (name === LOCK_FILE) bad('"lock" is the lock file');
  if (Buffer.byteLength(name) > 255) bad('longer than 255 bytes');
}

let tmpSeq = 0;

// A process-wide sleeping cell for Atomics.wait (allowed on Node's main thread).
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

export function openStore(dir: string, opts: StoreOptions = {}): Store {
  const durable = opts.durable ?? true;
  if (typeof dir !== 'string' || dir.length === 0 || dir.includes('\0')) {
    throw new SysError('EINVAL', 'store.open', `invalid store directory ${JSON.stringify(dir)}`);
  }
  if (opts.create ?? true) {
    try {
      mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    } catch (e) {
      throw toSysError(e, `store.open ${dir}`);
    }
  }
  const lockPath = join(dir, LOCK_FILE);
  let held = false;

  const syncDir = (): void => {
    if (!durable) return;
    const fd = openSync(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  };

  /** Write `data` to a fresh temporary file in `dir` and return its path. */
  const writeTemp = (data: Uint8Array): string => {
    // pid + counter + clock: unique without node:crypto (whose load costs ~3-5 ms); O_EXCL checks.
    let tmp = '';
    let fd = -1;
    for (let attempt = 0; fd < 0; attempt++) {
      tmp = join(dir, `${TMP_PREFIX}${process.pid}.${++tmpSeq}.${process.hrtime.bigint().toString(36)}`);
      try {
        fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, FILE_MODE);
      } catch (e) {
        if ((e as { code?: string }).code !== 'EEXIST' || attempt >= 3) throw e;
      }
    }
    try {
      writeAll(fd, data);
      if (durable) fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      try {
        unlinkSync(tmp);
      } catch {
        /* already gone */
      }
      throw e;
    }
    closeSync(fd);
    return tmp;
  };

  const store: Store = {
    dir,

    lock(lopts: LockOptions = {}): Release {
      const timeoutMs = lopts.timeoutMs ?? 30_000;
      if (held) {
        // flock on a second open file description would wait for ourselves forever.
        throw new SysError('EDEADLK', `store.lock ${dir}`, 'this store already holds its lock');
      }
      const native = loadNative();
      let fd: number;
      try {
        fd = openSync(lockPath, fsc.O_RDONLY | fsc.O_CREAT | fsc.O_NOFOLLOW, LOCK_MODE);
      } catch (e) {
        throw toSysError(e, `store.lock ${lockPath}`);
      }
      const deadline = performance.now() + timeoutMs;
      let pause = 0.25;
      try {
        for (;;) {
          if (native.flock(fd, LOCK_EX | LOCK_NB)) break;
          const left = deadline - performance.now();
          if (left <= 0) {
            throw new SysError('ETIMEDOUT', `store.lock ${lockPath}`, `lock still held by another process after ${timeoutMs} ms`);
          }
          // Jittered exponential back-off, capped, so 50 waiters do not wake in step.
          sleepMs(Math.min(left, pause * (0.5 + Math.random())));
          pause = Math.min(pause * 2, 16);
        }
      } catch (e) {
        closeSync(fd);
        throw e instanceof SysError ? e : toSysError(e, `store.lock ${lockPath}`);
      }
      held = true;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held = false;
        try {
          native.flock(fd, LOCK_UN);
        } finally {
          closeSync(fd);
        }
      };
    },

    withLock<T>(fn: () => T, lopts?: LockOptions): T {
      const release = store.lock(lopts);
      try {
        return fn();
      } finally {
        release();
      }
    },

    createExclusive(name, data) {
      validateName(name);
      const path = join(dir, name);
      const op = `store.create ${path}`;
      let tmp: string;
      try {
        tmp = writeTemp(bytesOf(data));
      } catch (e) {
        throw toSysError(e, op);
      }
      // link(2) publishes the complete file under its name, or fails with EEXIST: exclusive
      // like O_EXCL, and no reader can see the file empty or half-written.
      try {
        linkSync(tmp, path);
      } catch (e) {
        if ((e as { code?: string }).code === 'EEXIST') return false;
        throw toSysError(e, op);
      } finally {
        try {
          unlinkSync(tmp);
        } catch {
          /* ignore */
        }
      }
      try {
        syncDir();
      } catch (e) {
        throw toSysError(e, op);
      }
      return true;
    },

    readBytes(name) {
      validateName(name);
      const path = join(dir, name);
      let fd: number;
      try {
        fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return undefined;
        throw toSysError(e, `store.read ${path}`);
      }
      try {
        return readFileSync(fd);
      } catch (e) {
        throw toSysError(e, `store.read ${path}`);
      } finally {
        closeSync(fd);
      }
    },

    read(name) {
      const b = store.readBytes(name);
      return b === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
    },

    replace(name, data) {
      validateName(name);
      const path = join(dir, name);
      const op = `store.replace ${path}`;
      let tmp: string | undefined;
      try {
        tmp = writeTemp(bytesOf(data));
        renameSync(tmp, path);
        tmp = undefined;
        syncDir();
      } catch (e) {
        if (tmp !== undefined) {
          try {
            unlinkSync(tmp);
          } catch {
            /* ignore */
          }
        }
        throw toSysError(e, op);
      }
    },

    remove(name) {
      validateName(name);
      const path = join(dir, name);
      try {
        unlinkSync(path);
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return false;
        throw toSysError(e, `store.remove ${path}`);
      }
      try {
        syncDir();
      } catch (e) {
        throw toSysError(e, `store.remove ${path}`);
      }
      return true;
    },

    list() {
      try {
        return readdirSync(dir, { withFileTypes: true })
          .filter((d) => d.isFile() && d.name !== LOCK_FILE && !d.name.startsWith('.'))
          .map((d) => d.name)
          .sort();
      } catch (e) {
        throw toSysError(e, `store.list ${dir}`);
      }
    },
  };
  return store;
}
