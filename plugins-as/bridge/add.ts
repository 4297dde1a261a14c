// ADD, in the reference bridge plugin's order: bridge, veth (container end made inside the
// container), the MAC spoof check (macspoofchk), IPAM, container addresses and routes,
// gateway addresses on the bridge and forwarding, masquerade; the IPAM address is released
// again, and the MAC spoof check removed, when anything after them fails.
import { CniError, CniResult, ErrorCode, Invocation, LinkChange, Netns, Result, SANDBOX_CONTAINER, Some, cniError, ipam, netlink } from "../sdk";
import {
  BridgeSpec, VethPair, VethSpec, adoptIpamResult, setupMacSpoofChk, setupVeth, teardownMacSpoofChk, calcGateways, configureIface, enableForward, ensureAddr, ensureBridge, errorf, hostErr, ifKey, parseMac, q, setupMasq, trySysctl, wrapErr, GwInfo,
} from "../sdk/net";
import { BridgeConf } from "./conf";

/** The container's interface is index 2 of the result: bridge, host veth, container. */
const CONTAINER_INDEX = 2;

export function cmdAdd(inv: Invocation, n: BridgeConf): Result<string, CniError> {
  const ifname = inv.ifname;
  if (n.isLayer3 && n.disableContainerInterface) return err("cannot use IPAM when DisableContainerInterface flag is set");
  if (n.isDefaultGW) n.isGW = true;
  if (n.hairpinMode && n.promiscMode) return err("cannot set hairpin mode and promiscuous mode at the same time");
  if (n.vlan != 0 && n.isGW && n.isLayer3) {
    return Result.err<string, CniError>(
      cniError(ErrorCode.UnsupportedField, "vlan with isGateway is not supported by cni-wasm's bridge plugin", "the VLAN gateway interface is a veth pair inside the host namespace, which the host API cannot create; see docs/compatibility.md"),
    );
  }

  const bs = new BridgeSpec();
  bs.name = n.brName;
  bs.mtu = n.mtu;
  bs.promisc = n.promiscMode;
  bs.vlanFiltering = n.vlan != 0 || n.vlanTrunkGiven;
  const br = ensureBridge(bs);
  if (br.isErr) return Result.err<string, CniError>(wrapErr("failed to create bridge " + q(n.brName), br.error));

  if (!inv.hasContainer) return err("failed to open netns: the container namespace (CNI_NETNS) does not exist");

  const vs = new VethSpec();
  vs.containerName = ifname;
  vs.mtu = n.mtu;
  if (n.mac.length > 0) {
    const m = parseMac(n.mac);
    if (m === null) return err("failed to make veth pair: address " + n.mac + ": invalid MAC address");
    vs.mac = m;
  }
  vs.bridge = n.brName;
  vs.hairpin = n.hairpinMode;
  vs.isolated = n.portIsolation;
  vs.vlan = n.vlan;
  vs.trunk = n.vlans;
  vs.preserveDefaultVlan = n.preserveDefaultVlan;
  const veth = setupVeth(vs);
  if (veth.isErr) return Result.err<string, CniError>(veth.error);
  const pair = veth.value;

  if (n.macSpoofChk) {
    const e = setupMacSpoofChk(pair.host.name, pair.container.mac);
    if (e !== null) return Result.err<string, CniError>(e);
    const r = addAfterVeth(inv, n, br.value.mac, pair);
    // the reference removes the filter again when the ADD fails after setting it up
    if (r.isErr) teardownMacSpoofChk();
    return r;
  }
  return addAfterVeth(inv, n, br.value.mac, pair);
}

/** Everything after the veth (and its MAC spoof check): IPAM and addresses, or just link up; the result. */
function addAfterVeth(inv: Invocation, n: BridgeConf, bridgeMac: string, pair: VethPair): Result<string, CniError> {
  const ifname = inv.ifname;

  const result = new CniResult();
  const brIf = result.addInterface(n.brName, bridgeMac);
  const hostIf = result.addInterface(pair.host.name, pair.host.mac);
  result.addInterface(pair.container.name, pair.container.mac, SANDBOX_CONTAINER);

  if (n.isLayer3) {
    const got = ipam.add();
    if (got.isErr) return Result.err<string, CniError>(got.error);
    const e = layer3(inv, n, result, got.value, bridgeMac);
    if (e !== null) {
      // Release the address; the error that made us release it is the one to report.
      ipam.del();
      return Result.err<string, CniError>(e);
    }
  } else if (!n.disableContainerInterface) {
    const c = new LinkChange();
    c.up = new Some<bool>(true);
    const r = netlink.setLink(Netns.Container, ifname, c);
    if (r.isErr) return Result.err<string, CniError>(hostErr("failed to set " + q(ifname) + " up", r.error));
  }

  // The host end's MAC may change; the bridge's changes when its first port comes or its address is set.
  const hv = netlink.getLink(Netns.Host, pair.host.name);
  if (hv.isErr) return releaseOnError(n, hostErr("", hv.error));
  hostIf.mac = hv.value.mac;
  const bnow = netlink.getLink(Netns.Host, n.brName);
  if (bnow.isErr) return releaseOnError(n, hostErr("could not lookup " + q(n.brName), bnow.error));
  brIf.mac = bnow.value.mac;

  // DNS from the configuration when it has any, otherwise what IPAM gave.
  const dns = inv.conf.dns;
  if (!dns.isEmpty()) result.dns = dns;
  return Result.ok<string, CniError>(result.toJson());
}

function err(msg: string): Result<string, CniError> {
  return Result.err<string, CniError>(errorf(msg));
}

function releaseOnError(n: BridgeConf, e: CniError): Result<string, CniError> {
  if (n.isLayer3) ipam.del();
  return Result.err<string, CniError>(e);
}

/** IPAM result applied: container addresses and routes, bridge gateways, forwarding, masquerade. */
function layer3(inv: Invocation, n: BridgeConf, result: CniResult, ipamJson: string, bridgeMac: string): CniError | null {
  const ifname = inv.ifname;
  const adopted = adoptIpamResult(result, ipamJson);
  if (adopted !== null) return adopted;

  const gws = calcGateways(result, CONTAINER_INDEX, n.isGW, n.isDefaultGW);
  if (gws.error.length > 0) return errorf(gws.error);

  if (n.enableDad) {
    trySysctl(Netns.Container, ifKey("net.ipv6.conf", ifname, "enhanced_dad"), "1");
    trySysctl(Netns.Container, ifKey("net.ipv6.conf", ifname, "accept_dad"), "1");
  } else {
    trySysctl(Netns.Container, ifKey("net.ipv6.conf", ifname, "accept_dad"), "0");
  }
  trySysctl(Netns.Container, ifKey("net.ipv4.conf", ifname, "arp_notify"), "1");
  const ce = configureIface(ifname, result);
  if (ce !== null) return ce;

  if (n.isGW) {
    const fams: GwInfo[] = [gws.v4, gws.v6];
    for (let f = 0; f < fams.length; f++) {
      const g = unchecked(fams[f]);
      for (let i = 0; i < g.gws.length; i++) {
        const e = ensureAddr(n.brName, unchecked(g.gws[i]), n.forceAddress, bridgeMac);
        if (e !== null) return wrapErr("failed to set bridge addr", e);
      }
      if (g.gws.length > 0) {
        const e = enableForward(g.v4);
        if (e !== null) return wrapErr("failed to enable forwarding", e);
      }
    }
  }
  if (n.ipMasq) {
    const e = setupMasq(result);
    if (e !== null) return e;
  }
  return null;
}
