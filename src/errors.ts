/**
 * Steward's errors. Each has a stable `code`; the HTTP API maps it to a status and the activity
 * boundary maps it to an ApplicationFailure type (non-retryable when retrying cannot help).
 */
/**
 * Marks Steward's errors across copies of this module: a project's steward.config.ts loaded through
 * tsx beside a compiled CLI, or a second copy of the package in a project's node_modules, defines
 * its own StewardError class, and `instanceof` alone would take its bad input for a transient fault.
 */
const STEWARD_ERROR = Symbol.for('steward.error');

export abstract class StewardError extends Error {
  abstract readonly code: string;
  /** HTTP status at the API boundary. */
  abstract readonly status: number;
  /** Whether retrying the same call could succeed (a transient fault) or never will (bad input). */
  readonly retryable: boolean = false;

  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
    Object.defineProperty(this, STEWARD_ERROR, { value: true });
  }
}

/** Configuration or environment that Steward cannot run with (a missing binary, a bad variable). */
export class ConfigError extends StewardError {
  readonly code = 'CONFIG_INVALID';
  readonly status = 500;
}

/** Input that will never succeed, however often it is retried. */
export class ValidationError extends StewardError {
  readonly code = 'VALIDATION_FAILED';
  readonly status = 400;
}

export class NotFoundError extends StewardError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
}

export class ConflictError extends StewardError {
  readonly code = 'CONFLICT';
  readonly status = 409;
}

/** A dependency (database, Temporal) that did not answer; retrying later may succeed. */
export class UnavailableError extends StewardError {
  readonly code = 'UNAVAILABLE';
  readonly status = 503;
  override readonly retryable = true;
}

export function isStewardError(error: unknown): error is StewardError {
  return error instanceof StewardError || (typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[STEWARD_ERROR] === true);
}
