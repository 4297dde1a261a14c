// host-local: IP address management from local range sets, a drop-in for the reference plugin
// (containernetworking/plugins plugins/ipam/host-local, v1.1.1): same configuration, same
// allocation order, same files in <dataDir>/<network> (so a node can switch between the two
// without leaking or handing out an address twice), same results and messages. Adds STATUS
// and GC (CNI 1.1), which the reference lacks. Deliberate differences: docs/compatibility.md.
//
// Its capabilities are its state directory (the host's `store`, default
// /var/lib/cni/networks, or `ipam.dataDir`), and reading the file `ipam.resolvConf` names
// (`files.read`), whose nameserver/domain/search/options become the ADD result's `dns`;
// every command holds the directory's lock throughout, which is the lock the reference takes.

import {
  CniDNS,
  CniError,
  CniResult,
  ErrorCode,
  Handler,
  HostErrorTag,
  Level,
  Request,
  Result,
  Unit,
  fail,
  files,
  log,
  ok,
  okResult,
  registerHandler,
} from "../../sdk";
import { trimSpace } from "../../sdk/gostrings";
import { IP } from "../../sdk/ip";
import { JsonValue, parseJson } from "../../sdk/json";
import { parseResolvConf } from "../../sdk/resolvconf";
import { Allocator } from "./allocator";
import { IpamConf, atLeast110, loadIpamConfig } from "./config";
import { Disk, LINE_BREAK, isLastIPFile } from "./disk";
import { subnetText } from "./range";

export * from "../../sdk/generated/exports";

/** What the reference answers for every failure that is not a configuration error. */
const FAILED: u32 = ErrorCode.Internal;
/** Written and removed by STATUS to prove the directory writable (never an address). */
const STATUS_PROBE = "cni-wasm-status-probe";

/** 11 (try again later) when the lock stayed taken, else what the reference answers. */
function diskCode(disk: Disk): u32 {
  return disk.transient ? ErrorCode.TryAgainLater : FAILED;
}

class Loaded {
  constructor(
    public conf: IpamConf | null,
    public error: CniError | null,
  ) {}
}

function load(req: Request): Loaded {
  const r = loadIpamConfig(req.config, req.args);
  const conf = r.conf;
  if (conf === null) {
    const e = new CniError();
    e.code = r.code;
    e.msg = r.error;
    return new Loaded(null, e);
  }
  return new Loaded(conf, null);
}

class Dns {
  constructor(
    public dns: CniDNS | null,
    public error: string,
  ) {}
}

/**
 * The DNS settings of the file `ipam.resolvConf` names, read through the host (files.read) and
 * parsed as the reference does. A missing file fails with the reference's message.
 */
function readResolvConf(path: string): Dns {
  const t = files.readText(path);
  if (t.isErr) {
    const e = t.error;
    if (e.tag == HostErrorTag.NotFound) return new Dns(null, "open " + path + ": no such file or directory");
    return new Dns(null, "open " + path + ": " + e.toString());
  }
  return new Dns(parseResolvConf(t.value), "");
}

