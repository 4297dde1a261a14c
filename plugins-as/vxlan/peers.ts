// The peers: what flannel's vxlan backend programs for each remote node, in the host namespace.
//
//   overlay  route     <peer subnet> via <subnet's network address> dev vxlan<vni> onlink
//            neighbour <subnet's network address> lladdr <peer VTEP MAC> dev vxlan<vni> permanent
//            fdb       <peer VTEP MAC> dst <peer VTEP address> dev vxlan<vni> self permanent
//   direct   route     <peer subnet> via <peer VTEP address> dev <underlay>
//            (directRouting, and the peer on the underlay's own subnet: no encapsulation)
//
// The host's state is read once (routes, the device's neighbours and FDB) and only what is
// missing or different is written, so a second ADD on the node writes nothing. Entries on the
// device that belong to no configured peer (a peer removed from the config) are removed; a
// direct route of a removed peer is not (the plugin cannot tell it from the node's own routes
// through the underlay; docs/vxlan.md).
import { Cidr, CniError, FdbEntry, HostErrorTag, IP, IpFamily, Neighbour, Netns, Route, netlink } from "../sdk";
import { errorf, hostErr, q } from "../sdk/net";
import { Peer, VxlanConf } from "./conf";
import { Underlay } from "./underlay";

/** Is the peer reached by a plain route over the underlay? */
export function isDirect(n: VxlanConf, u: Underlay, p: Peer): bool {
  return n.directRouting && u.sameSubnet(p.ip);
}

class HostState {
  routes: Array<Route> = new Array<Route>();
  neighs: Array<Neighbour> = new Array<Neighbour>();
  fdb: Array<FdbEntry> = new Array<FdbEntry>();
}

function readState(device: string, st: HostState): CniError | null {
  const r = netlink.listRoutes(Netns.Host, IpFamily.V4, null);
  if (r.isErr) return hostErr("could not list the node's routes", r.error);
  st.routes = r.value;
  const nb = netlink.listNeighbours(Netns.Host, device);
  if (nb.isErr) return hostErr("could not list the neighbours of " + q(device), nb.error);
  st.neighs = nb.value;
  const f = netlink.listFdb(Netns.Host, device);
  if (f.isErr) return hostErr("could not list the forwarding entries of " + q(device), f.error);
  st.fdb = f.value;
  return null;
}

function sameIp(text: string | null, ip: IP): bool {
  if (text === null) return false;
  const p = IP.parse(text);
  return p !== null && p.equals(ip);
}

/** The main-table route to exactly `subnet` with metric 0, or null. */
function routeTo(routes: Array<Route>, subnet: Cidr): Route | null {
  for (let i = 0; i < routes.length; i++) {
    const r = unchecked(routes[i]);
    const m = r.metric;
    if (m !== null && m.value != 0) continue;
    const d = Cidr.parse(r.dst);
    if (d !== null && d.prefix == subnet.prefix && d.ip.equals(subnet.ip)) return r;
  }
  return null;
}

function overlayRoute(device: string, p: Peer): Route {
  const r = new Route();
  r.dst = p.subnet.toString();
  r.gw = p.nextHop.toString();
  r.dev = device;
  r.onlink = true;
  return r;
}

function directRoute(u: Underlay, p: Peer): Route {
  const r = new Route();
  r.dst = p.subnet.toString();
  r.gw = p.ip.toString();
  r.dev = u.name;
  return r;
}

function isOverlayRoute(r: Route, device: string, p: Peer): bool {
  const dev = r.dev;
  return dev !== null && dev == device && sameIp(r.gw, p.nextHop) && r.onlink;
}

function isDirectRoute(r: Route, u: Underlay, p: Peer): bool {
  const dev = r.dev;
  return dev !== null && dev == u.name && sameIp(r.gw, p.ip);
}

function describe(r: Route): string {
  const gw = r.gw;
  const dev = r.dev;
  return r.dst + (gw !== null ? " via " + gw : "") + (dev !== null ? " dev " + dev : "");
}

/**
 * Make room for our route to `p.subnet`: remove an existing one through the vxlan device (an
 * old overlay route) or through the underlay (an old direct route, which the host lets the
 * plugin delete only when it added it: the kernel answers not-found for any other). Any other
 * route to the subnet is a conflict.
 */
