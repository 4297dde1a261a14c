// tune: a chained CNI plugin in the manner of the reference `tuning` plugin, written only
// with the @cni-wasm/sdk package and docs/plugin-authoring.md. Placed after a plugin that
// creates the container's interface (bridge), it changes that interface from its config:
//
//   { "type": "tune",
//     "mtu": 1400,                                  interface MTU
//     "mac": "c2:00:00:00:00:42",                   interface MAC (also updated in the result)
//     "promisc": true,                              promiscuous mode on (false: off)
//     "sysctl": { "net.ipv4.conf.IFNAME.rp_filter": "2" } }   container sysctls; a key
//                                                  component "IFNAME" stands for the interface
//
// and passes the previous result on. CHECK verifies that each setting is still in place. DEL
// does nothing: the interface, with everything set on it, goes with the plugin that made it.
import {
  CniError,
  CniResult,
  ErrorCode,
  FieldReader,
  Handler,
  Level,
  LinkChange,
  LinkInfo,
  Netns,
  Request,
  Result,
  SANDBOX_CONTAINER,
  Some,
  Unit,
  fail,
  log,
  netlink,
  ok,
  okResult,
  parseNetConf,
  parseRequest,
  registerHandler,
  sysctl,
} from "@cni-wasm/sdk";

export * from "@cni-wasm/sdk/generated/exports";

/** What the config asks for. */
class Settings {
  mtu: i32 = 0;
  mac: string = "";
  promisc: Some<bool> | null = null;
  sysctlKeys: Array<string> = new Array<string>();
  sysctlValues: Array<string> = new Array<string>();
  error: string = "";
}

