// Errors of the network helpers. The reference plugins return plain Go errors, which skel
// prints as code 999 ("internal"): the helpers do the same, so that a runtime sees the same
// code from cni-wasm as from the reference. A host call refused for a missing capability keeps
// the host's permission-denied code (105), so the operator can tell the two apart.
import { CniError, HostError, HostErrorTag } from "../generated/bindings";
import { ErrorCode, cniError } from "../errors";

/** The host's CNI error code for a call outside the plugin's capabilities. */
export const PERMISSION_DENIED_CODE: u32 = 105;

/** A plain error, as the reference's fmt.Errorf (code 999). */
export function errorf(msg: string): CniError {
  return cniError(ErrorCode.Internal, msg);
}

/** The same error with context in front of its message ("failed to create bridge: ..."). */
export function wrapErr(context: string, e: CniError): CniError {
  return cniError(e.code, context + ": " + e.msg, e.details);
}

/** A failed host call as a CNI error: `context: <host message>`. */
export function hostErr(context: string, e: HostError): CniError {
  const code = e.tag == HostErrorTag.PermissionDenied ? PERMISSION_DENIED_CODE : ErrorCode.Internal;
  const msg = e.tag == HostErrorTag.PermissionDenied ? "permission-denied: " + e.val : e.val;
  return cniError(code, context.length > 0 ? context + ": " + msg : msg);
}

/** Go's %q for the plain names and addresses the helpers quote. */
export function q(s: string): string {
  return "\"" + s + "\"";
}
