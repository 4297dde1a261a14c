// Glue between the generated handler interface and the helpers: turn a Request into a parsed
// configuration, CNI_ARGS and prevResult, and build the handler's return values.

import { CniError, Request, Result, Unit, UNIT } from "./generated/bindings";
import { CniArgs, NetConf, parseNetConf, parsePrevResult } from "./config";
import { CniResult } from "./result";
import { ErrorCode, cniError } from "./errors";

/** A request with its configuration, arguments and prevResult parsed. */
export class Invocation {
  constructor(
    public req: Request,
    public conf: NetConf,
    public args: CniArgs,
    /** The prevResult (1.x form), null when the config carried none. */
    public prevResult: CniResult | null,
  ) {}

  get containerId(): string {
    return this.req.containerId;
  }
  get ifname(): string {
    return this.req.ifname;
  }
  /** False when there is no container namespace (e.g. DEL after it was removed). */
  get hasContainer(): bool {
    return this.req.hasContainer;
  }
}

export class InvocationParse {
  constructor(public invocation: Invocation | null, public error: CniError | null) {}
  get ok(): bool {
    return this.invocation !== null;
  }
}

/** CNI_ARGS of a request as a CniArgs. */
export function argsOf(req: Request): CniArgs {
  const a = new CniArgs();
  for (let i = 0; i < req.args.length; i++) {
    const p = unchecked(req.args[i]);
    a.add(p.f0, p.f1);
  }
  return a;
}

/**
 * Parses what every handler needs. Errors come back as a CNI error with code 7 (invalid
 * configuration) naming the field, ready to return: `return Result.err<string, CniError>(p.error!)`.
 */
export function parseRequest(req: Request): InvocationParse {
  const c = parseNetConf(req.config);
  if (!c.ok) return new InvocationParse(null, cniError(ErrorCode.InvalidConfig, c.error));
  let prev: CniResult | null = null;
  const text = req.prevResult;
  if (text !== null) {
    const p = parsePrevResult(text);
    if (!p.ok) return new InvocationParse(null, cniError(ErrorCode.InvalidConfig, p.error));
    prev = p.result;
  }
  return new InvocationParse(new Invocation(req, c.conf!, argsOf(req), prev), null);
}

/** ADD's success value: the result's JSON. */
export function okResult(r: CniResult): Result<string, CniError> {
  return Result.ok<string, CniError>(r.toJson());
}

/** Success of DEL, CHECK, STATUS and GC. */
export function ok(): Result<Unit, CniError> {
  return Result.ok<Unit, CniError>(UNIT);
}
