// The grants first-party plugins get when the operator's policy file has no entry for
// them (an operator's entry replaces the built-in one whole). Same format as the policy
// file's `plugins` object: see docs/policy.md. Kept as narrow as the plugins need:
//  - bridge: creates the bridge (named by `bridge`, default cni0) and veth pairs, may
//    change the bridge even when someone else created it, configures the container side,
//    turns on forwarding for the bridge, masquerades (ipMasq), delegates IPAM;
//  - host-local: its state directory (default or `ipam.dataDir`) and reading the file its
//    config's `ipam.resolvConf` names (the ADD result's `dns`);
//  - vxlan: creates the vxlan device (and a bridge and veths to attach containers), reads
//    the host's links to find the underlay (never changes it), routes peer subnets in the
//    host namespace, configures the container side, delegates IPAM (docs/vxlan.md).
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
      files: { read: ['${ipam.resolvConf}'] },
    },
  },
  vxlan: {
    grant: {
      // read '*': without `dev` the plugin finds the underlay as the link of the default
      // route (or of `localIP`), so it must see the host's links; it changes only the links it
      // created (marked) and the bridge its config names. routes.host: peer routes through its
      // vxlan device, and directRouting's through the read-only underlay (see host-api/netlink.ts).
      links: { create: ['vxlan', 'bridge', 'veth'], host: ['${bridge}'], read: ['*'], container: true },
      routes: { host: true },
      sysctl: {
        host: ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding', 'net.ipv6.conf.${bridge}.accept_ra', 'net.ipv6.conf.vxbr*.accept_ra', 'net.ipv6.conf.veth*.accept_ra'],
        container: ['net.ipv4.conf.*.*', 'net.ipv6.conf.*.*'],
      },
      ipam: true,
    },
  },
} as const;
