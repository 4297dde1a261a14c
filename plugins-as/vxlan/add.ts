// ADD: the node's side first (bridge, vxlan device, peers), then the container's (veth on the
// bridge, IPAM address, routes to the gateway and through it to every peer subnet), then the
// gateway address on the bridge, forwarding and the device's own address. The IPAM address is
// released again when anything after IPAM fails.
import { Cidr, CniError, CniResult, ErrorCode, IP, Invocation, Netns, Result, SANDBOX_CONTAINER, cniError, ipam, netlink } from "../sdk";
import { BridgeSpec, GwInfo, PERMISSION_DENIED_CODE, adoptIpamResult, VethSpec, calcGateways, configureIface, enableForward, ensureAddr, ensureBridge, errorf, hostErr, ifKey, q, setupVeth, trySysctl, wrapErr } from "../sdk/net";
import { VxlanConf } from "./conf";
import { awaitMark, deviceSpec, ensureDevice, ensureDeviceAddress } from "./device";
import { coveredBy, programPeers } from "./peers";
import { Underlay, findUnderlay, overlayMtu } from "./underlay";

/** The container's interface is index 2 of the result: bridge, host veth, container (as the bridge plugin's). */
const CONTAINER_INDEX = 2;

function err(e: CniError): Result<string, CniError> {
  return Result.err<string, CniError>(e);
}

/** The node's side, shared by ADD and CHECK: underlay, MTU and the checks that need the node. */
export class NodeSide {
  constructor(public underlay: Underlay, public mtu: u32) {}
}

export function nodeSide(n: VxlanConf): Result<NodeSide, CniError> {
  const ur = findUnderlay(n);
  if (ur.isErr) return Result.err<NodeSide, CniError>(ur.error);
  const u = ur.value;
  for (let i = 0; i < n.peers.length; i++) {
    if (unchecked(n.peers[i]).ip.equals(u.local)) {
      return Result.err<NodeSide, CniError>(cniError(ErrorCode.InvalidConfig, "config.peers[" + i.toString() + "].ip " + u.local.toString() + " is this node's own VTEP address"));
    }
  }
  const mr = overlayMtu(n, u);
  if (mr.isErr) return Result.err<NodeSide, CniError>(mr.error);
  return Result.ok<NodeSide, CniError>(new NodeSide(u, mr.value));
}

export function cmdAdd(inv: Invocation, n: VxlanConf): Result<string, CniError> {
  if (!inv.hasContainer) return err(errorf("failed to open netns: the container namespace (CNI_NETNS) does not exist"));
  const ns = nodeSide(n);
  if (ns.isErr) return err(ns.error);
  const u = ns.value.underlay;
  const mtu = ns.value.mtu;

  const bs = new BridgeSpec();
  bs.name = n.bridge;
  bs.mtu = <i32>mtu;
  let br = ensureBridge(bs);
  if (br.isErr && br.error.code == PERMISSION_DENIED_CODE && awaitMark(n.bridge)) {
    // Another ADD of this network created it a moment ago and the host had not marked it yet.
    br = ensureBridge(bs);
  }
  if (br.isErr) return err(wrapErr("failed to create bridge " + q(n.bridge), br.error));

  const dev = ensureDevice(deviceSpec(n, u, mtu));
  if (dev.isErr) return err(dev.error);
  const pe = programPeers(n, u);
  if (pe !== null) return err(wrapErr("failed to program the peers", pe));

  const vs = new VethSpec();
  vs.containerName = inv.ifname;
  vs.mtu = <i32>mtu;
  vs.bridge = n.bridge;
  const veth = setupVeth(vs);
  if (veth.isErr) return err(veth.error);
  const pair = veth.value;

  const result = new CniResult();
  const brIf = result.addInterface(n.bridge, br.value.mac);
  const hostIf = result.addInterface(pair.host.name, pair.host.mac);
  const ctrIf = result.addInterface(pair.container.name, pair.container.mac, SANDBOX_CONTAINER);
  ctrIf.mtu = <i32>mtu;

  const got = ipam.add();
  if (got.isErr) return err(got.error);
  const e = layer3(inv, n, result, got.value, br.value.mac);
  if (e !== null) {
    // Release the address; the error that made us release it is the one to report.
    ipam.del();
    return err(e);
  }

  // The host end's MAC may change, and the bridge's when its first port comes or its address is set.
  const hv = netlink.getLink(Netns.Host, pair.host.name);
  if (hv.isErr) return release(hostErr("", hv.error));
  hostIf.mac = hv.value.mac;
  const bnow = netlink.getLink(Netns.Host, n.bridge);
  if (bnow.isErr) return release(hostErr("could not lookup " + q(n.bridge), bnow.error));
  brIf.mac = bnow.value.mac;

  const dns = inv.conf.dns;
  if (!dns.isEmpty()) result.dns = dns;
  return Result.ok<string, CniError>(result.toJson());
}

