// The `firewall` interface: masquerade entries and MAC anti-spoofing rules in the host
// namespace, keyed by this invocation's network, container and interface (the plugin cannot
// name another owner). A MAC filter is only for a host link the plugin may change (its own veth).
import { isSysError } from '../../sys/errors.ts';
import { getLink } from '../../sys/netlink/links.ts';
import { ensureMacSpoofCheck, removeMacSpoofCheck } from '../../sys/nftables/macspoof.ts';
import { ensureMasquerade, removeMasquerade } from '../../sys/nftables/netlink.ts';
import type { Firewall } from '../generated/abi.ts';
import { type HostState, invalid, notFound } from './context.ts';

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

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
    addMacSpoofCheck(hostLink, mac) {
      return st.call('firewall.add-mac-spoof-check', () => [hostLink, mac], () => {
        const what = 'add a MAC spoof check';
        enf.requireFirewall(what);
        const a = st.attachment(what);
        if (!MAC.test(mac)) throw invalid(`${JSON.stringify(mac)} is not a MAC address (aa:bb:cc:dd:ee:ff)`);
        let link;
        try {
          link = getLink(st.socket('host'), hostLink);
        } catch (e) {
          if (isSysError(e) && (e.errno === 'ENODEV' || e.errno === 'EINVAL' || e.errno === 'ERANGE')) throw notFound(`no link ${JSON.stringify(hostLink)} in the host namespace`);
          throw e;
        }
        enf.requireHostLinkChange(link, 'filter source MACs on');
        ensureMacSpoofCheck({ network: st.network, containerId: a.containerId, ifname: a.ifname, hostLink: link.name, mac: mac.toLowerCase() }, st.hostNs());
      });
    },
    delMacSpoofCheck() {
      return st.call('firewall.del-mac-spoof-check', () => [], () => {
        enf.requireFirewall('remove MAC spoof checks');
        const a = st.attachment('remove MAC spoof checks');
        removeMacSpoofCheck({ network: st.network, containerId: a.containerId, ifname: a.ifname }, st.hostNs());
      }, () => undefined);
    },
  };
}
