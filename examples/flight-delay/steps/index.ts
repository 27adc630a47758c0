/**
 * The flight-delay example's own steps (flights-3m ingestion, its quality suite, its training set,
 * its trainer and card): they move with the example to examples/flight-delay.
 */
import type { Step } from '../../../src/pipeline/step.js';
import { buildTrainingSet } from './build-training-set.js';
import { buildTrainingSetFromStore } from './build-training-set-from-store.js';
import { checkFlightQuality } from './check-flight-quality.js';
import { chooseModel } from './choose-model.js';
import { compareChallenger } from './compare-challenger.js';
import { computeFlightFeatures } from './compute-flight-features.js';
import { evaluateModel } from './evaluate-model.js';
import { ingestFeatures } from './ingest-features.js';
import { ingestFlights } from './ingest-flights.js';
import { prepareChallenge } from './prepare-challenge.js';
import { profileReference } from './profile-reference.js';
import { registerModel } from './register-model.js';
import { summarizeDelays } from './summarize-delays.js';
import { trainModel } from './train-model.js';

export {
  buildTrainingSet,
  buildTrainingSetFromStore,
  checkFlightQuality,
  chooseModel,
  compareChallenger,
  computeFlightFeatures,
  evaluateModel,
  ingestFeatures,
  ingestFlights,
  prepareChallenge,
  profileReference,
  registerModel,
  summarizeDelays,
  trainModel,
};
export { flightsBefore } from './prepare-challenge.js';
export { trainingSetSchema, type TrainingSet } from './build-training-set.js';
export { evaluationSchema, type ModelEvaluation } from './evaluate-model.js';
export { referenceProfileSchema } from './profile-reference.js';
export { trainedModelSchema, type TrainedModel } from './train-model.js';

export const flightSteps: readonly Step[] = [
  ingestFlights,
  summarizeDelays,
  checkFlightQuality,
  buildTrainingSet,
  trainModel,
  evaluateModel,
  chooseModel,
  profileReference,
  registerModel,
  computeFlightFeatures,
  ingestFeatures,
  buildTrainingSetFromStore,
  prepareChallenge,
  compareChallenger,
];
