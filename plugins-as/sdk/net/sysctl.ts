// Per-interface sysctl keys and the "write, ignore failure" calls the reference plugins make.
import { Netns, sysctl } from "../generated/bindings";

/**
 * "net.ipv6.conf.<ifname>.accept_ra": the dotted key for an interface setting. A "." inside the
 * interface name (a VLAN device "cni0.100") is written "/", as procps and the host read it.
 */
export function ifKey(prefix: string, ifname: string, leaf: string): string {
  return prefix + "." + ifname.replaceAll(".", "/") + "." + leaf;
}

/** Set a sysctl and ignore any failure (the reference's `_, _ = sysctl.Sysctl(...)`). */
export function trySysctl(ns: Netns, key: string, value: string): void {
  sysctl.set(ns, key, value);
}

/** The value of a sysctl, trimmed; null when it cannot be read. */
export function readSysctl(ns: Netns, key: string): string | null {
  const r = sysctl.get(ns, key);
  if (r.isErr) return null;
  return r.value.trim();
}
