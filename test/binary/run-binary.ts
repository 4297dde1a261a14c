// Exec the built binary as a container runtime does: env vars, config on stdin,
// read stdout and the exit code.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BINARY = fileURLToPath(new URL('../../dist/cni-wasm.cjs', import.meta.url));

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
}

export function runBinary(env: Record<string, string>, stdin = '', argv: string[] = [], exe = BINARY): Run {
  const r = spawnSync(exe === BINARY ? process.execPath : exe, exe === BINARY ? [BINARY, ...argv] : argv, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    input: stdin,
    encoding: 'utf8',
    timeout: 30_000,
  });
  let json: Record<string, unknown> | undefined;
  try {
    json = r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}