function clearRoute(existing: Route, device: string, u: Underlay, p: Peer): CniError | null {
  const dev = existing.dev;
  if (dev !== null && (dev == device || dev == u.name)) {
    const d = new Route();
    d.dst = existing.dst;
    d.gw = existing.gw;
    d.dev = dev;
    const r = netlink.delRoute(Netns.Host, d);
    if (r.isOk) return null;
    if (dev == device) return r.error.tag == HostErrorTag.NotFound ? null : hostErr("failed to remove the old route " + describe(existing), r.error);
  }
  return errorf("the node already has a route " + describe(existing) + " to peer " + p.ip.toString() + "'s subnet " + p.subnet.toString());
}

function matching(r: Route, direct: bool, device: string, u: Underlay, p: Peer): bool {
  return direct ? isDirectRoute(r, u, p) : isOverlayRoute(r, device, p);
}

function ensureRoute(st: HostState, direct: bool, p: Peer, device: string, u: Underlay): CniError | null {
  const want = direct ? directRoute(u, p) : overlayRoute(device, p);
  const existing = routeTo(st.routes, p.subnet);
  if (existing !== null) {
    if (matching(existing, direct, device, u, p)) return null;
    const e = clearRoute(existing, device, u, p);
    if (e !== null) return e;
  }
  const r = netlink.addRoute(Netns.Host, want);
  if (r.isOk) return null;
  if (r.error.tag != HostErrorTag.Exists) return hostErr("failed to add the route " + describe(want), r.error);
  // Another ADD of this network on the node may have added it a moment ago: then it is ours.
  const again = netlink.listRoutes(Netns.Host, IpFamily.V4, null);
  if (again.isErr) return hostErr("could not list the node's routes", again.error);
  const now = routeTo(again.value, p.subnet);
  if (now !== null && matching(now, direct, device, u, p)) return null;
  return errorf("the node already has a route " + (now !== null ? describe(now) : p.subnet.toString()) + " to peer " + p.ip.toString() + "'s subnet " + p.subnet.toString());
}

function ensureNeighbour(st: HostState, device: string, p: Peer): CniError | null {
  for (let i = 0; i < st.neighs.length; i++) {
    const nb = unchecked(st.neighs[i]);
    if (!sameIp(nb.ip, p.nextHop)) continue;
    if (nb.mac == p.mac) return null;
    const d = netlink.delNeighbour(Netns.Host, nb);
    if (d.isErr && d.error.tag != HostErrorTag.NotFound) return hostErr("failed to remove the old neighbour " + nb.ip + " lladdr " + nb.mac, d.error);
  }
  const nb = new Neighbour();
  nb.link = device;
  nb.ip = p.nextHop.toString();
  nb.mac = p.mac;
  const r = netlink.addNeighbour(Netns.Host, nb);
  if (r.isErr && r.error.tag != HostErrorTag.Exists) return hostErr("failed to add the neighbour " + nb.ip + " lladdr " + nb.mac + " dev " + device, r.error);
  return null;
}

function ensureFdb(st: HostState, device: string, p: Peer): CniError | null {
  let good = 0;
  let others = 0;
  for (let i = 0; i < st.fdb.length; i++) {
    const f = unchecked(st.fdb[i]);
    if (f.mac != p.mac) continue;
    if (sameIp(f.dst, p.ip)) good++;
    else others++;
  }
  if (good == 1 && others == 0) return null;
  if (good + others > 0) {
    // Another VTEP address for this MAC (or several): start from none.
    const d = new FdbEntry();
    d.link = device;
    d.mac = p.mac;
    for (let i = 0; i < good + others; i++) {
      const r = netlink.delFdb(Netns.Host, d);
      if (r.isErr) break;
    }
  }
  const e = new FdbEntry();
  e.link = device;
  e.mac = p.mac;
  e.dst = p.ip.toString();
  const r = netlink.addFdb(Netns.Host, e);
  if (r.isErr && r.error.tag != HostErrorTag.Exists) return hostErr("failed to add the forwarding entry " + e.mac + " dst " + p.ip.toString() + " dev " + device, r.error);
  return null;
}

/** Program every peer (and remove the device's entries of peers no longer configured). */
export function programPeers(n: VxlanConf, u: Underlay): CniError | null {
  const device = n.device;
  const st = new HostState();
  const e0 = readState(device, st);
  if (e0 !== null) return e0;
  for (let i = 0; i < n.peers.length; i++) {
    const p = unchecked(n.peers[i]);
    if (isDirect(n, u, p)) {
      const e = ensureRoute(st, true, p, device, u);
      if (e !== null) return e;
      continue;
    }
    let e = ensureNeighbour(st, device, p);
    if (e !== null) return e;
    e = ensureFdb(st, device, p);
    if (e !== null) return e;
    e = ensureRoute(st, false, p, device, u);
    if (e !== null) return e;
  }
  return removeStale(n, u, st);
}

