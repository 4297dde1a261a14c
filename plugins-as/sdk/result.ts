// CNI results in the 1.x form: the classes a plugin fills in for ADD (and reads back from a
// prevResult, see config.ts), and their JSON. The host converts the result to the version the
// runtime asked for, so plugins always write 1.x.
//
// toJson() prints Go's field order and omissions (containernetworking/cni types/100):
//   {"cniVersion", "interfaces", "ips", "routes", "dns"}
//   interface: name, mac, mtu, sandbox, socketPath, pciID   (empty / 0 left out)
//   ip:        interface (when set), address, gateway        (gateway "" left out)
//   route:     dst, gw, mtu, advmss, priority, table, scope  (gw "" and 0s left out;
//              table and scope are printed whenever set, 0 included, as Go's *int)
//   dns:       nameservers, domain, search, options         (the object only when not empty)
// Empty lists are left out, as Go's omitempty does.

import { StrBuf } from "./strbuf";
import { writeString } from "./json";

export const RESULT_VERSION = "1.1.0";

/**
 * The `sandbox` of a container-side interface. A plugin never sees the namespace's path, so it
 * writes this name (the WIT's name for the namespace in CNI_NETNS) and the host puts the path
 * there before the result leaves; in a prevResult the host writes it back where the sandbox is
 * CNI_NETNS, so a plugin compares a prevResult's sandbox with this constant.
 */
export const SANDBOX_CONTAINER = "container";

export class CniInterface {
  mac: string = "";
  /** 0 = not reported. */
  mtu: i32 = 0;
  /** SANDBOX_CONTAINER for container-side interfaces (the host writes CNI_NETNS there), "" on the host. */
  sandbox: string = "";
  socketPath: string = "";
  pciID: string = "";

  constructor(
    public name: string,
    /** Position in CniResult.interfaces, for CniIPConfig.interface. */
    public index: i32 = -1,
  ) {}
}

export class CniIPConfig {
  /** "" = not reported. */
  gateway: string = "";
  constructor(
    /** CIDR with the host bits: "10.1.2.3/24". */
    public address: string,
    /** Index into CniResult.interfaces; -1 = not set. */
    public iface: i32 = -1,
  ) {}
}

export class CniRoute {
  gw: string = "";
  mtu: i32 = 0;
  advmss: i32 = 0;
  priority: i32 = 0;
  /** -1 = not set. */
  table: i32 = -1;
  /** -1 = not set. */
  scope: i32 = -1;
  constructor(
    /** CIDR: "0.0.0.0/0", "10.2.0.0/16". */
    public dst: string,
  ) {}
}

export class CniDNS {
  nameservers: Array<string> = new Array<string>();
  domain: string = "";
  search: Array<string> = new Array<string>();
  options: Array<string> = new Array<string>();

  isEmpty(): bool {
    return this.nameservers.length == 0 && this.domain.length == 0 && this.search.length == 0 && this.options.length == 0;
  }
}

export class CniResult {
  cniVersion: string = RESULT_VERSION;
  interfaces: Array<CniInterface> = new Array<CniInterface>();
  ips: Array<CniIPConfig> = new Array<CniIPConfig>();
  routes: Array<CniRoute> = new Array<CniRoute>();
  dns: CniDNS = new CniDNS();

  /** Appends an interface; its `index` is what addIP takes. */
  addInterface(name: string, mac: string = "", sandbox: string = ""): CniInterface {
    const i = new CniInterface(name, this.interfaces.length);
    i.mac = mac;
    i.sandbox = sandbox;
    this.interfaces.push(i);
    return i;
  }

  /** Appends an address ("10.1.2.3/24") on interface index iface (-1: none). */
  addIP(address: string, gateway: string = "", iface: i32 = -1): CniIPConfig {
    const c = new CniIPConfig(address, iface);
    c.gateway = gateway;
    this.ips.push(c);
    return c;
  }

