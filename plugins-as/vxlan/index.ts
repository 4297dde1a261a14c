// The vxlan plugin: a routed multi-node overlay on the model of flannel's vxlan backend.
// Every node has its own pod subnet (its IPAM range) and one vxlan device per network; the
// containers of a node hang on a bridge that is their gateway, and every other node's subnet
// is routed through the vxlan device to that node's VTEP (or, with directRouting, straight
// over the underlay to a peer on the same subnet). The container plumbing comes from
// ../sdk/net, shared with the bridge plugin. See docs/vxlan.md.
import { CniError, Handler, Request, Result, Unit, ipam, ok, parseRequest, registerHandler } from "../sdk";
import { loadConf } from "./conf";
import { cmdAdd } from "./add";
import { cmdDel } from "./del";
import { cmdCheck } from "./check";

export * from "../sdk/generated/exports";

class VxlanPlugin extends Handler {
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

  // STATUS and GC as the bridge plugin's: the node's entries are kept while the network is
  // used, so only IPAM has state to report or collect.
  status(req: Request): Result<Unit, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<Unit, CniError>(p.error!);
    const c = loadConf(p.invocation!);
    if (c.error !== null) return Result.err<Unit, CniError>(c.error!);
    return ipam.status();
  }

  gc(req: Request): Result<Unit, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<Unit, CniError>(p.error!);
    const c = loadConf(p.invocation!);
    if (c.error !== null) return Result.err<Unit, CniError>(c.error!);
    return ipam.gc();
  }
}

registerHandler(new VxlanPlugin());
