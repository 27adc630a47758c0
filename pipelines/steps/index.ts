/**
 * Steward's built-in steps, one module each: schemas, implementation, lineage and access together.
 * Pipelines place them with `.step(name, input)`; the worker registers those its pipelines use, and
 * `builtinSteps` lists them all (for a worker that runs steps no pipeline of its own uses).
 */
import type { Step } from '../../src/pipeline/step.js';
import { applyFeatures } from './apply-features.js';
import { materializeFeatures } from './materialize-features.js';
import { monitorDrift } from './monitor-drift.js';
import { promoteModel } from './promote-model.js';
import { recordPurpose } from './record-purpose.js';
import { retrainPolicy } from './retrain-policy.js';
import { scoreBatch } from './score-batch.js';
import { validateModel } from './validate-model.js';

export { applyFeatures, materializeFeatures, monitorDrift, promoteModel, recordPurpose, retrainPolicy, scoreBatch, validateModel };

export const builtinSteps: readonly Step[] = [applyFeatures, materializeFeatures, validateModel, promoteModel, recordPurpose, monitorDrift, retrainPolicy, scoreBatch];
