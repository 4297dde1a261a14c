// The audit trail of a plugin's host calls: every call at debug (arguments, outcome,
// duration), every denial at warn (the capability and what was refused), both with the
// invocation's identity. Written with log() from host/log/logger.ts, which loads pino only
// when a line is enabled; when debug is off, no argument is even formatted.
import { type Level, enabled, log } from '../log/logger.ts';
import { isPermissionDenied } from './enforce.ts';

export interface AuditIdentity {
  plugin: string;
  network: string;
  command: string;
  containerId: string;
  ifname: string;
}

export type AuditLevel = Exclude<Level, 'silent'>;
/** Where lines go; the default writes through log(). Tests pass a collector. */
export type AuditSink = (level: AuditLevel, fields: Record<string, unknown>, msg: string) => void;

/** How a failed call is described in the log. */
export interface ErrorSummary {
  tag: string;
  msg: string;
}

export const defaultSink: AuditSink = (level, fields, msg) => {
  void log(level, fields, msg);
};

const MAX_STRING = 160;
const MAX_ITEMS = 32;

/** A copy of `v` small enough for a log line: long strings cut, long lists shortened, depth bounded. */
export function sanitize(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.length > MAX_STRING ? `${v.slice(0, MAX_STRING)}…(${Buffer.byteLength(v)} bytes)` : v;
  if (v === undefined || v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (depth >= 4) return '…';
  if (Array.isArray(v)) {
    const out = v.slice(0, MAX_ITEMS).map((x) => sanitize(x, depth + 1));
    if (v.length > MAX_ITEMS) out.push(`…(${v.length} items)`);
    return out;
  }
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) out[k] = sanitize(x, depth + 1);
    return out;
  }
  return String(v);
}

export class Audit {
  readonly id: AuditIdentity;
  readonly #sink: AuditSink;
  /** Whether debug lines are written (decided once per invocation). */
  readonly debug: boolean;
  readonly warn: boolean;
  /** Counters for the invocation summary. */
  calls = 0;
  denials = 0;

  constructor(id: AuditIdentity, opts: { sink?: AuditSink; env?: Record<string, string | undefined> } = {}) {
    this.id = id;
    this.#sink = opts.sink ?? defaultSink;
    const env = opts.env ?? process.env;
    // A collector sink sees every line; the logger's sink only what its level lets through.
    this.debug = opts.sink ? true : enabled('debug', env);
    this.warn = opts.sink ? true : enabled('warn', env);
  }

  #fields(extra: Record<string, unknown>): Record<string, unknown> {
    const { plugin, network, command, containerId, ifname } = this.id;
    return { audit: true, plugin, network, command, containerId, ifname, ...extra };
  }

  /** Log a refusal at warn. */
  denied(call: string, capability: string, message: string, args?: () => unknown): void {
    this.denials++;
    if (!this.warn) return;
    const extra: Record<string, unknown> = { call, capability, outcome: 'denied' };
    if (args) extra.args = sanitize(args());
    this.#sink('warn', this.#fields(extra), `plugin "${this.id.plugin}" denied: ${message}`);
  }

  /** One line at the end of the instance's life: how many calls, how many denied (debug). */
  summary(extra: Record<string, unknown> = {}): void {
    if (!this.debug) return;
    this.#sink('debug', this.#fields({ outcome: 'summary', calls: this.calls, denials: this.denials, ...extra }), `plugin "${this.id.plugin}": ${this.calls} host calls, ${this.denials} denied`);
  }

  /**
   * Run one host call: `body` does the work (checks included). Logs it at debug with its
   * arguments, outcome and duration, and a permission denial at warn. Errors are rethrown.
   * `describe` turns an error into its WIT tag and message for the log.
   */
  call<T>(call: string, args: () => unknown, body: () => T, describe: (e: unknown) => ErrorSummary, result?: (r: T) => unknown): T {
    this.calls++;
    const t0 = this.debug ? performance.now() : 0;
    try {
      const r = body();
      if (this.debug) {
        const extra: Record<string, unknown> = { call, args: sanitize(args()), outcome: 'ok', durationMs: ms(t0) };
        if (result) extra.result = sanitize(result(r));
        this.#sink('debug', this.#fields(extra), `host call ${call} ok`);
      }
      return r;
    } catch (e) {
      const err = describe(e);
      if (isPermissionDenied(e)) this.denied(call, e.capability, e.message, args);
      if (this.debug) {
        this.#sink(
          'debug',
          this.#fields({ call, args: sanitize(args()), outcome: err.tag, error: err.msg, durationMs: ms(t0) }),
          `host call ${call} failed: ${err.tag}: ${err.msg}`,
        );
      }
      throw e;
    }
  }
}

function ms(t0: number): number {
  return Math.round((performance.now() - t0) * 1000) / 1000;
}
