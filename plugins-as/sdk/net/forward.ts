// IP forwarding in the host namespace (the reference's ip.EnableIP4Forward / EnableIP6Forward:
// read first, write "1" only when it is not already on).
import { CniError, Netns, sysctl } from "../generated/bindings";
import { hostErr } from "./errors";
import { readSysctl } from "./sysctl";

export const IPV4_FORWARD = "net.ipv4.ip_forward";
export const IPV6_FORWARD = "net.ipv6.conf.all.forwarding";

export function enableForward(v4: bool): CniError | null {
  const key = v4 ? IPV4_FORWARD : IPV6_FORWARD;
  if (readSysctl(Netns.Host, key) == "1") return null;
  const r = sysctl.set(Netns.Host, key, "1");
  if (r.isErr) return hostErr("", r.error);
  return null;
}
