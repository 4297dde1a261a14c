// The bridge plugin's configuration: the reference's NetConf (plugins/main/bridge), read with
// the same defaults and validation errors, and the container MAC from CNI_ARGS, args or
// runtimeConfig with its precedence (runtimeConfig > args.cni.mac > CNI_ARGS MAC).
import { FieldReader, Invocation, JsonValue } from "../sdk";
import { Parsed, errorf } from "../sdk/net";

export class BridgeConf {
  brName: string = "cni0";
  isGW: bool = false;
  isDefaultGW: bool = false;
  forceAddress: bool = false;
  ipMasq: bool = false;
  mtu: i32 = 0;
  hairpinMode: bool = false;
  promiscMode: bool = false;
  vlan: i32 = 0;
  /** vlanTrunk was given (even empty): the bridge needs VLAN filtering. */
  vlanTrunkGiven: bool = false;
  /** The trunk's VLAN IDs, sorted and unique. */
  vlans: Array<i32> = new Array<i32>();
  preserveDefaultVlan: bool = false;
  macSpoofChk: bool = false;
  enableDad: bool = false;
  disableContainerInterface: bool = false;
  portIsolation: bool = false;
  /** The container end's MAC as given ("" when none); checked when the veth is made. */
  mac: string = "";
  ipamType: string = "";

  get isLayer3(): bool {
    return this.ipamType.length > 0;
  }
}

function bad(msg: string): Parsed<BridgeConf> {
  return new Parsed<BridgeConf>(null, errorf(msg));
}

function quoteList(items: Array<string>): string {
  let s = "[";
  for (let i = 0; i < items.length; i++) {
    if (i > 0) s += " ";
    s += "\"" + unchecked(items[i]) + "\"";
  }
  return s + "]";
}

/** An optional integer member of a trunk entry: `has` false when absent or null. */
class OptInt {
  constructor(public has: bool, public value: i64) {}
}

function optInt(r: FieldReader, key: string): OptInt {
  if (!r.has(key)) return new OptInt(false, 0);
  return new OptInt(true, r.int(key, 0, i32.MIN_VALUE, i32.MAX_VALUE));
}

/** The reference's collectVlanTrunk: ranges and single IDs, each 1-4094, sorted, unique. */
function collectVlanTrunk(r: FieldReader, arr: JsonValue, out: Array<i32>): string {
  const seen = new Set<i32>();
  for (let i = 0; i < arr.length; i++) {
    const e = r.element("vlanTrunk", arr, i);
    const min = optInt(e, "minID");
    const max = optInt(e, "maxID");
    const id = optInt(e, "id");
    if (!r.ok) return "";
    if (min.has && max.has) {
      if (min.value <= 0 || min.value > 4094) return "incorrect trunk minID parameter";
      if (max.value <= 0 || max.value > 4094) return "incorrect trunk maxID parameter";
      if (max.value < min.value) return "minID is greater than maxID in trunk parameter";
      for (let v = <i32>min.value; v <= <i32>max.value; v++) seen.add(v);
    } else if (!min.has && max.has) {
      return "minID and maxID should be configured simultaneously, minID is missing";
    } else if (min.has && !max.has) {
      return "minID and maxID should be configured simultaneously, maxID is missing";
    }
    if (id.has) {
      if (id.value <= 0 || id.value > 4094) return "incorrect trunk id parameter";
      seen.add(<i32>id.value);
    }
  }
  const vals = seen.values();
  vals.sort((a: i32, b: i32): i32 => a - b);
  for (let i = 0; i < vals.length; i++) out.push(unchecked(vals[i]));
  return "";
}

/** CNI_ARGS as the reference's types.LoadArgs into {IgnoreUnknown, MAC}; returns an error message or "". */
function loadEnvArgs(inv: Invocation, c: BridgeConf): string {
  const a = inv.args;
  if (a.length == 0) return "";
  let ignore = false;
  const unknown = new Array<string>();
  for (let i = 0; i < a.length; i++) {
    const k = unchecked(a.keys[i]);
    const v = unchecked(a.values[i]);
    const pair = k + "=" + v;
    if (k == "IgnoreUnknown") {
      const l = v.toLowerCase();
      if (l == "1" || l == "true") ignore = true;
      else if (l == "0" || l == "false") ignore = false;
      else return "ARGS: error parsing value of pair \"" + pair + "\": boolean unmarshal error: invalid input " + l;
    } else if (k == "MAC") {
      if (v.length > 0) c.mac = v;
    } else {
      unknown.push(pair);
    }
  }
  if (unknown.length > 0 && !ignore) return "ARGS: unknown args " + quoteList(unknown);
  return "";
}

export function loadConf(inv: Invocation): Parsed<BridgeConf> {
  const c = new BridgeConf();
  const conf = inv.conf;
  const r = conf.reader();
  c.brName = r.string("bridge", "cni0");
  c.isGW = r.bool("isGateway");
  c.isDefaultGW = r.bool("isDefaultGateway");
  c.forceAddress = r.bool("forceAddress");
  c.ipMasq = r.bool("ipMasq");
  c.mtu = <i32>r.int("mtu", 0, i32.MIN_VALUE, i32.MAX_VALUE);
  c.hairpinMode = r.bool("hairpinMode");
  c.promiscMode = r.bool("promiscMode");
  c.vlan = <i32>r.int("vlan", 0, i32.MIN_VALUE, i32.MAX_VALUE);
  c.preserveDefaultVlan = r.bool("preserveDefaultVlan");
  c.macSpoofChk = r.bool("macspoofchk");
  c.enableDad = r.bool("enabledad");
  c.disableContainerInterface = r.bool("disableContainerInterface");
  c.portIsolation = r.bool("portIsolation");
  const trunk = r.array("vlanTrunk");
  const argsMac = r.object("args").object("cni").string("mac");
  const rtMac = r.object("runtimeConfig").string("mac");
  c.ipamType = conf.ipamType;
  if (!r.ok) return bad("failed to load netconf: " + r.error);

  if (c.vlan < 0 || c.vlan > 4094) return bad("invalid VLAN ID " + c.vlan.toString() + " (must be between 0 and 4094)");
  if (trunk !== null) {
    c.vlanTrunkGiven = true;
    const msg = collectVlanTrunk(r, trunk, c.vlans);
    if (!r.ok) return bad("failed to load netconf: " + r.error);
    if (msg.length > 0) return bad(msg);
  }
  const envErr = loadEnvArgs(inv, c);
  if (envErr.length > 0) return bad(envErr);
  if (argsMac.length > 0) c.mac = argsMac;
  if (rtMac.length > 0) c.mac = rtMac;
  return new Parsed<BridgeConf>(c, null);
}