class HostLocal extends Handler {
  add(req: Request): Result<string, CniError> {
    const l = load(req);
    if (l.conf === null) return Result.err<string, CniError>(l.error!);
    const conf = l.conf!;
    // Read first, as the reference does: a failure touches nothing.
    let dns: CniDNS | null = null;
    if (conf.resolvConf.length > 0) {
      const d = readResolvConf(conf.resolvConf);
      if (d.dns === null) return fail<string>(FAILED, d.error);
      dns = d.dns;
    }
    const disk = new Disk();
    if (!disk.open(conf.dataDir) || !disk.lock()) return fail<string>(diskCode(disk), disk.error);

    // Requested addresses, each once, in the order given.
    const wanted = new Array<IP>();
    for (let i = 0; i < conf.requested.length; i++) {
      const ip = unchecked(conf.requested[i]);
      let dup = false;
      for (let k = 0; k < wanted.length; k++) if (unchecked(wanted[k]).equals(ip)) dup = true;
      if (!dup) wanted.push(ip);
    }

    const result = new CniResult();
    if (dns !== null) result.dns = dns;
    let done = 0;
    for (let idx = 0; idx < conf.ranges.length; idx++) {
      const set = unchecked(conf.ranges[idx]);
      const a = new Allocator(set, disk, idx);
      let want: IP | null = null;
      for (let k = 0; k < wanted.length; k++) {
        if (set.contains(unchecked(wanted[k]))) {
          want = unchecked(wanted[k]);
          wanted.splice(k, 1);
          break;
        }
      }
      const got = a.get(req.containerId, req.ifname, want);
      const alloc = got.allocation;
      if (alloc === null) {
        // Release what this ADD took (once per range set allocated so far, as the reference).
        for (let k = 0; k < done; k++) disk.releaseByID(req.containerId, req.ifname);
        disk.unlock();
        return fail<string>(FAILED, "failed to allocate for range " + idx.toString() + ": " + got.error);
      }
      done++;
      result.addIP(alloc.range.cidrOf(alloc.ip), alloc.range.gateway.toString());
    }

    if (wanted.length > 0) {
      for (let k = 0; k < done; k++) disk.releaseByID(req.containerId, req.ifname);
      disk.unlock();
      let msg = "failed to allocate all requested IPs:";
      for (let k = 0; k < wanted.length; k++) msg += " " + unchecked(wanted[k]).toString();
      return fail<string>(FAILED, msg);
    }
    disk.unlock();

    const extras = atLeast110(conf.cniVersion);
    for (let i = 0; i < conf.routes.length; i++) {
      const rc = unchecked(conf.routes[i]);
      const gw = rc.gw;
      const rt = result.addRoute(subnetText(rc.dst), gw === null ? "" : gw.toString());
      if (extras) {
        rt.mtu = <i32>rc.mtu;
        rt.advmss = <i32>rc.advmss;
        rt.priority = <i32>rc.priority;
        rt.table = <i32>rc.table;
        rt.scope = <i32>rc.scope;
      }
    }
    return okResult(result);
  }

  del(req: Request): Result<Unit, CniError> {
    const l = load(req);
    if (l.conf === null) return Result.err<Unit, CniError>(l.error!);
    const conf = l.conf!;
    const disk = new Disk();
    if (!disk.open(conf.dataDir) || !disk.lock()) return fail<Unit>(diskCode(disk), disk.error);
    // The reference releases once per range set: the first pass removes this attachment's
    // files, a later one (finding none) the legacy files holding the container ID alone.
    const errors = new Array<string>();
    for (let idx = 0; idx < conf.ranges.length; idx++) {
      if (!disk.releaseByID(req.containerId, req.ifname)) errors.push(disk.error);
    }
    disk.unlock();
    if (errors.length > 0) return fail<Unit>(FAILED, errors.join(";"));
    return ok();
  }

  check(req: Request): Result<Unit, CniError> {
    const l = load(req);
    if (l.conf === null) return Result.err<Unit, CniError>(l.error!);
    const conf = l.conf!;
    const disk = new Disk();
    if (!disk.open(conf.dataDir) || !disk.lock()) return fail<Unit>(diskCode(disk), disk.error);
    const found = disk.findByID(req.containerId, req.ifname);
    disk.unlock();
    if (!found) return fail<Unit>(FAILED, "host-local: Failed to find address added by container " + req.containerId);
    return ok();
  }

  status(req: Request): Result<Unit, CniError> {
    const l = load(req);
    if (l.conf === null) return Result.err<Unit, CniError>(l.error!);
    const conf = l.conf!;
    const unavailable = ErrorCode.PluginNotAvailable;
    // ADD would fail on a resolvConf it cannot read.
    if (conf.resolvConf.length > 0) {
      const d = readResolvConf(conf.resolvConf);
      if (d.dns === null) return fail<Unit>(unavailable, "the resolvConf file cannot be read: " + d.error);
    }
    const disk = new Disk();
    if (!disk.open(conf.dataDir) || !disk.lock()) {
      return fail<Unit>(unavailable, "the data directory cannot be used: " + disk.error);
    }
    // Can it write there? Create and remove a file that is never an address.
    if (!disk.probeWritable(STATUS_PROBE)) {
      const why = disk.error;
      disk.unlock();
      return fail<Unit>(unavailable, "the data directory is not writable: " + why);
    }
    for (let idx = 0; idx < conf.ranges.length; idx++) {
      const set = unchecked(conf.ranges[idx]);
      if (new Allocator(set, disk, idx).free() == 0) {
        disk.unlock();
        return fail<Unit>(unavailable, "no IP addresses available in range set: " + set.toString());
      }
    }
    disk.unlock();
    return ok();
  }

