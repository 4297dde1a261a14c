// Reading what a plugin is given: the network configuration (the fields every CNI config
// shares, typed, plus checked access to the plugin's own fields), CNI_ARGS pairs, and the
// prevResult, which the host always hands over in the 1.x form.
//
// Nothing here aborts: a wrong field type or a malformed prevResult becomes an error message
// the plugin returns as a CNI error (code 7, "invalid configuration", is the usual one; see
// errors.ts).

import { JsonKind, JsonValue, parseJson } from "./json";
import { Cidr, IP } from "./ip";
import { CniDNS, CniResult } from "./result";

function kindName(v: JsonValue): string {
  switch (v.kind) {
    case JsonKind.Null: return "null";
    case JsonKind.Bool: return "boolean";
    case JsonKind.Number: return "number";
    case JsonKind.String: return "string";
    case JsonKind.Array: return "array";
    default: return "object";
  }
}

/** The first error met by a FieldReader and every reader derived from it. */
export class ReadErrors {
  first: string = "";
  get ok(): bool {
    return this.first.length == 0;
  }
  report(msg: string): void {
    if (this.first.length == 0) this.first = msg;
  }
}

/**
 * Typed, checked access to the members of a JSON object. Absent members and JSON null give the
 * default (as Go's decoder leaves a field untouched); a member of the wrong type records an
 * error naming its path ("config.mtu must be an integer, got string") and gives the default.
 * Check `ok` / `error` once after reading everything.
 */
export class FieldReader {
  constructor(
    /** The object read; null reads as an empty object. */
    public obj: JsonValue | null,
    /** Path for messages: "config", "config.ipam". */
    public path: string,
    public errors: ReadErrors = new ReadErrors(),
  ) {}

  get ok(): bool {
    return this.errors.ok;
  }
  get error(): string {
    return this.errors.first;
  }

  /** Records an error about key (for checks of values the reader cannot know). */
  fail(key: string, msg: string): void {
    this.errors.report(this.path + "." + key + " " + msg);
  }

  /** The member, or null when absent or JSON null. */
  value(key: string): JsonValue | null {
    const o = this.obj;
    if (o === null) return null;
    const v = o.get(key);
    if (v === null || v.isNull()) return null;
    return v;
  }

  has(key: string): bool {
    return this.value(key) !== null;
  }

  private wrong(key: string, want: string, v: JsonValue): void {
    this.fail(key, "must be " + want + ", got " + kindName(v));
  }

  string(key: string, def: string = ""): string {
    const v = this.value(key);
    if (v === null) return def;
    if (!v.isString()) {
      this.wrong(key, "a string", v);
      return def;
    }
    return v.asString();
  }

  /** A string that must be present and not empty. */
  requireString(key: string): string {
    const v = this.value(key);
    if (v === null) {
      this.fail(key, "is required");
      return "";
    }
    const s = this.string(key);
    if (this.ok && s.length == 0) this.fail(key, "must not be empty");
    return s;
  }

  bool(key: string, def: bool = false): bool {
    const v = this.value(key);
    if (v === null) return def;
    if (!v.isBool()) {
      this.wrong(key, "a boolean", v);
      return def;
    }
    return v.asBool();
  }

  /** An integral number within [min, max]. */
  int(key: string, def: i64 = 0, min: i64 = i64.MIN_VALUE, max: i64 = i64.MAX_VALUE): i64 {
    const v = this.value(key);
    if (v === null) return def;
    if (!v.isInteger()) {
      if (v.isNumber()) this.fail(key, "must be an integer, got " + v.numberText());
      else this.wrong(key, "an integer", v);
      return def;
    }
    const n = v.asInt();
    if (n < min || n > max) {
      this.fail(key, "must be between " + min.toString() + " and " + max.toString() + ", got " + n.toString());
      return def;
    }
    return n;
  }

  number(key: string, def: f64 = 0): f64 {
    const v = this.value(key);
    if (v === null) return def;
    if (!v.isNumber()) {
      this.wrong(key, "a number", v);
      return def;
    }
    return v.asNumber();
  }

  /** An array of strings; empty when absent. */
  strings(key: string): Array<string> {
    const out = new Array<string>();
    const v = this.value(key);
    if (v === null) return out;
    if (!v.isArray()) {
      this.wrong(key, "an array of strings", v);
      return out;
    }
    for (let i = 0, n = v.length; i < n; i++) {
      const e = v.at(i)!;
      if (!e.isString()) {
        this.fail(key + "[" + i.toString() + "]", "must be a string, got " + kindName(e));
        return new Array<string>();
      }
      out.push(e.asString());
    }
    return out;
  }

  /** An IP address member (Go's net.IP text); null when absent or invalid (error recorded). */
  ip(key: string): IP | null {
    const s = this.string(key);
    if (s.length == 0) return null;
    const ip = IP.parse(s);
    if (ip === null) this.fail(key, "is not a valid IP address: \"" + s + "\"");
    return ip;
  }

