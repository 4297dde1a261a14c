// DEL: idempotent. The container interface goes (its veth peer with it), then the IPAM address.
// The bridge, the vxlan device and the peer entries are the node's and stay: other containers
// of the network use them, and the next ADD finds them in place.
import { CniError, HostErrorTag, Invocation, Netns, Result, Unit, ipam, netlink, ok } from "../sdk";
import { hostErr, q } from "../sdk/net";
import { VxlanConf } from "./conf";

export function cmdDel(inv: Invocation, n: VxlanConf): Result<Unit, CniError> {
  if (inv.hasContainer) {
    const r = netlink.deleteLink(Netns.Container, inv.ifname);
    if (r.isErr && r.error.tag != HostErrorTag.NotFound) return Result.err<Unit, CniError>(hostErr("failed to delete " + q(inv.ifname), r.error));
  }
  return ipam.del();
}
