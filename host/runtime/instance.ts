// One plugin instance: compile the verified main core module, instantiate it with the
// generated canonical-ABI glue (one instance per invocation), and call a handler export,
// everything the guest runs (start function, _initialize, cabi_realloc while the request is
// lowered, the handler with its host calls, post-return) under the wall-clock budget.
// Whatever goes wrong comes back as a CniError naming the plugin.
import { CniError, toCniError } from '../cni/errors.ts';
import { withBudget, BudgetExceeded } from './budget.ts';
import { pluginError, refused, RuntimeErrorCode, type PluginIdent } from './errors.ts';
import type { Limits } from './limits.ts';
import type { HandlerFunc } from './verify.ts';
import { enter, leave } from '../trace.ts';
import {
  AbiTrap,
  WitResultError,
  bindHandler,
  buildImports,
  type CniError as WitCniError,
  type GuestMemory,
  type Handler,
  type HostImports,
  type Request,
} from './generated/abi.ts';

export type { Request as WitRequest, HostImports } from './generated/abi.ts';

const HANDLER = 'cni:plugin/handler@0.1.0#';
/** result<string, cni-error> and result<_, cni-error> on wasm32: case byte, payload at 4, 24 bytes. */
const RESULT_SIZE = 24;

/** The guest's answer, by length, is over the result cap (checked before anything is lifted). */
class ResultTooLarge extends Error {
  constructor(
    readonly bytes: number,
    readonly cap: number,
  ) {
    super(`its result of ${bytes} bytes exceeds the cap of ${cap} bytes`);
  }
}

/** Compile the (capped) main module. A module V8 rejects is refused like any other bad plugin. */
export function compileModule(plugin: PluginIdent, bytes: Uint8Array): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw refused(plugin, `its main module does not compile: ${(e as Error).message}`);
  }
}

export interface InstanceOptions {
  plugin: PluginIdent;
  limits: Limits;
  host: HostImports;
  /** Call the module's `_initialize` export after instantiation. */
  hasInitialize: boolean;
  /** Called when the budget stopped the guest, possibly in the middle of a host call. */
  onAbort?: () => void;
  /** The wall-clock budget; default limits.callTimeoutMs. */
  budgetMs?: number;
}

/**
 * Instantiate the module (one instance per invocation) and call one handler, all under one
 * wall-clock budget: the start function, `_initialize`, cabi_realloc while the request is
 * lowered, the handler with its host calls, post-return. One budget rather than one for
 * instantiation and one for the call, because each arms a watchdog thread, measured at
 * 0.1 ms idle and several ms on a loaded machine. ADD answers its result string.
 */
export function invokePlugin(module: WebAssembly.Module, opts: InstanceOptions, func: HandlerFunc, req: Request): string | undefined {
  const { limits } = opts;
  // The glue reads maxLiftBytes when a call starts: the handler's own call (whose lifted
  // result is bounded by the result cap, checked first below) and each host call the guest
  // makes meanwhile (bounded by maxHostCallBytes).
  let phase: 'result' | 'host' = 'result';
  const mem: GuestMemory = {
    get maxLiftBytes(): number {
      return phase === 'host' ? limits.maxHostCallBytes : limits.maxResultBytes;
    },
  };
  const imports = buildImports(opts.host, mem);
  let stage = 'instantiation';
  let memory: WebAssembly.Memory | undefined;
  // Trace: arming the budget and binding the glue are `wasm.budget`; instantiation and the
  // handler (guest code and the canonical-ABI glue, host calls nested) are their own phases.
  const tb = enter('wasm.budget');
  try {
    return withBudget(opts.budgetMs ?? limits.callTimeoutMs, () => {
      const ti = enter('wasm.instantiate');
      const exports = new WebAssembly.Instance(module, imports).exports;
      memory = exports['memory'] as WebAssembly.Memory;
      if (opts.hasInitialize) (exports['_initialize'] as () => void)();
      leave(ti);
      const raw = exports[HANDLER + func] as (...a: number[]) => number;
      const wrapped: Record<string, WebAssembly.ExportValue> = {
        ...exports,
        [HANDLER + func]: (...args: number[]): number => {
          phase = 'host';
          let ret: number;
          try {
            ret = raw(...args);
          } finally {
            phase = 'result';
          }
          checkResultSize(exports['memory'] as WebAssembly.Memory, ret, func === 'add', limits.maxResultBytes);
          return ret;
        },
      };
      const handler: Handler = bindHandler(wrapped, mem);
      stage = func.toUpperCase();
      const tp = enter('plugin');
      if (func === 'add') {
        const r = handler.add(req);
        leave(tp);
        return r;
      }
      handler[func](req);
      leave(tp);
      return undefined;
    });
  } catch (e) {
    throw mapError(e, opts.plugin, limits, stage, memory, opts.onAbort);
  } finally {
    leave(tb);
  }
}

