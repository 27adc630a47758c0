/**
 * Steward's built-in steps, one module each: schemas, implementation, lineage and access together.
 * Pipelines place them with `.step(name, input)`; the worker registers those its pipelines use, and
 * `builtinSteps` lists them all (for a worker that runs steps no pipeline of its own uses).
 *
 * The generic ML steps work on any tabular dataset from a project's declarations (features, label,
 * task, candidates, release criteria): pipelines/models.ts composes them into each declared model's
 * train, release and drift-retrain pipelines.
 */
import { markBuiltinSteps, type Step } from '../../src/pipeline/step.js';
import { applyFeatures } from './apply-features.js';
import { buildTrainingSet } from './build-training-set.js';
import { checkExpectations } from './check-expectations.js';
import { chooseModel } from './choose-model.js';
import { compareModels } from './compare-models.js';
import { evaluateModel } from './evaluate-model.js';
import { ingestFile } from './ingest-file.js';
import { materializeFeatures } from './materialize-features.js';
import { monitorDrift } from './monitor-drift.js';
import { profileReference } from './profile-reference.js';
import { promoteModel } from './promote-model.js';
import { recordPurpose } from './record-purpose.js';
import { registerModel } from './register-model.js';
import { retrainPolicy } from './retrain-policy.js';
import { scoreBatch } from './score-batch.js';
import { trainModel } from './train-model.js';
import { validateModel } from './validate-model.js';

export {
  applyFeatures,
  buildTrainingSet,
  checkExpectations,
  chooseModel,
  compareModels,
  evaluateModel,
  ingestFile,
  materializeFeatures,
  monitorDrift,
  profileReference,
  promoteModel,
  recordPurpose,
  registerModel,
  retrainPolicy,
  scoreBatch,
  trainModel,
  validateModel,
};

export const builtinSteps: readonly Step[] = [
  ingestFile,
  checkExpectations,
  buildTrainingSet,
  trainModel,
  evaluateModel,
  chooseModel,
  profileReference,
  registerModel,
  validateModel,
  promoteModel,
  compareModels,
  monitorDrift,
  retrainPolicy,
  scoreBatch,
  applyFeatures,
  materializeFeatures,
  recordPurpose,
];

markBuiltinSteps(builtinSteps);
