// host-local's configuration, read as the reference plugin reads it
// (containernetworking/plugins plugins/ipam/host-local/backend/allocator/config.go, v1.1.1):
//
//   {"name": ..., "cniVersion": ...,
//    "ipam": {"type": "host-local",
//             "subnet", "rangeStart", "rangeEnd", "gateway"   legacy single range (first set)
//             "ranges": [[{range}, ...], ...]                  range sets, one address per set
//             "routes": [{"dst", "gw"}], "dataDir", "resolvConf"},
//    "args": {"cni": {"ips": [...]}},                             requested addresses
//    "runtimeConfig": {"ips": [...], "ipRanges": [[...]]}}        same, from the runtime
//   CNI_ARGS "IP=<ip>" (and IgnoreUnknown)                          requested address
//
// Keys are matched as Go's encoding/json matches them (case-insensitively, the last one wins);
// null members count as absent. The checks and their order, and the messages, are the
// reference's. Codes: the reference answers every error with 999; here an invalid
// configuration is 7 and an invalid CNI_ARGS is 4, as the CNI spec assigns them (see
// docs/compatibility.md).

import { ErrorCode } from "../../sdk/errors";
import { memberFold, quoteGo } from "../../sdk/gostrings";
import { Cidr, IP } from "../../sdk/ip";
import { canonicalIP } from "../../sdk/iprange";
import { JsonKind, JsonValue, parseJson } from "../../sdk/json";
import { RangeSet, RangeSpec, canonicalizeRangeSet } from "./range";
import { Tuple2 } from "../../sdk/generated/bindings";

/** The code of an invalid configuration (the reference: 999). */
export const CONFIG_ERROR: u32 = ErrorCode.InvalidConfig;
/** The code of an invalid CNI_ARGS (the reference: 999). */
export const ARGS_ERROR: u32 = ErrorCode.InvalidEnv;

export const DEFAULT_DATA_DIR = "/var/lib/cni/networks";

export class RouteConf {
  gw: IP | null = null;
  /** CNI 1.1 route attributes, passed through for 1.1.0 configurations; 0 / -1 = not set. */
  mtu: i64 = 0;
  advmss: i64 = 0;
  priority: i64 = 0;
  table: i64 = -1;
  scope: i64 = -1;
  constructor(public dst: Cidr) {}
}

export class IpamConf {
  name: string = "";
  cniVersion: string = "";
  ranges: Array<RangeSet> = new Array<RangeSet>();
  routes: Array<RouteConf> = new Array<RouteConf>();
  /** As configured; "" = the default (/var/lib/cni/networks). */
  dataDir: string = "";
  resolvConf: string = "";
  /** Requested addresses, canonical, in the order CNI_ARGS, args.cni.ips, runtimeConfig.ips. */
  requested: Array<IP> = new Array<IP>();
}

export class LoadResult {
  constructor(
    public conf: IpamConf | null,
    public code: u32,
    public error: string,
  ) {}
  static fail(code: u32, msg: string): LoadResult {
    return new LoadResult(null, code, msg);
  }
}

function kindName(v: JsonValue): string {
  switch (v.kind) {
    case JsonKind.Bool: return "boolean";
    case JsonKind.Number: return "number";
    case JsonKind.String: return "string";
    case JsonKind.Array: return "array";
    case JsonKind.Object: return "object";
    default: return "null";
  }
}

/** The first error met while decoding (Go's json.Unmarshal stops at the first one). */
class Decoder {
  error: string = "";
  get ok(): bool {
    return this.error.length == 0;
  }
  fail(msg: string): void {
    if (this.error.length == 0) this.error = msg;
  }
  wrong(path: string, want: string, v: JsonValue): void {
    this.fail("config." + path + " must be " + want + ", got " + kindName(v));
  }

  object(parent: JsonValue | null, key: string, path: string): JsonValue | null {
    const v = memberFold(parent, key);
    if (v === null) return null;
    if (!v.isObject()) {
      this.wrong(path, "an object", v);
      return null;
    }
    return v;
  }

