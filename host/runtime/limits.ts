// Resource limits for one plugin invocation: defaults, validation of the values a policy
// gives, and merging. The policy file belongs to host/caps/; it hands its `limits` objects
// (global and per plugin) to resolveLimits(). CNI_WASM_LIMITS (JSON, same keys) can only
// tighten the result: whoever sets a plugin's environment cannot loosen the operator's policy.
import { CniError, ErrorCode } from '../cni/errors.ts';

export interface Limits {
  /** Linear memory cap in MiB: every defined memory's maximum is lowered to it before compiling. */
  memoryMiB: number;
  /** Wall-clock budget in ms for one handler call (instantiation has its own budget of the same size). */
  callTimeoutMs: number;
  /** Largest ADD result (or error message + details) a plugin may return, in UTF-8 bytes. */
  maxResultBytes: number;
  /** Log bytes a plugin may write per invocation; the host API drops (and counts) the rest. */
  maxLogBytes: number;
  /** Largest string or list the host lifts from the guest in one host call, in bytes. */
  maxHostCallBytes: number;
  /** Largest request (config, prevResult, CNI_ARGS) the host hands a plugin, in bytes. */
  maxRequestBytes: number;
  /** Table size cap (elements), like the memory cap. */
  maxTableElements: number;
  /** Largest .wasm file the host reads. */
  maxModuleBytes: number;
  /**
   * How long a native IPAM binary may run (a DHCP lease takes seconds). A plugin whose IPAM
   * type is a native binary gets this on top of callTimeoutMs: the budget cannot pause while
   * the host waits for the child.
   */
  ipamTimeoutMs: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  memoryMiB: 64,
  callTimeoutMs: 5000,
  maxResultBytes: 1 * MiB,
  maxLogBytes: 64 * 1024,
  maxHostCallBytes: 1 * MiB,
  maxRequestBytes: 1 * MiB,
  maxTableElements: 65536,
  maxModuleBytes: 16 * MiB,
  ipamTimeoutMs: 30_000,
});

/** Upper bounds a policy may not exceed (wasm32 memory is at most 4 GiB). */
const BOUNDS: Record<keyof Limits, [min: number, max: number]> = {
  memoryMiB: [1, 4096],
  callTimeoutMs: [1, 3_600_000],
  maxResultBytes: [1, 256 * MiB],
  maxLogBytes: [0, 256 * MiB],
  maxHostCallBytes: [1, 256 * MiB],
  maxRequestBytes: [1, 256 * MiB],
  maxTableElements: [1, 10_000_000],
  maxModuleBytes: [8, 1024 * MiB],
  ipamTimeoutMs: [1, 3_600_000],
};

export const LIMIT_KEYS = Object.keys(BOUNDS) as (keyof Limits)[];

/** Validate a policy's `limits` object: known keys, integers within bounds. */
export function parseLimits(raw: unknown, where: string): Partial<Limits> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CniError(ErrorCode.InvalidConfig, `${where}: limits must be an object`, `got ${JSON.stringify(raw)}`);
  }
  const out: Partial<Limits> = {};
  for (const [k, v] of Object.entries(raw)) {
    const bounds = BOUNDS[k as keyof Limits] as [number, number] | undefined;
    if (!bounds) {
      throw new CniError(ErrorCode.InvalidConfig, `${where}: unknown limit "${k}"`, `known limits: ${LIMIT_KEYS.join(', ')}`);
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < bounds[0] || v > bounds[1]) {
      throw new CniError(ErrorCode.InvalidConfig, `${where}: limit "${k}" must be an integer from ${bounds[0]} to ${bounds[1]}`, `got ${JSON.stringify(v)}`);
    }
    out[k as keyof Limits] = v;
  }
  return out;
}

/** Defaults, then each layer in order (e.g. the policy's global limits, then the plugin's own). */
export function resolveLimits(...layers: (Partial<Limits> | undefined)[]): Limits {
  const out: Limits = { ...DEFAULT_LIMITS };
  for (const layer of layers) {
    if (!layer) continue;
    for (const k of LIMIT_KEYS) {
      const v = layer[k];
      if (v !== undefined) out[k] = v;
    }
  }
  return out;
}

/** The smaller of each limit. */
export function tightenLimits(base: Limits, tighter: Partial<Limits>): Limits {
  const out = { ...base };
  for (const k of LIMIT_KEYS) {
    const v = tighter[k];
    if (v !== undefined && v < out[k]) out[k] = v;
  }
  return out;
}

/** Apply CNI_WASM_LIMITS (JSON), which may only lower limits. */
export function applyEnvLimits(base: Limits, env: Record<string, string | undefined>): Limits {
  const text = env.CNI_WASM_LIMITS;
  if (!text) return base;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CniError(ErrorCode.InvalidEnv, 'CNI_WASM_LIMITS is not valid JSON', (e as Error).message);
  }
  return tightenLimits(base, parseLimits(raw, 'CNI_WASM_LIMITS'));
}

export function memoryPages(limits: Limits): number {
  return limits.memoryMiB * 16;
}

/**
 * A per-invocation byte allowance (e.g. the log). `take(n)` answers whether n more bytes fit;
 * once one does not, the budget stays exhausted so output is cut at one point, not thinned.
 */
export class ByteBudget {
  used = 0;
  dropped = 0;
  private exhausted = false;
  constructor(readonly limit: number) {}

  take(n: number): boolean {
    if (this.exhausted || this.used + n > this.limit) {
      this.exhausted = true;
      this.dropped += n;
      return false;
    }
    this.used += n;
    return true;
  }

  get remaining(): number {
    return this.exhausted ? 0 : this.limit - this.used;
  }
}
