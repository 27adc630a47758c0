// @ts-check
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

// Workflow code runs in Temporal's deterministic sandbox: it may import activity *types* only, never
// a Node built-in or a library that does I/O. Importing one would fail at bundle time at best and
// break replay at worst, so the lint catches it first.
const forbiddenInWorkflows = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  'drizzle-orm',
  '@electric-sql/pglite',
  'postgres',
  'apache-arrow',
  'onnxruntime-node',
  'hyparquet',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'dist.building/', 'dist.old/', '.steward/', 'coverage/', 'drizzle/'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Data flows one way: a project -> the SDK -> pipelines -> workflows -> activities -> services.
    // A service never reaches back up. Three folders of src/ sit at the top instead: the SDK (it
    // hands projects the built-in steps and pipelines), the composition root (src/app: worker,
    // stack) and the CLI, its front door.
    files: ['src/**/*.ts'],
    ignores: ['src/sdk/**', 'src/app/**', 'src/cli/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(pipelines|activities|workflows|examples)(/|$)',
              message: 'src/ is the platform below pipelines, activities, workflows and examples: it may not import them (only src/sdk, src/app and src/cli, the top, may).',
            },
          ],
        },
      ],
    },
  },
  {
    // The platform knows no example: src/'s top, pipelines/ and activities/ may import what is
    // below them, never examples/ (the rest of src/ is held by the rule above, workflows/ below).
    // The examples sit above the platform, as a team's project does.
    files: ['src/sdk/**/*.ts', 'src/app/**/*.ts', 'src/cli/**/*.ts', 'pipelines/**/*.ts', 'activities/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+examples(/|$)', message: 'The platform knows no example: examples/ sit above it, as a team\'s project does.' }] },
      ],
    },
  },
  // A team's project sees Steward through its public API only: `steward` and `steward/<entry>`,
  // never a relative path out of its own folder. The declarations-only example and the `steward
  // init` template are held to it, one block per depth inside the project; the flight-delay example
  // still reaches into the platform's internals (moving it onto the public API is open work).
  ...[0, 1, 2, 3].map((depth) => ({
    files: ['examples/*', 'templates/*'].map((project) => `${project}/${'*/'.repeat(depth)}*.ts`),
    ignores: ['examples/flight-delay/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\.\\./){${depth + 1},}`,
              message: "A project imports Steward by its public API ('steward', 'steward/features', 'steward/steps', ...), never by a path out of its own folder.",
            },
          ],
        },
      ],
    },
  })),
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: forbiddenInWorkflows.map((name) => ({
            name,
            message: 'Workflow code runs in the Temporal sandbox: no I/O libraries or Node built-ins.',
          })),
          patterns: [
            { group: ['drizzle-orm/*'], message: 'Workflow code runs in the Temporal sandbox: no database access.' },
            { regex: '^(\\.\\./)+examples(/|$)', message: 'The platform knows no example: examples/ sit above it.' },
            {
              regex: '^\\.\\./src/(?!contracts\\.js$|pipeline/spec\\.js$)',
              allowTypeImports: true,
              message: 'Workflows import values only from src/contracts.js and src/pipeline/spec.js (both pure); call services through activities.',
            },
            {
              group: ['../activities/*', '../activities/**'],
              allowTypeImports: true,
              message: 'Workflows see activities only as types: import type { Activities } from "../activities/index.js".',
            },
          ],
        },
      ],
    },
  },
);
