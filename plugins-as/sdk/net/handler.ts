// The handler prelude shared by the plugins that read a configuration of their own (bridge,
// vxlan): every command parses the request, then the plugin's configuration, and answers the
// first error of either; only then is the command itself called, with both.
import { CniError, Handler, Request, Result, Unit, ipam } from "../generated/bindings";
import { Invocation, ok, parseRequest } from "../plugin";

/** A plugin configuration as read: `conf` when valid, else `error` (the CNI error to answer). */
export class Parsed<C> {
  constructor(public conf: C | null, public error: CniError | null) {}
}

/**
 * A Handler whose ADD, DEL and CHECK run with the plugin's configuration C. STATUS and GC parse
 * the request and, when `confForStatusAndGc`, the configuration too (an invalid one fails
 * them); `onStatus`/`onGc` get `conf` null otherwise. By default they ask IPAM when the
 * network configures one (ipam.type) and are ok without.
 */
export abstract class ConfiguredHandler<C> extends Handler {
  protected confForStatusAndGc: bool;

  constructor(confForStatusAndGc: bool) {
    super();
    this.confForStatusAndGc = confForStatusAndGc;
  }

  abstract loadConf(inv: Invocation): Parsed<C>;
  abstract onAdd(inv: Invocation, conf: C): Result<string, CniError>;
  abstract onDel(inv: Invocation, conf: C): Result<Unit, CniError>;
  abstract onCheck(inv: Invocation, conf: C): Result<Unit, CniError>;

  onStatus(inv: Invocation, conf: C | null): Result<Unit, CniError> {
    return inv.conf.ipamType.length > 0 ? ipam.status() : ok();
  }

  onGc(inv: Invocation, conf: C | null): Result<Unit, CniError> {
    return inv.conf.ipamType.length > 0 ? ipam.gc() : ok();
  }

  add(req: Request): Result<string, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<string, CniError>(p.error!);
    const c = this.loadConf(p.invocation!);
    if (c.error !== null) return Result.err<string, CniError>(c.error!);
    return this.onAdd(p.invocation!, c.conf!);
  }

  del(req: Request): Result<Unit, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<Unit, CniError>(p.error!);
    const c = this.loadConf(p.invocation!);
    if (c.error !== null) return Result.err<Unit, CniError>(c.error!);
    return this.onDel(p.invocation!, c.conf!);
  }

  check(req: Request): Result<Unit, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<Unit, CniError>(p.error!);
    const c = this.loadConf(p.invocation!);
    if (c.error !== null) return Result.err<Unit, CniError>(c.error!);
    return this.onCheck(p.invocation!, c.conf!);
  }

  status(req: Request): Result<Unit, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<Unit, CniError>(p.error!);
    let conf: C | null = null;
    if (this.confForStatusAndGc) {
      const c = this.loadConf(p.invocation!);
      if (c.error !== null) return Result.err<Unit, CniError>(c.error!);
      conf = c.conf;
    }
    return this.onStatus(p.invocation!, conf);
  }

  gc(req: Request): Result<Unit, CniError> {
    const p = parseRequest(req);
    if (!p.ok) return Result.err<Unit, CniError>(p.error!);
    let conf: C | null = null;
    if (this.confForStatusAndGc) {
      const c = this.loadConf(p.invocation!);
      if (c.error !== null) return Result.err<Unit, CniError>(c.error!);
      conf = c.conf;
    }
    return this.onGc(p.invocation!, conf);
  }
}