  array(parent: JsonValue | null, key: string, path: string): JsonValue | null {
    const v = memberFold(parent, key);
    if (v === null) return null;
    if (!v.isArray()) {
      this.wrong(path, "an array", v);
      return null;
    }
    return v;
  }

  string(parent: JsonValue | null, key: string, path: string): string {
    const v = memberFold(parent, key);
    if (v === null) return "";
    if (!v.isString()) {
      this.wrong(path, "a string", v);
      return "";
    }
    return v.asString();
  }

  /** A net.IP member: "" is unset; otherwise Go's ParseIP or "invalid IP address: X". */
  ip(parent: JsonValue | null, key: string, path: string): IP | null {
    const s = this.string(parent, key, path);
    if (s.length == 0) return null;
    const ip = IP.parse(s);
    if (ip === null) this.fail("invalid IP address: " + s);
    return ip;
  }

  /** A types.IPNet member: net.ParseCIDR, the address kept as given. */
  cidr(parent: JsonValue | null, key: string, path: string): Cidr | null {
    const v = memberFold(parent, key);
    if (v === null) return null;
    if (!v.isString()) {
      this.wrong(path, "a string", v);
      return null;
    }
    const s = v.asString();
    const c = Cidr.parse(s);
    if (c === null) this.fail("invalid CIDR address: " + s);
    return c;
  }

  int(parent: JsonValue | null, key: string, path: string, def: i64): i64 {
    const v = memberFold(parent, key);
    if (v === null) return def;
    if (!v.isInteger()) {
      this.wrong(path, "an integer", v);
      return def;
    }
    return v.asInt();
  }

  /** One range object of a range set (null decodes as an empty range, as in Go). */
  rangeSpec(v: JsonValue | null, path: string): RangeSpec {
    const spec = new RangeSpec();
    if (v === null || v.isNull()) return spec;
    if (!v.isObject()) {
      this.wrong(path, "an object", v);
      return spec;
    }
    readRangeFields(this, v, path, spec);
    return spec;
  }

  /** A list of range sets ([[{...}, ...], ...]). */
  rangeSets(parent: JsonValue | null, key: string, path: string): Array<Array<RangeSpec>> {
    const out = new Array<Array<RangeSpec>>();
    const arr = this.array(parent, key, path);
    if (arr === null) return out;
    for (let i = 0; i < arr.length; i++) {
      const set = new Array<RangeSpec>();
      const e = arr.at(i)!;
      const p = path + "[" + i.toString() + "]";
      if (e.isArray()) {
        for (let j = 0; j < e.length; j++) set.push(this.rangeSpec(e.at(j), p + "[" + j.toString() + "]"));
      } else if (!e.isNull()) {
        this.wrong(p, "an array", e);
      }
      out.push(set);
    }
    return out;
  }

  /**
   * A list of requested addresses ([]*ip.IP): "<ip>" or "<ip>/<prefix>". An empty string or
   * null gives a nil address, which the caller later refuses as the reference does.
   */
  ips(parent: JsonValue | null, key: string, path: string, out: Array<IP | null>): void {
    const arr = this.array(parent, key, path);
    if (arr === null) return;
    for (let i = 0; i < arr.length; i++) {
      const e = arr.at(i)!;
      if (e.isNull()) {
        out.push(null);
        continue;
      }
      if (!e.isString()) {
        this.wrong(path + "[" + i.toString() + "]", "a string", e);
        return;
      }
      const s = e.asString();
      if (s.length == 0) {
        out.push(null);
        continue;
      }
      const ip = parseIPArg(s);
      if (ip === null) {
        this.fail("invalid IP address " + s);
        return;
      }
      out.push(ip);
    }
  }
}

function readRangeFields(d: Decoder, obj: JsonValue, path: string, spec: RangeSpec): void {
  spec.subnet = d.cidr(obj, "subnet", path + ".subnet");
  spec.rangeStart = d.ip(obj, "rangeStart", path + ".rangeStart");
  spec.rangeEnd = d.ip(obj, "rangeEnd", path + ".rangeEnd");
  spec.gateway = d.ip(obj, "gateway", path + ".gateway");
}

