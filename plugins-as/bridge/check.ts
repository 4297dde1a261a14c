// CHECK as the reference does it: IPAM's CHECK, then the prevResult's bridge, container
// interface and host veth against the namespaces, then its addresses and routes.
import { CniError, CniInterface, Invocation, Result, SANDBOX_CONTAINER, Unit, ipam, ok } from "../sdk";
import { errorf, validateBridgeIface, validateContainerIface, validateExpectedIPs, validateExpectedRoutes, validateHostVeth } from "../sdk/net";
import { BridgeConf } from "./conf";

function fail(msg: string): Result<Unit, CniError> {
  return Result.err<Unit, CniError>(errorf(msg));
}

export function cmdCheck(inv: Invocation, n: BridgeConf): Result<Unit, CniError> {
  if (!inv.hasContainer) return fail("failed to open netns: the container namespace (CNI_NETNS) does not exist");
  if (n.isLayer3) {
    const r = ipam.check();
    if (r.isErr) return r;
  }
  const prev = inv.prevResult;
  if (prev === null) return fail("Required prevResult missing");

  let brMap = new CniInterface("");
  let contMap = new CniInterface("");
  for (let i = 0; i < prev.interfaces.length; i++) {
    const intf = unchecked(prev.interfaces[i]);
    if (intf.name == n.brName) brMap = intf;
    else if (intf.name == inv.ifname && intf.sandbox == SANDBOX_CONTAINER) contMap = intf;
  }
  const br = validateBridgeIface(brMap, n.promiscMode);
  if (br.isErr) return Result.err<Unit, CniError>(br.error);
  if (contMap.sandbox != SANDBOX_CONTAINER) return fail("Sandbox in prevResult " + contMap.sandbox + " doesn't match configured netns");
  const cont = validateContainerIface(contMap);
  if (cont.isErr) return Result.err<Unit, CniError>(cont.error);

  let vethFound = false;
  for (let i = 0; i < prev.interfaces.length && !vethFound; i++) {
    const intf = unchecked(prev.interfaces[i]);
    if (intf.name == brMap.name || intf.name == contMap.name) continue;
    const v = validateHostVeth(intf, br.value, inv.containerId, inv.ifname);
    if (v.isErr) return Result.err<Unit, CniError>(v.error);
    vethFound = v.value;
  }
  if (!vethFound) return fail("CNI veth created for bridge " + n.brName + " was not found");

  const e = validateExpectedIPs(inv.ifname, prev.ips);
  if (e !== null) return Result.err<Unit, CniError>(e);
  const e2 = validateExpectedRoutes(prev.routes);
  if (e2 !== null) return Result.err<Unit, CniError>(e2);
  return ok();
}
