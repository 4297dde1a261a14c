// CHECK: IPAM's CHECK; the node's side (the vxlan device as configured and up, every peer's
// route, neighbour and FDB entry); then the prevResult's bridge, container interface and host
// veth, its addresses and routes, with the bridge plugin's helpers and messages.
import { CniError, CniInterface, Invocation, Result, SANDBOX_CONTAINER, Unit, ipam, ok } from "../sdk";
import { errorf, validateBridgeIface, validateContainerIface, validateExpectedIPs, validateExpectedRoutes, validateHostVeth } from "../sdk/net";
import { nodeSide } from "./add";
import { VxlanConf } from "./conf";
import { checkDevice, deviceSpec } from "./device";
import { checkPeers } from "./peers";

function fail(e: CniError): Result<Unit, CniError> {
  return Result.err<Unit, CniError>(e);
}

export function cmdCheck(inv: Invocation, n: VxlanConf): Result<Unit, CniError> {
  if (!inv.hasContainer) return fail(errorf("failed to open netns: the container namespace (CNI_NETNS) does not exist"));
  const r = ipam.check();
  if (r.isErr) return r;
  const prev = inv.prevResult;
  if (prev === null) return fail(errorf("Required prevResult missing"));

  const ns = nodeSide(n);
  if (ns.isErr) return fail(ns.error);
  const de = checkDevice(deviceSpec(n, ns.value.underlay, ns.value.mtu));
  if (de !== null) return fail(de);
  const pe = checkPeers(n, ns.value.underlay);
  if (pe !== null) return fail(pe);

  let brMap = new CniInterface("");
  let contMap = new CniInterface("");
  for (let i = 0; i < prev.interfaces.length; i++) {
    const intf = unchecked(prev.interfaces[i]);
    if (intf.name == n.bridge) brMap = intf;
    else if (intf.name == inv.ifname && intf.sandbox == SANDBOX_CONTAINER) contMap = intf;
  }
  const br = validateBridgeIface(brMap, false);
  if (br.isErr) return fail(br.error);
  if (contMap.sandbox != SANDBOX_CONTAINER) return fail(errorf("Sandbox in prevResult " + contMap.sandbox + " doesn't match configured netns"));
  const cont = validateContainerIface(contMap);
  if (cont.isErr) return fail(cont.error);
  if (cont.value.mtu != ns.value.mtu) return fail(errorf("Interface " + contMap.name + " has MTU " + cont.value.mtu.toString() + ", expected " + ns.value.mtu.toString()));

  let vethFound = false;
  for (let i = 0; i < prev.interfaces.length && !vethFound; i++) {
    const intf = unchecked(prev.interfaces[i]);
    if (intf.name == brMap.name || intf.name == contMap.name) continue;
    const v = validateHostVeth(intf, br.value, inv.containerId, inv.ifname);
    if (v.isErr) return fail(v.error);
    vethFound = v.value;
  }
  if (!vethFound) return fail(errorf("CNI veth created for bridge " + n.bridge + " was not found"));

  const e = validateExpectedIPs(inv.ifname, prev.ips);
  if (e !== null) return fail(e);
  const e2 = validateExpectedRoutes(prev.routes);
  if (e2 !== null) return fail(e2);
  return ok();
}
