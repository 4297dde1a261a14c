// Gateways from an IPAM result, per family, as the reference bridge plugin's calcGateways:
// every address is assigned to the container interface; a missing gateway is the subnet's
// first address when the plugin is the gateway; a default route through it is added when
// asked and the result has none with a gateway; and the gateway addresses (with the
// container's prefix length) are collected for the bridge.
import { Cidr, IP } from "../ip";
import { CniResult } from "../result";

export class GwInfo {
  gws: Array<Cidr> = new Array<Cidr>();
  defaultRouteFound: bool = false;
  constructor(public v4: bool) {}
}

export class Gateways {
  v4: GwInfo = new GwInfo(true);
  v6: GwInfo = new GwInfo(false);
  /** The first invalid address met, "" when all parsed. */
  error: string = "";
}

/** The subnet's first address: the gateway the reference computes ("10.22.0.1" for 10.22.5.9/16). */
export function gatewayOf(c: Cidr): IP {
  const n = c.network();
  const next = n.next();
  return next !== null ? next : n;
}

function isDefaultRoute(dst: string, v4: bool): bool {
  const c = Cidr.parse(dst);
  return c !== null && c.prefix == 0 && c.ip.is4() == v4 && c.network().isUnspecified();
}

/**
 * Updates `res` in place: `ips[].interface` = containerIndex, gateways filled in (isGW), default
 * routes appended (isDefaultGW). Returns the gateway addresses per family.
 */
export function calcGateways(res: CniResult, containerIndex: i32, isGW: bool, isDefaultGW: bool): Gateways {
  const out = new Gateways();
  for (let i = 0; i < res.ips.length; i++) {
    const ipc = unchecked(res.ips[i]);
    const addr = Cidr.parse(ipc.address);
    if (addr === null) {
      out.error = "Unknown IP object: " + ipc.address;
      return out;
    }
    const v4 = addr.ip.is4();
    const gws = v4 ? out.v4 : out.v6;
    ipc.iface = containerIndex;
    if (ipc.gateway.length == 0 && isGW) ipc.gateway = gatewayOf(addr).toString();
    if (isDefaultGW && !gws.defaultRouteFound) {
      for (let k = 0; k < res.routes.length; k++) {
        const r = unchecked(res.routes[k]);
        if (r.gw.length > 0 && isDefaultRoute(r.dst, v4)) {
          gws.defaultRouteFound = true;
          break;
        }
      }
      if (!gws.defaultRouteFound) {
        res.addRoute(v4 ? "0.0.0.0/0" : "::/0", ipc.gateway);
        gws.defaultRouteFound = true;
      }
    }
    if (isGW) {
      const gw = IP.parse(ipc.gateway);
      if (gw !== null) gws.gws.push(new Cidr(v4 ? gw.to4()! : gw, addr.prefix));
    }
  }
  return out;
}
