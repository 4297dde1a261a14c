// The underlay: the host link that carries the encapsulated traffic, which the plugin reads but
// never changes (links.read). `dev` names it; without `dev` it is the link holding `localIP`,
// or else the link of the IPv4 default route (flannel's choice). The local VTEP address is
// `localIP`, or the underlay's first IPv4 address.
import { Cidr, CniError, ErrorCode, IP, IpFamily, Netns, Result, cniError, netlink } from "../sdk";
import { errorf, hostErr, q } from "../sdk/net";
import { VxlanConf } from "./conf";

/** Bytes a VXLAN packet adds over an IPv4 underlay: outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD: u32 = 50;

export class Underlay {
  constructor(
    public name: string,
    public mtu: u32,
    /** The local VTEP address. */
    public local: IP,
    /** The underlay address holding `local`, with its prefix (directRouting's "same subnet"); null when `local` is not on the underlay. */
    public localNet: Cidr | null,
  ) {}

  /** Is `ip` directly reachable on the underlay's subnet? */
  sameSubnet(ip: IP): bool {
    const n = this.localNet;
    return n !== null && n.contains(ip);
  }
}

function invalid(msg: string): Result<Underlay, CniError> {
  return Result.err<Underlay, CniError>(cniError(ErrorCode.InvalidConfig, msg));
}

/** The link holding IPv4 address `ip` in the host namespace, "" when none does. */
function linkWithAddress(ip: IP): Result<string, CniError> {
  const all = netlink.listAddresses(Netns.Host, null, IpFamily.V4);
  if (all.isErr) return Result.err<string, CniError>(hostErr("could not list the node's addresses", all.error));
  const addrs = all.value;
  for (let i = 0; i < addrs.length; i++) {
    const a = unchecked(addrs[i]);
    const c = Cidr.parse(a.cidr);
    if (c !== null && c.ip.equals(ip)) return Result.ok<string, CniError>(a.link);
  }
  return Result.ok<string, CniError>("");
}

/** The link of the IPv4 default route of the main table (lowest metric), "" when there is none. */
function defaultRouteLink(): Result<string, CniError> {
  const listed = netlink.listRoutes(Netns.Host, IpFamily.V4, null);
  if (listed.isErr) return Result.err<string, CniError>(hostErr("could not list the node's routes", listed.error));
  const routes = listed.value;
  let best = "";
  let bestMetric: u64 = u64.MAX_VALUE;
  for (let i = 0; i < routes.length; i++) {
    const r = unchecked(routes[i]);
    const dev = r.dev;
    if (dev === null) continue;
    const d = Cidr.parse(r.dst);
    if (d === null || d.prefix != 0) continue;
    const m = r.metric;
    const metric: u64 = m === null ? 0 : <u64>m.value;
    if (metric < bestMetric) {
      best = dev;
      bestMetric = metric;
    }
  }
  return Result.ok<string, CniError>(best);
}

export function findUnderlay(n: VxlanConf): Result<Underlay, CniError> {
  let name = n.dev;
  const configured = n.localIP;
  if (name.length == 0 && configured !== null) {
    const l = linkWithAddress(configured);
    if (l.isErr) return Result.err<Underlay, CniError>(l.error);
    if (l.value.length == 0) return invalid("config.localIP " + configured.toString() + " is not an address of this node (and config.dev is not set)");
    name = l.value;
  }
  if (name.length == 0) {
    const d = defaultRouteLink();
    if (d.isErr) return Result.err<Underlay, CniError>(d.error);
    if (d.value.length == 0) return Result.err<Underlay, CniError>(errorf("no IPv4 default route to find the underlay by: set config.dev"));
    name = d.value;
  }
  const got = netlink.getLink(Netns.Host, name);
  if (got.isErr) {
    if (n.dev.length > 0) return Result.err<Underlay, CniError>(cniError(ErrorCode.InvalidConfig, "config.dev: " + got.error.val));
    return Result.err<Underlay, CniError>(hostErr("could not read the underlay " + q(name), got.error));
  }
  const link = got.value;
  const listed = netlink.listAddresses(Netns.Host, name, IpFamily.V4);
  if (listed.isErr) return Result.err<Underlay, CniError>(hostErr("could not list the addresses of the underlay " + q(name), listed.error));
  const addrs = listed.value;
  let local: IP | null = configured;
  let localNet: Cidr | null = null;
  for (let i = 0; i < addrs.length; i++) {
    const c = Cidr.parse(unchecked(addrs[i]).cidr);
    if (c === null) continue;
    if (local === null) local = c.ip;
    if (c.ip.equals(local)) {
      localNet = c;
      break;
    }
  }
  if (local === null) return Result.err<Underlay, CniError>(errorf("the underlay " + q(name) + " has no IPv4 address to use as the local VTEP address: set config.localIP"));
  return Result.ok<Underlay, CniError>(new Underlay(name, link.mtu, local, localNet));
}

/** The MTU of the vxlan device, the bridge and the container interfaces: configured, or the underlay's - 50. */
export function overlayMtu(n: VxlanConf, u: Underlay): Result<u32, CniError> {
  const max: i64 = <i64>u.mtu - <i64>VXLAN_OVERHEAD;
  if (n.mtu == 0) {
    if (max < 68) return Result.err<u32, CniError>(errorf("the underlay " + q(u.name) + " has MTU " + u.mtu.toString() + ", too small for VXLAN"));
    return Result.ok<u32, CniError>(<u32>max);
  }
  if (<i64>n.mtu > max) {
    return Result.err<u32, CniError>(
      cniError(ErrorCode.InvalidConfig, "config.mtu " + n.mtu.toString() + " does not fit the underlay " + q(u.name) + ": at most its MTU " + u.mtu.toString() + " - 50 = " + max.toString()),
    );
  }
  return Result.ok<u32, CniError>(<u32>n.mtu);
}
