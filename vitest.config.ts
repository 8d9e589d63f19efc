import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Circuit compilation and Groth16 proving are CPU-bound; two workers match the 2-core machine.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 300_000,
    hookTimeout: 600_000,
    globalSetup: ['test/global-setup.ts'],
  },
});
