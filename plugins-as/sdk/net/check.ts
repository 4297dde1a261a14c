// CHECK helpers: compare what a prevResult says with what the namespaces hold, with the
// reference plugins' checks and messages (plugins/main/bridge cmdCheck, pkg/ip utils).
import { CniError, IpFamily, LinkInfo, Netns, Result, netlink } from "../generated/bindings";
import { Cidr, IP } from "../ip";
import { CniIPConfig, CniInterface, CniRoute } from "../result";
import { errorf, hostErr } from "./errors";

function lookupIface(intf: CniInterface, ns: Netns, expectInSandbox: bool): Result<LinkInfo, CniError> {
  if (intf.name.length == 0) return Result.err<LinkInfo, CniError>(errorf("Interface name missing "));
  const r = netlink.getLink(ns, intf.name);
  if (r.isErr) return Result.err<LinkInfo, CniError>(errorf("Interface name " + intf.name + " not found"));
  if (expectInSandbox && intf.sandbox.length == 0) return Result.err<LinkInfo, CniError>(errorf("Interface " + intf.name + " is expected to be in a sandbox"));
  if (!expectInSandbox && intf.sandbox.length > 0) return Result.err<LinkInfo, CniError>(errorf("Interface " + intf.name + " should not be in sandbox"));
  return Result.ok<LinkInfo, CniError>(r.value);
}

/** The bridge of a prevResult: a host bridge, same MAC when given, promiscuous as configured. */
export function validateBridgeIface(intf: CniInterface, promisc: bool): Result<LinkInfo, CniError> {
  const r = lookupIface(intf, Netns.Host, false);
  if (r.isErr) return r;
  const l = r.value;
  if (l.kind != "bridge") return Result.err<LinkInfo, CniError>(errorf("Interface " + intf.name + " does not have link type of bridge"));
  if (intf.mac.length > 0 && intf.mac != l.mac) return Result.err<LinkInfo, CniError>(errorf("Bridge interface " + intf.name + " Mac doesn't match: " + intf.mac));
  if (l.promisc != promisc) {
    return Result.err<LinkInfo, CniError>(
      errorf("Bridge interface " + intf.name + " configured Promisc Mode " + (promisc ? "true" : "false") + " doesn't match current state: " + (l.promisc ? "true" : "false") + " "),
    );
  }
  return Result.ok<LinkInfo, CniError>(l);
}

/** The container end of a prevResult: a veth in the container namespace, same MAC when given. */
export function validateContainerIface(intf: CniInterface): Result<LinkInfo, CniError> {
  const r = lookupIface(intf, Netns.Container, true);
  if (r.isErr) return r;
  const l = r.value;
  if (l.kind != "veth") return Result.err<LinkInfo, CniError>(errorf("Error: Container interface " + l.name + " not of type veth"));
  if (intf.mac.length > 0 && intf.mac != l.mac) {
    return Result.err<LinkInfo, CniError>(errorf("Interface " + intf.name + " Mac " + intf.mac + " doesn't match container Mac: " + l.mac));
  }
  return Result.ok<LinkInfo, CniError>(l);
}

/**
 * Is `intf` the host end of this attachment's veth: a host veth whose master is `bridge`,
 * created for this container and interface (the host's mark in its alias says so; the host
 * API does not show the veth peer's ifindex that the reference compares)? An interface
 * that does not exist is an error, as in the reference; one that is not such a veth is
 * skipped (false).
 */
export function validateHostVeth(intf: CniInterface, bridge: LinkInfo, containerId: string, ifname: string): Result<bool, CniError> {
  const r = lookupIface(intf, Netns.Host, false);
  if (r.isErr) return Result.err<bool, CniError>(r.error);
  const l = r.value;
  if (l.kind != "veth") return Result.ok<bool, CniError>(false);
  const m = l.master;
  if (m === null || m != bridge.name) return Result.ok<bool, CniError>(false);
  const alias = l.alias;
  if (alias !== null && alias.startsWith("cni-wasm ") && alias.indexOf(" ctr=") >= 0) {
    if (!alias.endsWith(" ctr=" + containerId + " if=" + ifname)) return Result.ok<bool, CniError>(false);
  }
  if (intf.mac.length > 0 && intf.mac != l.mac) return Result.err<bool, CniError>(errorf("Interface " + intf.name + " Mac doesn't match: " + intf.mac + " not found"));
  return Result.ok<bool, CniError>(true);
}

/** Every address is on the container's `ifname`, and a route to its subnet exists. */
export function validateExpectedIPs(ifname: string, ips: Array<CniIPConfig>): CniError | null {
  if (ips.length == 0) return null;
  const listed = netlink.listAddresses(Netns.Container, ifname, IpFamily.Any);
  if (listed.isErr) return errorf("Cannot find container link " + ifname);
  const addrs = listed.value;
  const routes = netlink.listRoutes(Netns.Container, IpFamily.Any, null);
  if (routes.isErr) return hostErr("Error trying to find Gateway for interface " + ifname, routes.error);
  for (let i = 0; i < ips.length; i++) {
    const ipc = unchecked(ips[i]);
    const want = Cidr.parse(ipc.address);
    if (want === null) return errorf("Failed to match addr " + ipc.address + " on interface " + ifname);
    let match = false;
    for (let k = 0; k < addrs.length && !match; k++) {
      const a = Cidr.parse(unchecked(addrs[k]).cidr);
      if (a !== null && a.prefix == want.prefix && a.ip.equals(want.ip)) match = true;
    }
    if (!match) return errorf("Failed to match addr " + ipc.address + " on interface " + ifname);
    const net = want.networkCidr();
    let found = false;
    for (let k = 0; k < routes.value.length && !found; k++) {
      const d = Cidr.parse(unchecked(routes.value[k]).dst);
      if (d !== null && d.prefix == net.prefix && d.ip.equals(net.ip)) found = true;
    }
    if (!found) return errorf("Failed to find Gateway " + ipc.gateway + " for interface " + ifname);
  }
  return null;
}

/** Every route of the result is in the container's routing table (default routes by destination only). */
export function validateExpectedRoutes(want: Array<CniRoute>): CniError | null {
  if (want.length == 0) return null;
  const listed = netlink.listRoutes(Netns.Container, IpFamily.Any, null);
  if (listed.isErr) return hostErr("Expected Route not route table lookup error", listed.error);
  const have = listed.value;
  for (let i = 0; i < want.length; i++) {
    const r = unchecked(want[i]);
    const dst = Cidr.parse(r.dst);
    if (dst === null) return errorf("Invalid static route found " + r.dst);
    const net = dst.networkCidr();
    const isDefault = net.prefix == 0;
    const gw = r.gw.length > 0 ? IP.parse(r.gw) : null;
    let found = false;
    for (let k = 0; k < have.length && !found; k++) {
      const h = unchecked(have[k]);
      const d = Cidr.parse(h.dst);
      if (d === null || d.prefix != net.prefix || !d.ip.equals(net.ip) || d.ip.is4() != net.ip.is4()) continue;
      if (isDefault) {
        found = true;
        continue;
      }
      const hg = h.gw;
      if (gw === null) found = hg === null;
      else if (hg !== null) {
        const hip = IP.parse(hg);
        found = hip !== null && hip.equals(gw);
      }
    }
    if (!found) return errorf("Expected Route {Dst:" + r.dst + " GW:" + (r.gw.length > 0 ? r.gw : "<nil>") + "} not found in routing table");
  }
  return null;
}
