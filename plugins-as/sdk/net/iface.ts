// Configure a container interface from a result: its addresses (IPv6 enabled first where
// needed), up, then the routes, as the reference's ipam.ConfigureIface. The plugin calls it
// with a result whose `ips[].interface` point at the interface to configure.
import { Address, CniError, LinkChange, Netns, Route, RouteScope, Some, netlink, sysctl } from "../generated/bindings";
import { Cidr, IP } from "../ip";
import { CniResult, CniRoute } from "../result";
import { errorf, hostErr, q } from "./errors";
import { ifKey, readSysctl } from "./sysctl";

/** A route's scope number (rtnetlink's RT_SCOPE_*) as the WIT's enum; null when it has no name there. */
export function routeScopeOf(n: i32): Some<RouteScope> | null {
  if (n == 0) return new Some<RouteScope>(RouteScope.Universe);
  if (n == 200) return new Some<RouteScope>(RouteScope.Site);
  if (n == 253) return new Some<RouteScope>(RouteScope.Link);
  if (n == 254) return new Some<RouteScope>(RouteScope.Host);
  if (n == 255) return new Some<RouteScope>(RouteScope.Nowhere);
  return null;
}

/** The container route a result route becomes on `ifname`, with `gw` when the route has none. */
export function routeFor(r: CniRoute, ifname: string, gw: string): Route {
  const out = new Route();
  out.dst = r.dst;
  if (gw.length > 0) out.gw = gw;
  out.dev = ifname;
  if (r.priority > 0) out.metric = new Some<u32>(<u32>r.priority);
  if (r.table >= 0) out.table = new Some<u32>(<u32>r.table);
  if (r.scope >= 0) out.scope = routeScopeOf(r.scope);
  return out;
}

/** Enable IPv6 (disable_ipv6=0) on `lo` and `ifname` in the container, as the reference does before an IPv6 address. */
function enableIPv6(ifname: string): CniError | null {
  const names = ["lo", ifname];
  for (let i = 0; i < names.length; i++) {
    const key = ifKey("net.ipv6.conf", unchecked(names[i]), "disable_ipv6");
    const v = readSysctl(Netns.Container, key);
    if (v === null || v == "0") continue;
    const r = sysctl.set(Netns.Container, key, "0");
    if (r.isErr) return errorf("failed to enable IPv6 for interface " + q(unchecked(names[i])) + " (" + key + "=" + v + "): " + r.error.val);
  }
  return null;
}

/**
 * Put the result's addresses for `ifname` (ips whose interface index names it) on the
 * container link, bring it up, and add the result's routes through it (a route without a
 * gateway uses the first gateway of its family). Errors as the reference's ConfigureIface.
 */
export function configureIface(ifname: string, res: CniResult): CniError | null {
  if (res.interfaces.length == 0) return errorf("no interfaces to configure");
  const look = netlink.getLink(Netns.Container, ifname);
  if (look.isErr) return hostErr("failed to lookup " + q(ifname), look.error);
  let v4gw = "";
  let v6gw = "";
  let enabled6 = false;
  for (let i = 0; i < res.ips.length; i++) {
    const ipc = unchecked(res.ips[i]);
    if (ipc.iface < 0) continue;
    if (ipc.iface >= res.interfaces.length || unchecked(res.interfaces[ipc.iface]).name != ifname) {
      return errorf("failed to add IP addr " + ipc.address + " to " + q(ifname) + ": invalid interface index");
    }
    const c = Cidr.parse(ipc.address);
    if (c === null) return errorf("failed to add IP addr " + ipc.address + " to " + q(ifname) + ": invalid address");
    if (!enabled6 && !c.ip.is4()) {
      const e = enableIPv6(ifname);
      if (e !== null) return e;
      enabled6 = true;
    }
    const a = new Address();
    a.link = ifname;
    a.cidr = ipc.address;
    const added = netlink.addAddress(Netns.Container, a);
    if (added.isErr) return hostErr("failed to add IP addr " + ipc.address + " to " + q(ifname), added.error);
    // Go: a missing gateway counts as "not IPv4" here, and so can only fill the IPv6 slot.
    const gw = ipc.gateway.length > 0 ? IP.parse(ipc.gateway) : null;
    const gwIs4 = gw !== null && gw.is4();
    if (gwIs4 && v4gw.length == 0) v4gw = ipc.gateway;
    else if (!gwIs4 && v6gw.length == 0) v6gw = ipc.gateway;
  }
  const up = new LinkChange();
  up.up = new Some<bool>(true);
  const u = netlink.setLink(Netns.Container, ifname, up);
  if (u.isErr) return hostErr("failed to set " + q(ifname) + " UP", u.error);

  for (let i = 0; i < res.routes.length; i++) {
    const r = unchecked(res.routes[i]);
    const dst = Cidr.parse(r.dst);
    if (dst === null) return errorf("invalid route destination " + q(r.dst));
    let gw = r.gw;
    if (gw.length == 0) gw = dst.ip.is4() ? v4gw : v6gw;
    const added = netlink.addRoute(Netns.Container, routeFor(r, ifname, gw));
    if (added.isErr) {
      return hostErr("failed to add route '" + r.dst + " via " + (gw.length > 0 ? gw : "<nil>") + " dev " + ifname + "'", added.error);
    }
  }
  return null;
}
