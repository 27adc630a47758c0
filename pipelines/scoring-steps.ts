/**
 * Batch scoring (implementation in activities/scoring-steps.ts). Cached: the fingerprint is the
 * resolved model version and the input's content, so a rerun on the same file and version reuses
 * the stored scores.
 */
import { defineStep } from '../src/pipeline/definition.js';

export const scoreBatch = defineStep({
  uses: 'scoreBatch',
  outputs: ['uri', 'rows', 'bytes', 'model', 'version', 'seconds'],
  startToCloseTimeout: '2 hours',
  // runStep heartbeats every second; a parse of one large row group may hold the event loop a while.
  heartbeatTimeout: '1 minute',
});
