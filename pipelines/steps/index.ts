/**
 * Steward's built-in steps, one module each: schemas, implementation, lineage and access together.
 * Pipelines place them with `.step(name, input)`; the worker registers those its pipelines use, and
 * `builtinSteps` lists them all (for a worker that runs steps no pipeline of its own uses).
 */
import type { Step } from '../../src/pipeline/step.js';
import { applyFeatures } from './apply-features.js';
import { buildTrainingSet } from './build-training-set.js';
import { buildTrainingSetFromStore } from './build-training-set-from-store.js';
import { checkFlightQuality } from './check-flight-quality.js';
import { chooseModel } from './choose-model.js';
import { computeFlightFeatures } from './compute-flight-features.js';
import { evaluateModel } from './evaluate-model.js';
import { ingestFeatures } from './ingest-features.js';
import { ingestFlights } from './ingest-flights.js';
import { materializeFeatures } from './materialize-features.js';
import { profileReference } from './profile-reference.js';
import { registerModel } from './register-model.js';
import { summarizeDelays } from './summarize-delays.js';
import { trainModel } from './train-model.js';
import { compareChallenger } from './compare-challenger.js';
import { monitorDrift } from './monitor-drift.js';
import { prepareChallenge } from './prepare-challenge.js';
import { promoteModel } from './promote-model.js';
import { recordPurpose } from './record-purpose.js';
import { retrainPolicy } from './retrain-policy.js';
import { scoreBatch } from './score-batch.js';
import { validateModel } from './validate-model.js';

export {
  applyFeatures,
  buildTrainingSet,
  buildTrainingSetFromStore,
  checkFlightQuality,
  chooseModel,
  computeFlightFeatures,
  evaluateModel,
  ingestFeatures,
  ingestFlights,
  materializeFeatures,
  profileReference,
  registerModel,
  summarizeDelays,
  trainModel,
  validateModel,
  promoteModel,
  recordPurpose,
  monitorDrift,
  retrainPolicy,
  prepareChallenge,
  compareChallenger,
  scoreBatch,
};
export { flightsBefore } from './prepare-challenge.js';
export { trainingSetSchema, type TrainingSet } from './build-training-set.js';
export { evaluationSchema, type ModelEvaluation } from './evaluate-model.js';
export { referenceProfileSchema } from './profile-reference.js';
export { trainedModelSchema, type TrainedModel } from './train-model.js';

export const builtinSteps: readonly Step[] = [
  ingestFlights,
  summarizeDelays,
  checkFlightQuality,
  buildTrainingSet,
  trainModel,
  evaluateModel,
  chooseModel,
  profileReference,
  registerModel,
  applyFeatures,
  computeFlightFeatures,
  ingestFeatures,
  materializeFeatures,
  buildTrainingSetFromStore,
  validateModel,
  promoteModel,
  recordPurpose,
  monitorDrift,
  retrainPolicy,
  prepareChallenge,
  compareChallenger,
  scoreBatch,
];
