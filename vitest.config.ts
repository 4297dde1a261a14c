import { defineConfig } from 'vitest/config';

// Namespace-switching code must run in its own process: threads created while a
// thread is switched stay in that namespace, so the forks pool is mandatory.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/harness/root-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
