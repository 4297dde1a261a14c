// Who an element belongs to. Every set element cni-wasm adds carries a comment that
// starts with an owner token made of hashes of (network, container ID, interface name),
// then a readable description, as nft shows it:
//   "3f2a…-9b1c…-77aa0c3e net: mynet, if: eth0, id: 1234abcd"
// DEL of one attachment removes only elements whose token is its own; GC of a network
// removes elements carrying the network's hash but no live attachment's token.
import { createHash } from 'node:crypto';
import { SysError } from '../errors.ts';
import { clampComment } from './wire.ts';

export interface MasqueradeOwner {
  /** The CNI network name. */
  network: string;
  containerId: string;
  /** The container interface; omitted = '' when adding, any interface when removing. */
  ifname?: string;
}

const h = (s: string, n: number): string => createHash('sha256').update(s).digest('hex').slice(0, n);

function check(o: MasqueradeOwner): void {
  for (const [k, v] of [
    ['network', o.network],
    ['containerId', o.containerId],
  ] as const) {
    if (typeof v !== 'string' || v.length === 0) throw new SysError('EINVAL', 'masquerade.owner', `${k} must be a non-empty string`);
  }
  if (o.ifname !== undefined && typeof o.ifname !== 'string') throw new SysError('EINVAL', 'masquerade.owner', 'ifname must be a string');
}

export const networkToken = (network: string): string => `${h(network, 16)}-`;

/** Token prefix: the exact attachment, or every interface of the container when ifname is omitted. */
export function ownerPrefix(o: MasqueradeOwner): string {
  check(o);
  const base = `${networkToken(o.network)}${h(o.containerId, 16)}-`;
  return o.ifname === undefined ? base : `${base}${h(o.ifname, 8)}`;
}

/** Printable text for a comment: no quotes, backslashes or control characters (nft syntax). */
const printable = (s: string): string => s.replace(/["\\\p{Cc}]/gu, '');

export function ownerComment(o: MasqueradeOwner): string {
  const token = ownerPrefix({ ...o, ifname: o.ifname ?? '' });
  return clampComment(`${token} net: ${printable(o.network)}, if: ${printable(o.ifname ?? '')}, id: ${printable(o.containerId)}`);
}

/** The owner token at the start of a comment (undefined for comments not made by cni-wasm). */
export function tokenOf(comment: string | undefined): string | undefined {
  const m = comment === undefined ? null : /^([0-9a-f]{16}-[0-9a-f]{16}-[0-9a-f]{8})(?: |$)/.exec(comment);
  return m?.[1];
}

/** Does an element comment belong to this owner (prefix semantics of ownerPrefix)? */
export function ownedBy(comment: string | undefined, prefix: string): boolean {
  const t = tokenOf(comment);
  return t !== undefined && t.startsWith(prefix);
}