function isHex(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** "c2:00:00:00:00:42": six two-digit hex groups, unicast (the first octet's low bit clear). */
function validMac(s: string): bool {
  if (s.length != 17) return false;
  for (let i = 0; i < 17; i++) {
    const c = s.charCodeAt(i);
    if (i % 3 == 2) {
      if (c != 0x3a) return false;
    } else if (!isHex(c)) return false;
  }
  const first = <i32>parseInt(s.substring(0, 2), 16);
  return (first & 1) == 0;
}

/** A sysctl key with every component "IFNAME" replaced by the interface name. */
function expandKey(key: string, ifname: string): string {
  const parts = key.split(".");
  for (let i = 0; i < parts.length; i++) if (parts[i] == "IFNAME") parts[i] = ifname;
  return parts.join(".");
}

function readSettings(config: string, ifname: string): Settings {
  const s = new Settings();
  const c = parseNetConf(config);
  if (!c.ok) {
    s.error = c.error;
    return s;
  }
  const r = c.conf!.reader();
  s.mtu = <i32>r.int("mtu", 0, 0, 65535);
  if (s.mtu != 0 && s.mtu < 68) r.fail("mtu", "must be at least 68");
  s.mac = r.string("mac").toLowerCase();
  if (s.mac.length > 0 && !validMac(s.mac)) r.fail("mac", "is not a unicast MAC address (xx:xx:xx:xx:xx:xx): \"" + s.mac + "\"");
  if (r.has("promisc")) s.promisc = new Some<bool>(r.bool("promisc"));
  const sys = r.object("sysctl");
  const obj = sys.obj;
  if (obj !== null) {
    const keys = obj.keys();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const value = sys.string(key);
      if (!key.startsWith("net.")) sys.fail(key, "is not a net.* sysctl; tune only sets network sysctls of the container");
      s.sysctlKeys.push(expandKey(key, ifname));
      s.sysctlValues.push(value);
    }
  }
  if (!r.ok) s.error = r.error;
  return s;
}

class Tune extends Handler {
  add(req: Request): Result<string, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<string, CniError>(p.error!);
    const inv = p.invocation!;
    const prev = inv.prevResult;
    if (prev === null) return fail<string>(ErrorCode.InvalidConfig, "tune must be called as a chained plugin (no prevResult)");
    const s = readSettings(req.config, inv.ifname);
    if (s.error.length > 0) return fail<string>(ErrorCode.InvalidConfig, s.error);

    // Sysctls first: they may name the interface, whose other settings do not change them.
    for (let i = 0; i < s.sysctlKeys.length; i++) {
      const set = sysctl.set(Netns.Container, s.sysctlKeys[i], s.sysctlValues[i]);
      if (set.isErr) return fail<string>(ErrorCode.IoFailure, "sysctl " + s.sysctlKeys[i] + "=" + s.sysctlValues[i] + ": " + set.error.toString());
    }
    const change = new LinkChange();
    let any = false;
    if (s.mtu != 0) {
      change.mtu = new Some<u32>(<u32>s.mtu);
      any = true;
    }
    if (s.mac.length > 0) {
      change.mac = s.mac;
      any = true;
    }
    const promisc = s.promisc;
    if (promisc !== null) {
      change.promisc = new Some<bool>(promisc.value);
      any = true;
    }
    if (any) {
      const set = netlink.setLink(Netns.Container, inv.ifname, change);
      if (set.isErr) return fail<string>(ErrorCode.IoFailure, "setting " + inv.ifname + ": " + set.error.toString());
    }
    log.write(Level.Info, "tuned " + inv.ifname + ": " + s.sysctlKeys.length.toString() + " sysctl(s)" + (any ? ", link settings" : ""));

    // Pass the previous result on, with the interface's new MAC, as the reference plugin does.
    if (s.mac.length > 0) updateMac(prev, inv.ifname, s.mac);
    return okResult(prev);
  }

  check(req: Request): Result<Unit, CniError> {
    const s = readSettings(req.config, req.ifname);
    if (s.error.length > 0) return fail<Unit>(ErrorCode.InvalidConfig, s.error);
    const got = netlink.getLink(Netns.Container, req.ifname);
    if (got.isErr) return fail<Unit>(ErrorCode.IoFailure, "CHECK: " + req.ifname + ": " + got.error.toString());
    const link: LinkInfo = got.value;
    if (s.mtu != 0 && <i32>link.mtu != s.mtu) return fail<Unit>(ErrorCode.IoFailure, "CHECK: " + req.ifname + " has MTU " + link.mtu.toString() + ", want " + s.mtu.toString());
    if (s.mac.length > 0 && link.mac.toLowerCase() != s.mac) return fail<Unit>(ErrorCode.IoFailure, "CHECK: " + req.ifname + " has MAC " + link.mac + ", want " + s.mac);
    const promisc = s.promisc;
    if (promisc !== null && link.promisc != promisc.value) return fail<Unit>(ErrorCode.IoFailure, "CHECK: " + req.ifname + " promiscuous mode is " + (link.promisc ? "on" : "off"));
    for (let i = 0; i < s.sysctlKeys.length; i++) {
      const v = sysctl.get(Netns.Container, s.sysctlKeys[i]);
      if (v.isErr) return fail<Unit>(ErrorCode.IoFailure, "CHECK: sysctl " + s.sysctlKeys[i] + ": " + v.error.toString());
      if (v.value.trim() != s.sysctlValues[i].trim()) {
        return fail<Unit>(ErrorCode.IoFailure, "CHECK: sysctl " + s.sysctlKeys[i] + " is " + v.value.trim() + ", want " + s.sysctlValues[i]);
      }
    }
    return ok();
  }

  del(req: Request): Result<Unit, CniError> {
    return ok();
  }

  status(req: Request): Result<Unit, CniError> {
    return ok();
  }

  gc(req: Request): Result<Unit, CniError> {
    return ok();
  }
}

function updateMac(r: CniResult, ifname: string, mac: string): void {
  for (let i = 0; i < r.interfaces.length; i++) {
    const ifc = r.interfaces[i];
    if (ifc.name == ifname && ifc.sandbox == SANDBOX_CONTAINER) ifc.mac = mac;
  }
}

registerHandler(new Tune());
