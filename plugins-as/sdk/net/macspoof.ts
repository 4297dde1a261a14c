// MAC anti-spoofing for a container's host veth, through the host's firewall capability
// (nf_tables in cni-wasm's own bridge table, keyed by network, container and interface; see
// docs/capabilities.md). The effect of the reference's macspoofchk: frames entering the bridge
// from the host veth with a source MAC other than the container's are dropped.
import { CniError, firewall } from "../generated/bindings";
import { hostErr } from "./errors";

/** Drop frames from `hostLink` (this plugin's host veth) whose source MAC is not `mac`. */
export function setupMacSpoofChk(hostLink: string, mac: string): CniError | null {
  const r = firewall.addMacSpoofCheck(hostLink, mac);
  if (r.isErr) return hostErr("failed to set up MAC spoof check on " + hostLink, r.error);
  return null;
}

/** Remove this attachment's MAC spoof check; idempotent. */
export function teardownMacSpoofChk(): CniError | null {
  const r = firewall.delMacSpoofCheck();
  if (r.isErr) return hostErr("failed to tear down MAC spoof check", r.error);
  return null;
}
