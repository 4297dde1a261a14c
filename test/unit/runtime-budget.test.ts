// The wall-clock budget: stopping wasm that never returns, nesting, and passing results through.
import { describe, expect, it } from 'vitest';
import { parse } from '@bytecodealliance/jco';
import { BudgetExceeded, withBudget } from '../../host/runtime/budget.ts';

async function spinner(): Promise<() => void> {
  const bytes = await parse('(module (func (export "spin") (loop $l (br $l))))');
  return new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).exports['spin'] as () => void;
}

describe('withBudget', () => {
  it('returns the value and passes exceptions through unchanged', () => {
    expect(withBudget(1000, () => 42)).toBe(42);
    const err = new TypeError('boom');
    expect(() => withBudget(1000, () => { throw err; })).toThrow(err);
  });

  it('stops an endless wasm loop after the budget, and the process goes on', async () => {
    const spin = await spinner();
    const t = performance.now();
    expect(() => withBudget(150, spin)).toThrow(BudgetExceeded);
    const took = performance.now() - t;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1500);
    // the isolate is usable afterwards, also for another budgeted call
    expect(withBudget(1000, () => 'alive')).toBe('alive');
    expect(() => withBudget(50, spin)).toThrow(/budget of 50 ms/);
  });

  it('nests: an inner budget stops the inner call only; an outer budget stops both', async () => {
    const spin = await spinner();
    const inner = withBudget(2000, () => {
      try {
        withBudget(50, spin);
      } catch (e) {
        return (e as BudgetExceeded).budgetMs;
      }
      return 0;
    });
    expect(inner).toBe(50);
    const t = performance.now();
    let caught: unknown;
    try {
      withBudget(100, () => withBudget(5000, spin));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BudgetExceeded);
    expect((caught as BudgetExceeded).budgetMs).toBe(100);
    expect(performance.now() - t).toBeLessThan(2000);
    expect((globalThis as Record<string, unknown>)['__cniWasmBudgetCall']).toBeUndefined();
  });

  it('a stop inside host code skips its finally blocks: why HostBinding.abort exists', () => {
    // A host call that switched namespaces and restores in `finally` would stay switched:
    // the host API must repair such state in abort(), which the loader calls after a timeout.
    let restored = false;
    const hostCall = (): void => {
      try {
        for (;;) {
          /* a host call that does not return in time */
        }
      } finally {
        restored = true;
      }
    };
    expect(() => withBudget(50, hostCall)).toThrow(BudgetExceeded);
    expect(restored).toBe(false);
  });
});
