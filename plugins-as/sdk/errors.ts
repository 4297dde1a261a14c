// CNI error codes (spec section "Error", numbered as libcni does) and the error a handler
// returns. The host prints it to the runtime as {"cniVersion", "code", "msg", "details"}.

import { CniError, Result } from "./generated/bindings";

export namespace ErrorCode {
  /** The plugin does not support the config's cniVersion. */
  export const IncompatibleVersion: u32 = 1;
  /** A field the plugin does not support (e.g. an unknown CNI_ARGS key without IgnoreUnknown). */
  export const UnsupportedField: u32 = 2;
  export const UnknownContainer: u32 = 3;
  /** A required environment variable (CNI_IFNAME, CNI_CONTAINERID...) is missing or invalid. */
  export const InvalidEnv: u32 = 4;
  export const IoFailure: u32 = 5;
  /** Could not decode the configuration or the arguments. */
  export const DecodeFailure: u32 = 6;
  export const InvalidConfig: u32 = 7;
  export const InvalidNetNS: u32 = 8;
  /** A transient failure; the runtime may retry. */
  export const TryAgainLater: u32 = 11;
  /** STATUS: the plugin cannot serve ADD now. */
  export const PluginNotAvailable: u32 = 50;
  /** STATUS: not available, and existing containers may have limited connectivity. */
  export const LimitedConnectivity: u32 = 51;
  export const NoConnectivity: u32 = 52;
  /** Codes 100 and up are the plugin's own. */
  export const FirstPluginCode: u32 = 100;
  export const Internal: u32 = 999;
}

/** What a handler fails with: the fields of the WIT `cni-error` record. */
export class PluginError {
  constructor(
    public code: u32,
    public msg: string,
    public details: string = "",
  ) {}

  static invalidConfig(msg: string, details: string = ""): PluginError {
    return new PluginError(ErrorCode.InvalidConfig, msg, details);
  }
  static decodeFailure(msg: string, details: string = ""): PluginError {
    return new PluginError(ErrorCode.DecodeFailure, msg, details);
  }
  static invalidEnv(msg: string, details: string = ""): PluginError {
    return new PluginError(ErrorCode.InvalidEnv, msg, details);
  }
  static ioFailure(msg: string, details: string = ""): PluginError {
    return new PluginError(ErrorCode.IoFailure, msg, details);
  }
  static tryAgainLater(msg: string, details: string = ""): PluginError {
    return new PluginError(ErrorCode.TryAgainLater, msg, details);
  }
  static internal(msg: string, details: string = ""): PluginError {
    return new PluginError(ErrorCode.Internal, msg, details);
  }

  /** Same code and details, message prefixed with context ("creating bridge cni0: " + msg). */
  wrap(context: string): PluginError {
    return new PluginError(this.code, context + ": " + this.msg, this.details);
  }

  toString(): string {
    return "CNI error " + this.code.toString() + ": " + this.msg + (this.details.length ? " (" + this.details + ")" : "");
  }
}

// ---------------------------------------------------------------------------------------------
// The WIT side: handlers return Result<T, CniError> (generated/bindings.ts).

/** A WIT `cni-error` record. */
export function cniError(code: u32, msg: string, details: string = ""): CniError {
  const e = new CniError();
  e.code = code;
  e.msg = msg;
  e.details = details;
  return e;
}

/** The WIT `cni-error` for a PluginError. */
export function toCniError(e: PluginError): CniError {
  return cniError(e.code, e.msg, e.details);
}

/** A failed handler result: `return fail<string>(ErrorCode.InvalidConfig, "mtu must be ...")`. */
export function fail<T>(code: u32, msg: string, details: string = ""): Result<T, CniError> {
  return Result.err<T, CniError>(cniError(code, msg, details));
}

/** A failed handler result from a PluginError. */
export function failWith<T>(e: PluginError): Result<T, CniError> {
  return Result.err<T, CniError>(toCniError(e));
}
