// Masquerade for a container's addresses, through the host's firewall capability (nf_tables,
// keyed by network, container and interface; see docs/capabilities.md). Same semantics as the
// reference's ipMasq: traffic from the address to anything outside its subnet and not
// multicast leaves with the host's address.
import { CniError, firewall } from "../generated/bindings";
import { CniResult } from "../result";
import { hostErr } from "./errors";

/** Masquerade every address of the result ("10.22.0.5/16" form). */
export function setupMasq(res: CniResult): CniError | null {
  const cidrs = new Array<string>();
  for (let i = 0; i < res.ips.length; i++) cidrs.push(unchecked(res.ips[i]).address);
  if (cidrs.length == 0) return null;
  const r = firewall.addMasquerade(cidrs);
  if (r.isErr) return hostErr("failed to set up IP masquerade", r.error);
  return null;
}

/** Remove this attachment's masquerade entries; idempotent. */
export function teardownMasq(): CniError | null {
  const r = firewall.delMasquerade();
  if (r.isErr) return hostErr("failed to tear down IP masquerade", r.error);
  return null;
}
