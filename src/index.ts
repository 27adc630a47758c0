// The package's main entry (`import ... from 'steward'`): see src/sdk/index.ts.
export * from './sdk/index.js';
