// The `files` interface: read a small text file the plugin's grant names (`files.read`, exact
// absolute paths; host-local's `${ipam.resolvConf}`). The rules, in order:
//  1. the path, normalised ('//' and '/.' collapsed; relative paths and '..' refused), must be
//     granted: else permission-denied naming files.read;
//  2. it is opened with O_PATH (following symlinks, but without opening the file itself, so a
//     FIFO or a device is never opened for reading), and the path the kernel reports for what
//     was actually opened (/proc/self/fd/N) must be granted too: a symlink, or a directory
//     swapped for one after the check, cannot lead outside the grant;
//  3. it must be a regular file of at most MAX_FILE_BYTES (invalid otherwise), read through that
//     same descriptor (reopened via /proc/self/fd/N, so no second path lookup), and be UTF-8.
// Missing file: not-found; the kernel's other refusals (EACCES, ELOOP, ...): other/io, never
// permission-denied (reserved for the grant).
import { closeSync, constants, fstatSync, openSync, readSync, readlinkSync } from 'node:fs';
import { PermissionDenied } from '../../caps/enforce.ts';
import { SysError } from '../../sys/errors.ts';
import type { Files } from '../generated/abi.ts';
import { type HostState, HostCallError, invalid, notFound } from './context.ts';
import { enterKernel, leave } from '../../trace.ts';

/** Largest file `read-text` returns. */
export const MAX_FILE_BYTES = 64 * 1024;

/** O_PATH (Linux, x86-64 and arm64; Node's fs.constants does not list it). */
const O_PATH = 0o10000000;

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** Read `norm` (already granted) under the rules above. */
function readGranted(st: HostState, shown: string, norm: string): string {
  let fd: number | undefined;
  let rfd: number | undefined;
  const tk = enterKernel('files');
  try {
    try {
      fd = openSync(norm, O_PATH);
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') throw notFound(`no file ${JSON.stringify(shown)}`);
      throw new SysError(code ?? 'EIO', `files.read-text ${shown}`, (e as Error).message);
    }
    let actual: string;
    try {
      actual = readlinkSync(`/proc/self/fd/${fd}`);
    } catch (e) {
      throw new HostCallError('io', `cannot tell which file ${JSON.stringify(shown)} is (/proc/self/fd: ${(e as Error).message})`);
    }
    if (actual !== norm && !st.enforcer.fileReadGranted(actual)) {
      throw new PermissionDenied('files.read', `may not read ${JSON.stringify(shown)}: it resolves to ${JSON.stringify(actual)}, which is not granted (${st.enforcer.grantedFiles()})`);
    }
    const info = fstatSync(fd);
    if (!info.isFile()) throw invalid(`${JSON.stringify(shown)} is not a regular file`);
    if (info.size > MAX_FILE_BYTES) throw invalid(`${JSON.stringify(shown)} is larger than ${MAX_FILE_BYTES} bytes (${info.size})`);
    // The same inode, opened for reading without another path lookup.
    rfd = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
    const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = readSync(rfd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n === buf.length) throw invalid(`${JSON.stringify(shown)} is larger than ${MAX_FILE_BYTES} bytes`);
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, n));
    } catch {
      throw invalid(`${JSON.stringify(shown)} is not UTF-8 text`);
    }
  } finally {
    if (rfd !== undefined) closeSync(rfd);
    if (fd !== undefined) closeSync(fd);
    leave(tk);
  }
}

export function createFiles(st: HostState): Files {
  return {
    readText(path) {
      return st.call('files.read-text', () => [path], () => {
        const norm = st.enforcer.requireFileRead(path);
        return readGranted(st, path, norm);
      }, (text) => ({ bytes: Buffer.byteLength(text) }));
    },
  };
}
