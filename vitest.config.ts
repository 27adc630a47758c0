import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** Inside this repository `steward` is the sources (tsconfig.json's paths say the same to tsc and tsx). */
const stewardSources = [
  { find: /^steward$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  { find: /^steward\/(.+)$/, replacement: fileURLToPath(new URL('./src/sdk/$1.ts', import.meta.url)) },
];

// Four projects: fast unit tests; integration tests that start a real Temporal dev server and
// real databases; the example projects' own tests; and the end-to-end test of a scaffolded project. Integration files run one at a
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
        // The example projects (examples/*), each tested as its team would, through real Temporal.
        resolve: { alias: stewardSources },
        test: {
          name: 'examples',
          include: ['examples/*/test/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          // After unit and integration (whose servers would compete with its own for two cores).
          sequence: { groupOrder: 1 },
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
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
