// The `netlink` interface: links, addresses, routes, neighbours, FDB entries and bridge
// VLANs, on host/sys/netlink, every call checked by the Enforcer first.
//
// Host namespace rules (docs/capabilities.md): a link may be read when the plugin created
// it for this network/attachment (its mark) or a `links.host`/`links.read` pattern names
// it; changed only in the first case or through `links.host`. Addresses, routes,
// neighbours, FDB entries and VLANs in the host namespace follow their link's rights;
// routes also need `routes.host` and must name their device (through a read-only link only
// an add or delete of a non-default route with a gateway, marked RTPROT_CNI_WASM: see
// readOnlyRouteOk). Links are looked up by name,
// checked, and then acted on by ifindex, so a rename in between cannot redirect a change.
// Listing in the host namespace shows only what the plugin may read.
// The container namespace needs `links.container` and is otherwise the plugin's.
import { randomBytes } from 'node:crypto';
import { isReservedAlias } from '../../caps/marks.ts';
import { type Ns, PermissionDenied } from '../../caps/enforce.ts';
import { addAddress, delAddress, listAddresses } from '../../sys/netlink/addresses.ts';
import {
  type Link,
  type LinkChanges,
  addBridgeVlan,
  createBridge,
  createVeth,
  createVxlan,
  delBridgeVlan,
  deleteLink,
  getLink,
  listLinks,
  setBridgePort,
  setLink,
} from '../../sys/netlink/links.ts';
import { addFdb, addNeighbor, delFdb, delNeighbor, listFdb, listNeighbors } from '../../sys/netlink/neigh.ts';
import { type Route as SysRoute, type RouteSpec, addRoute, delRoute, listRoutes, replaceRoute } from '../../sys/netlink/routes.ts';
import { isSysError } from '../../sys/errors.ts';
import type { NetlinkSocket } from '../../sys/netlink/socket.ts';
import type { Address, FdbEntry, IpFamily, LinkInfo, Neighbour, Netlink, Netns, Route, RouteScope, VlanEntry, VxlanInfo } from '../generated/abi.ts';
import { ROUTE_SCOPE_CASES } from '../generated/abi.ts';
import { type HostState, invalid, notFound } from './context.ts';

function family(f: IpFamily): 4 | 6 | undefined {
  return f === 'v4' ? 4 : f === 'v6' ? 6 : undefined;
}

function linkInfo(l: Link, masterName: string | undefined, vxlan: VxlanInfo | undefined): LinkInfo {
  return {
    index: l.index,
    name: l.name,
    kind: l.kind ?? 'device',
    mtu: l.mtu,
    mac: l.mac ?? '',
    up: l.up,
    promisc: l.promisc,
    master: masterName,
    alias: l.alias,
    vxlan,
  };
}

/** A link by name, as not-found when it does not exist. */
function lookup(s: NetlinkSocket, ns: Ns, name: string): Link {
  try {
    return getLink(s, name);
  } catch (e) {
    if (isSysError(e) && e.errno === 'ENODEV') throw notFound(`no link ${JSON.stringify(name)} in the ${ns} namespace`);
    throw e;
  }
}

/** A link by ifindex (from `known` when it is there), undefined when it is gone. */
function linkByIndex(s: NetlinkSocket, index: number, known?: Map<number, Link>): Link | undefined {
  const k = known?.get(index);
  if (k) return k;
  try {
    return getLink(s, index);
  } catch {
    return undefined;
  }
}

function checkAlias(alias: string | undefined): void {
  if (alias !== undefined && isReservedAlias(alias)) throw invalid('aliases starting with "cni-wasm" are reserved for the host\'s link marks');
}

const VETH_NAME_TRIES = 8;

/**
 * The route protocol (RTPROT_*, unassigned in rtnetlink.h and iproute2's rt_protos) of the
 * routes the host adds for a plugin through a host link it may only read; `ip route` shows
 * them as `proto 67`.
 */
export const RTPROT_CNI_WASM = 67;

/**
 * May a plugin holding routes.host `op` this route through a host link it may only read
 * (links.read)? Only add and delete (never replace, which would take over whatever route has
 * that key), only a route with a gateway, without onlink, and not a default route.
 */
function readOnlyRouteOk(r: Route, op: 'add' | 'replace' | 'del'): boolean {
  if (op === 'replace' || r.gw === undefined || r.onlink) return false;
  const slash = r.dst.lastIndexOf('/');
  return slash > 0 && Number(r.dst.slice(slash + 1)) > 0;
}