function overlayPeerFor(n: VxlanConf, u: Underlay, f: (p: Peer) => bool): bool {
  for (let i = 0; i < n.peers.length; i++) {
    const p = unchecked(n.peers[i]);
    if (!isDirect(n, u, p) && f(p)) return true;
  }
  return false;
}

// Closures cannot capture in AssemblyScript: the value compared against lives here.
let probeText: string = "";
let probeCidr: Cidr | null = null;

function removeStale(n: VxlanConf, u: Underlay, st: HostState): CniError | null {
  const device = n.device;
  for (let i = 0; i < st.routes.length; i++) {
    const r = unchecked(st.routes[i]);
    const dev = r.dev;
    if (dev === null || dev != device) continue;
    probeCidr = Cidr.parse(r.dst);
    if (probeCidr === null) continue;
    if (overlayPeerFor(n, u, (p: Peer): bool => p.subnet.prefix == probeCidr!.prefix && p.subnet.ip.equals(probeCidr!.ip))) continue;
    const d = netlink.delRoute(Netns.Host, r);
    if (d.isErr && d.error.tag != HostErrorTag.NotFound) return hostErr("failed to remove the stale route " + describe(r), d.error);
  }
  for (let i = 0; i < st.neighs.length; i++) {
    const nb = unchecked(st.neighs[i]);
    probeText = nb.ip;
    if (overlayPeerFor(n, u, (p: Peer): bool => sameIp(probeText, p.nextHop))) continue;
    const d = netlink.delNeighbour(Netns.Host, nb);
    if (d.isErr && d.error.tag != HostErrorTag.NotFound) return hostErr("failed to remove the stale neighbour " + nb.ip, d.error);
  }
  // With learning on, the kernel adds entries of its own: leave the table alone then.
  if (n.learning) return null;
  for (let i = 0; i < st.fdb.length; i++) {
    const f = unchecked(st.fdb[i]);
    probeText = f.mac;
    if (overlayPeerFor(n, u, (p: Peer): bool => p.mac == probeText)) continue;
    const d = new FdbEntry();
    d.link = device;
    d.mac = f.mac;
    d.dst = f.dst;
    const r = netlink.delFdb(Netns.Host, d);
    if (r.isErr && r.error.tag != HostErrorTag.NotFound) return hostErr("failed to remove the stale forwarding entry " + f.mac, r.error);
  }
  return null;
}

/** CHECK: every peer's entries are there. */
export function checkPeers(n: VxlanConf, u: Underlay): CniError | null {
  const device = n.device;
  const st = new HostState();
  const e0 = readState(device, st);
  if (e0 !== null) return e0;
  for (let i = 0; i < n.peers.length; i++) {
    const p = unchecked(n.peers[i]);
    const existing = routeTo(st.routes, p.subnet);
    if (isDirect(n, u, p)) {
      if (existing === null || !isDirectRoute(existing, u, p)) return errorf("route " + describe(directRoute(u, p)) + " to peer " + p.ip.toString() + " not found");
      continue;
    }
    if (existing === null || !isOverlayRoute(existing, device, p)) return errorf("route " + describe(overlayRoute(device, p)) + " onlink to peer " + p.ip.toString() + " not found");
    let neigh = false;
    for (let k = 0; k < st.neighs.length && !neigh; k++) {
      const nb = unchecked(st.neighs[k]);
      neigh = sameIp(nb.ip, p.nextHop) && nb.mac == p.mac;
    }
    if (!neigh) return errorf("neighbour " + p.nextHop.toString() + " lladdr " + p.mac + " dev " + device + " of peer " + p.ip.toString() + " not found");
    let fdb = false;
    for (let k = 0; k < st.fdb.length && !fdb; k++) {
      const f = unchecked(st.fdb[k]);
      fdb = f.mac == p.mac && sameIp(f.dst, p.ip);
    }
    if (!fdb) return errorf("forwarding entry " + p.mac + " dst " + p.ip.toString() + " dev " + device + " of peer " + p.ip.toString() + " not found");
  }
  return null;
}

/** Is `subnet` inside the destination of one of `routes` (CNI result routes)? */
export function coveredBy(dsts: Array<string>, subnet: Cidr): bool {
  for (let i = 0; i < dsts.length; i++) {
    const d = Cidr.parse(unchecked(dsts[i]));
    if (d === null || !d.ip.is4()) continue;
    if (d.prefix <= subnet.prefix && d.contains(subnet.ip)) return true;
  }
  return false;
}
