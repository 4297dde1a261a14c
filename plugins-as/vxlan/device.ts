// The vxlan device, one per network and node, named "vxlan<vni>". It is not a bridge port:
// the overlay is routed (flannel's model), so the device is an L3 interface whose neighbours
// and FDB entries say which VTEP holds which peer subnet.
//
// Ensured with the configured VNI, port, local address, underlay, learning, GBP and MTU, and
// this node's VTEP MAC (mac.ts). An existing device is recreated when any of these but the MTU
// differs from what this plugin would create (also a TTL or a default remote/group, which it
// never sets), as link-info's vxlan attributes show them; its MTU is set in place.
import { Address, Cidr, CniError, HostErrorTag, IP, IpFamily, Level, LinkChange, LinkInfo, Netns, Result, Some, VxlanOptions, log, netlink } from "../sdk";
import { errorf, hostErr, q } from "../sdk/net";
import { VxlanConf } from "./conf";
import { vtepMac } from "./mac";
import { Underlay } from "./underlay";

/** Reads of a link another invocation is creating right now, until its host mark shows. */
const MARK_WAIT_READS = 200;

export class DeviceSpec {
  name: string = "";
  vni: u32 = 0;
  port: u16 = 0;
  local: string = "";
  underlay: string = "";
  learning: bool = false;
  gbp: bool = false;
  mtu: u32 = 0;
  mac: string = "";
}

export function deviceSpec(n: VxlanConf, u: Underlay, mtu: u32): DeviceSpec {
  const s = new DeviceSpec();
  s.name = n.device;
  s.vni = n.vni;
  s.port = n.port;
  s.local = u.local.toString();
  s.underlay = u.name;
  s.learning = n.learning;
  s.gbp = n.gbp;
  s.mtu = mtu;
  s.mac = vtepMac(n.vni, u.local);
  return s;
}

function options(s: DeviceSpec): VxlanOptions {
  const o = new VxlanOptions();
  o.vni = s.vni;
  o.port = s.port;
  o.local = s.local;
  o.underlay = s.underlay;
  o.learning = s.learning;
  o.gbp = s.gbp;
  o.mtu = new Some<u32>(s.mtu);
  o.mac = s.mac;
  return o;
}

/**
 * A link the host created a moment ago for another invocation gets its mark in a second
 * request: until then this plugin may read but not change it. Wait (bounded) for the mark.
 */
function settled(name: string, l: LinkInfo): LinkInfo {
  let cur = l;
  for (let i = 0; i < MARK_WAIT_READS && cur.alias === null; i++) {
    const again = netlink.getLink(Netns.Host, name);
    if (again.isErr) break;
    cur = again.value;
  }
  return cur;
}

/** Wait (bounded) for host link `name` to carry a host mark; false when it has none (or is gone). */
export function awaitMark(name: string): bool {
  const got = netlink.getLink(Netns.Host, name);
  if (got.isErr) return false;
  return settled(name, got.value).alias !== null;
}

function orNone(v: string | null): string {
  return v === null ? "none" : v;
}

function onOff(v: bool): string {
  return v ? "on" : "off";
}

/**
 * The first attribute in which the existing vxlan device differs from the one this plugin
 * would create for `s` (MTU aside: that is changed in place), as "port 8472, expected 4789";
 * null when none does.
 */
export function deviceDifference(l: LinkInfo, s: DeviceSpec): string | null {
  if (l.kind != "vxlan") return "kind " + l.kind + ", expected vxlan";
  const v = l.vxlan;
  if (v === null) return "no vxlan attributes shown";
  if (v.vni != s.vni) return "VNI " + v.vni.toString() + ", expected " + s.vni.toString();
  if (v.port != s.port) return "port " + v.port.toString() + ", expected " + s.port.toString();
  const local = v.local;
  if (local === null || local != s.local) return "local address " + orNone(local) + ", expected " + s.local;
  const underlay = v.underlay;
  if (underlay === null || underlay != s.underlay) return "underlay " + orNone(underlay) + ", expected " + s.underlay;
  if (v.group !== null) return "remote/group " + orNone(v.group) + ", expected none";
  if (v.learning != s.learning) return "learning " + onOff(v.learning) + ", expected " + onOff(s.learning);
  if (v.gbp != s.gbp) return "GBP " + onOff(v.gbp) + ", expected " + onOff(s.gbp);
  if (v.ttl != 0) return "TTL " + v.ttl.toString() + ", expected the default (0)";
  if (l.mac != s.mac) return "MAC " + l.mac + ", expected " + s.mac + " (from VNI " + s.vni.toString() + " and local address " + s.local + ")";
  return null;
}

