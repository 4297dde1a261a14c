// The `firewall` interface: masquerade entries in the host namespace, keyed by this
// invocation's network, container and interface (the plugin cannot name another owner).
import { ensureMasquerade, removeMasquerade } from '../../sys/nftables/netlink.ts';
import type { Firewall } from '../generated/abi.ts';
import type { HostState } from './context.ts';

export function createFirewall(st: HostState): Firewall {
  const enf = st.enforcer;
  return {
    addMasquerade(addresses) {
      return st.call('firewall.add-masquerade', () => [addresses], () => {
        enf.requireFirewall('add masquerade entries');
        const a = st.attachment('add masquerade entries');
        ensureMasquerade({ network: st.network, containerId: a.containerId, ifname: a.ifname, addresses }, st.hostNs());
      });
    },
    delMasquerade() {
      return st.call('firewall.del-masquerade', () => [], () => {
        enf.requireFirewall('remove masquerade entries');
        const a = st.attachment('remove masquerade entries');
        removeMasquerade({ network: st.network, containerId: a.containerId, ifname: a.ifname }, st.hostNs());
      }, () => undefined);
    },
  };
}