/** pkg/ip ParseIP: an address, or an address with a prefix length (the address is kept). */
export function parseIPArg(s: string): IP | null {
  if (s.indexOf("/") >= 0) {
    const c = Cidr.parse(s);
    return c === null ? null : c.ip;
  }
  return IP.parse(s);
}

function versionAtLeast030(v: string): bool {
  // The host admits only the released versions (and "" for none).
  return !(v.length == 0 || v == "0.1.0" || v == "0.2.0");
}

/**
 * LoadIPAMConfig: the configuration text and CNI_ARGS pairs -> the checked IPAM configuration,
 * or the reference's error message with this plugin's code.
 */
export function loadIpamConfig(configText: string, args: Array<Tuple2<string, string>>): LoadResult {
  const parsed = parseJson(configText);
  if (!parsed.ok) return LoadResult.fail(ErrorCode.DecodeFailure, "invalid network configuration JSON: " + parsed.error);
  const root = parsed.value!;
  if (!root.isObject()) return LoadResult.fail(ErrorCode.DecodeFailure, "network configuration must be a JSON object");

  // ---- decoding (json.Unmarshal into the reference's structs) ----
  const d = new Decoder();
  const conf = new IpamConf();
  conf.name = d.string(root, "name", "name");
  conf.cniVersion = d.string(root, "cniVersion", "cniVersion");
  const ipam = d.object(root, "ipam", "ipam");
  const legacy = new RangeSpec();
  let sets = new Array<Array<RangeSpec>>();
  if (ipam !== null) {
    readRangeFields(d, ipam, "ipam", legacy);
    const routes = d.array(ipam, "routes", "ipam.routes");
    if (routes !== null) {
      for (let i = 0; i < routes.length; i++) {
        const e = routes.at(i)!;
        const p = "ipam.routes[" + i.toString() + "]";
        if (e.isNull()) continue;
        if (!e.isObject()) {
          d.wrong(p, "an object", e);
          continue;
        }
        const dst = d.cidr(e, "dst", p + ".dst");
        const gw = d.ip(e, "gw", p + ".gw");
        if (dst === null) {
          d.fail("config." + p + ".dst is required");
          continue;
        }
        const rt = new RouteConf(dst);
        rt.gw = gw;
        rt.mtu = d.int(e, "mtu", p + ".mtu", 0);
        rt.advmss = d.int(e, "advmss", p + ".advmss", 0);
        rt.priority = d.int(e, "priority", p + ".priority", 0);
        rt.table = d.int(e, "table", p + ".table", -1);
        rt.scope = d.int(e, "scope", p + ".scope", -1);
        conf.routes.push(rt);
      }
    }
    conf.dataDir = d.string(ipam, "dataDir", "ipam.dataDir");
    conf.resolvConf = d.string(ipam, "resolvConf", "ipam.resolvConf");
    sets = d.rangeSets(ipam, "ranges", "ipam.ranges");
  }
  const rc = d.object(root, "runtimeConfig", "runtimeConfig");
  const rcRanges = d.rangeSets(rc, "ipRanges", "runtimeConfig.ipRanges");
  const rcIPs = new Array<IP | null>();
  d.ips(rc, "ips", "runtimeConfig.ips", rcIPs);
  const argsObj = d.object(root, "args", "args");
  const cniArgs = d.object(argsObj, "cni", "args.cni");
  const argIPs = new Array<IP | null>();
  d.ips(cniArgs, "ips", "args.cni.ips", argIPs);
  if (!d.ok) return LoadResult.fail(CONFIG_ERROR, d.error);

  if (ipam === null) return LoadResult.fail(CONFIG_ERROR, "IPAM config missing 'ipam' key");

  // ---- CNI_ARGS (types.LoadArgs into {IgnoreUnknown, IP}) ----
  let envIP: IP | null = null;
  let ignoreUnknown = false;
  const unknown = new Array<string>();
  for (let i = 0; i < args.length; i++) {
    const p = unchecked(args[i]);
    const pair = p.f0 + "=" + p.f1;
    if (p.f1.indexOf("=") >= 0) return LoadResult.fail(ARGS_ERROR, "ARGS: invalid pair " + quoteGo(pair));
    if (p.f0 == "IP") {
      if (p.f1.length == 0) {
        envIP = null;
      } else {
        const ip = parseIPArg(p.f1);
        if (ip === null) {
          return LoadResult.fail(ARGS_ERROR, "ARGS: error parsing value of pair " + quoteGo(pair) + ": invalid IP address " + p.f1);
        }
        envIP = ip;
      }
    } else if (p.f0 == "IgnoreUnknown") {
      const v = p.f1.toLowerCase();
      if (v == "1" || v == "true") ignoreUnknown = true;
      else if (v == "0" || v == "false") ignoreUnknown = false;
      else {
        return LoadResult.fail(ARGS_ERROR, "ARGS: error parsing value of pair " + quoteGo(pair) + ": boolean unmarshal error: invalid input " + v);
      }
    } else {
      unknown.push(pair);
    }
  }
  if (unknown.length > 0 && !ignoreUnknown) {
    const q = new Array<string>(unknown.length);
    for (let i = 0; i < unknown.length; i++) q[i] = quoteGo(unchecked(unknown[i]));
    return LoadResult.fail(ARGS_ERROR, "ARGS: unknown args [" + q.join(" ") + "]");
  }

  // ---- requested addresses ----
  const req = new Array<IP | null>();
  if (envIP !== null) req.push(envIP);
  for (let i = 0; i < argIPs.length; i++) req.push(unchecked(argIPs[i]));
  for (let i = 0; i < rcIPs.length; i++) req.push(unchecked(rcIPs[i]));
  for (let i = 0; i < req.length; i++) {
    const ip = unchecked(req[i]);
    if (ip === null) return LoadResult.fail(CONFIG_ERROR, "cannot understand ip: IP <nil> not v4 nor v6");
    conf.requested.push(canonicalIP(ip));
  }

  // ---- range sets: runtime ones, the legacy range, then "ranges" ----
  const all = new Array<Array<RangeSpec>>();
  for (let i = 0; i < rcRanges.length; i++) all.push(unchecked(rcRanges[i]));
  if (legacy.subnet !== null) {
    const one = new Array<RangeSpec>();
    one.push(legacy);
    all.push(one);
  }
  for (let i = 0; i < sets.length; i++) all.push(unchecked(sets[i]));
  if (all.length == 0) return LoadResult.fail(CONFIG_ERROR, "no IP ranges specified");

  let numV4 = 0;
  let numV6 = 0;
  for (let i = 0; i < all.length; i++) {
    const c = canonicalizeRangeSet(unchecked(all[i]));
    const set = c.set;
    if (set === null) return LoadResult.fail(CONFIG_ERROR, "invalid range set " + i.toString() + ": " + c.error);
    if (set.v4) numV4++;
    else numV6++;
    conf.ranges.push(set);
  }
  if ((numV4 > 1 || numV6 > 1) && !versionAtLeast030(conf.cniVersion)) {
    return LoadResult.fail(CONFIG_ERROR, "CNI version " + conf.cniVersion + " does not support more than 1 address per family");
  }
  const n = conf.ranges.length;
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n; j++) {
      if (unchecked(conf.ranges[i]).overlaps(unchecked(conf.ranges[j]))) {
        return LoadResult.fail(CONFIG_ERROR, "range set " + i.toString() + " overlaps with " + j.toString());
      }
    }
  }
  return new LoadResult(conf, 0, "");
}

/** "1.1.0" or later: the result may carry the CNI 1.1 route attributes. */
export function atLeast110(v: string): bool {
  const parts = v.split(".");
  if (parts.length != 3) return false;
  const major = I32.parseInt(unchecked(parts[0]));
  const minor = I32.parseInt(unchecked(parts[1]));
  return major > 1 || (major == 1 && minor >= 1);
}
