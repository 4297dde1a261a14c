// The VTEP MAC rule (docs/vxlan.md): every node computes its own vxlan device's MAC, and the
// MAC of each peer that does not give one, from the VNI and the IPv4 VTEP address alone, so
// that nodes never need to exchange MACs:
//
//   02 : (vni ^ vni>>8 ^ vni>>16) & 0xff : a : b : c : d        for VTEP address a.b.c.d
//
// 0x02 in the first octet is a locally administered (bit 1 set) unicast (bit 0 clear) address,
// so it never collides with a vendor MAC and is never taken for multicast. The second octet
// folds the three bytes of the VNI; the last four are the VTEP address, which is unique on the
// underlay, so two VTEPs of the same network never share a MAC.
import { IP } from "../sdk";

const HEX = "0123456789abcdef";

function hex2(b: u32): string {
  return HEX.charAt(<i32>((b >> 4) & 0xf)) + HEX.charAt(<i32>(b & 0xf));
}

/** The VTEP MAC of the node whose VTEP address is `ip` (IPv4) in network `vni`, lowercase with colons. */
export function vtepMac(vni: u32, ip: IP): string {
  const v = ip.toU32();
  const fold = (vni ^ (vni >> 8) ^ (vni >> 16)) & 0xff;
  return "02:" + hex2(fold) + ":" + hex2(v >> 24) + ":" + hex2((v >> 16) & 0xff) + ":" + hex2((v >> 8) & 0xff) + ":" + hex2(v & 0xff);
}
