// The null plugin: does nothing, successfully. ADD answers a minimal valid result (no
// interfaces, no addresses); DEL, CHECK, STATUS and GC succeed. It asks for no capabilities.
// It is the benchmark's fixed-cost plugin (start-up, instantiation, one call) and the
// smallest complete example of a plugin.
import { CniError, CniResult, Handler, Request, Result, Unit, ok, okResult, registerHandler } from "../sdk";

// The component's exports: cabi_realloc and the handler trampolines.
export * from "../sdk/generated/exports";

class NullPlugin extends Handler {
  add(req: Request): Result<string, CniError> {
    return okResult(new CniResult());
  }
  del(req: Request): Result<Unit, CniError> {
    return ok();
  }
  check(req: Request): Result<Unit, CniError> {
    return ok();
  }
  status(req: Request): Result<Unit, CniError> {
    return ok();
  }
  gc(req: Request): Result<Unit, CniError> {
    return ok();
  }
}

registerHandler(new NullPlugin());
