/**
 * Reusable steps: each names its implementation (activities/steps.ts), its version and its
 * outputs, so pipelines compose them and the validator checks what they consume.
 */
import { defineStep } from '../src/pipeline/definition.js';

export const ingestFlights = defineStep({
  uses: 'ingestFlights',
  outputs: ['ingestionId', 'rows', 'contentHash', 'reused'],
  startToCloseTimeout: '30 minutes',
});

export const summarizeDelays = defineStep({
  uses: 'summarizeDelays',
  outputs: ['summaryId', 'flights', 'airports', 'delayedShare', 'worstAirports', 'reused'],
  startToCloseTimeout: '5 minutes',
});

export const checkFlightQuality = defineStep({ uses: 'checkFlightQuality', outputs: ['passed', 'rows', 'expectations', 'resultKey'] });

export const buildTrainingSet = defineStep({
  uses: 'buildTrainingSet',
  outputs: ['uri', 'sha256', 'bytes', 'rows', 'positives', 'from', 'to', 'features', 'label'],
  startToCloseTimeout: '30 minutes',
});

export const trainModel = defineStep({
  uses: 'trainModel',
  // v2: the algorithm is an input (logistic regression or gradient-boosted trees).
  version: '2',
  outputs: ['modelUri', 'modelSha256', 'specUri', 'algorithm', 'trainRows', 'validationRows', 'validatedFrom', 'onnxMaxAbsDiff', 'signature'],
  startToCloseTimeout: '1 hour',
});

export const evaluateModel = defineStep({
  uses: 'evaluateModel',
  // v2: also the validation set, fairness by origin hub size, behavioural checks and curves for the model card.
  version: '2',
  outputs: ['rows', 'rocAuc', 'prAuc', 'logLoss', 'brier', 'precision', 'recall', 'positiveRate', 'validation', 'fairness', 'behaviour', 'curves'],
  startToCloseTimeout: '30 minutes',
});

export const chooseModel = defineStep({ uses: 'chooseModel', outputs: ['model', 'metrics', 'algorithm', 'ranking'] });

/** Reference statistics for drift monitoring: the training rows' features and the model's validation predictions (src/monitoring/reference.ts). */
export const profileReference = defineStep({
  uses: 'profileReference',
  outputs: ['uri', 'sha256', 'features', 'emptyFeatures', 'trainRows', 'validationRows', 'validationRocAuc'],
  startToCloseTimeout: '30 minutes',
});

export const registerModel = defineStep({ uses: 'registerModel', outputs: ['modelName', 'version', 'algorithm', 'artifactUri', 'created'] });

// --- the release path ----------------------------------------------------------------------------

export const validateModel = defineStep({
  uses: 'validateModel',
  outputs: ['modelName', 'version', 'rocAuc', 'checks', 'failedChecks', 'passed', 'status'],
  // Validation reads the registry, which changes: never reuse an old answer.
  cache: false,
});

export const promoteModel = defineStep({ uses: 'promoteModel', outputs: ['modelName', 'version', 'alias', 'previous', 'changed'], cache: false });
