// Masquerade for container addresses in cni-wasm's own nf_tables table (layout.ts).
// The raw-netlink functions are the implementation. The `nft -f -` ones do the same
// through the nft program (comparison, fallback); import them from ./nft-cli.ts: they are
// not re-exported here because node:child_process alone costs ~4 ms to load.
export {
  ensureMasquerade,
  removeMasquerade,
  gcMasquerade,
  listMasquerade,
  ensureMasqueradeTable,
  deleteMasqueradeTable,
  closeLingering,
} from './netlink.ts';
export type { MasqueradeSpec, MasqueradeEntry, RemoveOptions } from './netlink.ts';
export type { MasqueradeOwner } from './owner.ts';
// MAC anti-spoofing (macspoofchk) in cni-wasm's bridge-family table (macspoof.ts).
export {
  ensureMacSpoofCheck,
  removeMacSpoofCheck,
  gcMacSpoofCheck,
  listMacSpoofCheck,
  deleteMacSpoofTable,
  BRIDGE_TABLE,
  BRIDGE_CHAIN,
} from './macspoof.ts';
export type { MacSpoofSpec, MacSpoofRule } from './macspoof.ts';
export { TABLE, CHAIN, SETS } from './layout.ts';
export { parseCidr } from './cidr.ts';
