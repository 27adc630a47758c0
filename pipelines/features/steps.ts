/**
 * The feature store's reusable steps (implementations in activities/features.ts). A pipeline builds
 * its training set through the store with:
 *   buildTrainingSetFromStore.step('trainingSet', { ingestionId: output('load', 'ingestionId'), delayThresholdMinutes: param('delayThresholdMinutes') })
 * whose outputs are those of buildTrainingSet (pipelines/steps.ts) plus the feature service used.
 */
import { defineStep } from '../../src/pipeline/definition.js';

export const applyFeatures = defineStep({ uses: 'applyFeatures', outputs: ['created', 'changed', 'unchanged'] });

export const computeFlightFeatures = defineStep({
  uses: 'computeFlightFeatures',
  outputs: ['flights', 'views'],
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
});

export const ingestFeatures = defineStep({
  uses: 'ingestFeatures',
  outputs: ['ingestionId', 'view', 'source', 'contentHash', 'rows', 'batches', 'reused', 'batchesSkipped', 'nonFiniteAsNull'],
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
});

/** Never cached: what it copies depends on what was ingested since, not on its input. */
export const materializeFeatures = defineStep({
  uses: 'materializeFeatures',
  outputs: ['materializations'],
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  cache: false,
});

export const buildTrainingSetFromStore = defineStep({
  uses: 'buildTrainingSetFromStore',
  outputs: ['uri', 'sha256', 'bytes', 'rows', 'positives', 'from', 'to', 'features', 'label', 'featureService', 'featureServiceVersion'],
  startToCloseTimeout: '1 hour',
  // Its statements cover the whole ingestion, and PGlite runs them on the worker's own thread, so no
  // heartbeat leaves while one runs: on 966,409 flights (January-February) the thread was held for
  // over three minutes and the default 20 s timeout killed a step that was working.
  heartbeatTimeout: '10 minutes',
});