  gc(req: Request): Result<Unit, CniError> {
    const l = load(req);
    if (l.conf === null) return Result.err<Unit, CniError>(l.error!);
    const conf = l.conf!;
    const valid = validAttachments(req.config);
    if (valid.error.length > 0) return fail<Unit>(ErrorCode.InvalidConfig, valid.error);
    const disk = new Disk();
    if (!disk.open(conf.dataDir) || !disk.lock()) return fail<Unit>(diskCode(disk), disk.error);
    const names = disk.list();
    if (names === null) {
      const why = disk.error;
      disk.unlock();
      return fail<Unit>(FAILED, why);
    }
    const errors = new Array<string>();
    // A copy: removing updates the listing.
    const all = names.slice(0);
    for (let i = 0; i < all.length; i++) {
      const name = unchecked(all[i]);
      if (isLastIPFile(name) || IP.parse(name) === null) continue;
      const c = disk.read(name);
      if (c === null) continue;
      const t = trimSpace(c);
      const br = t.indexOf(LINE_BREAK);
      const keep = br >= 0 ? valid.pairs.has(t) : valid.ids.has(t);
      if (keep) continue;
      if (disk.remove(name)) {
        log.write(Level.Info, "host-local gc: released " + name + " (" + (br >= 0 ? t.substring(0, br) + " " + t.substring(br + 2) : t) + ")");
      } else if (disk.error.length > 0) {
        errors.push(disk.error);
      }
    }
    disk.unlock();
    if (errors.length > 0) return fail<Unit>(FAILED, "gc: " + errors.join(";"));
    return ok();
  }
}

class Valid {
  /** "<containerID>\r\n<ifname>" of every valid attachment. */
  pairs: Set<string> = new Set<string>();
  /** Container IDs of every valid attachment (for legacy files). */
  ids: Set<string> = new Set<string>();
  error: string = "";
}

/** `cni.dev/valid-attachments` (or the earlier `cni.dev/attachments`) of a GC configuration. */
function validAttachments(configText: string): Valid {
  const out = new Valid();
  const parsed = parseJson(configText);
  const root = parsed.value;
  if (root === null || !root.isObject()) {
    out.error = "invalid network configuration";
    return out;
  }
  let key = "cni.dev/valid-attachments";
  let list: JsonValue | null = root.get(key);
  if (list === null || list.isNull()) {
    key = "cni.dev/attachments";
    list = root.get(key);
  }
  if (list === null || list.isNull()) {
    out.error = "GC needs cni.dev/valid-attachments (the attachments still in use): without it nothing is released";
    return out;
  }
  if (!list.isArray()) {
    out.error = "config." + key + " must be an array";
    return out;
  }
  for (let i = 0; i < list.length; i++) {
    const e = list.at(i)!;
    const where = "config." + key + "[" + i.toString() + "]";
    if (!e.isObject()) {
      out.error = where + " must be an object";
      return out;
    }
    const id = e.get("containerID");
    const ifn = e.get("ifname");
    if (id === null || !id.isString() || id.asString().length == 0) {
      out.error = where + ".containerID must be a non-empty string";
      return out;
    }
    if (ifn === null || !ifn.isString()) {
      out.error = where + ".ifname must be a string";
      return out;
    }
    const cid = trimSpace(id.asString());
    out.ids.add(cid);
    out.pairs.add(cid + LINE_BREAK + ifn.asString());
  }
  return out;
}

registerHandler(new HostLocal());