/** The device as specified, up; created or recreated as needed. */
export function ensureDevice(s: DeviceSpec): Result<LinkInfo, CniError> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const got = netlink.getLink(Netns.Host, s.name);
    if (got.isErr) {
      if (got.error.tag != HostErrorTag.NotFound) return Result.err<LinkInfo, CniError>(hostErr("could not lookup " + q(s.name), got.error));
      const made = netlink.createVxlan(s.name, options(s));
      if (made.isErr) {
        if (made.error.tag == HostErrorTag.Exists) continue; // another ADD of this network made it a moment ago: look again
        return Result.err<LinkInfo, CniError>(hostErr("failed to create the vxlan device " + q(s.name), made.error));
      }
      return up(s.name, made.value);
    }
    const l = settled(s.name, got.value);
    if (l.kind != "vxlan") return Result.err<LinkInfo, CniError>(errorf(q(s.name) + " already exists but is not a vxlan device"));
    const diff = deviceDifference(l, s);
    if (diff !== null) {
      // Made for another configuration: remove it (with every neighbour, FDB entry and route on it) and start again.
      log.write(Level.Info, "vxlan device " + q(s.name) + " exists with " + diff + ": recreating it");
      const d = netlink.deleteLink(Netns.Host, s.name);
      if (d.isErr && d.error.tag != HostErrorTag.NotFound) {
        return Result.err<LinkInfo, CniError>(hostErr("failed to remove the incompatible vxlan device " + q(s.name), d.error));
      }
      continue;
    }
    if (l.mtu != s.mtu) {
      const c = new LinkChange();
      c.mtu = new Some<u32>(s.mtu);
      const r = netlink.setLink(Netns.Host, s.name, c);
      if (r.isErr) return Result.err<LinkInfo, CniError>(hostErr("failed to set the MTU of " + q(s.name), r.error));
      l.mtu = s.mtu;
    }
    return up(s.name, l);
  }
  return Result.err<LinkInfo, CniError>(errorf("could not ensure the vxlan device " + q(s.name) + ": it kept changing"));
}

function up(name: string, l: LinkInfo): Result<LinkInfo, CniError> {
  if (l.up) return Result.ok<LinkInfo, CniError>(l);
  const c = new LinkChange();
  c.up = new Some<bool>(true);
  const r = netlink.setLink(Netns.Host, name, c);
  if (r.isErr) return Result.err<LinkInfo, CniError>(hostErr("failed to set " + q(name) + " up", r.error));
  l.up = true;
  return Result.ok<LinkInfo, CniError>(l);
}

/**
 * The device's own address: this node's pod subnet's network address /32 (flannel's), the
 * source the node uses towards remote pods, so that their replies come back through the
 * overlay. Other IPv4 addresses on the device (an old subnet's) are removed.
 */
export function ensureDeviceAddress(name: string, nodeSubnet: Cidr): CniError | null {
  const want = nodeSubnet.network();
  const listed = netlink.listAddresses(Netns.Host, name, IpFamily.V4);
  if (listed.isErr) return hostErr("could not list the addresses of " + q(name), listed.error);
  const addrs = listed.value;
  let have = false;
  for (let i = 0; i < addrs.length; i++) {
    const a = unchecked(addrs[i]);
    const c = Cidr.parse(a.cidr);
    if (c !== null && c.prefix == 32 && c.ip.equals(want)) {
      have = true;
      continue;
    }
    const r = netlink.delAddress(Netns.Host, a);
    if (r.isErr && r.error.tag != HostErrorTag.NotFound) return hostErr("could not remove " + a.cidr + " from " + q(name), r.error);
  }
  if (have) return null;
  const a = new Address();
  a.link = name;
  a.cidr = want.toString() + "/32";
  const r = netlink.addAddress(Netns.Host, a);
  if (r.isErr && r.error.tag != HostErrorTag.Exists) return hostErr("could not add " + a.cidr + " to " + q(name), r.error);
  return null;
}

/** CHECK: the device exists as specified and is up. */
export function checkDevice(s: DeviceSpec): CniError | null {
  const got = netlink.getLink(Netns.Host, s.name);
  if (got.isErr) return errorf("vxlan device " + s.name + " not found: " + got.error.val);
  const l = got.value;
  if (l.kind != "vxlan") return errorf("Interface " + s.name + " does not have link type of vxlan");
  const diff = deviceDifference(l, s);
  if (diff !== null) return errorf("vxlan device " + s.name + " has " + diff);
  if (l.mtu != s.mtu) return errorf("vxlan device " + s.name + " has MTU " + l.mtu.toString() + ", expected " + s.mtu.toString());
  if (!l.up) return errorf("vxlan device " + s.name + " is down");
  return null;
}

/** Is `ip` the address the device should have? */
export function isDeviceAddress(ip: IP, nodeSubnet: Cidr): bool {
  return ip.equals(nodeSubnet.network());
}
