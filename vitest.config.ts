import { defineConfig } from 'vitest/config';

// Namespace-switching code must run in its own process: threads created while a
// thread is switched stay in that namespace, so the forks pool is mandatory.
export default defineConfig({
  test: {
    pool: 'forks',
    // examples/: third-party plugins built with the kit, each with its own test.
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    globalSetup: ['test/harness/root-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
