// Masquerade for container addresses in cni-wasm's own nf_tables table (layout.ts).
// The raw-netlink functions are the implementation; the `nft -f -` ones (nft-cli.ts)
// do the same through the nft program and exist for comparison and as a fallback.
export {
  ensureMasquerade,
  removeMasquerade,
  gcMasquerade,
  listMasquerade,
  ensureMasqueradeTable,
  deleteMasqueradeTable,
} from './netlink.ts';
export type { MasqueradeSpec, MasqueradeEntry, RemoveOptions } from './netlink.ts';
export type { MasqueradeOwner } from './owner.ts';
export {
  ensureMasqueradeNft,
  ensureMasqueradeTableNft,
  removeMasqueradeNft,
  gcMasqueradeNft,
  listMasqueradeNft,
} from './nft-cli.ts';
export type { NftOptions } from './nft-cli.ts';
export { TABLE, CHAIN, SETS } from './layout.ts';
export { parseCidr } from './cidr.ts';
