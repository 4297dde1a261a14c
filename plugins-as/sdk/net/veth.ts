// A veth pair between the host and the container: the container end is created directly
// inside the container namespace (no move between namespaces), the host end comes up attached
// to a bridge, with the bridge-port settings and VLANs the reference bridge plugin applies.
import { CniError, HostErrorTag, LinkChange, LinkInfo, Netns, Result, Some, VethOptions, VlanEntry, netlink } from "../generated/bindings";
import { errorf, hostErr, q } from "./errors";
import { ifKey, trySysctl } from "./sysctl";

export class VethSpec {
  /** Name of the end inside the container (CNI_IFNAME). */
  containerName: string = "";
  /** Name of the host end; "" lets the host pick a unique `veth<8 hex>` name. */
  hostName: string = "";
  /** 0: the kernel's default. */
  mtu: i32 = 0;
  /** The container end's MAC (canonical form); "" for a random one. */
  mac: string = "";
  /** Bridge to attach the host end to; "" for none. */
  bridge: string = "";
  hairpin: bool = false;
  isolated: bool = false;
  /** Access VLAN (pvid, untagged); 0 for none. */
  vlan: i32 = 0;
  /** Trunk VLANs (tagged), sorted. */
  trunk: Array<i32> = new Array<i32>();
  /** Keep VLAN 1 (the bridge's default) on the port when VLANs are given. */
  preserveDefaultVlan: bool = false;
}

export class VethPair {
  constructor(public host: LinkInfo, public container: LinkInfo) {}
}

function vlanEntry(link: string, vid: i32, pvid: bool, untagged: bool): VlanEntry {
  const v = new VlanEntry();
  v.link = link;
  v.vid = <u16>vid;
  v.pvid = pvid;
  v.untagged = untagged;
  return v;
}

/** Create and attach the pair; errors as the reference's setupVeth. */
export function setupVeth(spec: VethSpec): Result<VethPair, CniError> {
  const o = new VethOptions();
  o.containerName = spec.containerName;
  if (spec.hostName.length > 0) o.hostName = spec.hostName;
  if (spec.mtu > 0) o.mtu = new Some<u32>(<u32>spec.mtu);
  if (spec.mac.length > 0) o.containerMac = spec.mac;
  const made = netlink.createVeth(o);
  if (made.isErr) {
    const e = made.error;
    if (e.tag == HostErrorTag.Exists) return Result.err<VethPair, CniError>(errorf("container veth name provided (" + spec.containerName + ") already exists"));
    return Result.err<VethPair, CniError>(hostErr("failed to make veth pair", e));
  }
  const host = made.value.f0;
  const cont = made.value.f1;
  const hostName = host.name;
  // We want to own the routes for this interface.
  trySysctl(Netns.Host, ifKey("net.ipv6.conf", hostName, "accept_ra"), "0");

  const c = new LinkChange();
  c.up = new Some<bool>(true);
  if (spec.bridge.length > 0) {
    c.master = spec.bridge;
    c.hairpin = new Some<bool>(spec.hairpin);
    c.isolated = new Some<bool>(spec.isolated);
  }
  const set = netlink.setLink(Netns.Host, hostName, c);
  if (set.isErr) {
    const what = spec.bridge.length > 0 ? "failed to connect " + q(hostName) + " to bridge " + spec.bridge : "failed to set " + q(hostName) + " up";
    return Result.err<VethPair, CniError>(hostErr(what, set.error));
  }
  host.up = true;
  if (spec.bridge.length > 0) host.master = spec.bridge;

  const trunk = spec.trunk;
  if ((spec.vlan != 0 || trunk.length > 0) && !spec.preserveDefaultVlan) {
    // A new port carries only the bridge's default VLAN 1.
    const d = netlink.delVlan(Netns.Host, vlanEntry(hostName, 1, true, true));
    if (d.isErr && d.error.tag != HostErrorTag.NotFound) {
      return Result.err<VethPair, CniError>(hostErr("failed to remove default vlan on interface " + q(hostName), d.error));
    }
  }
  if (spec.vlan != 0) {
    const r = netlink.addVlan(Netns.Host, vlanEntry(hostName, spec.vlan, true, true));
    if (r.isErr) return Result.err<VethPair, CniError>(hostErr("failed to setup vlan tag on interface " + q(hostName), r.error));
  }
  for (let i = 0; i < trunk.length; i++) {
    const r = netlink.addVlan(Netns.Host, vlanEntry(hostName, unchecked(trunk[i]), false, false));
    if (r.isErr) return Result.err<VethPair, CniError>(hostErr("failed to setup vlan tag on interface " + q(hostName), r.error));
  }
  if (spec.vlan == 0 && trunk.length > 0) {
    // No access VLAN given: the trunk's native VLAN is 1.
    const r = netlink.addVlan(Netns.Host, vlanEntry(hostName, 1, true, true));
    if (r.isErr) return Result.err<VethPair, CniError>(hostErr("failed to setup default native vlan tag on interface " + q(hostName), r.error));
  }
  return Result.ok<VethPair, CniError>(new VethPair(host, cont));
}