/** Reads the lengths the guest claims in its result area; refuses an oversize result before the glue lifts it. */
function checkResultSize(memory: WebAssembly.Memory, retptr: number, isAdd: boolean, cap: number): void {
  const p = retptr >>> 0;
  const buf = memory.buffer;
  // A misplaced result area is the glue's to report (it bounds-checks with a precise message).
  if (p % 4 !== 0 || p + RESULT_SIZE > buf.byteLength) return;
  const v = new DataView(buf);
  const c = v.getUint8(p);
  let n = 0;
  if (c === 0 && isAdd) n = v.getUint32(p + 8, true);
  else if (c === 1) n = v.getUint32(p + 12, true) + v.getUint32(p + 20, true);
  if (n > cap) throw new ResultTooLarge(n, cap);
}

const LIFT_LIMIT_RE = /exceeds the limit of \d+ bytes per call/;

function mapError(e: unknown, plugin: PluginIdent, limits: Limits, what: string, memory: WebAssembly.Memory | undefined, onAbort?: () => void): CniError {
  if (e instanceof BudgetExceeded) {
    onAbort?.();
    return pluginError(
      RuntimeErrorCode.PluginTimeout,
      plugin,
      `stopped after its wall-clock budget of ${e.budgetMs} ms (${what})`,
      'the plugin ran too long, e.g. in an endless loop; the budget is the policy limit callTimeoutMs',
    );
  }
  if (e instanceof WitResultError) {
    // The plugin's own CNI error, passed on as it wrote it.
    const p = e.payload as WitCniError;
    return new CniError(p.code, p.msg, p.details);
  }
  if (e instanceof ResultTooLarge) {
    return pluginError(RuntimeErrorCode.PluginLimit, plugin, `${e.message} (${what})`, 'the cap is the policy limit maxResultBytes');
  }
  if (e instanceof AbiTrap) {
    if (LIFT_LIMIT_RE.test(e.message)) {
      return pluginError(RuntimeErrorCode.PluginLimit, plugin, `passed too much data to the host: ${e.message} (${what})`, 'the cap is the policy limit maxHostCallBytes');
    }
    return pluginError(RuntimeErrorCode.PluginTrap, plugin, `broke the canonical ABI: ${e.message} (${what})`);
  }
  if (e instanceof WebAssembly.RuntimeError || isStackOverflow(e)) {
    const err = e as Error;
    const msg = isStackOverflow(e) ? `stack overflow (${err.message})` : err.message;
    // Memory use tells a failed grow at the cap (AssemblyScript aborts on it) from other traps.
    const mib = memory ? memory.buffer.byteLength / (1024 * 1024) : undefined;
    const used = mib === undefined ? '' : `linear memory ${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB of its ${limits.memoryMiB} MiB cap`;
    const notes = [used, wasmFrames(err)].filter(Boolean).join('; ');
    return pluginError(RuntimeErrorCode.PluginTrap, plugin, `trapped: ${msg} (${what})`, notes);
  }
  if (e instanceof WebAssembly.LinkError || e instanceof WebAssembly.CompileError) {
    return refused(plugin, `it cannot be instantiated: ${(e as Error).message}`);
  }
  // A CniError a host function threw on purpose, or a host fault (999).
  return toCniError(e);
}

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/** The wasm frames of a trap's stack, e.g. "wasm-function[3]:0x5a", for the details. */
function wasmFrames(e: Error): string {
  const frames = (e.stack ?? '')
    .split('\n')
    .map((l) => /wasm:\/\/wasm\/[0-9a-f]+:(wasm-function\[\d+\]:0x[0-9a-f]+)/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined)
    .slice(0, 5);
  return frames.length ? `wasm stack: ${frames.join(' < ')}` : '';
}
