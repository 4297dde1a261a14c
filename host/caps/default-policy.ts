// The grants first-party plugins get when the operator's policy file has no entry for
// them (an operator's entry replaces the built-in one whole). Same format as the policy
// file's `plugins` object: see docs/policy.md. Kept as narrow as the plugins need:
//  - bridge: creates the bridge (named by `bridge`, default cni0) and veth pairs, may
//    change the bridge even when someone else created it, configures the container side,
//    turns on forwarding for the bridge, masquerades (ipMasq), delegates IPAM;
//  - host-local: nothing but its state directory (default or `ipam.dataDir`);
//  - vxlan: creates the vxlan device (and a bridge and veths to attach containers), reads
//    the underlay named by `underlay` (never changes it), configures the container side.
export const DEFAULT_POLICY_PLUGINS = {
  bridge: {
    grant: {
      links: { create: ['bridge', 'veth'], host: ['${bridge:-cni0}'], container: true },
      sysctl: {
        // veth*.accept_ra: the host end of each veth (named veth<8 hex> by the host) must not
        // take router advertisements from the container, as the reference sets.
        host: ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding', 'net.ipv4.conf.${bridge:-cni0}.*', 'net.ipv6.conf.${bridge:-cni0}.*', 'net.ipv6.conf.veth*.accept_ra'],
        container: ['net.ipv4.conf.*.*', 'net.ipv6.conf.*.*'],
      },
      firewall: true,
      ipam: true,
    },
  },
  'host-local': {
    grant: {
      store: ['/var/lib/cni/networks', '${ipam.dataDir}'],
    },
  },
  vxlan: {
    grant: {
      links: { create: ['vxlan', 'bridge', 'veth'], host: ['${name}', '${bridge}'], read: ['${underlay}'], container: true },
      sysctl: {
        host: ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'],
        container: ['net.ipv4.conf.*.*', 'net.ipv6.conf.*.*'],
      },
      firewall: true,
      ipam: true,
    },
  },
} as const;
