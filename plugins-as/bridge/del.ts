// DEL: idempotent. The container interface goes (its veth peer with it), then the IPAM
// address, then this attachment's MAC spoof check and masquerade entries, each of which may already be gone: a
// missing namespace, a missing link and a repeated DEL all succeed and still release the
// address, the MAC spoof check and the masquerade.
import { CniError, HostErrorTag, Invocation, Level, Netns, Result, Unit, ipam, log, netlink, ok } from "../sdk";
import { hostErr, q, teardownMacSpoofChk, teardownMasq } from "../sdk/net";
import { BridgeConf } from "./conf";

export function cmdDel(inv: Invocation, n: BridgeConf): Result<Unit, CniError> {
  if (inv.hasContainer) {
    const r = netlink.deleteLink(Netns.Container, inv.ifname);
    if (r.isErr && r.error.tag != HostErrorTag.NotFound) return Result.err<Unit, CniError>(hostErr("failed to delete " + q(inv.ifname), r.error));
  }
  if (n.isLayer3) {
    const r = ipam.del();
    if (r.isErr) return r;
  }
  if (n.macSpoofChk) {
    // as the reference, a failure to remove the filter does not fail the DEL (it is logged)
    const e = teardownMacSpoofChk();
    if (e !== null) log.write(Level.Warn, e.msg);
  }
  if (n.isLayer3) {
    if (n.ipMasq) {
      const e = teardownMasq();
      if (e !== null) return Result.err<Unit, CniError>(e);
    }
  }
  return ok();
}
