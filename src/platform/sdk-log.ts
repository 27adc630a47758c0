/**
 * How the Temporal SDK's own log lines reach the console. A step that refuses its input or reports
 * an outcome (a non-retryable ApplicationFailure, e.g. "the challenger is not better") is a result
 * the run records, not a crash: the SDK would print it as a WARN with two stack traces, once for the
 * activity and once for the workflow. Those become one line naming the run, the step and the reason;
 * everything else is printed as the SDK prints it.
 */
import { DefaultLogger, type LogEntry } from '@temporalio/worker';

const sdkDefault = new DefaultLogger('TRACE');

interface FailureLike {
  name?: string;
  message?: string;
  type?: string | null;
  nonRetryable?: boolean;
}

function isRefusal(error: unknown): error is FailureLike {
  return typeof error === 'object' && error !== null && (error as FailureLike).name === 'ApplicationFailure' && (error as FailureLike).nonRetryable === true;
}

/** One line for a non-retryable failure, or null to print the entry as the SDK does. */
export function refusalLine(entry: LogEntry): string | null {
  const meta = entry.meta as Record<string, unknown> | undefined;
  const error = meta?.error;
  if (!isRefusal(error)) return null;
  const where = [meta?.workflowId, meta?.activityId].filter((part) => typeof part === 'string').join(' ');
  const at = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return `${at} [${entry.level}] ${entry.message}${where ? ` (${where})` : ''}: ${error.message ?? ''}${error.type ? ` [${error.type}, not retried]` : ' [not retried]'}\n`;
}

export function sdkLogFunction(entry: LogEntry): void {
  const line = refusalLine(entry);
  if (line === null) sdkDefault.log(entry.level, entry.message, entry.meta);
  else process.stderr.write(line);
}
