/**
 * The activity boundary: Steward's errors become ApplicationFailures whose `type` is the error's
 * code, non-retryable unless the error says retrying could help. A database that does not answer
 * (a dropped connection, a stopped server, whatever wrapped the driver's error) is always a
 * retryable UNAVAILABLE failure. Anything else (a bug) stays a plain retryable failure.
 *
 * During a known database outage (src/db/availability.ts) an attempt waits for the database
 * before running, heartbeating, so a step's few attempts are not all spent while the server is
 * down: the attempt that met the fault fails at once, the next one starts when the server answers.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { databaseFaultOf, databaseOutage, reportDatabaseFault, waitForDatabase } from '../src/db/availability.js';
import { UnavailableError, isStewardError, type StewardError } from '../src/errors.js';

/** The longest an attempt waits for the database before running anyway (and failing fast if it is still down). */
const MAX_OUTAGE_WAIT_MS = 5 * 60_000;

export function toFailure(error: unknown): unknown {
  const fault = databaseFaultOf(error);
  if (fault !== undefined) {
    reportDatabaseFault(error);
    return failureOf(new UnavailableError(`The database did not answer (${fault}); the attempt failed and will be retried.`));
  }
  if (!isStewardError(error)) return error;
  return failureOf(error);
}

function failureOf(error: StewardError): ApplicationFailure {
  return ApplicationFailure.create({
    type: error.code,
    message: error.message,
    nonRetryable: !error.retryable,
    details: error.details ? [error.details] : [],
  });
}

/**
 * Before an attempt runs while the database is known to be down: wait until it answers, at most
 * half the attempt's time (and MAX_OUTAGE_WAIT_MS), heartbeating the previous attempt's details
 * so they are not lost. Local activities and calls outside an activity do not wait.
 */
async function waitOutOutage(): Promise<void> {
  if (!databaseOutage()) return;
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  const { info } = context;
  if (info.isLocal) return;
  const budgets = [MAX_OUTAGE_WAIT_MS, info.startToCloseTimeoutMs / 2];
  if (info.scheduleToCloseTimeoutMs > 0) budgets.push((info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs - Date.now()) / 2);
  const heartbeat = info.heartbeatTimeoutMs ? () => context.heartbeat(info.heartbeatDetails) : undefined;
  heartbeat?.();
  await waitForDatabase({ timeoutMs: Math.min(...budgets), signal: context.cancellationSignal, tick: heartbeat });
}

/** Wraps each activity so its errors cross the boundary as typed failures. */
export function withFailureMapping<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        await waitOutOutage();
        return await fn(...args);
      } catch (error) {
        throw toFailure(error);
      }
    };
  }
  return wrapped as T;
}
