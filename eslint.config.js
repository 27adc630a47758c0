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
  { ignores: ['node_modules/', 'dist/', 'dist.building/', 'dist.old/', '.steward/', 'coverage/', 'src/db/migrations/'] },
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