  /** A CIDR member ("10.1.0.0/16"); null when absent or invalid (error recorded). */
  cidr(key: string): Cidr | null {
    const s = this.string(key);
    if (s.length == 0) return null;
    const c = Cidr.parse(s);
    if (c === null) this.fail(key, "is not a valid CIDR: \"" + s + "\"");
    return c;
  }

  /** A reader over an object member; over nothing when absent (all defaults). */
  object(key: string): FieldReader {
    const v = this.value(key);
    if (v !== null && !v.isObject()) {
      this.wrong(key, "an object", v);
      return new FieldReader(null, this.path + "." + key, this.errors);
    }
    return new FieldReader(v, this.path + "." + key, this.errors);
  }

  /** An array member (null when absent; error recorded when not an array). */
  array(key: string): JsonValue | null {
    const v = this.value(key);
    if (v === null) return null;
    if (!v.isArray()) {
      this.wrong(key, "an array", v);
      return null;
    }
    return v;
  }

  /** A reader over element i of an array member, for lists of objects. */
  element(key: string, arr: JsonValue, i: i32): FieldReader {
    const e = arr.at(i);
    const path = this.path + "." + key + "[" + i.toString() + "]";
    if (e === null || !e.isObject()) {
      this.errors.report(path + " must be an object" + (e === null ? "" : ", got " + kindName(e)));
      return new FieldReader(null, path, this.errors);
    }
    return new FieldReader(e, path, this.errors);
  }
}

// ---------------------------------------------------------------------------------------------
// Network configuration

export class NetConf {
  /** The whole configuration object, for the plugin's own fields (see reader()). */
  json: JsonValue;
  cniVersion: string = "";
  name: string = "";
  type: string = "";
  /** Capability names the runtime may fill in runtimeConfig ("capabilities": {"portMappings": true}). */
  capabilities: Array<string> = new Array<string>();
  /** `ipam`, when present (an object). */
  ipam: JsonValue | null = null;
  /** `ipam.type`, "" when there is no ipam section. */
  ipamType: string = "";
  /** `dns` from the configuration. */
  dns: CniDNS = new CniDNS();
  /** `runtimeConfig` (already filtered to the declared capabilities by the runtime). */
  runtimeConfig: JsonValue | null = null;
  /** `args` (the conventional "args": {"cni": {...}} passing arbitrary data). */
  args: JsonValue | null = null;

  constructor(json: JsonValue) {
    this.json = json;
  }

  /** A checked reader over the whole configuration, path "config". */
  reader(): FieldReader {
    return new FieldReader(this.json, "config");
  }

  /** A checked reader over `ipam`, path "config.ipam". */
  ipamReader(): FieldReader {
    return new FieldReader(this.ipam, "config.ipam");
  }

  /** A checked reader over `runtimeConfig`, path "config.runtimeConfig". */
  runtimeConfigReader(): FieldReader {
    return new FieldReader(this.runtimeConfig, "config.runtimeConfig");
  }
}

export class NetConfResult {
  constructor(public conf: NetConf | null, public error: string) {}
  get ok(): bool {
    return this.conf !== null;
  }
}

/** Parses the configuration text (the request's `config`) and its shared fields. */
export function parseNetConf(text: string): NetConfResult {
  const parsed = parseJson(text);
  if (!parsed.ok) return new NetConfResult(null, "invalid network configuration JSON: " + parsed.error);
  const root = parsed.value!;
  if (!root.isObject()) return new NetConfResult(null, "network configuration must be a JSON object");
  const conf = new NetConf(root);
  const r = conf.reader();
  conf.cniVersion = r.string("cniVersion");
  conf.name = r.string("name");
  conf.type = r.string("type");
  const caps = r.object("capabilities");
  const capObj = caps.obj;
  if (capObj !== null) {
    const keys = capObj.keys();
    for (let i = 0; i < keys.length; i++) {
      const k = unchecked(keys[i]);
      if (caps.bool(k)) conf.capabilities.push(k);
    }
  }
  const ipam = r.object("ipam");
  conf.ipam = ipam.obj;
  conf.ipamType = ipam.string("type");
  conf.dns = readDns(r.object("dns"));
  conf.runtimeConfig = r.object("runtimeConfig").obj;
  conf.args = r.object("args").obj;
  if (!r.ok) return new NetConfResult(null, r.error);
  return new NetConfResult(conf, "");
}

function readDns(r: FieldReader): CniDNS {
  const d = new CniDNS();
  d.nameservers = r.strings("nameservers");
  d.domain = r.string("domain");
  d.search = r.strings("search");
  d.options = r.strings("options");
  return d;
}

// ---------------------------------------------------------------------------------------------
// CNI_ARGS

/** CNI_ARGS as ordered pairs ("IgnoreUnknown=1;K8S_POD_NAME=web" or the request's list). */
export class CniArgs {
  keys: Array<string> = new Array<string>();
  values: Array<string> = new Array<string>();

