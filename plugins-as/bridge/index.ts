// The bridge plugin: a drop-in for the reference plugins/main/bridge. Containers get a veth
// pair whose host end is a port of a Linux bridge; with IPAM the bridge can be their gateway
// and masquerade their traffic. The building blocks live in ../sdk/net (shared with vxlan);
// this file only dispatches. See docs/compatibility.md for the differences to the reference.
import { CniError, Handler, Request, Result, Unit, ipam, ok, parseRequest, registerHandler } from "../sdk";
import { loadConf } from "./conf";
import { cmdAdd } from "./add";
import { cmdDel } from "./del";
import { cmdCheck } from "./check";

export * from "../sdk/generated/exports";

class BridgePlugin extends Handler {
  add(req: Request): Result<string, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<string, CniError>(p.error!);
    const c = loadConf(p.invocation!);
    if (c.error !== null) return Result.err<string, CniError>(c.error!);
    return cmdAdd(p.invocation!, c.conf!);
  }

  del(req: Request): Result<Unit, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<Unit, CniError>(p.error!);
    const c = loadConf(p.invocation!);
    if (c.error !== null) return Result.err<Unit, CniError>(c.error!);
    return cmdDel(p.invocation!, c.conf!);
  }

  check(req: Request): Result<Unit, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<Unit, CniError>(p.error!);
    const c = loadConf(p.invocation!);
    if (c.error !== null) return Result.err<Unit, CniError>(c.error!);
    return cmdCheck(p.invocation!, c.conf!);
  }

  // STATUS and GC: the bridge keeps no state of its own; IPAM may.
  status(req: Request): Result<Unit, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<Unit, CniError>(p.error!);
    return p.invocation!.conf.ipamType.length > 0 ? ipam.status() : ok();
  }

  gc(req: Request): Result<Unit, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<Unit, CniError>(p.error!);
    return p.invocation!.conf.ipamType.length > 0 ? ipam.gc() : ok();
  }
}

registerHandler(new BridgePlugin());
