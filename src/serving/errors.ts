/** The scorer's own failures, as StewardErrors so the HTTP boundary maps them like every other. */
import { StewardError } from '../errors.js';

/** The model failed on input that passed validation (the runtime threw, or the score is not a finite number): the version's fault, counted as its error. */
export class ScoringError extends StewardError {
  readonly code = 'SCORING_FAILED';
  readonly status = 500;
}

/** A version could not be loaded (corrupt artifact, signature mismatch, warm-up failure); whatever served before keeps serving. */
export class ModelLoadError extends StewardError {
  readonly code = 'MODEL_LOAD_FAILED';
  readonly status = 422;
}