  addRoute(dst: string, gw: string = ""): CniRoute {
    const r = new CniRoute(dst);
    r.gw = gw;
    this.routes.push(r);
    return r;
  }

  /** The result as JSON, in Go's field order (see the top of this file). */
  toJson(): string {
    const out = new StrBuf(256);
    out.add("{\"cniVersion\":");
    writeString(out, this.cniVersion);
    const ifs = this.interfaces;
    if (ifs.length > 0) {
      out.add(",\"interfaces\":[");
      for (let k = 0; k < ifs.length; k++) {
        if (k) out.addCode(0x2c);
        writeInterface(out, unchecked(ifs[k]));
      }
      out.addCode(0x5d);
    }
    const ips = this.ips;
    if (ips.length > 0) {
      out.add(",\"ips\":[");
      for (let k = 0; k < ips.length; k++) {
        if (k) out.addCode(0x2c);
        const c = unchecked(ips[k]);
        out.addCode(0x7b);
        if (c.iface >= 0) out.add("\"interface\":").addInt(c.iface).addCode(0x2c);
        out.add("\"address\":");
        writeString(out, c.address);
        optString(out, "gateway", c.gateway);
        out.addCode(0x7d);
      }
      out.addCode(0x5d);
    }
    const routes = this.routes;
    if (routes.length > 0) {
      out.add(",\"routes\":[");
      for (let k = 0; k < routes.length; k++) {
        if (k) out.addCode(0x2c);
        writeRoute(out, unchecked(routes[k]));
      }
      out.addCode(0x5d);
    }
    if (!this.dns.isEmpty()) {
      out.add(",\"dns\":");
      writeDns(out, this.dns);
    }
    out.addCode(0x7d);
    return out.toString();
  }
}

function optString(out: StrBuf, key: string, v: string): void {
  if (v.length == 0) return;
  out.add(",\"").add(key).add("\":");
  writeString(out, v);
}

function optInt(out: StrBuf, key: string, v: i64): void {
  if (v == 0) return;
  out.add(",\"").add(key).add("\":").addInt(v);
}

function writeInterface(out: StrBuf, i: CniInterface): void {
  out.add("{\"name\":");
  writeString(out, i.name);
  optString(out, "mac", i.mac);
  optInt(out, "mtu", i.mtu);
  optString(out, "sandbox", i.sandbox);
  optString(out, "socketPath", i.socketPath);
  optString(out, "pciID", i.pciID);
  out.addCode(0x7d);
}

function writeRoute(out: StrBuf, r: CniRoute): void {
  out.add("{\"dst\":");
  writeString(out, r.dst);
  optString(out, "gw", r.gw);
  optInt(out, "mtu", r.mtu);
  optInt(out, "advmss", r.advmss);
  optInt(out, "priority", r.priority);
  if (r.table >= 0) out.add(",\"table\":").addInt(r.table);
  if (r.scope >= 0) out.add(",\"scope\":").addInt(r.scope);
  out.addCode(0x7d);
}

function writeStrings(out: StrBuf, a: Array<string>): void {
  out.addCode(0x5b);
  for (let k = 0; k < a.length; k++) {
    if (k) out.addCode(0x2c);
    writeString(out, unchecked(a[k]));
  }
  out.addCode(0x5d);
}

export function writeDns(out: StrBuf, d: CniDNS): void {
  out.addCode(0x7b);
  let first = true;
  if (d.nameservers.length > 0) {
    out.add("\"nameservers\":");
    writeStrings(out, d.nameservers);
    first = false;
  }
  if (d.domain.length > 0) {
    if (!first) out.addCode(0x2c);
    out.add("\"domain\":");
    writeString(out, d.domain);
    first = false;
  }
  if (d.search.length > 0) {
    if (!first) out.addCode(0x2c);
    out.add("\"search\":");
    writeStrings(out, d.search);
    first = false;
  }
  if (d.options.length > 0) {
    if (!first) out.addCode(0x2c);
    out.add("\"options\":");
    writeStrings(out, d.options);
  }
  out.addCode(0x7d);
}
