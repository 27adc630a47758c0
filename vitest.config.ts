import { defineConfig } from 'vitest/config';

// Three projects: fast unit tests; integration tests that start a real Temporal dev server and
// real databases; and the end-to-end test of a scaffolded project. Integration files run one at a
// time: each brings up its own server, and these machines have two cores.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/contracts/**/*.test.ts', 'test/faults/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // What a new user does from the published package: npm pack, install the tarball outside
        // the repository, `steward init`, npm install/test/start there. Two registry installs and
        // a Temporal run: it goes last, after the other projects (groupOrder), alone.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 1_800_000,
          hookTimeout: 2_400_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
