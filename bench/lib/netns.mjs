// Throwaway network namespaces for the benchmarks (cniwb-<pid>-<role>-<n>), removed at exit,
// also on failure or Ctrl-C. The machine's own namespace is never changed: plugins run in
// a "node" namespace made here, containers are more namespaces made here.
//
// To run a plugin "on the node" without `ip netns exec` (which forks, unshares a mount
// namespace and remounts /sys: several ms that neither implementation would pay under a
// real runtime), the benchmark moves its own main thread into the node's namespace with
// setns(2) (the project's N-API addon) right before each spawn: a child inherits the
// namespace of the thread that forks it. Only the main thread moves; nothing in this
// process touches the network.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PREFIX = 'cniwb-';
const CLONE_NEWNET = 0x40000000;
const made = new Map(); // name -> fd (or -1 when not opened)
let seq = 0;
let native;
let homeFd = -1;
let current; // the namespace the main thread is in (undefined: home)

function addon() {
  if (native) return native;
  const p = join(root, 'dist', 'native', 'cniw.node');
  if (!existsSync(p)) throw new Error(`${p} is missing: npm run build`);
  native = createRequire(import.meta.url)(p);
  homeFd = openSync('/proc/self/ns/net', 'r');
  return native;
}

/** A fresh namespace: { name, path } (lo stays down: runtimes leave it to the loopback plugin). */
export function makeNetns(role) {
  return makeMany(role, 1)[0];
}

/** `count` fresh namespaces in one `ip -batch` (each costs well under a millisecond). */
export function makeMany(role, count) {
  const names = Array.from({ length: count }, () => `${PREFIX}${process.pid}-${role}-${seq++}`);
  for (const n of names) made.set(n, -1);
  const script = names.map((n) => `netns add ${n}\n`).join('');
  execFileSync('ip', ['-batch', '-'], { input: script });
  return names.map((name) => ({ name, path: `/var/run/netns/${name}` }));
}

/** Move this process's main thread into `ns` (children spawned now start there). */
export function enter(ns) {
  const n = addon();
  if (current === ns.name) return;
  let fd = made.get(ns.name);
  if (fd === undefined) throw new Error(`not a benchmark namespace: ${ns.name}`);
  if (fd < 0) {
    fd = openSync(ns.path, 'r');
    made.set(ns.name, fd);
  }
  n.setns(fd, CLONE_NEWNET);
  current = ns.name;
}

/** Back to the namespace this process started in. */
export function leave() {
  if (current === undefined) return;
  addon().setns(homeFd, CLONE_NEWNET);
  current = undefined;
}

/** Remove namespaces (their links go with them). */
export function remove(list) {
  const names = list.map((x) => (typeof x === 'string' ? x : x.name));
  if (names.includes(current)) leave();
  for (const n of names) {
    const fd = made.get(n);
    if (fd !== undefined && fd >= 0) closeSync(fd);
    made.delete(n);
  }
  if (names.length) spawnSync('ip', ['-force', '-batch', '-'], { input: names.map((n) => `netns del ${n}\n`).join('') });
}

export function cleanup() {
  try {
    leave();
  } catch {
    /* exiting anyway */
  }
  remove([...made.keys()]);
}

/** `ip -j ...` inside a namespace, parsed. */
export function ipJson(ns, ...args) {
  const out = execFileSync('ip', ['-n', ns.name, '-j', ...args], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));
