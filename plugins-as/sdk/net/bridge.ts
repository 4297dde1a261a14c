// A Linux bridge in the host namespace: create it (or adopt an existing one), and give it
// gateway addresses, as the reference bridge plugin's ensureBridge / ensureAddr do.
import { BridgeOptions, CniError, HostErrorTag, IpFamily, LinkChange, LinkInfo, Netns, Address, Result, Some, netlink } from "../generated/bindings";
import { Cidr } from "../ip";
import { errorf, hostErr, q } from "./errors";
import { ifKey, trySysctl } from "./sysctl";

export class BridgeSpec {
  name: string = "cni0";
  /** 0: the kernel's default. Only applied when the bridge is created. */
  mtu: i32 = 0;
  promisc: bool = false;
  vlanFiltering: bool = false;
}

/**
 * The bridge `spec.name`, created when missing, promiscuous when asked, up, with
 * accept_ra=0 (the plugin owns its routes). An existing link of that name that is not a
 * bridge is an error. Messages as the reference's ("could not add \"cni0\": ...").
 */
export function ensureBridge(spec: BridgeSpec): Result<LinkInfo, CniError> {
  const name = spec.name;
  const o = new BridgeOptions();
  if (spec.mtu > 0) o.mtu = new Some<u32>(<u32>spec.mtu);
  o.promisc = spec.promisc;
  o.vlanFiltering = spec.vlanFiltering;
  const created = netlink.createBridge(name, o);
  let existed = false;
  if (created.isErr) {
    const e = created.error;
    if (e.tag != HostErrorTag.Exists) return Result.err<LinkInfo, CniError>(hostErr("could not add " + q(name), e));
    existed = true;
  }
  if (existed && spec.promisc) {
    const c = new LinkChange();
    c.promisc = new Some<bool>(true);
    const r = netlink.setLink(Netns.Host, name, c);
    if (r.isErr) return Result.err<LinkInfo, CniError>(hostErr("could not set promiscuous mode on " + q(name), r.error));
  }
  const got = bridgeByName(name);
  if (got.isErr) return got;
  const br = got.value;
  // We want to own the routes for this interface.
  trySysctl(Netns.Host, ifKey("net.ipv6.conf", name, "accept_ra"), "0");
  if (!br.up) {
    const c = new LinkChange();
    c.up = new Some<bool>(true);
    const r = netlink.setLink(Netns.Host, name, c);
    if (r.isErr) return Result.err<LinkInfo, CniError>(hostErr("could not set " + q(name) + " up", r.error));
    br.up = true;
  }
  return Result.ok<LinkInfo, CniError>(br);
}

/** The host link `name`, which must be a bridge. */
export function bridgeByName(name: string): Result<LinkInfo, CniError> {
  const r = netlink.getLink(Netns.Host, name);
  if (r.isErr) return Result.err<LinkInfo, CniError>(hostErr("could not lookup " + q(name), r.error));
  const l = r.value;
  if (l.kind != "bridge") return Result.err<LinkInfo, CniError>(errorf(q(name) + " already exists but is not a bridge"));
  return Result.ok<LinkInfo, CniError>(l);
}

/**
 * Give host link `link` the address `addr` ("10.22.0.1/16"), as the reference's ensureAddr:
 * nothing to do when it has it; an IPv4 link with another IPv4 address, or an IPv6 address
 * overlapping it, is an error unless `force` (then the other address is removed). After
 * adding, the link's MAC is set to `mac` ("" = its current one), so that a bridge keeps it
 * while ports come and go. The reference pins the MAC the bridge had when ensureBridge read it,
 * i.e. before the first port made the kernel copy that port's MAC: pass ensureBridge's `mac`.
 */
export function ensureAddr(link: string, addr: Cidr, force: bool, mac: string = ""): CniError | null {
  const v4 = addr.ip.is4();
  const listed = netlink.listAddresses(Netns.Host, link, v4 ? IpFamily.V4 : IpFamily.V6);
  if (listed.isErr) return hostErr("could not get list of IP addresses", listed.error);
  const want = addr.toString();
  const addrs = listed.value;
  for (let i = 0; i < addrs.length; i++) {
    const a = Cidr.parse(unchecked(addrs[i]).cidr);
    if (a === null) continue;
    if (a.prefix == addr.prefix && a.ip.equals(addr.ip)) return null;
    if (v4 || a.contains(addr.ip) || addr.contains(a.ip)) {
      if (force) {
        const d = new Address();
        d.link = link;
        d.cidr = a.toString();
        const r = netlink.delAddress(Netns.Host, d);
        if (r.isErr) return hostErr("could not remove IP address from " + q(link), r.error);
      } else {
        return errorf(q(link) + " already has an IP address different from " + want);
      }
    }
  }
  const n = new Address();
  n.link = link;
  n.cidr = want;
  const added = netlink.addAddress(Netns.Host, n);
  if (added.isErr && added.error.tag != HostErrorTag.Exists) return hostErr("could not add IP address " + want + " to " + q(link), added.error);
  let pin = mac;
  if (pin.length == 0) {
    const cur = netlink.getLink(Netns.Host, link);
    if (cur.isErr) return hostErr("could not set bridge's mac", cur.error);
    pin = cur.value.mac;
  }
  const c = new LinkChange();
  c.mac = pin;
  const set = netlink.setLink(Netns.Host, link, c);
  if (set.isErr) return hostErr("could not set bridge's mac", set.error);
  return null;
}
