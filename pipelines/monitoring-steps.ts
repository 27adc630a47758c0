/**
 * The drift-retraining steps (implementations in activities/monitoring-steps.ts). None is cached:
 * each reads what changed since (the prediction log, the registry, earlier decisions).
 */
import { defineStep } from '../src/pipeline/definition.js';

export const monitorDrift = defineStep({
  uses: 'monitorDrift',
  outputs: ['reportId', 'version', 'windowFrom', 'windowTo', 'rows', 'enough', 'datasetDrift', 'predictionDrift', 'decayed', 'driftedColumns', 'rocAuc', 'validationRocAuc'],
  startToCloseTimeout: '30 minutes',
  cache: false,
});

export const retrainPolicy = defineStep({
  uses: 'retrainPolicy',
  outputs: ['decision', 'reasons', 'triggers', 'at', 'policy', 'retrainsInPeriod', 'lastRetrainAt', 'numbers', 'reportId', 'modelName', 'version'],
  cache: false,
});

export const launchChallenge = defineStep({ uses: 'launchChallenge', outputs: ['started', 'runId', 'trainRows'], cache: false });

export const compareChallenger = defineStep({
  uses: 'compareChallenger',
  outputs: ['modelName', 'version', 'championVersion', 'rows', 'championRocAuc', 'challengerRocAuc', 'improvement'],
  startToCloseTimeout: '30 minutes',
  cache: false,
});
