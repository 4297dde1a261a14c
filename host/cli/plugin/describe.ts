// A capability set in an operator's terms: one line per capability, worded as
// docs/capabilities.md defines it. Used by `plugin inspect` (what a plugin declares) and
// `plugin install` (what is about to be granted).
import type { CapabilitySpec, LinkKind } from '../../caps/manifest.ts';

export interface CapabilityLine {
  /** The capability as the policy and refusal messages name it: `links.create: "veth"`, `firewall`. */
  name: string;
  /** What it allows. */
  allows: string;
}

const CREATE: Record<LinkKind, string> = {
  bridge: 'create bridge devices in the host namespace (marked as created for this network, so it may later change and delete them)',
  veth: 'create veth pairs: the host end in the host namespace (marked as created for this attachment), the peer directly in the container namespace',
  vxlan: 'create vxlan devices in the host namespace (marked as created for this network), over an underlay link it may read',
};

const q = (s: string): string => JSON.stringify(s);

function placeholders(p: string): string {
  const fields = [...p.matchAll(/\$\{([A-Za-z0-9_.-]+)(?::-([^}]*))?\}/g)].map((m) =>
    m[2] !== undefined ? `\${${m[1]}} is the network config's "${m[1]}" field (or "${m[2]}" when it is absent)` : `\${${m[1]}} is the network config's "${m[1]}" field`,
  );
  return fields.length ? ` [${fields.join('; ')}]` : '';
}

/** Every capability in the set with what it allows; empty when it allows nothing. */
export function describeCapabilities(spec: CapabilitySpec): CapabilityLine[] {
  const out: CapabilityLine[] = [];
  for (const k of spec.links.create) out.push({ name: `links.create: ${q(k)}`, allows: CREATE[k] });
  for (const p of spec.links.host) {
    out.push({
      name: `links.host: ${q(p)}`,
      allows: `change, delete and read host-namespace links named ${q(p)} (set-link, attaching ports to them, their addresses, neighbours, FDB entries and VLANs)${placeholders(p)}`,
    });
  }
  for (const p of spec.links.read) {
    out.push({ name: `links.read: ${q(p)}`, allows: `read host-namespace links named ${q(p)} and use one as a vxlan underlay; never change them${placeholders(p)}` });
  }
  if (spec.links.container) {
    out.push({
      name: 'links.container',
      allows: 'read and change links, addresses, routes, neighbours, FDB entries and VLANs in the container namespace (CNI_NETNS), and create the container end of a veth there',
    });
  }
  if (spec.routes.host) {
    out.push({
      name: 'routes.host',
      allows:
        'add, replace and delete host-namespace routes through host links it may change (any destination, a default route too); ' +
        'through a host link it may only read, only add and delete non-default routes with a gateway, marked proto 67',
    });
  }
  for (const p of spec.sysctl.host) out.push({ name: `sysctl.host: ${q(p)}`, allows: `read and write host-namespace sysctls matching ${q(p)}${placeholders(p)}` });
  for (const p of spec.sysctl.container) {
    out.push({ name: `sysctl.container: ${q(p)}`, allows: `read and write container-namespace sysctls matching ${q(p)}${placeholders(p)}` });
  }
  if (spec.firewall) {
    out.push({
      name: 'firewall',
      allows: "add and delete masquerade rules for this attachment's container addresses and a MAC anti-spoofing rule on its own host veth (cni-wasm's own nftables tables in the host namespace, keyed by network, container and interface)",
    });
  }
  for (const p of spec.store) {
    out.push({ name: `store: ${q(p)}`, allows: `keep small locked state files in <root>/<network name> for roots within ${q(p)}${placeholders(p)}` });
  }
  for (const p of spec.files.read) {
    out.push({
      name: `files.read: ${q(p)}`,
      allows: `read that one file, ${q(p)} (a regular file of at most 64 KiB of UTF-8 text); the path and, after following symlinks, the file actually opened must both be granted${placeholders(p)}`,
    });
  }
  if (spec.ipam) {
    out.push({
      name: 'ipam',
      allows: "delegate ADD/DEL/CHECK/STATUS/GC to the IPAM plugin named by the config's ipam.type (a .wasm one runs under its own grant; any other is the native binary from CNI_PATH)",
    });
  }
  return out;
}

/** The lines as text, indented; "nothing" when the set is empty. */
export function capabilityText(spec: CapabilitySpec, indent = '  '): string {
  return linesText(describeCapabilities(spec), indent);
}

export function linesText(lines: readonly CapabilityLine[], indent = '  '): string {
  if (lines.length === 0) return `${indent}nothing beyond logging and answering the runtime (an empty capability set)\n`;
  return lines.map((l) => `${indent}- ${l.name}\n${indent}    ${l.allows}\n`).join('');
}

/**
 * A capability set as the JSON an operator writes: the spec's own shape (host/caps/manifest.ts),
 * with `false`, empty lists and then empty objects left out. Walked generically, so a key the
 * manifest gains is written without teaching this function about it.
 */
export function specToJson(spec: CapabilitySpec): Record<string, unknown> {
  const prune = (v: unknown): unknown => {
    if (v === true) return true;
    if (Array.isArray(v)) return v.length ? [...(v as unknown[])] : undefined;
    if (typeof v === 'object' && v !== null) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const p = prune(x);
        if (p !== undefined) o[k] = p;
      }
      return Object.keys(o).length ? o : undefined;
    }
    return undefined;
  };
  return { version: 1, ...((prune(spec) as Record<string, unknown> | undefined) ?? {}) };
}
