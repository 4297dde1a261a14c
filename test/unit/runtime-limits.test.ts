// Limits: defaults, what a policy may set, merging, and CNI_WASM_LIMITS only tightening.
import { describe, expect, it } from 'vitest';
import { ByteBudget, DEFAULT_LIMITS, applyEnvLimits, memoryPages, parseLimits, resolveLimits, tightenLimits } from '../../host/runtime/limits.ts';

describe('limits', () => {
  it('has documented defaults', () => {
    expect(DEFAULT_LIMITS).toEqual({
      memoryMiB: 64,
      callTimeoutMs: 5000,
      maxResultBytes: 1048576,
      maxLogBytes: 65536,
      maxHostCallBytes: 1048576,
      maxRequestBytes: 1048576,
      maxTableElements: 65536,
      maxModuleBytes: 16777216,
      ipamTimeoutMs: 30000,
    });
    expect(memoryPages(DEFAULT_LIMITS)).toBe(1024);
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
  });

  it('parses a policy limits object and refuses unknown keys, wrong types and out-of-range values', () => {
    expect(parseLimits({ memoryMiB: 32, callTimeoutMs: 200 }, 'p')).toEqual({ memoryMiB: 32, callTimeoutMs: 200 });
    expect(parseLimits(undefined, 'p')).toEqual({});
    expect(() => parseLimits({ memoryMB: 3 }, 'policy x')).toThrow(/policy x: unknown limit "memoryMB"/);
    expect(() => parseLimits({ memoryMiB: '32' }, 'p')).toThrow(/must be an integer from 1 to 4096/);
    expect(() => parseLimits({ memoryMiB: 8192 }, 'p')).toThrow(/from 1 to 4096/);
    expect(() => parseLimits({ callTimeoutMs: 0 }, 'p')).toThrow(/from 1 to/);
    expect(() => parseLimits({ callTimeoutMs: 1.5 }, 'p')).toThrow(/integer/);
    expect(() => parseLimits([1], 'p')).toThrow(/must be an object/);
    try {
      parseLimits({ x: 1 }, 'p');
    } catch (e) {
      expect((e as { code: number }).code).toBe(7);
    }
  });

  it('resolves layers in order, later ones winning', () => {
    const l = resolveLimits({ memoryMiB: 32, callTimeoutMs: 100 }, undefined, { callTimeoutMs: 300 });
    expect(l.memoryMiB).toBe(32);
    expect(l.callTimeoutMs).toBe(300);
    expect(l.maxResultBytes).toBe(DEFAULT_LIMITS.maxResultBytes);
  });

  it('CNI_WASM_LIMITS only tightens', () => {
    const base = resolveLimits({ callTimeoutMs: 1000, memoryMiB: 16 });
    const l = applyEnvLimits(base, { CNI_WASM_LIMITS: '{"callTimeoutMs":200,"memoryMiB":1024}' });
    expect(l.callTimeoutMs).toBe(200);
    expect(l.memoryMiB).toBe(16);
    expect(applyEnvLimits(base, {})).toBe(base);
    expect(() => applyEnvLimits(base, { CNI_WASM_LIMITS: '{' })).toThrow(/CNI_WASM_LIMITS is not valid JSON/);
    expect(() => applyEnvLimits(base, { CNI_WASM_LIMITS: '{"nope":1}' })).toThrow(/unknown limit "nope"/);
    expect(tightenLimits(base, { maxLogBytes: 0 }).maxLogBytes).toBe(0);
  });

  it('a byte budget cuts at one point and counts what it dropped', () => {
    const b = new ByteBudget(10);
    expect(b.take(6)).toBe(true);
    expect(b.take(5)).toBe(false);
    // exhausted: a smaller write that would fit is dropped too
    expect(b.take(1)).toBe(false);
    expect(b.used).toBe(6);
    expect(b.dropped).toBe(6);
    expect(b.remaining).toBe(0);
  });
});
