// The one table cni-wasm owns in a node namespace, shared by both backends:
//
//   table inet cni_wasm {
//     set masq4   { type ipv4_addr; }                          container addresses
//     set subnet4 { type ipv4_addr . ipv4_addr; flags interval; }  container address . its own subnet
//     set masq6 / subnet6                                      the same for IPv6
//     chain postrouting {
//       type nat hook postrouting priority srcnat; policy accept;
//       ip daddr 224.0.0.0/4 return                            multicast is never masqueraded
//       ip6 daddr ff00::/8 return
//       ip saddr . ip daddr @subnet4 return                    nor traffic within the container's own subnet
//       ip6 saddr . ip6 daddr @subnet6 return
//       ip saddr @masq4 counter masquerade                     everything else from a container address is
//       ip6 saddr @masq6 counter masquerade
//     }
//   }
//
// These are the reference bridge plugin's ipMasq semantics (pkg/ip/ipmasq_*: from the
// container IP, to a non-multicast destination outside the container's subnet), with one
// rule set for all containers and two set elements per container address instead of a
// rule (nftables variant) or a chain (iptables variant) per container. `return` ends only
// this chain: other tables (iptables-nft's `ip nat`, CNI-* chains) still see the packet.
export const TABLE = 'cni_wasm';
export const CHAIN = 'postrouting';
export const TABLE_COMMENT = 'cni-wasm: masquerade for container addresses';

export interface FamilySets {
  masq: string;
  subnet: string;
}
export const SETS: Record<4 | 6, FamilySets> = {
  4: { masq: 'masq4', subnet: 'subnet4' },
  6: { masq: 'masq6', subnet: 'subnet6' },
};
export const ALL_SETS = [SETS[4].masq, SETS[4].subnet, SETS[6].masq, SETS[6].subnet] as const;
