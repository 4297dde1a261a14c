// The `store` interface: one state directory per invocation, `<root>/<network name>`,
// where root (default /var/lib/cni/networks) must lie within a granted `store` root.
// The lock is released by `unlock`, at dispose, or by the kernel when the process exits.
import { join } from 'node:path';
import { type Release, type Store as SysStore, openStore } from '../../sys/store/index.ts';
import type { Store } from '../generated/abi.ts';
import { HostCallError, type HostState, invalid } from './context.ts';
import { remainingBudgetMs } from '../budget.ts';
import { enterKernel, leave } from '../../trace.ts';

export const DEFAULT_STORE_ROOT = '/var/lib/cni/networks';
/** Longest wait for the lock (also bounded by the plugin's call budget). */
const MAX_LOCK_WAIT_MS = 30_000;
/** Budget kept back after a lock wait times out, for the plugin to answer. */
const LOCK_ANSWER_MARGIN_MS = 250;

/** Trace: the store's file and lock operations count as kernel time. */
function fs<T>(fn: () => T): T {
  const tk = enterKernel('store');
  try {
    return fn();
  } finally {
    leave(tk);
  }
}

export function createStore(st: HostState): Store {
  const enf = st.enforcer;
  let store: SysStore | undefined;
  let release: Release | undefined;
  const unlock = (): void => {
    const r = release;
    release = undefined;
    r?.();
  };
  st.onDispose(unlock);
  const opened = (): SysStore => {
    if (!store) throw invalid('the store is not open: call open first');
    return store;
  };
  return {
    open(root) {
      return st.call('store.open', () => [root], () => {
        const base = enf.requireStoreRoot(root ?? DEFAULT_STORE_ROOT);
        // The network name is validated by the CNI layer: one path component, no '/'.
        unlock();
        // No fsync (as the reference host-local): the state describes containers that do not
        // survive the node going down, and writes stay atomic (temp file + rename). fsync cost
        // 2-7 ms per file here, ~9 ms per ADD.
        store = fs(() => openStore(join(base, st.network), { durable: false }));
      }, () => store?.dir);
    },
    lock() {
      return st.call('store.lock', () => [], () => {
        const s = opened();
        if (release) throw invalid('the store is already locked by this plugin');
        // Give up while the plugin still has budget left to answer "try again later" (11).
        const left = remainingBudgetMs() - LOCK_ANSWER_MARGIN_MS;
        if (left <= 0) throw new HostCallError('io', 'store.lock: no time left in the call budget to wait for the lock [ETIMEDOUT]');
        release = fs(() => s.lock({ timeoutMs: Math.min(MAX_LOCK_WAIT_MS, st.ctx.limits.callTimeoutMs, left) }));
      });
    },
    unlock() {
      return st.call('store.unlock', () => [], () => {
        opened();
        fs(unlock);
      });
    },
    createExclusive(name, data) {
      return st.call('store.create-exclusive', () => [name, data], () => fs(() => opened().createExclusive(name, data)), (r) => r);
    },
    read(name) {
      return st.call('store.read', () => [name], () => fs(() => opened().read(name)), (r) => (r === undefined ? null : r.length));
    },
    replace(name, data) {
      return st.call('store.replace', () => [name, data], () => fs(() => opened().replace(name, data)));
    },
    remove(name) {
      return st.call('store.remove', () => [name], () => fs(() => opened().remove(name)), (r) => r);
    },
    entries() {
      return st.call('store.entries', () => [], () => fs(() => opened().list()), (r) => r.length);
    },
  };
}
