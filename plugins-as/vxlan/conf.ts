// The vxlan plugin's configuration (docs/vxlan.md): the seed's VXLANNetConf (vxlanId, port,
// gbp, directRouting) plus mtu, learning, dev, localIP, bridge, isDefaultGateway, ipam and
// peers. Every value is checked here; an invalid one is a CNI error with code 7 naming the
// field ("config.peers[1].subnet ..."). What only the node can tell (the underlay, its MTU,
// the local VTEP address) is resolved later, in underlay.ts.
import { Cidr, ErrorCode, FieldReader, IP, Invocation, cniError } from "../sdk";
import { Parsed, parseMac } from "../sdk/net";
import { vtepMac } from "./mac";

/** The IANA VXLAN port (Linux's own default without the attribute is 8472). */
export const DEFAULT_PORT: i64 = 4789;
export const DEFAULT_VNI: i64 = 1;
export const MAX_VNI: i64 = 0xffffff;
/** Peers per network: each costs a route, a neighbour and an FDB entry per node. */
export const MAX_PEERS: i32 = 4096;
const IFNAMSIZ: i32 = 15;

export class Peer {
  /** The peer's VTEP (underlay) address. */
  ip: IP;
  /** The peer's pod subnet (a network address with its prefix). */
  subnet: Cidr;
  /** Its VTEP MAC: as configured, or derived from the VNI and `ip` (mac.ts). */
  mac: string;
  /** The next hop of the overlay route and neighbour entry: the subnet's network address. */
  nextHop: IP;

  constructor(ip: IP, subnet: Cidr, mac: string) {
    this.ip = ip;
    this.subnet = subnet;
    this.mac = mac;
    this.nextHop = subnet.network();
  }
}

export class VxlanConf {
  network: string = "";
  vni: u32 = <u32>DEFAULT_VNI;
  port: u16 = <u16>DEFAULT_PORT;
  gbp: bool = false;
  directRouting: bool = false;
  /** 0: the underlay's MTU - 50. */
  mtu: i32 = 0;
  learning: bool = false;
  /** The underlay link; "" for the link of the default route (or the one holding localIP). */
  dev: string = "";
  /** The local VTEP address; null for the underlay's first IPv4 address. */
  localIP: IP | null = null;
  bridge: string = "";
  isDefaultGW: bool = false;
  ipamType: string = "";
  peers: Array<Peer> = new Array<Peer>();

  /** The vxlan device: "vxlan<vni>" (at most 13 characters). */
  get device(): string {
    return "vxlan" + this.vni.toString();
  }
}

function invalid(msg: string): Parsed<VxlanConf> {
  return new Parsed<VxlanConf>(null, cniError(ErrorCode.InvalidConfig, msg));
}

/** A Linux interface name: 1-15 bytes, no '/', ':' or white space, not "." or "..". */
export function validIfName(s: string): bool {
  if (s.length == 0 || s.length > IFNAMSIZ || s == "." || s == "..") return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c == 0x2f || c == 0x3a) return false;
  }
  return true;
}

/** A unicast IPv4 address a VTEP can have (not 0.0.0.0, loopback, multicast or broadcast). */
function validVtep(ip: IP): bool {
  return ip.is4() && !ip.isUnspecified() && !ip.isLoopback() && !ip.isMulticast() && ip.toU32() != 0xffffffff;
}