  /** Splits "K=V;K2=V2"; a pair without '=' is kept with an empty value (and makes valid() false). */
  static parse(s: string): CniArgs {
    const a = new CniArgs();
    if (s.length == 0) return a;
    const parts = s.split(";");
    for (let i = 0; i < parts.length; i++) {
      const p = unchecked(parts[i]);
      if (p.length == 0) continue;
      const eq = p.indexOf("=");
      if (eq < 0) a.add(p, "");
      else a.add(p.substring(0, eq), p.substring(eq + 1));
    }
    return a;
  }

  add(key: string, value: string): CniArgs {
    this.keys.push(key);
    this.values.push(value);
    return this;
  }

  get length(): i32 {
    return this.keys.length;
  }

  /** The value of the last pair named key (libcni's later-wins), or null. */
  get(key: string): string | null {
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (unchecked(this.keys[i]) == key) return unchecked(this.values[i]);
    }
    return null;
  }

  has(key: string): bool {
    return this.get(key) !== null;
  }

  /** IgnoreUnknown=1|true|True: the runtime allows plugins to skip keys they do not know. */
  ignoreUnknown(): bool {
    const v = this.get("IgnoreUnknown");
    if (v === null) return false;
    return v == "1" || v == "true" || v == "True" || v == "TRUE" || v == "t" || v == "T";
  }
}

// ---------------------------------------------------------------------------------------------
// prevResult

export class ResultParse {
  constructor(public result: CniResult | null, public error: string) {}
  get ok(): bool {
    return this.result !== null;
  }
}

/**
 * Parses a 1.x result (the request's `prev-result`, which the host has converted to 1.x) into
 * the typed classes of result.ts. Addresses and gateways are checked; unknown fields ignored.
 */
export function parsePrevResult(text: string): ResultParse {
  const parsed = parseJson(text);
  if (!parsed.ok) return new ResultParse(null, "invalid prevResult JSON: " + parsed.error);
  const root = parsed.value!;
  if (!root.isObject()) return new ResultParse(null, "prevResult must be a JSON object");
  return resultFromJson(root, "prevResult");
}

/** A 1.x result from an already parsed object; messages start with `path`. */
export function resultFromJson(root: JsonValue, path: string): ResultParse {
  const r = new FieldReader(root, path);
  const res = new CniResult();
  res.cniVersion = r.string("cniVersion", res.cniVersion);

  const ifs = r.array("interfaces");
  if (ifs !== null) {
    for (let i = 0; i < ifs.length; i++) {
      const e = r.element("interfaces", ifs, i);
      const ifc = res.addInterface(e.requireString("name"), e.string("mac"), e.string("sandbox"));
      ifc.mtu = <i32>e.int("mtu", 0, 0, i32.MAX_VALUE);
      ifc.socketPath = e.string("socketPath");
      ifc.pciID = e.string("pciID");
    }
  }

  const ips = r.array("ips");
  if (ips !== null) {
    for (let i = 0; i < ips.length; i++) {
      const e = r.element("ips", ips, i);
      const addr = e.requireString("address");
      if (e.ok && Cidr.parse(addr) === null) e.fail("address", "is not a valid CIDR: \"" + addr + "\"");
      const idx = <i32>e.int("interface", -1, -1, i32.MAX_VALUE);
      if (e.ok && idx >= res.interfaces.length) {
        e.fail("interface", "refers to interface " + idx.toString() + ", but there are " + res.interfaces.length.toString());
      }
      const gw = e.string("gateway");
      if (e.ok && gw.length > 0 && IP.parse(gw) === null) e.fail("gateway", "is not a valid IP address: \"" + gw + "\"");
      res.addIP(addr, gw, idx);
    }
  }

  const routes = r.array("routes");
  if (routes !== null) {
    for (let i = 0; i < routes.length; i++) {
      const e = r.element("routes", routes, i);
      const dst = e.requireString("dst");
      if (e.ok && Cidr.parse(dst) === null) e.fail("dst", "is not a valid CIDR: \"" + dst + "\"");
      const gw = e.string("gw");
      if (e.ok && gw.length > 0 && IP.parse(gw) === null) e.fail("gw", "is not a valid IP address: \"" + gw + "\"");
      const rt = res.addRoute(dst, gw);
      rt.mtu = <i32>e.int("mtu", 0, 0, i32.MAX_VALUE);
      rt.advmss = <i32>e.int("advmss", 0, 0, i32.MAX_VALUE);
      rt.priority = <i32>e.int("priority", 0, 0, i32.MAX_VALUE);
      rt.table = <i32>e.int("table", -1, 0, i32.MAX_VALUE);
      rt.scope = <i32>e.int("scope", -1, 0, i32.MAX_VALUE);
    }
  }

  res.dns = readDns(r.object("dns"));
  if (!r.ok) return new ResultParse(null, r.error);
  return new ResultParse(res, "");
}
