import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Steps run on a real embedded database: opening and migrating it takes a few seconds.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
