// Editing the operator's policy file (docs/policy.md) from `plugin install`: read it as
// raw JSON so that everything else in it is kept as written, change one entry, validate the
// whole document with the host's own parser, and replace the file atomically (write a
// temporary file beside it, fsync, rename, fsync the directory) under an exclusive lock on
// its directory, so that concurrent installs do not lose each other's entries.
import { closeSync, constants as fsc, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DEFAULT_POLICY_PATH, type Policy, type PolicyEntry, builtinEntries, parsePolicy } from '../../caps/policy.ts';
import { LOCK_EX, LOCK_NB, LOCK_UN, loadNative } from '../../sys/native.ts';

export type PolicyDoc = Record<string, unknown>;

export interface PolicyFile {
  path: string;
  /** False when the file does not exist yet. */
  exists: boolean;
  doc: PolicyDoc;
  /** The validated form of `doc`. */
  policy: Policy;
}

/** The policy file a command works on: --policy, else CNI_WASM_POLICY, else the default path. */
export function policyFilePath(flag: string | undefined, env: Record<string, string | undefined> = process.env): string {
  return flag || env.CNI_WASM_POLICY || DEFAULT_POLICY_PATH;
}

/** Read and validate the policy file; a missing file is an empty policy. Throws on anything unusable. */
export function readPolicyFile(path: string): PolicyFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return { path, exists: false, doc: { version: 1, plugins: {} }, policy: parsePolicy({ version: 1 }, path) };
    throw new Error(`cannot read the policy file ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`the policy file ${path} is not valid JSON (${(e as Error).message}); fix it before installing plugins`);
  }
  let policy: Policy;
  try {
    policy = parsePolicy(doc, path);
  } catch (e) {
    throw new Error(`the policy file ${path} does not validate: ${(e as Error).message}; fix it before installing plugins`);
  }
  return { path, exists: true, doc: doc as PolicyDoc, policy };
}

/** The operator's entry for a type, if the file has one. */
export function fileEntry(pf: PolicyFile, type: string): PolicyEntry | undefined {
  return pf.policy.plugins.get(type);
}

/** The entry in force for a type: the file's, else the built-in one. */
export function effectiveEntry(pf: PolicyFile, type: string): PolicyEntry | undefined {
  return pf.policy.plugins.get(type) ?? builtinEntries().get(type);
}

/** A copy of the document with `plugins.<type>` replaced by `entry`. */
export function withEntry(doc: PolicyDoc, type: string, entry: Record<string, unknown>): PolicyDoc {
  const plugins = typeof doc.plugins === 'object' && doc.plugins !== null && !Array.isArray(doc.plugins) ? (doc.plugins as Record<string, unknown>) : {};
  return { ...doc, version: doc.version ?? 1, plugins: { ...plugins, [type]: entry } };
}

/** Validate and write the document atomically; the file is readable by everyone (0644), like the CNI configs. */
export function writePolicyFile(path: string, doc: PolicyDoc): void {
  parsePolicy(doc, path);
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}`);
  const fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, `${JSON.stringify(doc, null, 2)}\n`);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
  const dfd = openSync(dir, fsc.O_RDONLY);
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Run `fn` holding an exclusive flock on the policy file's directory (created if needed).
 * Waits up to `timeoutMs` for another install to finish.
 */
export function withPolicyLock<T>(path: string, fn: () => T, timeoutMs = 30_000): T {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const native = loadNative();
  const fd = openSync(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    const deadline = performance.now() + timeoutMs;
    while (!native.flock(fd, LOCK_EX | LOCK_NB)) {
      if (performance.now() > deadline) throw new Error(`another process holds the lock on ${dir} (a concurrent "plugin install"?) after ${timeoutMs} ms`);
      sleepMs(50);
    }
    try {
      return fn();
    } finally {
      native.flock(fd, LOCK_UN);
    }
  } finally {
    closeSync(fd);
  }
}
