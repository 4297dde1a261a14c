// The `sysctl` interface: keys checked against the namespace's `sysctl.host` or
// `sysctl.container` patterns, then read or written inside that namespace by host/sys
// (which also refuses malformed keys and anything outside net.*).
import { getSysctl, setSysctl } from '../../sys/sysctl.ts';
import type { Sysctl } from '../generated/abi.ts';
import type { HostState } from './context.ts';
import { enterKernel, leave } from '../../trace.ts';

export function createSysctl(st: HostState): Sysctl {
  const enf = st.enforcer;
  return {
    get(ns, key) {
      return st.call('sysctl.get', () => [ns, key], () => {
        st.checkNs(ns);
        enf.requireSysctl(ns, key, false);
        const h = st.ns(ns);
        const tk = enterKernel('sysctl');
        try {
          return getSysctl(key, h);
        } finally {
          leave(tk);
        }
      }, (v) => v);
    },
    set(ns, key, value) {
      return st.call('sysctl.set', () => [ns, key, value], () => {
        st.checkNs(ns);
        enf.requireSysctl(ns, key, true);
        const h = st.ns(ns);
        const tk = enterKernel('sysctl');
        try {
          setSysctl(key, value, h);
        } finally {
          leave(tk);
        }
      });
    },
  };
}