export function createNetlink(st: HostState): Netlink {
  const enf = st.enforcer;

  /**
   * A vxlan device's attributes for link-info. Its underlay is named only when it lives in
   * the same namespace (a device moved elsewhere keeps an underlay the plugin cannot name)
   * and, in the host namespace, the plugin may read it.
   */
  const vxlanInfo = (s: NetlinkSocket, ns: Netns, l: Link, known?: Map<number, Link>): VxlanInfo | undefined => {
    const v = l.vxlan;
    if (v === undefined) return undefined;
    let underlay: string | undefined;
    if (v.underlay !== undefined && l.linkNetnsid === undefined) {
      const u = linkByIndex(s, v.underlay, known);
      if (u !== undefined && (ns === 'container' || enf.canReadHostLink(u))) underlay = u.name;
    }
    return { vni: v.vni, port: v.port ?? 0, local: v.local, group: v.group, underlay, learning: v.learning, gbp: v.gbp, ttl: v.ttl };
  };

  /**
   * The name of a link's master for link-info. In the host namespace it is named only when
   * the plugin may read the master, as a vxlan underlay is (a port of a bridge the plugin may
   * not read shows no master); in the container namespace, always.
   */
  const masterName = (s: NetlinkSocket, ns: Netns, l: Link, known?: Map<number, Link>): string | undefined => {
    if (!l.master) return undefined;
    const m = linkByIndex(s, l.master, known);
    return m !== undefined && (ns === 'container' || enf.canReadHostLink(m)) ? m.name : undefined;
  };

  /** Look up a link the plugin may read in `ns` (container: needs links.container). */
  const readable = (ns: Netns, name: string, what: string): { s: NetlinkSocket; link: Link } => {
    st.checkNs(ns);
    if (ns === 'container') {
      enf.requireContainer(what);
      const s = st.socket('container');
      return { s, link: lookup(s, 'container', name) };
    }
    const s = st.socket('host');
    const link = lookup(s, 'host', name);
    enf.requireHostLinkRead(link);
    return { s, link };
  };

  /** Look up a link the plugin may change in `ns`. */
  const changeable = (ns: Netns, name: string, what: string): { s: NetlinkSocket; link: Link } => {
    st.checkNs(ns);
    if (ns === 'container') {
      enf.requireContainer(what);
      const s = st.socket('container');
      return { s, link: lookup(s, 'container', name) };
    }
    const s = st.socket('host');
    const link = lookup(s, 'host', name);
    enf.requireHostLinkChange(link, what);
    return { s, link };
  };

  /** Links of a namespace the plugin may see, by ifindex. */
  const visibleLinks = (ns: Netns, what: string): { s: NetlinkSocket; all: Map<number, Link>; visible: Map<number, Link> } => {
    st.checkNs(ns);
    if (ns === 'container') enf.requireContainer(what);
    const s = st.socket(ns);
    const all = new Map(listLinks(s).map((l) => [l.index, l]));
    const visible = ns === 'container' ? all : new Map([...all].filter(([, l]) => enf.canReadHostLink(l)));
    return { s, all, visible };
  };

  const routeSpec = (ns: Netns, r: Route, what: string, op: 'add' | 'replace' | 'del'): { s: NetlinkSocket; spec: RouteSpec } => {
    st.checkNs(ns);
    let s: NetlinkSocket;
    let index: number | undefined;
    let protocol: number | undefined;
    if (ns === 'host') {
      enf.requireHostRoutes(what);
      if (r.dev === undefined) {
        throw new PermissionDenied('routes.host', `may not ${what} in the host namespace without naming its device (a link it may change)`);
      }
      s = st.socket('host');
      const link = lookup(s, 'host', r.dev);
      if (enf.hostLinkAccess(link) === 'read' && readOnlyRouteOk(r, op)) {
        // Through a read-only link (a vxlan plugin's directRouting over its underlay): add a
        // route with a gateway, never a default route, never replacing one, marked with
        // cni-wasm's route protocol; delete only routes carrying that mark (the kernel
        // matches the protocol), so the node's own routes through the link stay untouchable.
        protocol = RTPROT_CNI_WASM;
      } else {
        enf.requireHostLinkChange(link, `${what} through`);
      }
      index = link.index;
    } else {
      enf.requireContainer(what);
      s = st.socket('container');
      if (r.dev !== undefined) index = lookup(s, 'container', r.dev).index;
    }
    const spec: RouteSpec = { dst: r.dst, onlink: r.onlink };
    if (r.gw !== undefined) spec.gateway = r.gw;
    if (index !== undefined) spec.link = index;
    if (r.src !== undefined) spec.src = r.src;
    if (r.metric !== undefined) spec.metric = r.metric;
    if (r.table !== undefined) spec.table = r.table;
    if (r.scope !== undefined) spec.scope = r.scope;
    if (r.mtu !== undefined) spec.mtu = r.mtu;
    if (protocol !== undefined) spec.protocol = protocol;
    return { s, spec };
  };

  const routeOut = (r: SysRoute, names: Map<number, Link>): Route => ({
    dst: r.dst,
    gw: r.gateway,
    dev: r.oif === undefined ? undefined : names.get(r.oif)?.name,
    src: r.src,
    metric: r.metric,
    table: r.table,
    scope: typeof r.scope === 'string' && (ROUTE_SCOPE_CASES as readonly string[]).includes(r.scope) ? (r.scope as RouteScope) : undefined,
    onlink: r.onlink,
    mtu: r.mtu,
  });

  return {
    getLink(ns, name) {
      return st.call('netlink.get-link', () => [ns, name], () => {
        const { s, link } = readable(ns, name, 'read links');
        return linkInfo(link, masterName(s, ns, link), vxlanInfo(s, ns, link));
      }, (l) => ({ index: l.index, kind: l.kind }));
    },

    listLinks(ns) {
      return st.call('netlink.list-links', () => [ns], () => {
        const { s, all, visible } = visibleLinks(ns, 'list links');
        return [...visible.values()].map((l) => linkInfo(l, masterName(s, ns, l, all), vxlanInfo(s, ns, l, all)));
      }, (ls) => ls.map((l) => l.name));
    },

    createBridge(name, o) {
      return st.call('netlink.create-bridge', () => [name, o], () => {
        enf.requireCreate('bridge');
        const s = st.socket('host');
        const spec: Parameters<typeof createBridge>[1] = { name, alias: enf.networkMark };
        if (o.mtu !== undefined) spec.mtu = o.mtu;
        if (o.mac !== undefined) spec.mac = o.mac;
        if (o.vlanFiltering) spec.vlanFiltering = true;
        let link = createBridge(s, spec);
        if (o.promisc) {
          setLink(s, link.index, { promisc: true });
          link = getLink(s, link.index);
        }
        return linkInfo(link, undefined, undefined);
      }, (l) => ({ index: l.index }));
    },

    createVeth(o) {
      return st.call('netlink.create-veth', () => [o], () => {
        enf.requireCreate('veth');
        enf.requireContainer('create the container end of a veth');
        st.attachment('create a veth');
        const mark = enf.attachmentMark;
        if (mark === undefined) throw invalid('cannot create a veth without an attachment');
        const container = st.ns('container');
        const hs = st.socket('host');
        const cs = st.socket('container');
        const peer: Parameters<typeof createVeth>[1]['peer'] = { name: o.containerName, ns: container };
        if (o.mtu !== undefined) peer.mtu = o.mtu;
        if (o.containerMac !== undefined) peer.mac = o.containerMac;
        let hostEnd: Link | undefined;
        for (let attempt = 0; hostEnd === undefined; attempt++) {
          const name = o.hostName ?? `veth${randomBytes(4).toString('hex')}`;
          const spec: Parameters<typeof createVeth>[1] = { name, alias: mark, peer };
          if (o.mtu !== undefined) spec.mtu = o.mtu;
          try {
            hostEnd = createVeth(hs, spec);
          } catch (e) {
            // A generated name that happens to exist: pick another. A name the plugin chose: its problem.
            if (o.hostName === undefined && isSysError(e) && e.errno === 'EEXIST' && attempt + 1 < VETH_NAME_TRIES) {
              // The peer name may be the one that exists: then every try fails the same way.
              const clash = (() => {
                try {
                  getLink(cs, o.containerName);
                  return true;
                } catch {
                  return false;
                }
              })();
              if (clash) throw e;
              continue;
            }
            throw e;
          }
        }
        const containerEnd = getLink(cs, o.containerName);
        return [linkInfo(hostEnd, undefined, undefined), linkInfo(containerEnd, undefined, undefined)] as [LinkInfo, LinkInfo];
      }, ([h, c]) => ({ host: h.name, container: c.name }));
    },

    createVxlan(name, o) {
      return st.call('netlink.create-vxlan', () => [name, o], () => {
        enf.requireCreate('vxlan');
        const s = st.socket('host');
        const spec: Parameters<typeof createVxlan>[1] = { name, vni: o.vni, alias: enf.networkMark, learning: o.learning, gbp: o.gbp };
        if (o.underlay !== undefined) spec.underlay = readable('host', o.underlay, 'use as an underlay').link.index;
        if (o.port !== 0) spec.port = o.port;
        if (o.local !== undefined) spec.local = o.local;
        if (o.ttl !== undefined) spec.ttl = o.ttl;
        if (o.mtu !== undefined) spec.mtu = o.mtu;
        if (o.mac !== undefined) spec.mac = o.mac;
        const made = createVxlan(s, spec);
        return linkInfo(made, undefined, vxlanInfo(s, 'host', made));
      }, (l) => ({ index: l.index }));
    },

    setLink(ns, name, c) {
      return st.call('netlink.set-link', () => [ns, name, c], () => {
        checkAlias(c.alias);
        const { s, link } = changeable(ns, name, 'change');
        if (ns === 'host') {
          if (c.alias !== undefined && enf.ownsLink(link)) throw invalid(`the alias of ${JSON.stringify(name)} is the host's mark of who created it and cannot be changed`);
          if (c.newName !== undefined) enf.requireHostRename(link, c.newName);
        }
        const changes: LinkChanges = {};
        if (c.up !== undefined) changes.up = c.up;
        if (c.mtu !== undefined) changes.mtu = c.mtu;
        if (c.mac !== undefined) changes.mac = c.mac;
        if (c.alias !== undefined) changes.alias = c.alias;
        if (c.promisc !== undefined) changes.promisc = c.promisc;
        if (c.newName !== undefined) changes.name = c.newName;
        if (c.master !== undefined) {
          if (c.master === '') changes.master = null;
          else changes.master = (ns === 'host' ? changeable('host', c.master, 'attach a port to') : { link: lookup(s, 'container', c.master) }).link.index;
        }
        if (Object.keys(changes).length > 0) setLink(s, link.index, changes);
        if (c.hairpin !== undefined || c.isolated !== undefined) {
          const port: Parameters<typeof setBridgePort>[2] = {};
          if (c.hairpin !== undefined) port.hairpin = c.hairpin;
          if (c.isolated !== undefined) port.isolated = c.isolated;
          setBridgePort(s, link.index, port);
        }
      });
    },

    deleteLink(ns, name) {
      return st.call('netlink.delete-link', () => [ns, name], () => {
        const { s, link } = changeable(ns, name, 'delete');
        deleteLink(s, link.index);
      });
    },

    addAddress(ns, a) {
      return st.call('netlink.add-address', () => [ns, a], () => {
        const { s, link } = changeable(ns, a.link, 'change the addresses of');
        addAddress(s, { link: link.index, address: a.cidr, nodad: a.nodad });
      });
    },

    delAddress(ns, a) {
      return st.call('netlink.del-address', () => [ns, a], () => {
        const { s, link } = changeable(ns, a.link, 'change the addresses of');
        delAddress(s, { link: link.index, address: a.cidr });
      });
    },

    listAddresses(ns, linkName, fam) {
      return st.call('netlink.list-addresses', () => [ns, linkName, fam], () => {
        const f = family(fam);
        if (linkName !== undefined) {
          // One link: look it up alone rather than dumping (and decoding) every link of the
          // namespace, which grows with the number of containers on the node.
          const { s, link } = readable(ns, linkName, 'list addresses');
          return listAddresses(s, { ...(f ? { family: f } : {}), link: link.index }).map(
            (a): Address => ({ link: link.name, cidr: a.cidr, nodad: a.flags.includes('nodad') }),
          );
        }
        const { s, visible } = visibleLinks(ns, 'list addresses');
        return listAddresses(s, f ? { family: f } : {})
          .filter((a) => visible.has(a.index))
          .map((a): Address => ({ link: visible.get(a.index)?.name ?? '', cidr: a.cidr, nodad: a.flags.includes('nodad') }));
      }, (as) => as.map((a) => `${a.link} ${a.cidr}`));
    },

    addRoute(ns, r) {
      return st.call('netlink.add-route', () => [ns, r], () => {
        const { s, spec } = routeSpec(ns, r, 'add a route', 'add');
        addRoute(s, spec);
      });
    },

    replaceRoute(ns, r) {
      return st.call('netlink.replace-route', () => [ns, r], () => {
        const { s, spec } = routeSpec(ns, r, 'replace a route', 'replace');
        replaceRoute(s, spec);
      });
    },

    delRoute(ns, r) {
      return st.call('netlink.del-route', () => [ns, r], () => {
        const { s, spec } = routeSpec(ns, r, 'delete a route', 'del');
        delRoute(s, spec);
      });
    },

    listRoutes(ns, fam, table) {
      return st.call('netlink.list-routes', () => [ns, fam, table], () => {
        const { s, all, visible } = visibleLinks(ns, 'list routes');
        const f = family(fam);
        const filter: Parameters<typeof listRoutes>[1] = {};
        if (f) filter.family = f;
        if (table !== undefined) filter.table = table;
        return listRoutes(s, filter)
          .filter((r) => ns === 'container' || (r.oif !== undefined && visible.has(r.oif)))
          .map((r) => routeOut(r, all));
      }, (rs) => rs.length);
    },

    addNeighbour(ns, n) {
      return st.call('netlink.add-neighbour', () => [ns, n], () => {
        const { s, link } = changeable(ns, n.link, 'change the neighbours of');
        addNeighbor(s, { link: link.index, ip: n.ip, mac: n.mac });
      });
    },

    delNeighbour(ns, n) {
      return st.call('netlink.del-neighbour', () => [ns, n], () => {
        const { s, link } = changeable(ns, n.link, 'change the neighbours of');
        delNeighbor(s, { link: link.index, ip: n.ip });
      });
    },

    listNeighbours(ns, linkName) {
      return st.call('netlink.list-neighbours', () => [ns, linkName], () => {
        const { s, visible } = visibleLinks(ns, 'list neighbours');
        let only: number | undefined;
        if (linkName !== undefined) only = readable(ns, linkName, 'list neighbours').link.index;
        return listNeighbors(s)
          .filter((n) => n.mac !== undefined && (only === undefined ? visible.has(n.index) : n.index === only))
          .map((n): Neighbour => ({ link: visible.get(n.index)?.name ?? '', ip: n.ip, mac: n.mac ?? '' }));
      }, (ns_) => ns_.length);
    },

    addFdb(ns, e) {
      return st.call('netlink.add-fdb', () => [ns, e], () => {
        const { s, link } = changeable(ns, e.link, 'change the forwarding entries of');
        const spec: Parameters<typeof addFdb>[1] = { link: link.index, mac: e.mac };
        if (e.dst !== undefined) spec.dst = e.dst;
        addFdb(s, spec);
      });
    },

    delFdb(ns, e) {
      return st.call('netlink.del-fdb', () => [ns, e], () => {
        const { s, link } = changeable(ns, e.link, 'change the forwarding entries of');
        const spec: Parameters<typeof delFdb>[1] = { link: link.index, mac: e.mac };
        if (e.dst !== undefined) spec.dst = e.dst;
        delFdb(s, spec);
      });
    },

    listFdb(ns, linkName) {
      return st.call('netlink.list-fdb', () => [ns, linkName], () => {
        const { s, link } = readable(ns, linkName, 'list forwarding entries');
        return listFdb(s, { link: link.index }).map((f): FdbEntry => ({ link: link.name, mac: f.mac, dst: f.dst }));
      }, (es) => es.length);
    },

    addVlan(ns, v) {
      return st.call('netlink.add-vlan', () => [ns, v], () => {
        const { s, link } = changeable(ns, v.link, 'change the VLANs of');
        addBridgeVlan(s, link.index, vlanSpec(v));
      });
    },

    delVlan(ns, v) {
      return st.call('netlink.del-vlan', () => [ns, v], () => {
        const { s, link } = changeable(ns, v.link, 'change the VLANs of');
        delBridgeVlan(s, link.index, vlanSpec(v));
      });
    },
  };
}

function vlanSpec(v: VlanEntry): { vid: number; pvid: boolean; untagged: boolean } {
  return { vid: v.vid, pvid: v.pvid, untagged: v.untagged };
}