function release(e: CniError): Result<string, CniError> {
  ipam.del();
  return err(e);
}

/** This node's pod subnet: the prefix of the result's first IPv4 address; null when it has none. */
export function nodeSubnetOf(res: CniResult): Cidr | null {
  for (let i = 0; i < res.ips.length; i++) {
    const c = Cidr.parse(unchecked(res.ips[i]).address);
    if (c !== null && c.ip.is4()) return c.networkCidr();
  }
  return null;
}

function layer3(inv: Invocation, n: VxlanConf, result: CniResult, ipamJson: string, bridgeMac: string): CniError | null {
  const ifname = inv.ifname;
  const adopted = adoptIpamResult(result, ipamJson);
  if (adopted !== null) return adopted;
  const nodeSubnet = nodeSubnetOf(result);
  if (nodeSubnet === null) return errorf("IPAM plugin returned no IPv4 address: the vxlan overlay is IPv4");
  for (let i = 0; i < n.peers.length; i++) {
    const p = unchecked(n.peers[i]);
    if (p.subnet.overlaps(nodeSubnet)) {
      return cniError(ErrorCode.InvalidConfig, "config.peers[" + i.toString() + "].subnet " + p.subnet.toString() + " overlaps this node's pod subnet " + nodeSubnet.toString());
    }
  }

  const gws = calcGateways(result, CONTAINER_INDEX, true, n.isDefaultGW);
  if (gws.error.length > 0) return errorf(gws.error);

  // Every peer subnet through the gateway, unless a route of the result covers it already.
  const v4gw = gws.v4.gws.length > 0 ? unchecked(gws.v4.gws[0]).ip.toString() : "";
  const dsts = new Array<string>();
  for (let i = 0; i < result.routes.length; i++) dsts.push(unchecked(result.routes[i]).dst);
  for (let i = 0; i < n.peers.length; i++) {
    const p = unchecked(n.peers[i]);
    if (!coveredBy(dsts, p.subnet)) result.addRoute(p.subnet.toString(), v4gw);
  }

  trySysctl(Netns.Container, ifKey("net.ipv4.conf", ifname, "arp_notify"), "1");
  const ce = configureIface(ifname, result);
  if (ce !== null) return ce;

  const fams: GwInfo[] = [gws.v4, gws.v6];
  for (let f = 0; f < fams.length; f++) {
    const g = unchecked(fams[f]);
    for (let i = 0; i < g.gws.length; i++) {
      const e = ensureAddr(n.bridge, unchecked(g.gws[i]), false, bridgeMac);
      if (e !== null) return wrapErr("failed to set bridge addr", e);
    }
    if (g.gws.length > 0) {
      const e = enableForward(g.v4);
      if (e !== null) return wrapErr("failed to enable forwarding", e);
    }
  }

  // The device's own address, unless the gateway took the subnet's network address.
  if (v4gw.length == 0 || !IP.parse(v4gw)!.equals(nodeSubnet.network())) {
    const de = ensureDeviceAddress(n.device, nodeSubnet);
    if (de !== null) return de;
  }
  return null;
}
