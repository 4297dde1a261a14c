// Loader and types for the cniw N-API addon (host/sys/native/cniw.c).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Native {
  setns(fd: number, nstype: number): void;
  /** ioctl(NS_GET_NSTYPE): the CLONE_NEW* type of the namespace `fd` refers to; throws ENOTTY for a non-namespace file. */
  nsType(fd: number): number;
  nlOpen(protocol: number, rcvbufBytes: number): number;
  nlSend(fd: number, bytes: Uint8Array): number;
  nlRecv(fd: number, buffer: Uint8Array, timeoutMs: number): number;
  /** Returns false only when LOCK_NB was given and another holder has the lock. */
  flock(fd: number, op: number): boolean;
  closeFd(fd: number): void;
}

/** An Error thrown by the addon: `code` is the errno name (EEXIST, ENOENT, ...). */
export interface NativeError extends Error {
  code: string;
  errno: number;
}

export const CLONE_NEWNET = 0x40000000;
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

let native: Native | undefined;

/** The addon, loaded on first use. It lives in dist/native both for the bundle and for sources. */
export function loadNative(): Native {
  if (native) return native;
  const here = fileURLToPath(import.meta.url);
  const candidates = [
    new URL('./native/cniw.node', import.meta.url), // dist/*.cjs → dist/native
    new URL('../../dist/native/cniw.node', import.meta.url), // host/sys/native.ts → dist/native
  ].map((u) => fileURLToPath(u));
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error(`native addon cniw.node not found next to ${here} (run "npm run build")`);
  }
  native = createRequire(import.meta.url)(path) as Native;
  return native;
}

export function isNativeError(e: unknown): e is NativeError {
  return e instanceof Error && typeof (e as Partial<NativeError>).code === 'string' && typeof (e as Partial<NativeError>).errno === 'number';
}
