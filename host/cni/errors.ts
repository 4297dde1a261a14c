// CNI error codes (spec §"Error"), and the one error type every layer throws.
export const ErrorCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnv: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidConfig: 7,
  InvalidNetNS: 8,
  TryAgainLater: 11,
  /** STATUS: the plugin cannot serve ADD now. */
  PluginNotAvailable: 50,
  /** STATUS: not available, and existing containers may have limited connectivity. */
  LimitedConnectivity: 51,
  NoConnectivity: 52,
  Internal: 999,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode] | number;

export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export class CniError extends Error {
  readonly code: number;
  readonly details: string;
  constructor(code: ErrorCodeValue, msg: string, details = '') {
    super(msg);
    this.name = 'CniError';
    this.code = code;
    this.details = details;
  }

  toJSON(cniVersion: string): CniErrorJson {
    const out: CniErrorJson = { cniVersion, code: this.code, msg: this.message };
    if (this.details) out.details = this.details;
    return out;
  }
}

/** Any thrown value as a CniError: unknown faults become 999 with a message a person can act on. */
export function toCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  // Separately bundled parts each carry their own CniError class: recognise the shape.
  if (e instanceof Error && e.name === 'CniError' && typeof (e as { code?: unknown }).code === 'number') {
    return new CniError((e as CniError).code, e.message, String((e as CniError).details ?? ''));
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new CniError(
    ErrorCode.Internal,
    `internal error: ${msg}`,
    'this is a bug in cni-wasm or its environment; rerun with CNI_LOG_LEVEL=debug CNI_LOG_FILE=<file> and report the log',
  );
}
