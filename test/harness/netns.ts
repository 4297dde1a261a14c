// Throwaway network namespaces for tests. Every namespace made here is named with
// the PREFIX and removed in `cleanup()`, on process exit, and by the global guard,
// so a failing test cannot leave one behind.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const PREFIX = 'cniwt-';
// Namespaces carry the id of the test run that made them (the vitest main process, passed
// to the workers in CNIWT_RUN), so concurrent runs never remove each other's namespaces.
export const RUN_ID = process.env.CNIWT_RUN ?? String(process.pid);
const made = new Set<string>();

export interface Netns {
  /** Name under /var/run/netns. */
  name: string;
  /** Path a runtime would pass as CNI_NETNS. */
  path: string;
  /** Run a command inside the namespace; throws on non-zero exit. */
  run(cmd: string, args?: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv }): string;
  /** Run a command inside the namespace; returns the full result. */
  spawn(cmd: string, args?: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): SpawnSyncReturns<string>;
  /** `ip -j <args>` inside the namespace, parsed. */
  ipJson<T = unknown>(...args: string[]): T;
  remove(): void;
}

function netnsOf(name: string): Netns {
  const ns: Netns = {
    name,
    path: `/var/run/netns/${name}`,
    run(cmd, args = [], opts = {}) {
      return execFileSync('ip', ['netns', 'exec', name, cmd, ...args], {
        encoding: 'utf8',
        input: opts.input,
        env: opts.env ?? process.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    },
    spawn(cmd, args = [], opts = {}) {
      return spawnSync('ip', ['netns', 'exec', name, cmd, ...args], {
        encoding: 'utf8',
        input: opts.input ?? '',
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 60_000,
      });
    },
    ipJson<T>(...args: string[]): T {
      const out = execFileSync('ip', ['-n', name, '-j', ...args], { encoding: 'utf8' });
      return (out.trim() ? JSON.parse(out) : []) as T;
    },
    remove() {
      removeNetns(name);
    },
  };
  return ns;
}

/** Make a fresh namespace with `lo` up. `role` only makes names readable in `ip netns`. */
export function makeNetns(role = 'ns'): Netns {
  const name = `${PREFIX}${RUN_ID}-${role}-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  made.add(name);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return netnsOf(name);
}

export function removeNetns(name: string): void {
  // Deleting a namespace destroys every link inside it, veth peers included.
  spawnSync('ip', ['netns', 'del', name]);
  made.delete(name);
}

/** Remove every namespace this process made. */
export function cleanup(): void {
  for (const name of [...made]) removeNetns(name);
}

/** Test namespaces of one run (by default this one), or of every run. */
export function listTestNetns(run: string | 'all' = RUN_ID): string[] {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(PREFIX) && (run === 'all' || n.startsWith(`${PREFIX}${run}-`)));
}

/** The run id inside a test namespace's name, if it has one. */
export function runOf(name: string): string | undefined {
  return /^cniwt-(\d+)-/.exec(name)?.[1];
}

process.on('exit', cleanup);
