import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real stores, no mocks: an embedded database takes seconds to open and migrate, and the
    // training pipeline runs through a Temporal dev server (test/train.test.ts).
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
