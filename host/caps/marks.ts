// Marks on host-namespace links: the ifalias the host writes on every link a plugin
// creates in the host namespace, so that later invocations know who it belongs to.
//
// "Created for this network" has two scopes (docs/capabilities.md, "Host links"):
//  - network scope, for links shared by all containers of a network (a bridge, a vxlan
//    device): `cni-wasm plugin=<type> net=<network>`. Any invocation of the same plugin
//    type for the same network may change or delete it.
//  - attachment scope, for links that belong to one container's interface (the host end
//    of a veth): `cni-wasm plugin=<type> net=<network> ctr=<containerID> if=<ifname>`.
//    Only invocations for that container and interface may change it (and GC, for
//    attachments that are no longer valid).
// The plugin type is part of both: another plugin in the same chain cannot touch them
// unless its grant names them. Plugins cannot write aliases that start with "cni-wasm"
// (set-link refuses them), so a mark cannot be forged or moved.
// Type, network and container ID never hold white space (the CNI layer validates them)
// and interface names cannot, so the fields split unambiguously. A mark longer than the
// kernel's IFALIASZ (255 bytes) is replaced by a digest of the same fields.
import { createHash } from 'node:crypto';

export const MARK_PREFIX = 'cni-wasm';
const IFALIAS_MAX = 255;

export interface MarkOwner {
  plugin: string;
  network: string;
}

export interface Attachment {
  containerId: string;
  ifname: string;
}

function bounded(text: string): string {
  if (Buffer.byteLength(text) <= IFALIAS_MAX) return text;
  return `${MARK_PREFIX} h=${createHash('sha256').update(text).digest('hex')}`;
}

/** The mark of a link shared by the network. */
export function networkMark(o: MarkOwner): string {
  return bounded(`${MARK_PREFIX} plugin=${o.plugin} net=${o.network}`);
}

/** The mark of a link that belongs to one attachment (container + interface). */
export function attachmentMark(o: MarkOwner, a: Attachment): string {
  return bounded(`${MARK_PREFIX} plugin=${o.plugin} net=${o.network} ctr=${a.containerId} if=${a.ifname}`);
}

export interface ParsedMark extends MarkOwner {
  attachment?: Attachment;
}

const MARK_RE = /^cni-wasm plugin=(\S+) net=(\S+)(?: ctr=(\S+) if=(\S+))?$/;

/** Read a mark back (undefined for other aliases and for digest marks). */
export function parseMark(alias: string | undefined): ParsedMark | undefined {
  const m = alias === undefined ? null : MARK_RE.exec(alias);
  if (!m) return undefined;
  const out: ParsedMark = { plugin: m[1]!, network: m[2]! };
  if (m[3] !== undefined && m[4] !== undefined) out.attachment = { containerId: m[3], ifname: m[4] };
  return out;
}

/** Aliases plugins may not write: everything that could pass for a mark. */
export function isReservedAlias(alias: string): boolean {
  return alias.trimStart().toLowerCase().startsWith(MARK_PREFIX);
}