/** Reads and checks the configuration. Errors are code 7 and name the field. */
export function loadConf(inv: Invocation): Parsed<VxlanConf> {
  const conf = inv.conf;
  const n = new VxlanConf();
  n.network = conf.name;
  const r = conf.reader();
  n.vni = <u32>r.int("vxlanId", DEFAULT_VNI, 0, MAX_VNI);
  n.port = <u16>r.int("port", DEFAULT_PORT, 1, 65535);
  n.gbp = r.bool("gbp");
  n.directRouting = r.bool("directRouting");
  n.mtu = <i32>r.int("mtu", 0, 0, 65535);
  n.learning = r.bool("learning");
  n.dev = r.string("dev");
  const local = r.ip("localIP");
  n.bridge = r.string("bridge");
  n.isDefaultGW = r.bool("isDefaultGateway");
  const isGW = r.bool("isGateway", true);
  const peers = r.array("peers");
  if (!r.ok) return invalid(r.error);

  if (n.mtu != 0 && n.mtu < 68) return invalid("config.mtu must be at least 68 (or 0 for the underlay's MTU - 50), got " + n.mtu.toString());
  if (n.dev.length > 0 && !validIfName(n.dev)) return invalid("config.dev is not a valid interface name: \"" + n.dev + "\"");
  if (local !== null) {
    if (!validVtep(local)) return invalid("config.localIP must be a unicast IPv4 address, got \"" + local.toString() + "\"");
    n.localIP = local;
  }
  if (n.bridge.length == 0) n.bridge = "vxbr" + n.vni.toString();
  else if (!validIfName(n.bridge)) return invalid("config.bridge is not a valid interface name: \"" + n.bridge + "\"");
  if (!isGW) return invalid("config.isGateway cannot be false: the overlay is routed, containers reach the peers through the bridge's gateway address");
  n.ipamType = conf.ipamType;
  if (n.ipamType.length == 0) return invalid("config.ipam.type is required: the vxlan plugin gives each container an address from this node's pod subnet");

  if (peers !== null) {
    if (peers.length > MAX_PEERS) return invalid("config.peers has " + peers.length.toString() + " entries, at most " + MAX_PEERS.toString() + " are supported");
    for (let i = 0; i < peers.length; i++) {
      const e = r.element("peers", peers, i);
      const path = "config.peers[" + i.toString() + "]";
      const ipText = e.requireString("ip");
      const subnetText = e.requireString("subnet");
      const macText = e.string("mac");
      if (!e.ok) return invalid(e.error);
      const ip = IP.parse(ipText);
      if (ip === null || !validVtep(ip)) return invalid(path + ".ip must be a unicast IPv4 address, got \"" + ipText + "\"");
      const subnet = Cidr.parse(subnetText);
      if (subnet === null || !subnet.ip.is4()) return invalid(path + ".subnet must be an IPv4 CIDR, got \"" + subnetText + "\"");
      if (!subnet.ip.equals(subnet.network())) {
        return invalid(path + ".subnet must be a network address (" + subnet.networkCidr().toString() + "), got \"" + subnetText + "\"");
      }
      let mac = "";
      if (macText.length > 0) {
        const m = parseMac(macText);
        if (m === null) return invalid(path + ".mac is not a MAC address: \"" + macText + "\"");
        const first = <i32>parseInt(m.substring(0, 2), 16);
        if ((first & 1) != 0 || m == "00:00:00:00:00:00") return invalid(path + ".mac must be a unicast MAC address, got \"" + macText + "\"");
        mac = m;
      } else {
        mac = vtepMac(n.vni, ip);
      }
      for (let k = 0; k < n.peers.length; k++) {
        const o = unchecked(n.peers[k]);
        const other = "config.peers[" + k.toString() + "]";
        if (o.ip.equals(ip)) return invalid(path + ".ip " + ipText + " is also " + other + ".ip");
        if (o.subnet.overlaps(subnet)) return invalid(path + ".subnet " + subnetText + " overlaps " + other + ".subnet " + o.subnet.toString());
      }
      n.peers.push(new Peer(ip, subnet, mac));
    }
  }
  const lip = n.localIP;
  if (lip !== null) {
    for (let k = 0; k < n.peers.length; k++) {
      if (unchecked(n.peers[k]).ip.equals(lip)) return invalid("config.peers[" + k.toString() + "].ip is this node's localIP " + lip.toString());
    }
  }
  return new Parsed<VxlanConf>(n, null);
}
