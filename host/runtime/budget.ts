// Run guest code under a wall-clock budget. V8 can only stop running wasm by terminating
// execution; Node exposes that as vm's `timeout`, which arms a watchdog thread and turns
// the termination into ERR_SCRIPT_EXECUTION_TIMEOUT once the stack has unwound. We run a
// one-line script in the main context that calls the function we hand over: measured here,
// its first call costs ~0.4 ms against ~1.1 ms for a fresh vm context.
//
// A termination may land while a host import is running (host calls are synchronous JS).
// JS `finally` blocks do not run for a termination, so the caller must let the host API
// restore what a half-done host call may have left (see HostBinding.abort in loader.ts).
import { Script } from 'node:vm';

const SLOT = '__cniWasmBudgetCall';
let script: Script | undefined;
// Deadlines (performance.now() ms) of the budgets running now, outermost first.
const deadlines: number[] = [];

/**
 * Milliseconds left before the nearest running budget stops the guest (Infinity outside
 * any budget). Host calls that may block (a lock wait) stay inside it, so the plugin gets
 * an answer it can turn into "try again later" instead of being stopped mid-call.
 */
export function remainingBudgetMs(): number {
  let nearest = Infinity;
  for (const d of deadlines) nearest = Math.min(nearest, d);
  return nearest - performance.now();
}

export class BudgetExceeded extends Error {
  constructor(readonly budgetMs: number) {
    super(`execution stopped after its budget of ${budgetMs} ms`);
    this.name = 'BudgetExceeded';
  }
}

function isTimeout(e: unknown): boolean {
  return e instanceof Error && (e as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

/**
 * Call `fn` synchronously; throw BudgetExceeded if it runs longer than `budgetMs`.
 * Budgets nest (a plugin delegating to an in-process IPAM plugin from a host call): when the
 * outer budget runs out first, the termination unwinds through the inner call too.
 */
export function withBudget<T>(budgetMs: number, fn: () => T): T {
  script ??= new Script(`globalThis.${SLOT}()`, { filename: 'cni-wasm:budget' });
  const g = globalThis as Record<string, unknown>;
  const outer = g[SLOT];
  Object.defineProperty(g, SLOT, { value: fn, configurable: true, enumerable: false, writable: false });
  const depth = deadlines.length;
  deadlines.push(performance.now() + budgetMs);
  try {
    return script.runInThisContext({ timeout: budgetMs, breakOnSigint: false }) as T;
  } catch (e) {
    if (isTimeout(e)) throw new BudgetExceeded(budgetMs);
    throw e;
  } finally {
    // Also drops deadlines of inner budgets whose finally a termination skipped.
    deadlines.length = depth;
    if (outer === undefined) delete g[SLOT];
    else Object.defineProperty(g, SLOT, { value: outer, configurable: true, enumerable: false, writable: false });
  }
}
